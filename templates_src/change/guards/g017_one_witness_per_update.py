"""G017: more than one witness created or deleted on a global table in one update.

A multi-Region strongly consistent table's witness is created or deleted by
UpdateTable's GlobalTableWitnessUpdates, one per call ("You can create or
delete only one witness per UpdateTable operation"): moving a witness to
another Region is two updates.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import GLOBAL_TABLE_TYPE
from ..diff import ResourceChange
from ..table_shape import witness_regions
from . import Guard

RULE = Rule(
    "G017",
    "At most one witness created or deleted per global table update",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html#DDB-UpdateTable-request-GlobalTableWitnessUpdates",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type != GLOBAL_TABLE_TYPE or change.action != "Modify":
        return []
    before, after = witness_regions(change.old), witness_regions(change.new)
    steps = [f"delete the witness in {r}" for r in before if r not in after]
    steps += [f"create the witness in {r}" for r in after if r not in before]
    if len(steps) <= 1:
        return []
    plan = "; ".join(f"deploy {i}: {s}" for i, s in enumerate(steps, 1))
    return [
        RULE.at(
            change.logical_id,
            "GlobalTableWitnesses",
            f"{len(steps)} witness creations/deletions in one update ({', '.join(before) or 'none'} -> "
            f"{', '.join(after) or 'none'}); DynamoDB creates or deletes one witness per update",
            f"stage it: {plan}",
        )
    ]


GUARD = Guard(RULE, change=check)
