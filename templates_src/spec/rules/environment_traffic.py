"""N5xx: an environment's traffic profile against its design and DynamoDB's request rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from .. import limits
from ..operations import READ_OPERATIONS, SINGLE_ITEM_OPERATIONS
from ..traffic import SECONDS_PER_MONTH
from . import RuleModule

if TYPE_CHECKING:
    from ..design import AccessPattern, Design
    from ..environment import Environment
    from ..source import Source
    from ..traffic import PatternTraffic

KNOWN_PATTERN = Rule(
    "N501", "traffic.patterns names the design's access patterns", "error", "docs/cost.md: Cost and capacity"
)
CONSISTENT_READ = Rule(
    "N502",
    "consistent_read only on base-table reads",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html",
)
ITEMS_PER_REQUEST = Rule(
    "N503",
    "items per request within the operation's limit",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-api",
)
PEAK_ABOVE_AVERAGE = Rule(
    "N504", "peak_per_second is at least the monthly average rate", "error", "docs/cost.md: Cost and capacity"
)
KNOWN_INDEX = Rule("N505", "traffic.index_gb names the design's GSIs", "error", "docs/cost.md: Cost and capacity")

RULES = (KNOWN_PATTERN, CONSISTENT_READ, ITEMS_PER_REQUEST, PEAK_ABOVE_AVERAGE, KNOWN_INDEX)

# The most items one request of each operation may carry.
ITEMS_MAX = {
    **{op: 1 for op in SINGLE_ITEM_OPERATIONS + ("PutItem",)},
    "BatchGetItem": limits.BATCH_GET_ITEMS_MAX,
    "BatchWriteItem": limits.BATCH_WRITE_ITEMS_MAX,
    "TransactGetItems": limits.TRANSACT_ITEMS_MAX,
    "TransactWriteItems": limits.TRANSACT_ITEMS_MAX,
}


def check(env: Environment, design: Design, src: Source) -> list[Diagnostic]:
    if env.traffic is None:
        return []
    found = []
    patterns = {p.name: p for p in design.access_patterns}
    for name, traffic in env.traffic.patterns.items():
        where = ("traffic", "patterns", name)
        pattern = patterns.get(name)
        if pattern is None:
            allowed = ", ".join(patterns)
            found.append(
                src.report(KNOWN_PATTERN, where, f"design {design.name!r} has no pattern {name!r}; allowed: {allowed}")
            )
            continue
        found.extend(
            src.report(rule, where + (field,), message) for rule, field, message in _problems(design, pattern, traffic)
        )
    gsis = [g.name for g in design.global_secondary_indexes]
    for index in env.traffic.index_gb:
        if index not in gsis:
            allowed = ", ".join(gsis) or "(the design has no GSIs)"
            found.append(
                src.report(KNOWN_INDEX, ("traffic", "index_gb", index), f"unknown GSI {index!r}; allowed: {allowed}")
            )
    return found


def _problems(design: Design, pattern: AccessPattern, traffic: PatternTraffic) -> list[tuple[Rule, str, str]]:
    out = []
    if traffic.consistent_read:
        if pattern.operation not in READ_OPERATIONS:
            out.append(
                (CONSISTENT_READ, "consistent_read", f"{pattern.operation} is a write; consistency applies to reads")
            )
        elif pattern.index in [g.name for g in design.global_secondary_indexes]:
            out.append(
                (CONSISTENT_READ, "consistent_read", f"GSI {pattern.index!r} serves only eventually consistent reads")
            )
    most = ITEMS_MAX.get(pattern.operation)
    if traffic.items is not None and most is not None and traffic.items > most:
        out.append((ITEMS_PER_REQUEST, "items", f"{traffic.items:g} items; {pattern.operation} takes at most {most}"))
    average = traffic.per_month / SECONDS_PER_MONTH
    if traffic.peak_per_second is not None and traffic.peak_per_second < average:
        out.append(
            (
                PEAK_ABOVE_AVERAGE,
                "peak_per_second",
                f"{traffic.peak_per_second:g}/s is below the average of per_month ({average:.3g}/s)",
            )
        )
    return out


RULE_MODULE = RuleModule(RULES, environment_design=check)
