"""G001: a table or KMS key would be replaced or removed.

Blocked whatever its DeletionPolicy: Retain keeps an orphan, but the stack
then points at a new, empty table (or a key that cannot read the old data).
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import STATEFUL_TYPES, TABLE_TYPE, TABLE_TYPES
from ..diff import ResourceChange
from . import Guard

RULE = Rule(
    "G001",
    "No table or KMS key is replaced or removed",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html (TableName, KeySchema: Replacement)",
)


MIGRATE = (
    "raise the design's generation and declare how items move (migration:); the plan then shows a new data "
    "stack beside this one, and make migrate fills it, freezes and retires the old (docs/migrations.md)"
)
REPLACE_BY_HAND = "create a new one under a new logical ID, move what depends on it, then remove the old one"
# migrate moves a single-Region table only (docs/migrations.md: What is rehearsed here, and what is not).
GLOBAL_BY_HAND = (
    "migrate does not move a global table: create the new global table under a new logical ID, copy the items "
    "(export and load, then the stream), move the grants, then remove the old one (docs/migrations.md)"
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in STATEFUL_TYPES or change.action not in ("Replace", "Remove"):
        return []
    if change.action == "Remove":
        return [
            RULE.at(
                change.logical_id,
                "(resource)",
                f"{change.resource_type} {change.logical_id} would be removed from the stack",
                "keep the resource; to retire it, first set DeletionPolicy Retain in its own deploy, "
                "then remove it, and delete the data by hand after a backup",
            )
        ]
    # Reasons with a guard of their own (G006 LSIs, G007 key types, G011 resource type).
    props = ", ".join(r for r in change.replacing if r not in ("LocalSecondaryIndexes", "AttributeDefinitions", "Type"))
    if not props:
        return []
    return [
        RULE.at(
            change.logical_id,
            props,
            f"{change.resource_type} {change.logical_id} would be REPLACED (a new, empty resource) "
            f"because {props} changed; CloudFormation cannot change it in place",
            MIGRATE
            if change.resource_type == TABLE_TYPE
            else GLOBAL_BY_HAND
            if change.resource_type in TABLE_TYPES
            else REPLACE_BY_HAND,
        )
    ]


GUARD = Guard(RULE, change=check)
