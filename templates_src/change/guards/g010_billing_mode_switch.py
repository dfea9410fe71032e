"""G010 (warning): the billing mode switches to on-demand.

DynamoDB allows a switch from provisioned to on-demand up to four times in a
rolling 24 hours (on-demand to provisioned any time). An offline plan cannot
count earlier switches, so this is a warning, not a block.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_TYPES
from ..diff import ResourceChange
from ..table_shape import props
from . import Guard

RULE = Rule(
    "G010",
    "Billing mode switches to on-demand at most four times per rolling 24 hours",
    "warning",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/switching.capacitymode.html",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or change.action != "Modify":
        return []
    old = props(change.old).get("BillingMode", "PROVISIONED")
    new = props(change.new).get("BillingMode", "PROVISIONED")
    if old == new or new != "PAY_PER_REQUEST":
        return []
    return [
        RULE.at(
            change.logical_id,
            "BillingMode",
            f"billing mode {old} -> {new}: DynamoDB allows this switch at most four times in a rolling 24 hours; "
            "the plan cannot see earlier switches",
            "check BillingModeSummary.LastUpdateToPayPerRequestDateTime (aws dynamodb describe-table) before "
            "deploying, and do not toggle the mode back and forth",
        )
    ]


GUARD = Guard(RULE, change=check)
