"""What creating an index on a live table costs: its backfill's writes, priced, and (provisioned) timed.

DynamoDB backfills a new GSI by writing every qualifying item into it, and those writes consume the
index's write capacity (the Developer Guide, GSI.OnlineOps, "Adding a global secondary index to an
existing table": backfill and ongoing writes share the index's write throughput; CloudWatch reports
them as OnlineIndexConsumedWriteCapacity). A write unit covers 1 KB of an item (ReadWriteCapacityMode):
the index's projected items, sized from the traffic profile the cost model reads (its storage line for
the index), each rounded up to whole KB. On-demand writes are priced from the price book; a
provisioned index takes them from its write capacity, so the time is at least units / capacity.
No rate is published for on-demand backfills: no time is given for them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ...stacks.names import TABLE_ID
from .model import GB, Estimate

if TYPE_CHECKING:
    from ...spec.loader import Spec

KB = 1024


def backfill_writes(estimate: Estimate, index: str, table_items: int | None) -> float | None:
    """Write units the backfill of `index` consumes; None when the estimate does not size the index."""
    size = next(
        (line.quantity for line in estimate.lines if line.kind == "storage" and line.name == f"GSI {index}"), None
    )
    if size is None:
        return None
    kb = size * GB / KB
    if not table_items:
        return kb  # at least one unit per KB, items unknown
    return float(table_items * max(1, math.ceil(kb / table_items)))


def backfill_note(spec: Spec, template: dict[str, Any], index: str) -> str:
    """One line for a step that creates `index`: its writes, their price or time, and what it assumes."""
    from . import estimate_spec

    traffic = spec.env.traffic
    if traffic is None or not traffic.table_gb:
        return f"backfill of {index}: not estimated (state traffic.table_gb and traffic.table_items in {spec.env_file})"
    estimate = estimate_spec(spec, template)
    units = backfill_writes(estimate, index, traffic.table_items) if estimate else None
    if estimate is None or units is None or estimate.prices is None:
        return f"backfill of {index}: not estimated"
    basis = f"{traffic.table_gb:g} GB" + (f", {traffic.table_items} items" if traffic.table_items else "")
    if estimate.billing_mode == "PAY_PER_REQUEST":
        per_million = estimate.prices.table_classes[estimate.table_class].write_request_units_per_million
        usd = units / 1_000_000 * per_million
        return f"backfill of {index}: about {units:,.0f} write units, ~${usd:,.2f} on-demand ({basis}; no published duration)"
    capacity = _index_write_capacity(template, index)
    if not capacity:
        return f"backfill of {index}: about {units:,.0f} write units from the index's write capacity ({basis})"
    hours = units / capacity / 3600
    return (
        f"backfill of {index}: about {units:,.0f} write units, at least {hours:,.1f} h at {capacity} WCU "
        f"(its provisioned write capacity; raise it for the backfill to go faster; {basis})"
    )


def _index_write_capacity(template: dict[str, Any], index: str) -> int | None:
    table = (template.get("Resources") or {}).get(TABLE_ID, {}).get("Properties", {})
    for gsi in table.get("GlobalSecondaryIndexes", []):
        if gsi.get("IndexName") == index:
            capacity = (gsi.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits")
            return int(capacity) if isinstance(capacity, int | float) else None
    return None
