"""Turn an item of a table's previous key schema into an item of its new one.

Standard library only, and no imports from the package: the same file runs in
`migrate` on the operator's machine (backfill, catch-up, verify) and as the
stream consumer's code, so both write exactly the same items. Items are
DynamoDB JSON (`{"S": "..."}`, `{"N": "12"}`, ...), as an export file, a stream
record and the low-level client carry them.

The configuration is the design's `migration:` (spec/migration.py) as plain
data, with the new table's key attribute types (`key_types`):

    keys:     new key attribute -> template over the old item's attributes,
              e.g. "USER#{userId}"; a template that is one placeholder copies
              the attribute with its type (converted to the key's type)
    rename:   old attribute name -> new name
    convert:  attribute (new name) -> "S" or "N"
    drop:     attributes left out of the new item
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from typing import Any

Item = dict[str, Any]
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class TransformError(Exception):
    """An item the transform cannot turn into a new item: it goes to the dead-letter queue, named."""


def template_parts(template: str) -> list[tuple[str, str]]:
    """[("text", "USER#"), ("attr", "userId")]; ValueError on an empty placeholder or a stray brace."""
    parts: list[tuple[str, str]] = []
    pos = 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(("text", template[pos : match.start()]))
        if not match.group(1):
            raise ValueError("an empty placeholder {}")
        parts.append(("attr", match.group(1)))
        pos = match.end()
    parts.append(("text", template[pos:]))
    parts = [p for p in parts if p != ("text", "")]
    if any(kind == "text" and ("{" in text or "}" in text) for kind, text in parts):
        raise ValueError("a brace outside a {placeholder}")
    if not any(kind == "attr" for kind, _ in parts):
        raise ValueError("no {placeholder}: every item would get the same key")
    return parts


def _scalar(value: Item, attribute: str) -> str:
    for kind in ("S", "N"):
        if kind in value:
            return str(value[kind])
    raise TransformError(f"attribute {attribute!r} is {next(iter(value), '?')}, not a string or number")


def _converted(value: Item, to: str, attribute: str) -> Item:
    if to in value:
        return value
    text = _scalar(value, attribute)
    if to == "N":
        try:
            Decimal(text)
        except InvalidOperation:
            raise TransformError(f"attribute {attribute!r} is {text!r}, not a number") from None
    return {to: text}


def _render(template: str, item: Item, key_type: str, attribute: str) -> Item:
    parts = template_parts(template)
    for kind, name in parts:
        if kind == "attr" and name not in item:
            raise TransformError(f"attribute {name!r} (in the key template of {attribute!r}) is missing")
    if len(parts) == 1:
        return _converted(item[parts[0][1]], key_type, parts[0][1])
    text = "".join(value if kind == "text" else _scalar(item[value], value) for kind, value in parts)
    return {"S": text}


def transform(item: Item, config: dict[str, Any]) -> Item:
    """The new table's item for an old item (TransformError when it has none)."""
    out = {name: value for name, value in item.items() if name not in set(config.get("drop", ()))}
    for old, new in config.get("rename", {}).items():
        if old in out:
            out[new] = out.pop(old)
    for attribute, to in config.get("convert", {}).items():
        if attribute in out:
            out[attribute] = _converted(out[attribute], to, attribute)
    for attribute, template in config["keys"].items():
        out[attribute] = _render(template, item, config["key_types"][attribute], attribute)
    return out


def key_of(item: Item, config: dict[str, Any]) -> Item:
    """The new table's primary key of a new item."""
    return {name: item[name] for name in config["keys"]}


def changes_for(record: Item, config: dict[str, Any]) -> list[tuple[str, Item]]:
    """A stream record (NEW_AND_OLD_IMAGES) as writes to the new table: ("put", item) and ("delete", key).

    A modification that moves an item to another new key (its key template reads
    an attribute that changed) deletes the item at the old image's key first.
    """
    body = record["dynamodb"]
    new = transform(body["NewImage"], config) if "NewImage" in body else None
    old_key = key_of(transform(body["OldImage"], config), config) if "OldImage" in body else None
    changes: list[tuple[str, Item]] = []
    if old_key is not None and (new is None or key_of(new, config) != old_key):
        changes.append(("delete", old_key))
    if new is not None:
        changes.append(("put", new))
    return changes


CONDITIONAL_FAILED = "ConditionalCheckFailedException"


