"""G019: a table's or index's warm throughput decreases: DynamoDB refuses it.

Warm throughput only ever rises: DynamoDB raises it with usage and
UpdateTable can increase it ("Increase your existing DynamoDB table's warm
throughput"), never lower it, so a template with a smaller value fails to
update and the stack rolls back.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_TYPES
from ..diff import ResourceChange
from ..table_shape import warm_throughput
from . import Guard

RULE = Rule(
    "G019",
    "Warm throughput is not decreased (DynamoDB only increases it)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/update-warm-throughput.html",
)
UNITS = (("ReadUnitsPerSecond", "read"), ("WriteUnitsPerSecond", "write"))


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or change.action != "Modify":
        return []
    before, after = warm_throughput(change.old), warm_throughput(change.new)
    found = []
    for name in sorted(set(before) & set(after)):
        where = f"GSI {name}'s" if name else "the table's"
        prefix = f"GlobalSecondaryIndexes[{name}].WarmThroughput" if name else "WarmThroughput"
        for unit, label in UNITS:
            old, new = before[name].get(unit), after[name].get(unit)
            if isinstance(old, int) and isinstance(new, int) and new < old:
                found.append(
                    RULE.at(
                        change.logical_id,
                        f"{prefix}.{unit}",
                        f"{where} warm {label} throughput {old} -> {new} units per second: warm throughput only "
                        "increases, so DynamoDB refuses the update and the stack rolls back",
                        f"keep {old} (or raise it): the table keeps the warm throughput it has reached whatever "
                        "the template says, and a lower value costs nothing less",
                    )
                )
    return found


GUARD = Guard(RULE, change=check)
