"""What a key-schema migration costs, phase by phase, from the traffic profile's table size and the price book.

Backfill: one conditional write per item, a write unit per KB (rounded up) of the new item
(ReadWriteCapacityMode); verify: a strongly consistent scan of each table, a read unit per 4 KB.
Catch-up: one stream read request per GetRecords call (DynamoDB Streams, up to 1,000 records
each) and one write per record, at the old table's own write rate for as long as it runs. The
export to S3 is priced per GB on DynamoDB's pricing page ("Export to Amazon S3"), and the managed
backfill's Lambda duration and Step Functions state transitions on their own pages, none of which
the price book carries: they are named, unpriced.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .model import GB
from .prices import price_book_label, prices_for

if TYPE_CHECKING:
    from ...spec.loader import Spec

KB = 1024
READ_UNIT_KB = 4


def phase_costs(spec: Spec) -> dict[str, str]:
    """Phase name -> its estimate (phases not here: no cost of their own)."""
    traffic = spec.env.traffic
    if traffic is None or not traffic.table_gb:
        missing = f"state traffic.table_gb (and traffic.table_items) in {spec.env_file}"
        return {"backfill": f"not estimated ({missing})", "verify": f"not estimated ({missing})"}
    prices = prices_for(spec.env.region)
    if prices is None:
        return {"backfill": f"not estimated (no prices for {spec.env.region} in {price_book_label()})"}
    items, size_kb = traffic.table_items, traffic.table_gb * GB / KB
    if items:  # each item rounded up to whole units
        writes = items * max(1, math.ceil(size_kb / items))
        reads = 2 * items * max(1, math.ceil(size_kb / items / READ_UNIT_KB))
        basis = f"{traffic.table_gb:g} GB, {items:,} items"
    else:  # items unknown: at least a unit per KB (4 KB)
        writes, reads = math.ceil(size_kb), 2 * math.ceil(size_kb / READ_UNIT_KB)
        basis = f"{traffic.table_gb:g} GB; at least, with traffic.table_items unknown"
    table_class = prices.table_classes[spec.env.table_class]
    if spec.env.billing.mode == "PAY_PER_REQUEST":
        backfill = f"about {writes:,} write units, ~${writes / 1e6 * table_class.write_request_units_per_million:,.2f} on-demand"
        verify = f"about {reads:,} read units (both tables), ~${reads / 1e6 * table_class.read_request_units_per_million:,.2f}"
    else:
        backfill = f"about {writes:,} write units from the new table's write capacity (raise it for the load)"
        verify = f"about {reads:,} read units from both tables' read capacity"
    stream = prices.stream_read_request_units_per_million
    return {
        "backfill": (
            f"{backfill}; export of {traffic.table_gb:g} GB to S3 (priced per GB), and on AWS the loader's Lambda "
            f"duration and Step Functions transitions (a few per export file): none in the price book ({basis})"
        ),
        "catch-up": f"one write per record the application writes meanwhile, and ${stream:g} per million stream reads",
        "verify": f"{verify} ({basis})",
        "create": "the new table's storage and requests from then on; the old one's until it is deleted by hand",
    }
