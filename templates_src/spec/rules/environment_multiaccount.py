"""N616-N619: multi-account global tables (replicas in other AWS accounts).

What the DynamoDB developer guide says such a table is (How DynamoDB global tables work, the
multi-account pages, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_MA_HowItWorks.html):
multi-Region eventual consistency only; every replica in an AWS account of its own ("for a
multi-account global table with N replicas, you must have N accounts"), so a same-account replica
cannot join one; settings unified across the replicas (no per-replica override). CDK's
TableV2MultiAccountReplica checks the same (another account, another Region than the source).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, PathPart, Rule
from . import RuleModule

if TYPE_CHECKING:
    from ..environment import Environment
    from ..source import Source

_HOW = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_MA_HowItWorks.html"
_SECURITY = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_MA_security.html"

MULTI_ACCOUNT_EVENTUAL_ONLY = Rule(
    "N616", "A replica in another account is for multi_region_consistency EVENTUAL only (no witness)", "error", _HOW
)
ONE_REPLICA_PER_ACCOUNT = Rule(
    "N617",
    "A multi-account global table has one replica per account: none in the environment's account, none shared",
    "error",
    _HOW,
)
MULTI_ACCOUNT_SETTINGS_UNIFIED = Rule(
    "N618",
    "A replica in another account overrides no unified setting (read capacity, point-in-time recovery)",
    "error",
    _HOW,
)
MULTI_ACCOUNT_KEYS = Rule(
    "N619",
    "Each account's replica has a key of its own: key_admins of that account with customer_managed, no existing key",
    "error",
    _SECURITY,
)

RULES = (MULTI_ACCOUNT_EVENTUAL_ONLY, ONE_REPLICA_PER_ACCOUNT, MULTI_ACCOUNT_SETTINGS_UNIFIED, MULTI_ACCOUNT_KEYS)


def _account_of(arn: str) -> str:
    return arn.split(":")[4]


def _check_accounts(env: Environment, src: Source) -> list[Diagnostic]:
    found = []
    multi = bool(env.other_account_replicas)
    seen: dict[str, tuple[PathPart, ...]] = {env.account_id: ("account_id",)}
    for i, replica in enumerate(env.replicas):
        path: tuple[PathPart, ...] = ("replicas", i, "account")
        if replica.account is None:
            if multi:
                found.append(
                    src.report(
                        ONE_REPLICA_PER_ACCOUNT,
                        ("replicas", i),
                        f"the replica in {replica.region} has no account of its own: every replica of a "
                        f"multi-account global table is in a separate account ({env.account_id}, this "
                        "environment's, holds the source table); name its account, or take the replicas in other "
                        "accounts out",
                    )
                )
            continue
        if replica.account == env.account_id:
            found.append(
                src.report(
                    ONE_REPLICA_PER_ACCOUNT,
                    path,
                    f"{replica.account} is the environment's own account, which holds the source table"
                    + (
                        ": a multi-account global table has one replica per account; move this replica to another "
                        "account"
                        if multi
                        else ": remove account (a replica in the environment's account names none)"
                    ),
                )
            )
        elif replica.account in seen:
            where = ".".join(str(p) for p in seen[replica.account])
            found.append(
                src.report(
                    ONE_REPLICA_PER_ACCOUNT,
                    path,
                    f"account {replica.account} already holds a replica ({where}); one replica per account",
                )
            )
        else:
            seen[replica.account] = path
    return found


def _check_replicas(env: Environment, src: Source) -> list[Diagnostic]:
    found = []
    strong = env.multi_region_consistency == "STRONG"
    for i, replica in enumerate(env.replicas):
        other = replica.account is not None and replica.account != env.account_id
        if other and strong:
            found.append(
                src.report(
                    MULTI_ACCOUNT_EVENTUAL_ONLY,
                    ("replicas", i, "account"),
                    "multi-account global tables replicate with multi-Region eventual consistency only; set "
                    "multi_region_consistency: EVENTUAL (and no witness_region), or keep every replica in "
                    f"{env.account_id}",
                )
            )
        if other:
            for field, value in (("read", replica.read), ("point_in_time_recovery", replica.point_in_time_recovery)):
                if value is not None:
                    found.append(
                        src.report(
                            MULTI_ACCOUNT_SETTINGS_UNIFIED,
                            ("replicas", i, field),
                            "a multi-account global table's settings are unified across its replicas (no "
                            "per-replica override): remove it; the environment's setting applies to every replica",
                        )
                    )
        found.extend(_check_key_admins(env, src, i, other))
    if env.other_account_replicas and env.existing_key_arn is not None:
        found.append(
            src.report(
                MULTI_ACCOUNT_KEYS,
                ("encryption", "kms_key_arn"),
                "an existing key is in one account, and a replica in another account is encrypted with a key of "
                "that account: use encryption: customer_managed (each account's data stack makes its own key)",
            )
        )
    return found


def _check_key_admins(env: Environment, src: Source, i: int, other: bool) -> list[Diagnostic]:
    replica = env.replicas[i]
    if not other:
        if replica.key_admins:
            return [
                src.report(
                    MULTI_ACCOUNT_KEYS,
                    ("replicas", i, "key_admins"),
                    "key_admins is for a replica in another account; a same-account replica's key follows the "
                    "environment's key_admins: remove it",
                )
            ]
        return []
    found = []
    if env.encryption == "customer_managed" and not replica.key_admins:
        found.append(
            src.report(
                MULTI_ACCOUNT_KEYS,
                ("replicas", i, "key_admins"),
                f"the replica in account {replica.account} gets a customer managed key of that account: name who "
                "administers it (the role deploying that account's stacks among them: KMS's lockout check)",
            )
        )
    for j, arn in enumerate(replica.key_admins):
        if _account_of(arn) != replica.account:
            found.append(
                src.report(
                    MULTI_ACCOUNT_KEYS,
                    ("replicas", i, "key_admins", j),
                    f"{arn} is in account {_account_of(arn)}; the replica's key is in {replica.account}: name "
                    "that account's administrators",
                )
            )
    return found


def check(env: Environment, src: Source) -> list[Diagnostic]:
    if not env.global_table:  # replicas without global_table: N601 says so
        return []
    return [*_check_accounts(env, src), *_check_replicas(env, src)]


RULE_MODULE = RuleModule(RULES, environment=check)
