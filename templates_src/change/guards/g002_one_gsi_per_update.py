"""G002: more than one GSI created or deleted on a table in one update.

CloudFormation rejects it and rolls the stack back (aws-cdk#14920). For a
table, deploy stages it itself (change/steps.py, one index per update), so
the finding is a warning that lists the steps; a global table's index
changes are not staged yet, so there it blocks and the way forward is a
sequence of deploys, one index change each.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_ID, TABLE_TYPES
from ..diff import ResourceChange
from ..steps import plan_steps
from ..table_shape import changed_gsis, indexes, is_global
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
    message = f"{len(steps)} GSI creations/deletions in one update; CloudFormation allows one per table per update"
    if is_global(change.old) or is_global(change.new):
        plan = "; ".join(f"deploy {i}: {s}" for i, s in enumerate(steps, 1))
        return [RULE.at(change.logical_id, "GlobalSecondaryIndexes", message, f"stage it: {plan}")]
    staged = plan_steps({"Resources": {TABLE_ID: change.old}}, {"Resources": {TABLE_ID: change.new}})
    found = RULE.at(
        change.logical_id,
        "GlobalSecondaryIndexes",
        f"{message}: deploy stages this in {len(staged)} steps",
        "nothing to do: deploy runs "
        + "; ".join(f"step {i}: {s.summary}" for i, s in enumerate(staged, 1))
        + ", waiting for each index to backfill and verifying the table after each",
    )
    return [dataclasses.replace(found, severity="warning")]


GUARD = Guard(RULE, change=check)
