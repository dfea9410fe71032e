"""The data a migration moves: export files read, items loaded, stream records applied, tables compared.

Every write goes through spec/item_transform.py, the code the stream consumer runs too, and is
conditional where a resumed or concurrent writer could meet a newer item. An item the transform
cannot take, or the new table refuses, is written to the dead-letter file with its key and
reason, counted, and fails verification: nothing is dropped silently.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec.item_transform import (
    Item,
    ItemWriter,
    TransformError,
    digest,
    key_of,
    key_text,
    transform,
)

# Mismatches named in a failed verification (all of them are counted).
NAMED_MISMATCHES = 20


@dataclass
class DeadLetters:
    """Items not written: one JSON line each (key, reason, item) in a local file."""

    path: Path
    count: int = 0
    first: str = ""  # the first reason added, named when the migration stops
    _adding: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, item: Item, reason: str) -> None:
        """One line, whole (the backfill's threads add too)."""
        line = json.dumps({"reason": reason, "item": item}, sort_keys=True) + "\n"
        with self._adding:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)
            self.count += 1
            self.first = self.first or reason


class Writer(ItemWriter):
    """The operator's machine's ItemWriter: dead letters to a file."""

    def __init__(self, dynamodb: Any, table: str, config: dict[str, Any], dead: DeadLetters) -> None:
        super().__init__(dynamodb, table, config, dead.add)
        self.dead = dead


def export_files(s3: Any, bucket: str, prefix: str) -> list[str]:
    """The data files of the exports under prefix, in order (DynamoDB writes <prefix>/AWSDynamoDB/<id>/data/)."""
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/AWSDynamoDB/"):
        keys += [o["Key"] for o in page.get("Contents", []) if "/data/" in o["Key"] and o["Key"].endswith(".gz")]
    return sorted(keys)


@dataclass
class Shards:
    """A stream read shard by shard from checkpoints (shard id -> last sequence number applied)."""

    streams: Any
    stream_arn: str
    checkpoints: dict[str, str] = field(default_factory=dict)

    def shard_ids(self) -> list[str]:
        ids: list[str] = []
        args: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            described = self.streams.describe_stream(**args)["StreamDescription"]
            ids += [s["ShardId"] for s in described.get("Shards", [])]
            last = described.get("LastEvaluatedShardId")
            if not last:
                return ids
            args["ExclusiveStartShardId"] = last

    def _iterator(self, shard: str) -> str:
        after = self.checkpoints.get(shard)
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        return str(
            self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard, **position)["ShardIterator"]
        )

    def read(self, apply: Callable[[Item], None], saved: Callable[[], None]) -> int:
        """Every record after the checkpoints, in order per shard, until each shard has none left.

        Each batch's checkpoint is saved after its records are applied: a run stopped midway
        applies at most one batch again, and applying a record again changes nothing.
        """
        applied = 0
        for shard in self.shard_ids():
            iterator: str | None = self._iterator(shard)
            while iterator:
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records = response.get("Records", [])
                if not records:
                    break
                for record in records:
                    apply(record)
                self.checkpoints[shard] = records[-1]["dynamodb"]["SequenceNumber"]
                applied += len(records)
                saved()
                iterator = response.get("NextShardIterator")
        return applied

    def capture(self) -> None:
        """The start point: each shard's last sequence number now (none yet: from its first record)."""
        self.read(lambda record: None, lambda: None)


def scan(dynamodb: Any, table: str) -> Iterator[Item]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        yield from page.get("Items", [])


@dataclass
class Comparison:
    old_items: int
    new_items: int
    missing: list[str]  # keys the old table's items map to, not in the new table
    extra: list[str]  # keys in the new table no old item maps to
    different: list[str]  # same key, other content
    untransformable: list[str]
    expired: int = 0  # items missing on one side only, recently past their TTL there: left out

    @property
    def mismatches(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.different) + len(self.untransformable)

    def lines(self) -> list[str]:
        out = []
        for label, keys in (
            ("missing from the new table", self.missing),
            ("in the new table only", self.extra),
            ("different", self.different),
            ("cannot be transformed", self.untransformable),
        ):
            if keys:
                shown = ", ".join(keys[:NAMED_MISMATCHES]) + (" ..." if len(keys) > NAMED_MISMATCHES else "")
                out.append(f"  {len(keys)} {label}: {shown}")
        return out


# How long after its TTL an item may still be missing from one table only: DynamoDB "typically deletes
# expired items within two days" (UpdateTimeToLive), in each table on its own time. Older than this, a
# difference is no TTL timing and stays a mismatch.
TTL_DELETE_WINDOW_S = 30 * 24 * 3600


def expired_by(ttl_attribute: str | None, now: int) -> Callable[[Item], bool]:
    """Whether an item (of the new design) expired within the window: DynamoDB may have deleted it in one
    table and not yet in the other, and a freeze does not stop those deletes. None: TTL is off, and nothing
    expires."""

    def expired(item: Item) -> bool:
        value = item.get(ttl_attribute, {}) if ttl_attribute else {}
        return "N" in value and now - TTL_DELETE_WINDOW_S < float(value["N"]) <= now

    return expired


def compare(
    dynamodb: Any,
    old_table: str,
    old_key: list[str],
    new_table: str,
    config: dict[str, Any],
    expired: Callable[[Item], bool] = lambda item: False,
) -> Comparison:
    """Every old item, transformed, against every new item: by key, then by checksum. An item missing from
    one table that expired there lately (`expired`) is left out, counted: TTL's delete of the other copy may
    be pending. Items in both tables are always compared."""
    expected: dict[str, str] = {}
    expired_old: set[str] = set()
    untransformable: list[str] = []
    old_count = 0
    for item in scan(dynamodb, old_table):
        old_count += 1
        try:
            new = transform(item, config)
        except TransformError as exc:
            untransformable.append(f"{key_text({k: item[k] for k in old_key if k in item})} ({exc})")
            continue
        key = key_text(key_of(new, config))
        expected[key] = digest(new)
        if expired(new):
            expired_old.add(key)
    actual: dict[str, str] = {}
    expired_new: set[str] = set()
    for item in scan(dynamodb, new_table):
        key = key_text(key_of(item, config))
        actual[key] = digest(item)
        if expired(item):
            expired_new.add(key)
    missing, extra = set(expected) - set(actual), set(actual) - set(expected)
    return Comparison(
        old_items=old_count,
        new_items=len(actual),
        missing=sorted(missing - expired_old),
        extra=sorted(extra - expired_new),
        different=sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k]),
        untransformable=sorted(untransformable),
        expired=len(missing & expired_old) + len(extra & expired_new),
    )
