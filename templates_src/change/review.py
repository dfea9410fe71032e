"""The reviewer's diff: what a change means, not only which JSON paths moved.

Inside a table: indexes added, removed or re-created (with keys and
projection), TTL, stream, billing and capacity, encryption, PITR, protection,
tags. A global table's settings are either the table's (SETTINGS:
consistency, witness, warm throughput, write capacity...) or each replica's
(REPLICA_SETTINGS, "~ replica eu-west-1: table class STANDARD -> ..."), and
replicas are added (+) or removed (-); a plain Table is its one replica, so
its lines read as before. Inside a role: the actions and resources it gains and loses, and who
may assume it. Inside a KMS key: the key-policy statements gained and lost.
Each line starts with + (gained), - (lost) or ~ (changed).
"""

from __future__ import annotations

import json
from typing import Any

from ..stacks.names import KMS_KEY_TYPE, ROLE_TYPE, TABLE_TYPES
from .diff import ResourceChange
from .table_shape import (
    TABLE_REPLICA,
    consistency,
    index_shape,
    indexes,
    is_global,
    paired_replicas,
    props,
    replica_label,
    replica_settings,
    witness_regions,
)


def describe(change: ResourceChange) -> list[str]:
    if change.resource_type in TABLE_TYPES:
        return table_lines(change.old, change.new)
    if change.resource_type == ROLE_TYPE:
        return role_lines(change.old, change.new)
    if change.resource_type == KMS_KEY_TYPE:
        return statement_lines(props(change.old).get("KeyPolicy"), props(change.new).get("KeyPolicy"), "key policy")
    return []


def show(value: Any) -> str:
    """An intrinsic as a reviewer reads it: ${TableArn}/index/X, import:<name>, ref:<name>."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Fn::Sub":
            return str(arg[0] if isinstance(arg, list) else arg)
        if fn == "Fn::ImportValue":
            return f"import:{show(arg)}"
        if fn == "Ref":
            return f"ref:{arg}"
        if fn == "Fn::GetAtt":
            return f"{'.'.join(arg) if isinstance(arg, list) else arg}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


# -- tables ------------------------------------------------------------------------------------


def _index_text(resource: dict[str, Any], index: dict[str, Any]) -> str:
    keys, projection, attributes = index_shape(resource, index)
    key_text = ", ".join(f"{name} ({type_}, {kind})" for name, type_, kind in keys)
    extra = f" [{', '.join(attributes)}]" if attributes else ""
    return f"{key_text}; projection {projection}{extra}"


def _setting(resource: dict[str, Any], name: str) -> str:
    """A table-wide setting, read from the table's properties."""
    p = props(resource)
    if name == "ttl":
        ttl = p.get("TimeToLiveSpecification")
        return f"{ttl['AttributeName']} {'enabled' if ttl.get('Enabled') else 'disabled'}" if ttl else "none"
    if name == "stream":
        return str((p.get("StreamSpecification") or {}).get("StreamViewType", "none"))
    if name == "billing":
        mode = p.get("BillingMode", "PROVISIONED")
        throughput = p.get("ProvisionedThroughput")
        if throughput:
            mode += f" (read {throughput.get('ReadCapacityUnits')}, write {throughput.get('WriteCapacityUnits')})"
        write = _capacity(p, "Write")
        if write != "none":
            mode += f" (write {write})"
        return str(mode)
    if name == "retention":
        return f"DeletionPolicy {resource.get('DeletionPolicy', 'Delete')}, UpdateReplacePolicy {resource.get('UpdateReplacePolicy', 'Delete')}"
    if name == "on-demand caps":
        cap = p.get("OnDemandThroughput") or {}
        if not cap:
            return "none"
        return f"read {cap.get('MaxReadRequestUnits', 'none')}, write {cap.get('MaxWriteRequestUnits', 'none')}"
    if name == "table name":
        return show(p.get("TableName"))
    if name == "key":
        return ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in p.get("KeySchema", []))
    if name == "consistency":
        return consistency(resource) or "none (single-Region table)"
    if name == "witness":
        return ", ".join(witness_regions(resource)) or "none"
    if name == "warm throughput":
        warm = p.get("WarmThroughput") or {}
        if not warm:
            return "none"
        return f"read {warm.get('ReadUnitsPerSecond', '-')}/s, write {warm.get('WriteUnitsPerSecond', '-')}/s"
    raise KeyError(name)


