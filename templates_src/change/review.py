"""The reviewer's diff: what a change means, not only which JSON paths moved.

Inside a table: indexes added, removed or re-created (with keys and
projection), TTL, stream, billing and capacity, encryption, PITR, protection,
tags. Inside a role: the actions and resources it gains and loses, and who
may assume it. Inside a KMS key: the key-policy statements gained and lost.
Each line starts with + (gained), - (lost) or ~ (changed).
"""

from __future__ import annotations

import json
from typing import Any

from .diff import ResourceChange
from .table_shape import TABLE_TYPES, index_shape, indexes, props


def describe(change: ResourceChange) -> list[str]:
    if change.resource_type in TABLE_TYPES:
        return table_lines(change.old, change.new)
    if change.resource_type == "AWS::IAM::Role":
        return role_lines(change.old, change.new)
    if change.resource_type == "AWS::KMS::Key":
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
        return str(mode)
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
    if name == "retention":
        return f"DeletionPolicy {resource.get('DeletionPolicy', 'Delete')}, UpdateReplacePolicy {resource.get('UpdateReplacePolicy', 'Delete')}"
    if name == "table class":
        return str(p.get("TableClass", "STANDARD"))
    if name == "contributor insights":
        return "on" if (p.get("ContributorInsightsSpecification") or {}).get("Enabled") else "off"
    if name == "resource policy":
        statements = ((p.get("ResourcePolicy") or {}).get("PolicyDocument") or {}).get("Statement", [])
        return ", ".join(str(s.get("Sid", "?")) for s in statements) or "none"
    if name == "on-demand caps":
        cap = p.get("OnDemandThroughput") or {}
        return f"read {cap.get('MaxReadRequestUnits', 'none')}, write {cap.get('MaxWriteRequestUnits', 'none')}"
    if name == "table name":
        return show(p.get("TableName"))
    if name == "key":
        return ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in p.get("KeySchema", []))
    raise KeyError(name)


SETTINGS = (
    "table name",
    "key",
    "billing",
    "encryption",
    "point-in-time recovery",
    "deletion protection",
    "retention",
    "ttl",
    "stream",
    "table class",
    "contributor insights",
    "on-demand caps",
    "resource policy",
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
    if old:
        for name in SETTINGS:
            was, now = _setting(old, name), _setting(new, name)
            if was != now:
                lines.append(f"~ {name}: {was} -> {now}")
        lines += _tag_lines(props(old).get("Tags", []), props(new).get("Tags", []))
    return lines


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
