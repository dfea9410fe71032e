"""Read back what a stack update did beyond the table's own settings (live.py compares those): each
role's inline policies, trust, path and boundary in IAM; the table's resource policy; the table key's
policy and rotation; each against the template, its intrinsic functions resolved as CloudFormation
resolves them.

A stack status is not proof: an endpoint (or a handler) can report UPDATE_COMPLETE while a role
keeps its old policy. Resolved here: Ref (parameters, pseudo parameters), Fn::Sub, Fn::Join and
Fn::ImportValue (ListExports); anything needing more is named as unverified, which fails too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..spec.loader import Spec
from ..spec.partitions import partition
from ..stacks.artifacts import StackFiles
from ..stacks.names import GLOBAL_KEY_ID, KEY_ID, KMS_KEY_TYPE, ROLE_TYPE, TABLE_ID
from .aws import error_code


class Unresolved(Exception):
    """An intrinsic function the read-back does not evaluate."""


def role_differences(template: dict[str, Any], stack: StackFiles, iam: Any, cf: Any, spec: Spec) -> list[str]:
    """What IAM has that the template does not say, role by role ([] when every role matches)."""
    resolver = _Resolver(template, stack, cf, spec)
    found: list[str] = []
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        if resource.get("Type") != ROLE_TYPE:
            continue
        try:
            want = resolver.resolve(resource.get("Properties", {}))
        except Unresolved as exc:
            found.append(f"{logical_id}: not verified: the template uses {exc}")
            continue
        found += [f"role {want.get('RoleName', logical_id)}: {d}" for d in _role(want, iam)]
    return found


def data_differences(
    template: dict[str, Any], stack: StackFiles, table: dict[str, Any], dynamodb: Any, kms: Any, cf: Any, spec: Spec
) -> list[str]:
    """The table's resource policy, and its key's policy and rotation, against a data template.

    table: DescribeTable's Table; its key is the one SSEDescription names (the key the table uses).
    """
    resolver = _Resolver(template, stack, cf, spec)
    found = []
    properties = template["Resources"].get(TABLE_ID, {}).get("Properties", {})
    try:
        want = resolver.resolve((properties.get("ResourcePolicy") or {}).get("PolicyDocument"))
    except Unresolved as exc:
        found.append(f"{TABLE_ID}.ResourcePolicy: not verified: the template uses {exc}")
    else:
        have = _resource_policy(dynamodb, table["TableArn"])
        if canonical(have) != canonical(want):
            found.append(f"{TABLE_ID}.ResourcePolicy: " + ("absent" if have is None else "differs from the template's"))
    key = (table.get("SSEDescription") or {}).get("KMSMasterKeyArn")
    for logical_id in (KEY_ID, GLOBAL_KEY_ID):  # the table's key: the one the tool may read (its alias)
        resource = template["Resources"].get(logical_id)
        if not resource or resource.get("Type") != KMS_KEY_TYPE or not key:
            continue  # no customer managed key live: the table's facts (Encryption) say so
        props = resource.get("Properties", {})
        try:
            want = resolver.resolve(props.get("KeyPolicy"))
        except Unresolved as exc:
            found.append(f"{logical_id}.KeyPolicy: not verified: the template uses {exc}")
        else:
            policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
            if canonical(policy) != canonical(want):
                found.append(f"{logical_id}.KeyPolicy: the key's policy differs from the template's")
        rotation = bool(kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"])
        if rotation != bool(props.get("EnableKeyRotation", False)):
            found.append(
                f"{logical_id}.EnableKeyRotation: template {props.get('EnableKeyRotation', False)}, KMS {rotation}"
            )
    return found


def _resource_policy(dynamodb: Any, arn: str) -> Any:
    """The table's resource policy as a document; None when it has none."""
    try:
        return json.loads(dynamodb.get_resource_policy(ResourceArn=arn)["Policy"])
    except Exception as exc:  # botocore ClientError: PolicyNotFoundException means none
        if error_code(exc) == "PolicyNotFoundException":
            return None
        raise


