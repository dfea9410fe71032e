"""Read a DynamoDB table resource of a template the way DynamoDB sees it.

Shared by the diff (replacement beyond the registry schema), the guards and
the reviewer's diff, so each rule reads keys, indexes and settings one way.
"""

from __future__ import annotations

from typing import Any

from ..stacks.names import GLOBAL_TABLE_TYPE, TABLE_TYPES


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


# -- global tables: replicas, witnesses, consistency -------------------------------------------

# A plain Table is one replica: its per-replica settings are the table's own, under this name.
TABLE_REPLICA = "(table)"


def is_global(resource: dict[str, Any] | None) -> bool:
    return (resource or {}).get("Type") == GLOBAL_TABLE_TYPE


def replica_regions(resource: dict[str, Any] | None) -> list[str]:
    """A GlobalTable's replica Regions in template order (the stack's own first); [] for anything else."""
    if not is_global(resource):
        return []
    return [str(r.get("Region")) for r in props(resource).get("Replicas", [])]


def stack_region(resource: dict[str, Any] | None) -> str | None:
    """The Region of the stack a GlobalTable is in: its first replica.

    CloudFormation requires a replica in the stack's Region and never removes
    it; the builder (stacks/global_table.py) writes it first.
    """
    regions = replica_regions(resource)
    return regions[0] if regions else None


def replica_settings(resource: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """{region: the settings DynamoDB keeps per replica}, one code path for both table types.

    A GlobalTable's replica carries its own protection, PITR, table class,
    tags, insights, read capacity, resource policies and key; its
    SSESpecification is merged with the table's (SSEEnabled and SSEType are
    global) so a replica reads like a table. A plain Table is one replica,
    TABLE_REPLICA, whose settings are its properties.
    """
    if not resource or resource.get("Type") not in TABLE_TYPES:
        return {}
    if not is_global(resource):
        return {TABLE_REPLICA: props(resource)}
    table_sse = props(resource).get("SSESpecification") or {}
    out = {}
    for replica in props(resource).get("Replicas", []):
        merged = dict(replica)
        sse = {**table_sse, **(replica.get("SSESpecification") or {})}
        if sse:
            merged["SSESpecification"] = sse
        out[str(replica.get("Region"))] = merged
    return out


def paired_replicas(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(region, old settings, new settings) of every replica on both sides, in the old order.

    A plain Table on one side is paired with the stack's own replica on the
    other (a Table becoming a GlobalTable keeps its data in that Region).
    """
    before, after = replica_settings(old), replica_settings(new)
    if TABLE_REPLICA in before and TABLE_REPLICA not in after and (own := stack_region(new)):
        before = {own: before[TABLE_REPLICA]}
    if TABLE_REPLICA in after and TABLE_REPLICA not in before and (own := stack_region(old)):
        after = {own: after[TABLE_REPLICA]}
    return [(region, settings, after[region]) for region, settings in before.items() if region in after]


def replica_path(region: str, prop: str) -> str:
    """Where a per-replica setting is: the property itself on a Table, Replicas[<region>].<prop> otherwise."""
    return prop if region == TABLE_REPLICA else f"Replicas[{region}].{prop}"


def replica_label(region: str) -> str:
    """The prefix that names a replica in a message ("" for a plain Table)."""
    return "" if region == TABLE_REPLICA else f"replica {region}: "


def consistency(resource: dict[str, Any] | None) -> str | None:
    """A GlobalTable's MultiRegionConsistency (EVENTUAL unless set); None for anything else."""
    if not is_global(resource):
        return None
    return str(props(resource).get("MultiRegionConsistency", "EVENTUAL"))


def witness_regions(resource: dict[str, Any] | None) -> list[str]:
    return [str(w.get("Region")) for w in props(resource).get("GlobalTableWitnesses", [])]


def stream_view_type(resource: dict[str, Any] | None) -> str | None:
    return (props(resource).get("StreamSpecification") or {}).get("StreamViewType")


def warm_throughput(resource: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """{"" (the table) or index name: its WarmThroughput} for the table and each GSI that sets one."""
    out = {}
    table = props(resource).get("WarmThroughput")
    if table:
        out[""] = table
    for name, index in indexes(resource, "GlobalSecondaryIndexes").items():
        if index.get("WarmThroughput"):
            out[name] = index["WarmThroughput"]
    return out