def export_items(s3: Any, bucket: str, key: str) -> Iterator[Item]:
    """The items of one export data file (DYNAMODB_JSON: one {"Item": {...}} per line, gzip), streamed."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with gzip.GzipFile(fileobj=body) as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)["Item"]


def error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class ItemWriter:
    """Writes new items and deletes to the new table (a DynamoDB client: boto3's, in either place).

    dead_letter(item, reason) takes what cannot be written: a file on the operator's
    machine, the dead-letter queue in the stream consumer.
    """

    # A backfill's writes in flight at once (bound by round trips), taken from the items CHUNK at a time
    # so that a large export file is never held in memory whole.
    THREADS = 16
    CHUNK = 1000

    def __init__(self, client: Any, table: str, config: dict[str, Any], dead_letter: Callable[[Item, str], None]):
        self.client, self.table, self.config, self.dead_letter = client, table, config, dead_letter
        self.written = self.skipped = 0
        self._counting = threading.Lock()  # load_all's threads count too

    def _count(self, written: int = 0, skipped: int = 0) -> None:
        with self._counting:
            self.written += written
            self.skipped += skipped

    def _condition(self, item: Item, newer_only: bool) -> dict[str, Any]:
        """Backfill (newer_only) never replaces an item already there (with a version: one as new or
        newer); catch-up replaces the item unless it holds a newer version."""
        names = {"#k": next(iter(self.config["keys"]))}
        condition = "attribute_not_exists(#k)"
        version = self.config.get("version_attribute")
        if version and version in item:
            names["#v"] = version
            condition += " OR #v < :v" if newer_only else " OR #v <= :v"
            return {
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {":v": item[version]},
            }
        return {"ConditionExpression": condition, "ExpressionAttributeNames": names} if newer_only else {}

    def put(self, item: Item, newer_only: bool) -> None:
        try:
            self.client.put_item(TableName=self.table, Item=item, **self._condition(item, newer_only))
            self._count(written=1)
        except Exception as exc:
            code = error_code(exc)
            if code == CONDITIONAL_FAILED:
                self._count(skipped=1)
            elif code == "ValidationException":
                self.dead_letter(item, f"the new table refused it: {exc}")
            else:
                raise

    def load(self, old: Item) -> None:
        """Backfill: one old item, transformed and written unless the new table has it already."""
        try:
            new = transform(old, self.config)
        except TransformError as exc:
            self.dead_letter(old, str(exc))
            return
        self.put(new, newer_only=True)

    def load_all(self, items: Iterator[Item]) -> None:
        """Backfill: load each item, THREADS at a time (a boto3 client is safe to share between threads)."""
        with ThreadPoolExecutor(self.THREADS) as pool:
            while chunk := list(itertools.islice(items, self.CHUNK)):
                for future in [pool.submit(self.load, item) for item in chunk]:
                    future.result()

    def apply(self, record: Item) -> None:
        """Catch-up: one stream record's writes, in order."""
        try:
            changes = changes_for(record, self.config)
        except TransformError as exc:
            self.dead_letter(record["dynamodb"], f"{record.get('eventName', 'record')}: {exc}")
            return
        for action, value in changes:
            if action == "delete":
                self.client.delete_item(TableName=self.table, Key=value)
                self._count(written=1)
            else:
                self.put(value, newer_only=False)


def _canonical(value: Any) -> Any:
    """A value as DynamoDB stores it: numbers normalised, sets sorted."""
    if isinstance(value, dict):
        if "N" in value and len(value) == 1:
            return {"N": _number(value["N"])}
        if "NS" in value:
            return {"NS": sorted(_number(n) for n in value["NS"])}
        if "SS" in value or "BS" in value:
            kind = "SS" if "SS" in value else "BS"
            return {kind: sorted(value[kind])}
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _number(text: str) -> str:
    number = Decimal(text)
    return "0" if number == 0 else format(number.normalize(), "f")


def digest(item: Item) -> str:
    """A checksum of an item's content, equal for equal items however they were read."""
    text = json.dumps(_canonical(item), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def transform_digest(config: dict[str, Any]) -> str:
    """The transform's identity: a migration state remembers which one its backfill wrote with."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def key_text(key: Item) -> str:
    """A key as one line (messages, DLQ files, verify's mismatches)."""
    return json.dumps(_canonical(key), sort_keys=True, separators=(",", ":"))
