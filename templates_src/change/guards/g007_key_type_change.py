"""G007: a key attribute of the table changes type (S, N, B): the table is replaced.

A key's attribute type is part of the key schema, which DynamoDB cannot
change in place (CreateTable's AttributeDefinitions; UpdateTable accepts
AttributeDefinitions only for new GSI keys).
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_TYPES
from ..diff import ResourceChange
from ..table_shape import table_key
from . import Guard
from .g006_lsi_change import MIGRATION

RULE = Rule(
    "G007",
    "No key attribute of the table changes type (it replaces the table)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html#DDB-UpdateTable-request-AttributeDefinitions",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or "AttributeDefinitions" not in change.replacing:
        return []
    before = {n: t for n, t, _ in table_key(change.old)}
    after = {n: t for n, t, _ in table_key(change.new)}
    moved = ", ".join(f"{n} {before[n]} -> {after[n]}" for n in before if before[n] != after.get(n))
    return [
        RULE.at(
            change.logical_id,
            "AttributeDefinitions",
            f"key attribute type changes ({moved}): CloudFormation would REPLACE {change.logical_id} with a new, "
            "empty table",
            MIGRATION,
        )
    ]


GUARD = Guard(RULE, change=check)
