"""G016: a global table's consistency mode changes: DynamoDB refuses it.

MultiRegionConsistency (EVENTUAL or STRONG) is chosen when the global table
is created ("After creating a global table, you can't change its consistency
mode"; DynamoDB developer guide, How global tables work).
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import GLOBAL_TABLE_TYPE
from ..diff import ResourceChange
from ..table_shape import consistency
from . import Guard

RULE = Rule(
    "G016",
    "A global table's consistency mode (MultiRegionConsistency) is not changed",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type != GLOBAL_TABLE_TYPE or change.action != "Modify":
        return []
    old, new = consistency(change.old), consistency(change.new)
    if old == new:
        return []
    return [
        RULE.at(
            change.logical_id,
            "MultiRegionConsistency",
            f"consistency mode {old} -> {new}: a global table keeps the consistency mode it was created with, so "
            "DynamoDB refuses the update and the stack rolls back",
            f"keep multi_region_consistency: {old}; a table in {new} mode is a new global table: create it under "
            "a new logical ID and name, migrate the data (export and import, or a copy job), move readers and "
            "writers, then retire the old one",
        )
    ]


GUARD = Guard(RULE, change=check)