def _capacity(p: dict[str, Any], what: str) -> str:
    """A GlobalTable's Read/Write capacity settings: auto scaling min-max, fixed units, or an on-demand cap."""
    provisioned = p.get(f"{what}ProvisionedThroughputSettings") or {}
    scaling = provisioned.get(f"{what}CapacityAutoScalingSettings")
    if scaling:
        target = (scaling.get("TargetTrackingScalingPolicyConfiguration") or {}).get("TargetValue")
        at = f" at {target}%" if target is not None else ""
        return f"auto scaling {scaling.get('MinCapacity')}-{scaling.get('MaxCapacity')}{at}"
    if provisioned.get(f"{what}CapacityUnits") is not None:
        return f"{provisioned[f'{what}CapacityUnits']} units"
    cap = (p.get(f"{what}OnDemandThroughputSettings") or {}).get(f"Max{what}RequestUnits")
    return f"on-demand cap {cap}" if cap is not None else "none"


def _replica_setting(p: dict[str, Any], name: str) -> str:
    """A per-replica setting, read from a replica's settings (table_shape.replica_settings)."""
    if name == "encryption":
        sse = p.get("SSESpecification") or {}
        if not sse.get("SSEEnabled"):
            return "AWS owned key"
        key = sse.get("KMSMasterKeyId")
        return f"customer managed key {show(key)}" if key else "AWS managed key (alias/aws/dynamodb)"
    if name == "point-in-time recovery":
        pitr = p.get("PointInTimeRecoverySpecification") or {}
        if not pitr.get("PointInTimeRecoveryEnabled"):
            return "off"
        return f"on, {pitr.get('RecoveryPeriodInDays', 35)} days"
    if name == "deletion protection":
        return "on" if p.get("DeletionProtectionEnabled") else "off"
    if name == "table class":
        return str(p.get("TableClass", "STANDARD"))
    if name == "contributor insights":
        return "on" if (p.get("ContributorInsightsSpecification") or {}).get("Enabled") else "off"
    if name == "read capacity":
        return _capacity(p, "Read")
    if name == "resource policy":
        return _sids(p.get("ResourcePolicy"))
    if name == "stream resource policy":
        stream = p.get("ReplicaStreamSpecification") or p.get("StreamSpecification") or {}
        return _sids(stream.get("ResourcePolicy"))
    if name == "Kinesis stream":
        kinesis = p.get("KinesisStreamSpecification") or {}
        if not kinesis:
            return "none"
        precision = kinesis.get("ApproximateCreationDateTimePrecision")
        return show(kinesis.get("StreamArn")) + (f" ({precision})" if precision else "")
    raise KeyError(name)


def _sids(policy: dict[str, Any] | None) -> str:
    statements = ((policy or {}).get("PolicyDocument") or {}).get("Statement", [])
    return ", ".join(str(s.get("Sid", "?")) for s in statements) or "none"


# What the table has once (global settings of a global table) ...
SETTINGS = (
    "table name",
    "key",
    "consistency",
    "witness",
    "billing",
    "warm throughput",
    "retention",
    "ttl",
    "stream",
    "on-demand caps",
)
# ... and what each replica has (a plain Table is its one replica).
REPLICA_SETTINGS = (
    "encryption",
    "point-in-time recovery",
    "deletion protection",
    "table class",
    "contributor insights",
    "read capacity",
    "Kinesis stream",
    "resource policy",
    "stream resource policy",
)


