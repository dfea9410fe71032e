"""G006: a local secondary index added, removed or changed: the table is replaced.

LSIs can be created only together with their table; CloudFormation replaces
the table to change them (AWS::DynamoDB::Table, LocalSecondaryIndexes:
"Update requires: Replacement"; DynamoDB developer guide, LSI.html: "you
cannot add a local secondary index to an existing table").
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_TYPES
from ..diff import ResourceChange
from . import Guard

RULE = Rule(
    "G006",
    "No LSI is added, removed or changed on an existing table (it replaces the table)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LSI.html",
)
MIGRATION = (
    "create a new table (new logical ID and name) with the LSIs it needs, dual-write, backfill it with "
    "an export to S3 and an import (or a scan-and-copy job), switch reads, then retire the old table"
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or "LocalSecondaryIndexes" not in change.replacing:
        return []
    return [
        RULE.at(
            change.logical_id,
            "LocalSecondaryIndexes",
            f"{change.logical_id}'s local secondary indexes change: LSIs exist only from table creation, so "
            "CloudFormation would REPLACE the table with a new, empty one",
            MIGRATION,
        )
    ]


GUARD = Guard(RULE, change=check)
