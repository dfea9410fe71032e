"""N1xx: capacity mode and provisioned capacity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from . import RuleModule

if TYPE_CHECKING:
    from ..environment import Capacity, Environment
    from ..source import Source

_SOURCE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html#cfn-dynamodb-table-provisionedthroughput"

PROVISIONED_NEEDS_CAPACITY = Rule("N101", "PROVISIONED billing sets read and write capacity", "error", _SOURCE)
MIN_NOT_ABOVE_MAX = Rule(
    "N102",
    "Capacity min is not above max",
    "error",
    "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html",
)
CAPACITY_ONLY_PROVISIONED = Rule("N103", "Capacity is set only with PROVISIONED billing", "error", _SOURCE)

ON_DEMAND_CAP_ONLY_ON_DEMAND = Rule(
    "N104",
    "On-demand throughput caps are set only with PAY_PER_REQUEST billing",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-table-ondemandthroughput.html",
)

RULES = (PROVISIONED_NEEDS_CAPACITY, MIN_NOT_ABOVE_MAX, CAPACITY_ONLY_PROVISIONED, ON_DEMAND_CAP_ONLY_ON_DEMAND)


def check(env: Environment, src: Source) -> list[Diagnostic]:
    found = []
    billing = env.billing
    for side in ("read", "write"):
        capacity: Capacity | None = getattr(billing, side)
        if billing.mode == "PROVISIONED" and capacity is None:
            found.append(
                src.report(
                    PROVISIONED_NEEDS_CAPACITY,
                    ("billing", side),
                    "PROVISIONED billing needs read and write capacity (min, max)",
                )
            )
        elif billing.mode == "PROVISIONED" and capacity is not None and capacity.min > capacity.max:
            found.append(
                src.report(
                    MIN_NOT_ABOVE_MAX,
                    ("billing", side, "min"),
                    f"min ({capacity.min}) is greater than max ({capacity.max})",
                )
            )
        elif billing.mode != "PROVISIONED" and capacity is not None:
            found.append(
                src.report(
                    CAPACITY_ONLY_PROVISIONED, ("billing", side), "capacity is only allowed with mode PROVISIONED"
                )
            )
    for field in ("max_read_request_units", "max_write_request_units"):
        if billing.mode != "PAY_PER_REQUEST" and getattr(billing, field) is not None:
            found.append(
                src.report(
                    ON_DEMAND_CAP_ONLY_ON_DEMAND,
                    ("billing", field),
                    "an on-demand cap needs mode PAY_PER_REQUEST (provisioned capacity is capped by billing.read/write.max)",
                )
            )
    return found


RULE_MODULE = RuleModule(RULES, environment=check)
