"""A multi-account global table seen from each of its accounts: one Spec per account.

An environment declares the table once, in the source's account and Region, with its replicas in
other accounts (`replicas[].account`). Each account deploys stacks of its own (its data stack with
its own key and the table's resource policy, its own access stack), so synth builds each account's
stacks from a view of the environment as that account holds it:

- the source's view: the environment without the other accounts' replicas;
- each replica's view: the environment moved to the replica's account and Region, with the
  replica's own settings (deletion protection, table class, contributor insights, tags, the key's
  administrators) and nothing that lives in the source's account alone (alarms to its topic, the
  CI deploy role, a Kinesis stream).

Both carry the whole replica set (`MultiAccount`): the table's resource policy in every account
allows replication among exactly the declared replicas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .environment import Environment, Replica
    from .loader import Spec


class Member(NamedTuple):
    """One replica of a multi-account global table: the account and Region that hold it."""

    account: str
    region: str


class MultiAccount(NamedTuple):
    """The declared replica set (the source first), the member a Spec builds, and the replicas in
    other accounts as the environment declares them (each one's own settings)."""

    members: tuple[Member, ...]
    own: Member
    replicas: tuple[Replica, ...]

    @property
    def source(self) -> Member:
        return self.members[0]

    @property
    def is_source(self) -> bool:
        return self.own == self.source

    @property
    def accounts(self) -> list[str]:
        return [m.account for m in self.members]


def members(env: Environment) -> tuple[Member, ...]:
    """The source (the environment's account and Region), then each replica in another account, as declared."""
    others = [Member(r.account, r.region) for r in env.other_account_replicas if r.account is not None]
    return (Member(env.account_id, env.region), *others)


def _swap_account(arn: str | None, account: str) -> str | None:
    """The same IAM ARN in another account (a permissions boundary of the same name there)."""
    if arn is None:
        return None
    parts = arn.split(":")
    parts[4] = account
    return ":".join(parts)


def _replica_env(env: Environment, replica: Replica) -> Environment:
    assert replica.account is not None
    access = env.access
    if access is not None and access.permissions_boundary_arn is not None:
        access = access.model_copy(
            update={"permissions_boundary_arn": _swap_account(access.permissions_boundary_arn, replica.account)}
        )

    def chosen(value: object, default: object) -> object:
        return default if value is None else value

    return env.model_copy(
        update={
            "account_id": replica.account,
            "region": replica.region,
            "replicas": [],
            "key_admins": list(replica.key_admins),
            "deletion_protection": chosen(replica.deletion_protection, env.deletion_protection),
            "table_class": chosen(replica.table_class, env.table_class),
            "contributor_insights": chosen(replica.contributor_insights, env.contributor_insights),
            "tags": {**env.tags, **replica.tags},
            "access": access,
            # What lives in the source's account alone.
            "alarms": None,
            "ci": None,
            "kinesis_stream": None,
            "test_regions": [],
        }
    )


def source_view(spec: Spec) -> Spec:
    """What load_spec returns: the environment as its own account holds it (without the other accounts'
    replicas, which every builder, the cost model and deploy would otherwise take for its own), with the
    replica set. Any other environment: unchanged."""
    env = spec.env
    others = env.other_account_replicas
    if not env.global_table or not others:
        return spec
    group = members(env)
    own = env.model_copy(update={"replicas": [r for r in env.replicas if r not in others]})
    return spec._replace(env=own, multi_account=MultiAccount(group, group[0], tuple(others)))


def account_specs(spec: Spec) -> list[Spec]:
    """The source's view (spec itself) first, then one per replica in another account; [spec] otherwise."""
    group = spec.multi_account
    if group is None or not group.is_source:
        return [spec]
    views = [spec]
    for replica, member in zip(group.replicas, group.members[1:], strict=True):
        views.append(spec._replace(env=_replica_env(spec.env, replica), multi_account=group._replace(own=member)))
    return views
