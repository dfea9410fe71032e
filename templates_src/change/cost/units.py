"""Request units: what one request of an access pattern consumes.

DynamoDB's metering rules, as the pricing and developer guides state them:

- A write request unit covers 1 KB of item, rounded up per item; a
  transactional write costs two per KB
  (https://aws.amazon.com/dynamodb/pricing/on-demand/, "Write request unit").
- A read request unit covers 4 KB strongly consistent, half of it eventually
  consistent, two transactional; a Query adds up the sizes of the items it
  returns before rounding, BatchGetItem rounds each item
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
- Every GSI entry a write puts, updates or deletes is a write of its own; a
  change of an index key value is two, a delete and a put; an item that is in
  the index neither before nor after costs the index nothing
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes).
  Index writes are propagated asynchronously, so a transaction doubles only
  its table writes. An index entry is priced at the item's size: an upper
  bound for KEYS_ONLY and INCLUDE projections.

Which GSIs a write touches comes from the pattern's `index_writes`, or else
from its example: the attributes a Put carries, the attributes an update
expression sets or removes, and the item as the design's sample_items hold it
(an item not among them is assumed to be indexed already: an upper bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, Optional

from ...spec.design import AccessPattern, Design
from ...spec.operations import KEYED_WRITE_OPERATIONS, MULTI_ITEM_WRITE_OPERATIONS, READ_OPERATIONS, TRANSACT_OPERATIONS
from ...spec.traffic import PatternTraffic
from ...spec.update_expression import update_targets

WRITE_UNIT_KB = 1
READ_UNIT_KB = 4
TRANSACTION_FACTOR = 2
EVENTUALLY_CONSISTENT_FACTOR = Fraction(1, 2)
# Items a batch or transaction without an example carries.
DEFAULT_ITEMS = 1


@dataclass(frozen=True)
class Gsi:
    """A GSI as the template defines it: keys and projection."""

    name: str
    keys: frozenset[str]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: frozenset[str]

    def projects(self, attribute: str) -> bool:
        return self.projection == "ALL" or attribute in self.non_key_attributes

    @classmethod
    def from_template(cls, index: dict[str, Any]) -> Gsi:
        projection = index.get("Projection") or {}
        return cls(
            index["IndexName"],
            frozenset(k["AttributeName"] for k in index.get("KeySchema", [])),
            projection.get("ProjectionType", "ALL"),
            frozenset(projection.get("NonKeyAttributes", [])),
        )


@dataclass(frozen=True)
class ItemWrite:
    """One item a write request changes, as its example shows it."""

    kind: Literal["put", "update", "delete", "check"]
    written: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    prior: Optional[frozenset[str]] = None  # the item's attributes before, when the samples hold it


@dataclass(frozen=True)
class RequestUnits:
    table: Fraction  # read or write units on the table per request
    index: dict[str, Fraction]  # write units per GSI per request
    items: Fraction
    kind: Literal["read", "write"]
    assumed: str = ""  # how index writes were found when not from the example

    @property
    def total(self) -> Fraction:
        return self.table + sum(self.index.values(), Fraction(0))


def write_units(kb: float) -> int:
    return max(1, math.ceil(Fraction(str(kb)) / WRITE_UNIT_KB))


def read_units(kb: Fraction | float) -> int:
    size = kb if isinstance(kb, Fraction) else Fraction(str(kb))
    return max(1, math.ceil(size / READ_UNIT_KB))


def gsi_writes(gsi: Gsi, write: ItemWrite) -> int:
    """Index writes of one item write: 0, 1 (put, delete, projected change) or 2 (key value change)."""
    if write.kind == "check":
        return 0
    if write.kind == "put":  # a new item: the index gets it when it has every index key
        return 1 if gsi.keys <= write.written else 0
    indexed_before = write.prior is None or gsi.keys <= write.prior
    if write.kind == "delete":
        return 1 if indexed_before else 0
    after = (write.prior or gsi.keys) | write.written
    indexed_after = gsi.keys <= after and not gsi.keys & write.removed
    if indexed_before and indexed_after:
        if gsi.keys & write.written:
            return 2
        return 1 if any(gsi.projects(a) for a in (write.written | write.removed) - gsi.keys) else 0
    return 1 if indexed_before or indexed_after else 0


def _sample(design: Design, key: dict[str, Any]) -> Optional[frozenset[str]]:
    names = [k.name for k in design.table_key()]
    for item in design.sample_items:
        if all(item.get(n) == key.get(n) for n in names):
            return frozenset(item)
    return None


def _update(design: Design, key: dict[str, Any], expression: str, names: dict[str, str]) -> ItemWrite:
    targets = update_targets(expression, names)
    prior = _sample(design, key)
    return ItemWrite("update", targets.written, targets.removed, None if prior is None else prior | frozenset(key))


def example_writes(design: Design, pattern: AccessPattern) -> list[ItemWrite]:
    """The item writes of the pattern's example (empty without one)."""
    example = pattern.example
    if example is None:
        return []
    op = pattern.operation
    if op == "PutItem" and example.item is not None:
        return [ItemWrite("put", frozenset(example.item))]
    if op in KEYED_WRITE_OPERATIONS:
        condition = pattern.parsed_key_condition()
        if condition is None:
            return []
        key = {a: example.values.get(p) for a, p in zip(condition.attributes, condition.placeholders, strict=False)}
        if op == "UpdateItem" and example.update is not None:
            return [_update(design, key, example.update, example.names)]
        if op == "DeleteItem":
            return [ItemWrite("delete", prior=_sample(design, key))]
        return [ItemWrite("check")]
    if op == "BatchWriteItem":
        puts = [ItemWrite("put", frozenset(i)) for i in example.put]
        return puts + [ItemWrite("delete", prior=_sample(design, k)) for k in example.delete]
    if op == "TransactWriteItems":
        out = []
        for step in example.transact:
            if step.put is not None:
                out.append(ItemWrite("put", frozenset(step.put)))
            if step.update is not None:
                out.append(_update(design, step.update.key, step.update.expression, step.update.names))
        return out
    return []


