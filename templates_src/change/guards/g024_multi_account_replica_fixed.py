"""G024: a multi-account global table's replica is removed, moved, or leaves the table's settings.

A replica in another account is its own account's GlobalTable, created from the source table
(GlobalTableSourceArn, which CloudFormation can set only at creation: conditionalCreateOnlyProperties
in the registry schema). Once created it cannot be re-pointed at another source or moved to another
Region or account: either is a new replica, and the old one deleted, with that account's copy of
the data. Removing its stack's table deletes that copy (Retain keeps a table, not its place in the
replica set). Its settings replication (GlobalTableSettingsReplicationMode, ENABLED on every replica
of a multi-account table) is what keeps the accounts' settings unified; CDK documents that a
synchronized setting cannot be changed from one replica (GlobalTableSettingsReplicationMode). How
DynamoDB treats these: the developer guide's How global tables work (multi-account) page.
"""

from __future__ import annotations

from typing import Any

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import GLOBAL_TABLE_TYPE
from ..diff import ResourceChange
from ..table_shape import props
from . import Guard

RULE = Rule(
    "G024",
    "A replica in another account is not removed, moved, re-pointed or taken out of settings replication",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_MA_HowItWorks.html",
)

SOURCE = "GlobalTableSourceArn"
MODE = "GlobalTableSettingsReplicationMode"
FORWARD = (
    "keep the replica as declared (its account and Region in replicas:); retiring or moving one is an "
    "administrator's reviewed operation: back that account's copy up, turn its deletion protection off by hand, "
    "then allow G024 for that one deploy (docs/global-tables.md: Multi-account global tables)"
)


def _text(value: Any) -> str:
    """An ARN as the template writes it (a Fn::Sub's string)."""
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return str(value["Fn::Sub"])
    return str(value)


def _modes(resource: dict[str, Any]) -> dict[str, Any]:
    return {str(r.get("Region")): r.get(MODE) for r in props(resource).get("Replicas", []) if isinstance(r, dict)}


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type != GLOBAL_TABLE_TYPE:
        return []
    old, new = props(change.old), props(change.new)
    found = []
    if change.action == "Remove" and SOURCE in old:
        found.append(
            RULE.at(
                change.logical_id,
                SOURCE,
                "the replica in this account would be removed: its table, this account's copy of the data, is "
                "deleted and leaves the global table",
                FORWARD,
            )
        )
    if change.action not in ("Modify", "Replace"):
        return found
    if old.get(SOURCE) != new.get(SOURCE) and SOURCE in old:
        found.append(
            RULE.at(
                change.logical_id,
                SOURCE,
                f"the replica's source changes ({_text(old.get(SOURCE))} -> {_text(new.get(SOURCE))}): a replica is created from "
                "its source once; CloudFormation replaces the table, deleting this account's copy",
                FORWARD,
            )
        )
    if SOURCE in old and SOURCE in new:
        before = [r.get("Region") for r in old.get("Replicas", [])]
        after = [r.get("Region") for r in new.get("Replicas", [])]
        if before != after:
            found.append(
                RULE.at(
                    change.logical_id,
                    "Replicas",
                    f"the replica moves from {', '.join(map(str, before))} to {', '.join(map(str, after))}: a "
                    "replica in another account holds one Region for its life",
                    FORWARD,
                )
            )
    was, now = _modes(change.old), _modes(change.new)
    for region, mode in was.items():
        if mode is not None and region in now and now[region] != mode:
            found.append(
                RULE.at(
                    change.logical_id,
                    f"Replicas[{region}].{MODE}",
                    f"settings replication {mode} -> {now[region] or 'unset'}: a multi-account global table keeps "
                    "its settings unified across the accounts",
                    FORWARD,
                )
            )
    return found


GUARD = Guard(RULE, change=check)