def table_lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = []
    for kind, label in (("GlobalSecondaryIndexes", "GSI"), ("LocalSecondaryIndexes", "LSI")):
        before, after = indexes(old, kind), indexes(new, kind)
        for name in sorted(set(after) - set(before)):
            lines.append(f"+ {label} {name}: {_index_text(new, after[name])}")
        for name in sorted(set(before) - set(after)):
            lines.append(f"- {label} {name}: {_index_text(old, before[name])}")
        for name in sorted(set(before) & set(after)):
            was, now = _index_text(old, before[name]), _index_text(new, after[name])
            if was != now:
                lines.append(f"~ {label} {name}: {was} -> {now}")
    if not old:
        return lines
    for name in SETTINGS:
        was, now = _setting(old, name), _setting(new, name)
        if was != now:
            lines.append(f"~ {name}: {was} -> {now}")
    before_regions, after_regions = replica_settings(old), replica_settings(new)
    paired = paired_replicas(old, new)
    if is_global(old) or is_global(new):
        paired_regions = {region for region, _, _ in paired}
        for region, settings in after_regions.items():
            if region not in paired_regions and region != TABLE_REPLICA:
                lines.append(f"+ replica {region}: {_replica_summary(settings)}")
        for region in before_regions:
            if region not in paired_regions and region != TABLE_REPLICA:
                lines.append(f"- replica {region} (DynamoDB deletes the table's copy in {region})")
    for region, was_settings, now_settings in paired:
        label = replica_label(region)
        for name in REPLICA_SETTINGS:
            was, now = _replica_setting(was_settings, name), _replica_setting(now_settings, name)
            if was != now:
                lines.append(f"~ {label}{name}: {was} -> {now}" if not label else f"~ {label}{name} {was} -> {now}")
        lines += [
            f"{line[0]} {label}{line[2:]}"
            for line in _tag_lines(was_settings.get("Tags", []), now_settings.get("Tags", []))
        ]
    return lines


def _replica_summary(p: dict[str, Any]) -> str:
    return "; ".join(
        f"{name} {_replica_setting(p, name)}"
        for name in ("table class", "deletion protection", "point-in-time recovery", "encryption")
    )


def _tag_lines(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[str]:
    before = {t["Key"]: t["Value"] for t in old}
    after = {t["Key"]: t["Value"] for t in new}
    lines = [f"+ tag {k}={after[k]}" for k in sorted(set(after) - set(before))]
    lines += [f"- tag {k}={before[k]}" for k in sorted(set(before) - set(after))]
    lines += [
        f"~ tag {k}: {before[k]} -> {after[k]}" for k in sorted(set(before) & set(after)) if before[k] != after[k]
    ]
    return lines


# -- roles and policies ------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(policy: dict[str, Any] | None) -> set[str]:
    """Every (effect, action, resource, condition) of a policy, one string each."""
    out = set()
    for statement in (policy or {}).get("Statement", []):
        condition = f" if {json.dumps(statement['Condition'], sort_keys=True)}" if statement.get("Condition") else ""
        principal = f" to {show(statement['Principal'])}" if "Principal" in statement else ""
        for action in _as_list(statement.get("Action", [])):
            for resource in _as_list(statement.get("Resource", "*")):
                out.add(f"{statement.get('Effect', 'Allow')} {action}{principal} on {show(resource)}{condition}")
    return out


def statement_lines(old: dict[str, Any] | None, new: dict[str, Any] | None, what: str) -> list[str]:
    before, after = grants(old), grants(new)
    return [f"+ {what}: {g}" for g in sorted(after - before)] + [f"- {what}: {g}" for g in sorted(before - after)]


def role_lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    def permissions(resource: dict[str, Any]) -> dict[str, Any]:
        statements = [s for p in props(resource).get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
        return {"Statement": statements}

    lines = statement_lines(permissions(old) if old else None, permissions(new) if new else None, "grants")
    lines += statement_lines(
        props(old).get("AssumeRolePolicyDocument") if old else None,
        props(new).get("AssumeRolePolicyDocument") if new else None,
        "trust",
    )
    for name in ("PermissionsBoundary", "Path", "RoleName"):
        was, now = props(old).get(name), props(new).get(name)
        if old and was != now:
            lines.append(f"~ {name}: {show(was) if was else 'none'} -> {show(now) if now else 'none'}")
    return lines
