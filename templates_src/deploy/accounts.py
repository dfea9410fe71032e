"""A multi-account global table's deploy: one account at a time, each with its own credentials.

The planned order (change/steps.py: account_steps) is source, replica, source grant. Deploy runs
it as commands, one per account's credentials:

1. `deploy --env <env>` (the source's account): the source's data stack with every declared
   account allowed to join, its replication naming the replicas live now (DescribeTable's
   Replicas[].ReplicaArn) and not yet the new one; then its access stack;
2. `deploy --env <env> --account <account>` (that account's credentials): its data stack, the
   replica created from the source's ARN (GlobalTableSourceArn), its policy naming every replica;
   then its access stack;
3. `deploy --env <env>` again: the new replica is live, so the source's data stack as built, its
   replication naming it too (the source's grant). A replica already live in a third account is
   updated by its own `--account` deploy (its stack as built names the new replica).

Nothing here was run against real AWS accounts (this repository has none): the source's live
replica set and the stack it leads to are tested with botocore's Stubber
(tests/test_multi_account.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ..change.steps import replication_without
from ..errors import BadInput
from ..spec.loader import Spec
from ..spec.multi_account import account_specs
from ..stacks.artifacts import StackFiles, render_json
from ..stacks.names import DATA


def account_spec(spec: Spec, account: str) -> Spec:
    """The environment as another of its accounts holds it (deploy --account); BadInput for any other account."""
    views = {v.multi_account.own.account: v for v in account_specs(spec)[1:] if v.multi_account is not None}
    if account not in views:
        known = ", ".join(sorted(views)) or "none (no replica in another account)"
        raise BadInput(
            f"{spec.env_file}: --account {account}: not an account of a replica of this environment; its replicas' "
            f"accounts: {known}"
        )
    return views[account]


def live_replica_accounts(dynamodb: Any, table_name: str) -> set[str] | None:
    """The accounts holding a replica of the source table now (its own included); None: no table yet."""
    try:
        table = dynamodb.describe_table(TableName=table_name)["Table"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return {str(r["ReplicaArn"]).split(":")[4] for r in table.get("Replicas", []) if r.get("ReplicaArn")}


def source_for_this_deploy(
    spec: Spec, stacks: list[StackFiles], dynamodb: Any, out: Callable[[str], None]
) -> list[StackFiles]:
    """The source account's stacks for this deploy: its data stack's replication naming the live replicas
    only (a new replica's account may already join); as built once every declared replica is live."""
    group = spec.multi_account
    if group is None or not group.is_source:
        return stacks
    live = live_replica_accounts(dynamodb, spec.table_name) or set()
    pending = [m for m in group.members[1:] if m.account not in live]
    if not pending:
        return stacks
    for member in pending:
        out(
            f"account {member.account} ({member.region}) holds no replica yet: this deploy lets it join; next, with "
            f"that account's credentials: deploy --env {spec.env_name} --account {member.account}; then deploy "
            f"--env {spec.env_name} again (the source's grant)"
        )
    accounts = {m.account for m in pending}
    return [
        s._replace(template=render_json(replication_without(s.template_dict, accounts))) if s.kind == DATA else s
        for s in stacks
    ]
