"""Run a design's access patterns against a live table and check the results.

Used by `make local` (a moto server on loopback) and by the tests. Each read
pattern is one request, never a Scan; each write pattern is checked by
reading the written keys back. Settings the local endpoint does not model
are reported as such, never as verified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ..spec.design import AccessPattern, Design, with_key_types
from ..spec.loader import Spec
from ..spec.operations import READ_OPERATIONS

_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


def to_ddb(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items()}


def from_ddb(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    return value


@dataclass
class PatternResult:
    pattern: AccessPattern
    ok: bool
    detail: str
    items: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    skipped: bool = False  # no example to run: reported as not run, never as passed


def table_key(design: Design, item: dict[str, Any]) -> dict[str, Any]:
    return {k.name: item[k.name] for k in design.table_key()}


def load_samples(client: Any, table: str, design: Design) -> int:
    for item in design.sample_items:
        client.put_item(TableName=table, Item=to_ddb(item))
    return len(design.sample_items)


def run_pattern(client: Any, table: str, design: Design, pattern: AccessPattern) -> PatternResult:
    example = pattern.example
    if example is None:
        return PatternResult(pattern, True, "NOT RUN: the design gives no example (rule D312)", skipped=True)
    try:
        runner = _RUNNERS[pattern.operation]
    except KeyError:
        return PatternResult(pattern, False, f"{pattern.operation} has no smoke runner yet")
    return runner(client, table, design, pattern)


def _names(attrs: tuple[str, ...]) -> dict[str, str]:
    # Placeholders for every attribute: "timestamp", "status", "ttl" are reserved words.
    return {a: f"#k{i}" for i, a in enumerate(attrs)}


def _key_from_condition(pattern: AccessPattern) -> dict[str, Any]:
    condition = pattern.parsed_key_condition()
    assert condition is not None and pattern.example is not None
    key = {condition.partition_attribute: pattern.example.values[condition.partition_value]}
    if condition.sort is not None:
        key[condition.sort.attribute] = pattern.example.values[condition.sort.values[0]]
    return key


def _check_read(design: Design, pattern: AccessPattern, items: list[dict[str, Any]], requests: int) -> PatternResult:
    assert pattern.example is not None
    got = [table_key(design, i) for i in items]
    if pattern.example.expect is not None and got != pattern.example.expect:
        return PatternResult(pattern, False, f"expected keys {pattern.example.expect}, got {got}", items, requests)
    return PatternResult(pattern, True, f"{len(items)} item(s) in {requests} request", items, requests)


def _get_item(client: Any, table: str, design: Design, pattern: AccessPattern) -> PatternResult:
    response = client.get_item(TableName=table, Key=to_ddb(_key_from_condition(pattern)), ConsistentRead=True)
    items = [from_ddb(response["Item"])] if "Item" in response else []
    return _check_read(design, pattern, items, 1)


def _query(client: Any, table: str, design: Design, pattern: AccessPattern) -> PatternResult:
    condition = pattern.parsed_key_condition()
    assert condition is not None and pattern.example is not None
    names = _names(condition.attributes)
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": condition.expression(names),
        "ExpressionAttributeNames": {v: k for k, v in names.items()},
        "ExpressionAttributeValues": to_ddb({p: pattern.example.values[p] for p in condition.placeholders}),
        "ScanIndexForward": pattern.example.scan_index_forward,
    }
    if pattern.index:
        request["IndexName"] = pattern.index
    response = client.query(**request)
    items = [from_ddb(i) for i in response["Items"]]
    if response.get("LastEvaluatedKey"):
        return PatternResult(pattern, False, "needed more than one request (LastEvaluatedKey)", items, 1)
    if response["ScannedCount"] != response["Count"]:
        return PatternResult(
            pattern,
            False,
            f"read {response['ScannedCount']} items to return {response['Count']}: the key condition "
            "does not select exactly the items",
            items,
            1,
        )
    return _check_read(design, pattern, items, 1)


def _present(client: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    response = client.get_item(TableName=table, Key=to_ddb(key), ConsistentRead=True)
    return from_ddb(response["Item"]) if "Item" in response else None


def _put_item(client: Any, table: str, design: Design, pattern: AccessPattern) -> PatternResult:
    assert pattern.example is not None and pattern.example.item is not None, "PutItem example needs item"
    item = pattern.example.item
    client.put_item(TableName=table, Item=to_ddb(item))
    stored = _present(client, table, table_key(design, item))
    ok = stored == item
    return PatternResult(pattern, ok, "item stored and read back" if ok else f"read back {stored}", [item], 1)


def _used_values(expression: str, values: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB rejects values the expression does not use.
    return {k: v for k, v in values.items() if re.search(re.escape(k) + r"\b", expression)}


def _update_item(client: Any, table: str, design: Design, pattern: AccessPattern) -> PatternResult:
    example = pattern.example
    assert example is not None and example.update, "UpdateItem example needs update"
    key = _key_from_condition(pattern)
    client.update_item(
        TableName=table,
        Key=to_ddb(key),
        UpdateExpression=example.update,
        ExpressionAttributeValues=to_ddb(_used_values(example.update, example.values)),
        **({"ExpressionAttributeNames": example.names} if example.names else {}),
    )
    return _expect_item(client, table, pattern, key, example.expect_item or {})


def _expect_item(
    client: Any, table: str, pattern: AccessPattern, key: dict[str, Any], wanted: dict[str, Any]
) -> PatternResult:
    stored = _present(client, table, key)
    if stored is None:
        return PatternResult(pattern, False, f"{key} missing after the write", requests=1)
    wrong = {k: stored.get(k) for k, v in wanted.items() if stored.get(k) != v}
    if wrong:
        return PatternResult(pattern, False, f"after the write {key} has {wrong}, expected {wanted}", [stored], 1)
    return PatternResult(pattern, True, "updated item read back", [stored], 1)


def _delete_item(client: Any, table: str, design: Design, pattern: AccessPattern) -> PatternResult:
    key = _key_from_condition(pattern)
    client.delete_item(TableName=table, Key=to_ddb(key))
    gone = _present(client, table, key) is None
    return PatternResult(pattern, gone, "item deleted" if gone else f"{key} still present", requests=1)


def _batch_write(client: Any, table: str, design: Design, pattern: AccessPattern) -> PatternResult:
    example = pattern.example
    assert example is not None
    requests = [{"DeleteRequest": {"Key": to_ddb(k)}} for k in example.delete] + [
        {"PutRequest": {"Item": to_ddb(i)}} for i in example.put
    ]
    if not requests or len(requests) > 25:
        return PatternResult(pattern, False, f"BatchWriteItem takes 1..25 requests, example has {len(requests)}")
    response = client.batch_write_item(RequestItems={table: requests})
    if response.get("UnprocessedItems"):
        return PatternResult(pattern, False, "unprocessed items left", requests=1)
    still = [k for k in example.delete if _present(client, table, k) is not None]
    missing = [i for i in example.put if _present(client, table, table_key(design, i)) != i]
    ok = not still and not missing
    detail = (
        f"{len(example.delete)} deleted, {len(example.put)} put" if ok else f"still present {still}, missing {missing}"
    )
    return PatternResult(pattern, ok, detail, requests=1)


def _transact_write(client: Any, table: str, design: Design, pattern: AccessPattern) -> PatternResult:
    example = pattern.example
    assert example is not None and example.transact, "TransactWriteItems example needs transact"
    items: list[dict[str, Any]] = []
    for step in example.transact:
        if step.put is not None:
            items.append({"Put": {"TableName": table, "Item": to_ddb(step.put)}})
        if step.update is not None:
            items.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": to_ddb(step.update.key),
                        "UpdateExpression": step.update.expression,
                        "ExpressionAttributeValues": to_ddb(_used_values(step.update.expression, step.update.values)),
                        **({"ExpressionAttributeNames": step.update.names} if step.update.names else {}),
                    }
                }
            )
    client.transact_write_items(TransactItems=items)
    for step in example.transact:
        key = table_key(design, step.put) if step.put is not None else step.update.key  # type: ignore[union-attr]
        if _present(client, table, key) is None:
            return PatternResult(pattern, False, f"{key} missing after the transaction", requests=1)
    return PatternResult(pattern, True, f"{len(items)} writes committed atomically", requests=1)


_RUNNERS = {
    "GetItem": _get_item,
    "Query": _query,
    "PutItem": _put_item,
    "UpdateItem": _update_item,
    "DeleteItem": _delete_item,
    "BatchWriteItem": _batch_write,
    "TransactWriteItems": _transact_write,
}


def run_all(client: Any, table: str, design: Design) -> list[PatternResult]:
    """Reads first (against the samples), then writes in declared order."""
    reads = [p for p in design.access_patterns if p.operation in READ_OPERATIONS]
    writes = [p for p in design.access_patterns if p not in reads]
    return [run_pattern(client, table, design, p) for p in reads + writes]


@dataclass
class SettingCheck:
    setting: str
    status: str  # "verified", "MISMATCH"
    detail: str


def verify_table(client: Any, table: str, spec: Spec, template_props: dict[str, Any]) -> list[SettingCheck]:
    """Compare the live table with the design and environment."""
    live = client.describe_table(TableName=table)["Table"]
    checks = []

    def check(setting: str, want: Any, got: Any) -> None:
        ok = want == got
        checks.append(
            SettingCheck(setting, "verified" if ok else "MISMATCH", f"{got}" if ok else f"want {want}, got {got}")
        )

    design, env = spec.design, spec.env
    check(
        "KeySchema",
        [(k.name, t) for k, t in with_key_types(design.table_key())],
        [(k["AttributeName"], k["KeyType"]) for k in live["KeySchema"]],
    )
    want_gsis = {
        g.name: [(k.name, t) for k, t in with_key_types(g.key_schema())] for g in design.global_secondary_indexes
    }
    got_gsis = {
        g["IndexName"]: [(k["AttributeName"], k["KeyType"]) for k in g["KeySchema"]]
        for g in live.get("GlobalSecondaryIndexes", [])
    }
    check("GlobalSecondaryIndexes", want_gsis, got_gsis)
    stream = live.get("StreamSpecification") or {}
    check(
        "StreamSpecification",
        env.stream_view_type,
        stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
    )
    billing = (live.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    check("BillingMode", env.billing.mode, billing)
    check("DeletionProtectionEnabled", env.deletion_protection, live.get("DeletionProtectionEnabled", False))
    # Read back as AWS reports them (the local endpoint applies them: moto_shim's fixes 10 and 12).
    ttl = template_props.get("TimeToLiveSpecification")
    if ttl is not None:
        live_ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        check(
            "TTL",
            ttl["AttributeName"] if ttl.get("Enabled") else None,
            live_ttl.get("AttributeName") if live_ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") else None,
        )
    pitr = template_props.get("PointInTimeRecoverySpecification")
    if pitr is not None:
        backups = client.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        status = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
        check("point-in-time recovery", bool(pitr.get("PointInTimeRecoveryEnabled")), status == "ENABLED")
    sse = template_props.get("SSESpecification")
    if sse is not None:
        live_sse = live.get("SSEDescription") or {}
        # Which key: an ARN the template names by reference; the kind is compared (KMS, or AWS owned).
        check(
            "server-side encryption",
            sse.get("SSEType", "KMS") if sse.get("SSEEnabled") else "AWS owned",
            live_sse.get("SSEType") if live_sse.get("Status") in ("ENABLED", "ENABLING") else "AWS owned",
        )
    return checks
