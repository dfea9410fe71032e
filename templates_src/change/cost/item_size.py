"""An item's size as DynamoDB meters it, for estimating an index's share of the table.

Rules (developer guide, "Item sizes and formats",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
an attribute costs its name's UTF-8 length plus its value; a string its
UTF-8 length, a number about one byte per two significant digits plus one, a
boolean or null one byte, a list or map three bytes plus one per element
plus the elements.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from .units import Gsi

CONTAINER_BYTES = 3
ELEMENT_BYTES = 1


def value_size(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, float)):
        digits = len(str(abs(value)).replace(".", "").lstrip("0")) or 1
        return (digits + 1) // 2 + 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, dict):
        return CONTAINER_BYTES + sum(len(k.encode("utf-8")) + value_size(v) + ELEMENT_BYTES for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return CONTAINER_BYTES + sum(value_size(v) + ELEMENT_BYTES for v in value)
    return len(str(value).encode("utf-8"))


def item_size(item: dict[str, Any], attributes: Iterable[str] | None = None) -> int:
    """Bytes of the item, or of only the named attributes."""
    names = item.keys() if attributes is None else [a for a in attributes if a in item]
    return sum(len(n.encode("utf-8")) + value_size(item[n]) for n in names)


def index_share(items: list[dict[str, Any]], table_keys: frozenset[str], gsi: Gsi) -> tuple[Fraction, Fraction] | None:
    """(share of items the index holds, share of the table's bytes it holds) over sample items; None without samples."""
    total = sum(item_size(i) for i in items)
    if not items or not total:
        return None
    indexed = [i for i in items if gsi.keys <= i.keys()]
    projected = 0
    for item in indexed:
        kept = item.keys() if gsi.projection == "ALL" else table_keys | gsi.keys | gsi.non_key_attributes
        projected += item_size(item, kept)
    return Fraction(len(indexed), len(items)), Fraction(projected, total)
