"""G008: a GSI's keys, key types or projection change: CloudFormation deletes and re-creates it.

DynamoDB cannot change an existing index's key schema or projection
(UpdateTable's GlobalSecondaryIndexUpdates.Update changes throughput only),
so CloudFormation deletes the index and creates a new one: queries on it fail
until the new index has backfilled, and the update is two index operations
(see G002).
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_TYPES
from ..diff import ResourceChange
from ..table_shape import changed_gsis
from . import Guard

RULE = Rule(
    "G008",
    "No GSI is re-created in place (keys, key types or projection changed)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateGlobalSecondaryIndexAction.html",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or change.action != "Modify":
        return []
    _, _, recreated = changed_gsis(change.old, change.new)
    return [
        RULE.at(
            change.logical_id,
            f"GlobalSecondaryIndexes[{name}]",
            f"GSI {name} changes keys or projection: CloudFormation deletes it and creates a new one; queries "
            "on it fail until the new index has backfilled",
            f"add the new shape as a second index under a new name (one deploy), move readers to it once it is "
            f"ACTIVE, then delete {name} (another deploy)",
        )
        for name in recreated
    ]


GUARD = Guard(RULE, change=check)
