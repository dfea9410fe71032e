"""Read a DynamoDB table resource of a template the way DynamoDB sees it.

Shared by the diff (replacement beyond the registry schema), the guards and
the reviewer's diff, so each rule reads keys, indexes and settings one way.
"""

from __future__ import annotations

from typing import Any

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")


def props(resource: dict[str, Any] | None) -> dict[str, Any]:
    found: dict[str, Any] = (resource or {}).get("Properties") or {}
    return found


def attribute_types(resource: dict[str, Any] | None) -> dict[str, str]:
    return {a["AttributeName"]: a["AttributeType"] for a in props(resource).get("AttributeDefinitions", [])}


def typed_key(key_schema: list[dict[str, Any]], types: dict[str, str]) -> tuple[tuple[str, str, str], ...]:
    """((name, type, HASH|RANGE), ...): a key as DynamoDB compares it, types included."""
    return tuple((k["AttributeName"], types.get(k["AttributeName"], "?"), k["KeyType"]) for k in key_schema)


def table_key(resource: dict[str, Any] | None) -> tuple[tuple[str, str, str], ...]:
    return typed_key(props(resource).get("KeySchema", []), attribute_types(resource))


def indexes(resource: dict[str, Any] | None, kind: str) -> dict[str, dict[str, Any]]:
    """kind: "GlobalSecondaryIndexes" or "LocalSecondaryIndexes" -> {name: index}."""
    return {i["IndexName"]: i for i in props(resource).get(kind, [])}


def index_shape(resource: dict[str, Any] | None, index: dict[str, Any]) -> tuple[Any, ...]:
    """What DynamoDB cannot change in place: typed keys and projection (not throughput or insights)."""
    projection = index.get("Projection") or {}
    return (
        typed_key(index.get("KeySchema", []), attribute_types(resource)),
        projection.get("ProjectionType"),
        tuple(sorted(projection.get("NonKeyAttributes", []))),
    )


def changed_gsis(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[list[str], list[str], list[str]]:
    """(added, removed, recreated) GSI names; recreated = same name, new keys or projection."""
    before, after = indexes(old, "GlobalSecondaryIndexes"), indexes(new, "GlobalSecondaryIndexes")
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    recreated = sorted(n for n in set(before) & set(after) if index_shape(old, before[n]) != index_shape(new, after[n]))
    return added, removed, recreated


def lsis_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    before, after = indexes(old, "LocalSecondaryIndexes"), indexes(new, "LocalSecondaryIndexes")
    shapes_before = {n: index_shape(old, i) for n, i in before.items()}
    return shapes_before != {n: index_shape(new, i) for n, i in after.items()}


def key_types_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """Same key attribute names, another type: DynamoDB cannot change it in place."""
    before, after = table_key(old), table_key(new)
    names = [(n, k) for n, _, k in before]
    return names == [(n, k) for n, _, k in after] and before != after


def extra_replacing(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Properties whose change replaces a table though the registry schema does not say so.

    LSIs can be created only with the table; a key attribute's type is part
    of the key (docs: aws-resource-dynamodb-table, LocalSecondaryIndexes and
    AttributeDefinitions "Update requires: Replacement" for key attributes).
    """
    if old.get("Type") not in TABLE_TYPES:
        return []
    out = []
    if lsis_changed(old, new):
        out.append("LocalSecondaryIndexes")
    if key_types_changed(old, new):
        out.append("AttributeDefinitions")
    return out
