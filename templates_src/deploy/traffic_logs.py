"""Access patterns from observed traffic: CloudTrail data events for one table, read as a stream.

A trail that logs DynamoDB data events delivers JSON files ({"Records": [...]}, gzipped) to S3
(CloudTrail User Guide, "CloudTrail log file examples"; DynamoDB Developer Guide,
understanding-ddb-log-entries: with the classic API only key attribute values are logged). Each
file is read and dropped in turn, so a month of logs costs one file's memory. Per calling role
(the session issuer of an assumed role), each record's operation, index, key condition shape (names
resolved, values never kept) and the attributes it names are counted: those are the patterns adopt
proposes, each marked as observed with its window, and the counts become the traffic profile.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..spec.operations import ITEM_WRITE_OPERATIONS, MULTI_ITEM_WRITE_OPERATIONS, READ_OPERATIONS

DYNAMODB_SOURCE = "dynamodb.amazonaws.com"
# The data events a design can state (spec/operations.py); any other (Scan, PartiQL) is reported.
EXPRESSIBLE = frozenset((*READ_OPERATIONS, *ITEM_WRITE_OPERATIONS, *MULTI_ITEM_WRITE_OPERATIONS))
WRITES = frozenset((*ITEM_WRITE_OPERATIONS, *MULTI_ITEM_WRITE_OPERATIONS))
_NAME = re.compile(r"#[A-Za-z0-9_]+")
_PATH_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|#[A-Za-z0-9_]+")
_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")
# Update and condition expression keywords and functions (the Developer Guide's expression syntax).
_EXPRESSION_WORDS = frozenset(
    {"SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN"}
    | {"if_not_exists", "list_append", "size", "attribute_exists", "attribute_not_exists", "attribute_type"}
    | {"begins_with", "contains"}
)


@dataclass(frozen=True)
class Shape:
    """One observed access pattern: who, what operation, on which index, with which key condition."""

    caller: str  # the role ARN (session issuer) or the principal ARN
    operation: str
    index: str | None
    key_condition: str | None
    item_operations: tuple[str, ...] = ()  # TransactWriteItems: what each item does


@dataclass
class Observed:
    """What the logs showed for one table."""

    counts: dict[Shape, int] = field(default_factory=dict)
    attributes: dict[Shape, set[str]] = field(default_factory=dict)
    unexpressible: dict[tuple[str, str], int] = field(default_factory=dict)  # (caller, operation) -> count
    first: datetime | None = None
    last: datetime | None = None
    files: int = 0

    @property
    def days(self) -> float:
        """The observed window in days (at least one: a day's logs price as a day)."""
        if self.first is None or self.last is None:
            return 1.0
        return max(1.0, (self.last - self.first).total_seconds() / 86400)

    def writers(self) -> set[str]:
        return {s.caller for s in self.counts if s.operation in WRITES}

    def callers(self) -> set[str]:
        return {s.caller for s in self.counts}


def read_logs(source: str, table: str, s3: Any = None) -> Observed:
    """The data events on `table` in a local folder (or file) of CloudTrail logs, or an s3:// prefix."""
    observed = Observed()
    for name, text in _files(source, s3):
        try:
            records = json.loads(text).get("Records", [])
        except (json.JSONDecodeError, AttributeError):
            raise BadInput(f"--traffic: {name}: not a CloudTrail log file (JSON with Records)") from None
        observed.files += 1
        for record in records:
            _count(observed, record, table)
    if not observed.files:
        raise BadInput(f"--traffic: {source}: no CloudTrail log files (*.json, *.json.gz)")
    if not observed.counts:  # nothing to propose: said, rather than an adoption with empty patterns and traffic
        raise BadInput(
            f"--traffic: {source}: {observed.files} CloudTrail file(s), no DynamoDB data event on table {table}; "
            "a trail logs them only with a data event selector for DynamoDB (AWS::DynamoDB::Table). Nothing written"
        )
    return observed


def _files(source: str, s3: Any) -> Iterator[tuple[str, str]]:
    if source.startswith("s3://"):
        if s3 is None:
            raise BadInput("--traffic: an s3:// source needs AWS credentials")
        bucket, _, prefix = source[len("s3://") :].partition("/")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                if obj["Key"].endswith((".json", ".json.gz")):
                    body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                    yield f"s3://{bucket}/{obj['Key']}", _text(obj["Key"], body)
        return
    root = Path(source)
    if not root.exists():
        raise BadInput(f"--traffic: {source}: no such file or folder")
    paths: Iterable[Path] = [root] if root.is_file() else sorted(root.rglob("*"))
    for path in paths:
        if path.is_file() and path.name.endswith((".json", ".json.gz")):
            yield str(path), _text(path.name, path.read_bytes())


def _text(name: str, body: bytes) -> str:
    return (gzip.decompress(body) if name.endswith(".gz") else body).decode("utf-8")


def _count(observed: Observed, record: dict[str, Any], table: str) -> None:
    if record.get("eventSource") != DYNAMODB_SOURCE or record.get("errorCode"):
        return
    params = record.get("requestParameters") or {}
    operation = str(record.get("eventName", ""))
    tables = _tables(operation, params)
    if table not in tables:
        return
    caller = _caller(record.get("userIdentity") or {})
    when = _time(record.get("eventTime"))
    if when is not None:
        observed.first = when if observed.first is None or when < observed.first else observed.first
        observed.last = when if observed.last is None or when > observed.last else observed.last
    if operation not in EXPRESSIBLE:
        key = (caller, operation)
        observed.unexpressible[key] = observed.unexpressible.get(key, 0) + 1
        return
    names = params.get("expressionAttributeNames") or {}
    items = _transact_operations(params) if operation == "TransactWriteItems" else ()
    shape = Shape(caller, operation, params.get("indexName"), _key_condition(operation, params, names), items)
    observed.counts[shape] = observed.counts.get(shape, 0) + 1
    touched = observed.attributes.setdefault(shape, set())
    for expression in ("projectionExpression", "updateExpression"):
        touched |= _attribute_names(params.get(expression), names)
    item = params.get("item")  # PutItem: the attribute names it wrote (their values are not logged)
    touched |= set(item) if isinstance(item, (list, dict)) else set()


def _tables(operation: str, params: dict[str, Any]) -> set[str]:
    if "tableName" in params:
        return {str(params["tableName"])}
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return set((params.get("requestItems") or {}).keys())
    if operation.startswith("Transact"):
        return {
            str(part.get("tableName"))
            for item in params.get("transactItems") or []
            for part in item.values()
            if isinstance(part, dict)
        }
    return set()


# TransactWriteItems' item kinds (the API's TransactWriteItem members) -> the IAM action each needs.
_TRANSACT_ITEM = {
    "put": "PutItem",
    "update": "UpdateItem",
    "delete": "DeleteItem",
    "conditionCheck": "ConditionCheckItem",
}


def _transact_operations(params: dict[str, Any]) -> tuple[str, ...]:
    kinds = {kind for item in params.get("transactItems") or [] for kind in item if kind in _TRANSACT_ITEM}
    return tuple(sorted(_TRANSACT_ITEM[k] for k in kinds))


def _caller(identity: dict[str, Any]) -> str:
    """An assumed role's role (not its session): the principal a grant is written for."""
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    return str(issuer.get("arn") or identity.get("arn") or identity.get("type", "unknown"))


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _resolve(expression: str, names: dict[str, str]) -> str:
    return _NAME.sub(lambda m: names.get(m.group(0), m.group(0)), expression)


def _key_condition(operation: str, params: dict[str, Any], names: dict[str, str]) -> str | None:
    """The key condition's shape: Query's expression with names resolved; a keyed call's key names, each
    compared to a placeholder named after it (values are never kept)."""
    if operation == "Query" and params.get("keyConditionExpression"):
        return " ".join(_resolve(str(params["keyConditionExpression"]), names).split())
    key = params.get("key")
    if isinstance(key, dict) and key:
        return " AND ".join(f"{name} = :{name}" for name in sorted(key))
    return None


def _attribute_names(expression: Any, names: dict[str, str]) -> set[str]:
    if not expression:
        return set()
    words = {_resolve(w, names) for w in _PATH_WORDS.findall(_PLACEHOLDER.sub(" ", str(expression)))}
    return {w for w in words if w not in _EXPRESSION_WORDS}
