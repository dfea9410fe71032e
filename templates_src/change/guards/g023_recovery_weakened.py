"""G023: what recovers or watches the data is removed or weakened: the backup plan, its
selection, its retention, the vault's access policy or lock, the change-watch rules.

G004 keeps the table's own protections (Retain, deletion protection, PITR);
these are the protections around it. A change that drops the alarm topic
removes every change-watch rule with it, and a plan retention cut from 35
days to 1 deletes the older recovery points at the next lifecycle run, with
nothing else in the plan to show it.
"""

from __future__ import annotations

from typing import Any

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import BACKUP_VAULT_TYPE
from ..diff import ResourceChange
from ..table_shape import props
from . import Guard

RULE = Rule(
    "G023",
    "The backup plan, its retention, the vault's access policy and lock, and the change watch stay",
    "error",
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-vault-access-policy.html",
)
BACKUP_PLAN_TYPE = "AWS::Backup::BackupPlan"
REMOVED_BLOCKS = {
    BACKUP_PLAN_TYPE: "the backup plan",
    "AWS::Backup::BackupSelection": "the backup plan's selection of the table",
    "AWS::Events::Rule": "a change-watch rule",
}


def _retention(plan: dict[str, Any]) -> dict[str, int]:
    """Rule name -> DeleteAfterDays."""
    rules = (props(plan).get("BackupPlan") or {}).get("BackupPlanRule") or []
    return {
        str(r.get("RuleName")): int(days)
        for r in rules
        if isinstance(days := (r.get("Lifecycle") or {}).get("DeleteAfterDays"), int)
    }


def check(change: ResourceChange) -> list[Diagnostic]:
    found = []

    def add(path: str, message: str) -> None:
        found.append(
            RULE.at(
                change.logical_id,
                path,
                message,
                "keep it; if the recovery or the watch really must change, say why in the pull request and allow "
                "G023 for that deploy",
            )
        )

    what = REMOVED_BLOCKS.get(change.resource_type)
    if what is not None and change.action == "Remove":
        add("(resource)", f"{change.logical_id}: {what} would be removed")
    if change.action != "Modify":
        return found
    if change.resource_type == BACKUP_PLAN_TYPE:
        before, after = _retention(change.old), _retention(change.new)
        for rule, days in sorted(before.items()):
            if after.get(rule, days) < days:
                add(
                    f"BackupPlan.BackupPlanRule[{rule}].Lifecycle.DeleteAfterDays",
                    f"{change.logical_id}: rule {rule} keeps recovery points {after[rule]} days instead of {days}: "
                    "the older ones are deleted",
                )
    if change.resource_type == BACKUP_VAULT_TYPE:
        for prop in ("AccessPolicy", "LockConfiguration"):
            if props(change.old).get(prop) and not props(change.new).get(prop):
                add(prop, f"{change.logical_id}: the vault's {prop} would be removed")
    return found


GUARD = Guard(RULE, change=check)
