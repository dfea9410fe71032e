"""The dated price book (price_book.json): one region's DynamoDB prices.

Prices change: the book names its source and the day it was read, and a
region it does not hold is an error, never a guess. Its `global_tables`
entry holds the rule for replicated writes (same price as the Region's write
units), with its own source and date, and what global tables cost that the
model does not price.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICE_BOOK = Path(__file__).with_name("price_book.json")
# Another book of the same shape (negotiated prices; the tests' own fixture book).
PRICE_BOOK_VARIABLE = "PRICE_BOOK"


def price_book_path() -> Path:
    """The book in use: $PRICE_BOOK, else the one shipped beside this module."""
    return Path(os.environ.get(PRICE_BOOK_VARIABLE) or PRICE_BOOK)


def price_book_label() -> str:
    """How messages name the book: relative to the project for the shipped one."""
    path = price_book_path()
    return str(path.relative_to(PRICE_BOOK.parents[3])) if path == PRICE_BOOK else str(path)


TABLE_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")


@dataclass(frozen=True)
class ClassPrices:
    """What a table class costs: requests (on-demand), capacity (provisioned), storage."""

    write_request_units_per_million: float
    read_request_units_per_million: float
    storage_gb_month: float
    write_capacity_unit_hour: float
    read_capacity_unit_hour: float


@dataclass(frozen=True)
class Prices:
    region: str
    source: str
    retrieved: str
    table_classes: dict[str, ClassPrices]
    pitr_gb_month: float
    backup_gb_month: float
    stream_read_request_units_per_million: float
    kms_key_month: float


@dataclass(frozen=True)
class GlobalTableRule:
    """How a global table's replicas are billed, as the book records it."""

    source: str
    retrieved: str
    replicated_writes: str
    not_priced: tuple[str, ...]


def _book() -> dict[str, Any]:
    return _read_book(price_book_path())


@functools.cache
def _read_book(path: Path) -> dict[str, Any]:
    book: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return book


def priced_regions() -> list[str]:
    book = _book()
    return sorted([*book["regions"], *book["same_prices_as"]])


def prices_for(region: str) -> Prices | None:
    """The region's prices, or None when the book has none."""
    book = _book()
    listed = book["regions"].get(book["same_prices_as"].get(region, region))
    if listed is None:
        return None
    classes = {name: ClassPrices(**listed["table_classes"][name]) for name in TABLE_CLASSES}
    rest = {k: v for k, v in listed.items() if k != "table_classes"}
    return Prices(region, book["source"], book["retrieved"], classes, **rest)


def global_table_rule() -> GlobalTableRule:
    rule = _book()["global_tables"]
    return GlobalTableRule(rule["source"], rule["retrieved"], rule["replicated_writes"], tuple(rule["not_priced"]))