def _role(want: dict[str, Any], iam: Any) -> list[str]:
    name = want["RoleName"]
    role = iam.get_role(RoleName=name)["Role"]
    out = []
    if role.get("Path", "/") != want.get("Path", "/"):
        out.append(f"Path: template {want.get('Path', '/')}, IAM {role.get('Path')}")
    if canonical(role.get("AssumeRolePolicyDocument")) != canonical(want.get("AssumeRolePolicyDocument")):
        out.append("AssumeRolePolicyDocument differs from the template's trust policy")
    boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary != want.get("PermissionsBoundary"):
        out.append(f"PermissionsBoundary: template {want.get('PermissionsBoundary')}, IAM {boundary}")
    policies = {p["PolicyName"]: p["PolicyDocument"] for p in want.get("Policies", [])}
    live = sorted(iam.list_role_policies(RoleName=name)["PolicyNames"])
    if live != sorted(policies):
        out.append(f"inline policies: template {sorted(policies)}, IAM {live}")
    for policy in sorted(set(live) & set(policies)):
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        if isinstance(document, str):  # URL-decoded JSON text on some endpoints
            document = json.loads(document)
        if canonical(document) != canonical(policies[policy]):
            out.append(
                f"inline policy {policy} differs from the template's: {_statement_diff(document, policies[policy])}"
            )
    attached = sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"])
    if attached != sorted(want.get("ManagedPolicyArns", [])):
        out.append(f"managed policies: template {sorted(want.get('ManagedPolicyArns', []))}, IAM {attached}")
    return out


def _statement_diff(live: dict[str, Any], template: dict[str, Any]) -> str:
    """Which statements IAM has that the template lacks, and the other way round (compact JSON)."""

    def statements(document: dict[str, Any]) -> dict[str, Any]:
        found = document.get("Statement", [])
        found = found if isinstance(found, list) else [found]
        return {json.dumps(canonical(s), sort_keys=True, separators=(",", ":")): s for s in found}

    have, want = statements(live), statements(template)
    extra = [json.dumps(have[k], sort_keys=True) for k in sorted(set(have) - set(want))]
    missing = [json.dumps(want[k], sort_keys=True) for k in sorted(set(want) - set(have))]
    parts = [f"IAM also has {' '.join(extra)}" if extra else "", f"IAM lacks {' '.join(missing)}" if missing else ""]
    return "; ".join(p for p in parts if p) + (
        " (changed outside CloudFormation: put it back in IAM, or make the design say it and deploy)"
    )


# Policy elements whose order means nothing and whose one-element list equals its string.
_SETS = {"Action", "NotAction", "Resource", "NotResource", "AWS", "Service", "Federated", "CanonicalUser"}


def canonical(node: Any, key: str = "") -> Any:
    """A policy document as IAM compares it: element order and one-element lists aside."""
    if isinstance(node, dict):
        out: Any = {k: canonical(v, k) for k, v in sorted(node.items())}
        return out
    if isinstance(node, list):
        items = [canonical(v) for v in node]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if key in _SETS or (key and key[:1].islower() or ":" in key):  # condition values too
        return [node]
    return node


class _Resolver:
    def __init__(self, template: dict[str, Any], stack: StackFiles, cf: Any, spec: Spec) -> None:
        region = spec.env.region
        self.values: dict[str, Any] = {
            "AWS::AccountId": spec.env.account_id,
            "AWS::Region": region,
            "AWS::Partition": partition(region),
            "AWS::URLSuffix": "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com",
            "AWS::StackName": stack.name,
        }
        for name, parameter in (template.get("Parameters") or {}).items():
            if "Default" in parameter:
                self.values[name] = parameter["Default"]
        self.values.update({p["ParameterKey"]: p["ParameterValue"] for p in stack.parameters})
        self.cf = cf
        self._exports: dict[str, str] | None = None

    def exports(self) -> dict[str, str]:
        if self._exports is None:
            found: dict[str, str] = {}
            kwargs: dict[str, Any] = {}
            while True:
                page = self.cf.list_exports(**kwargs)
                found.update({e["Name"]: e["Value"] for e in page.get("Exports", [])})
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
            self._exports = found
        return self._exports

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                if value not in self.values:
                    raise Unresolved(f"Ref {value}")
                return self.values[value]
            if key == "Fn::ImportValue":
                name = self.resolve(value)
                if name not in self.exports():
                    raise Unresolved(f"Fn::ImportValue {name} (no such export)")
                return self.exports()[name]
            if key == "Fn::Join":
                delimiter, parts = value
                return str(delimiter).join(str(p) for p in self.resolve(parts))
            if key == "Fn::Sub":
                return self._sub(value)
            if key.startswith("Fn::") or key == "Condition":
                raise Unresolved(key)
        return {k: self.resolve(v) for k, v in node.items()}

    def _sub(self, value: Any) -> str:
        text, local = (value[0], self.resolve(value[1])) if isinstance(value, list) else (value, {})

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if name in self.values:
                return str(self.values[name])
            raise Unresolved(f"Fn::Sub ${{{name}}}")

        return re.sub(r"\$\{([^}]+)\}", one, str(text))