def _items(pattern: AccessPattern, traffic: PatternTraffic, example_items: int) -> Fraction:
    if traffic.items is not None:
        return Fraction(str(traffic.items))
    if pattern.operation in MULTI_ITEM_WRITE_OPERATIONS and example_items:
        return Fraction(example_items)
    return Fraction(DEFAULT_ITEMS)


def pattern_units(design: Design, gsis: list[Gsi], pattern: AccessPattern, traffic: PatternTraffic) -> RequestUnits:
    """Units one request of the pattern consumes, on the table and on each GSI."""
    op = pattern.operation
    if op in READ_OPERATIONS:
        items = _items(pattern, traffic, 0)
        if op == "Query":  # one rounding over the whole result
            units = Fraction(read_units(items * Fraction(str(traffic.item_kb))))
        else:
            units = items * read_units(traffic.item_kb)
        if op in TRANSACT_OPERATIONS:
            units *= TRANSACTION_FACTOR
        elif not traffic.consistent_read:
            units *= EVENTUALLY_CONSISTENT_FACTOR
        return RequestUnits(units, {}, items, "read")

    writes = example_writes(design, pattern)
    items = _items(pattern, traffic, len(writes))
    per_item = write_units(traffic.item_kb)
    table = items * per_item * (TRANSACTION_FACTOR if op in TRANSACT_OPERATIONS else 1)
    index: dict[str, Fraction] = {}
    assumed = ""
    for gsi in gsis:
        if gsi.name in pattern.index_writes:
            average = Fraction(str(pattern.index_writes[gsi.name]))
        elif writes:
            average = Fraction(sum(gsi_writes(gsi, w) for w in writes), len(writes))
        else:
            average = Fraction(1)
            assumed = "no example: 1 write per GSI per item assumed (declare index_writes)"
        if average:
            index[gsi.name] = items * average * per_item
    return RequestUnits(table, index, items, "write", assumed)
