"""G002: more than one GSI created or deleted on a table in one update.

CloudFormation rejects it and rolls the stack back (aws-cdk#14920); the way
forward is a sequence of deploys, one index change each.
"""

from __future__ import annotations

from typing import Any

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_TYPES
from ..diff import ResourceChange
from ..table_shape import changed_gsis, indexes
from . import Guard

RULE = Rule(
    "G002",
    "At most one GSI created or deleted per table per update",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html#cfn-dynamodb-table-globalsecondaryindexes",
)


def staged_sequence(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One index change per deploy: deletions first, then creations."""
    added, removed, recreated = changed_gsis(old, new)
    removals = removed + recreated
    additions = added + recreated
    current = sorted(indexes(old, "GlobalSecondaryIndexes"))
    steps = []
    for name in removals:
        current = [n for n in current if n != name]
        steps.append(f"delete GSI {name} (table keeps: {', '.join(current) or 'none'})")
    for name in additions:
        current = sorted(current + [name])
        steps.append(f"create GSI {name} and wait until it is ACTIVE (table then has: {', '.join(current)})")
    return steps


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or change.action != "Modify":
        return []
    steps = staged_sequence(change.old, change.new)
    if len(steps) <= 1:
        return []
    plan = "; ".join(f"deploy {i}: {s}" for i, s in enumerate(steps, 1))
    return [
        RULE.at(
            change.logical_id,
            "GlobalSecondaryIndexes",
            f"{len(steps)} GSI creations/deletions in one update; CloudFormation allows one per table per update",
            f"stage it: {plan}",
        )
    ]


GUARD = Guard(RULE, change=check)
