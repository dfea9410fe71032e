"""Traffic profiles: how often each access pattern runs and how big its items are.

An environment may carry one (`traffic:`); the cost model (change/cost/)
prices the design against it and the plan shows what a change costs. Field
ranges are here; names checked against the design are rule N5xx
(spec/rules/environment_traffic.py).
"""

# No `from __future__ import annotations`, and `[]`/`{}` for empty defaults: see design.py.

from typing import Annotated, Optional

from pydantic import Field

from . import limits
from .design import IndexName, StrictModel

# AWS prices a month as 730 hours (pricing pages: "assuming 730 hours in a month").
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600


class PatternTraffic(StrictModel):
    """One access pattern's share of the environment's traffic."""

    per_month: int = Field(ge=0)  # requests per month
    # Average size of each item read or written (what DynamoDB meters).
    item_kb: float = Field(gt=0, le=limits.ITEM_SIZE_MAX_KB)
    # Average items per Query, batch or transaction. Default: 1, or the number
    # of items in the pattern's example for a batch or transaction.
    items: Optional[float] = Field(default=None, gt=0)
    consistent_read: bool = False
    peak_per_second: Optional[float] = Field(default=None, gt=0)
    # The busiest partition key's share of this pattern's requests (0-1].
    hot_key_share: Optional[float] = Field(default=None, gt=0, le=1)


class ConversationSize(StrictModel):
    """The longest conversations expected: checks list_in_item designs against the 400 KB item limit."""

    messages: int = Field(ge=1)
    message_kb: float = Field(gt=0, le=limits.ITEM_SIZE_MAX_KB)


class Traffic(StrictModel):
    patterns: dict[str, PatternTraffic] = {}
    table_gb: float = Field(default=0, ge=0)  # base table data (TableSizeBytes)
    # Index data; an index not named here is priced as large as the table.
    index_gb: dict[IndexName, Annotated[float, Field(ge=0)]] = {}
    # Item count: adds DynamoDB's 100 bytes of overhead per index item.
    table_items: Optional[int] = Field(default=None, ge=0)
    # GetRecords by consumers other than Lambda triggers (whose reads are free).
    stream_reads_per_month: int = Field(default=0, ge=0)
    conversations: Optional[ConversationSize] = None
