"""G022: a key's new policy drops an administrator or a service's use of the key.

The deploy role may replace a key's policy through CloudFormation (it must,
to deploy a reviewed change to it), and KMS checks only that the policy
does not lock out the principal setting it ("BypassPolicyLockoutSafetyCheck",
PutKeyPolicy). A policy that no longer lets DynamoDB use the table's key
makes the table inaccessible (DynamoDB archives it after 7 days: "Encryption
at rest: how it works", inaccessible keys); one that drops the named
administrators leaves the key to the root user alone. So a plan in which a
key loses a principal allowed kms:PutKeyPolicy, or loses a service's use
(kms:Decrypt through kms:ViaService), or loses or changes one of its Deny
statements (who may not re-policy, disable or delete it, or bypass the lockout
check), is blocked unless explicitly allowed.
"""

from __future__ import annotations

import json
from typing import Any

from ...diagnostics import Diagnostic, Rule
from ...stacks.encryption import ACCOUNT_ROOT
from ...stacks.names import KMS_KEY_TYPES
from ..diff import ResourceChange
from ..table_shape import props
from . import Guard

RULE = Rule(
    "G022",
    "A key's policy keeps its administrators, the services that use it and its denies",
    "error",
    "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#prevent-unmanageable-key",
)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows(policy: Any, action: str) -> list[dict[str, Any]]:
    if not isinstance(policy, dict):
        return []
    return [
        s
        for s in _list(policy.get("Statement", []))
        if s.get("Effect") == "Allow" and any(a in (action, "kms:*", "*") for a in _list(s.get("Action", [])))
    ]


def administrators(policy: Any) -> set[str]:
    """Who may replace the key's policy (each principal as JSON, intrinsics included)."""
    found = set()
    for statement in _allows(policy, "kms:PutKeyPolicy"):
        principal = statement.get("Principal", {})
        values = principal.get("AWS", []) if isinstance(principal, dict) else principal
        found |= {json.dumps(p, sort_keys=True) for p in _list(values)}
    return found


def service_uses(policy: Any) -> set[str]:
    """The kms:ViaService endpoints through which the key may decrypt."""
    found = set()
    for statement in _allows(policy, "kms:Decrypt"):
        for block in statement.get("Condition", {}).values():
            found |= {json.dumps(v, sort_keys=True) for v in _list(block.get("kms:ViaService", []))}
    return found


# The account's root user, as the key policies name it.
ROOT_PRINCIPAL = {"Fn::Sub": ACCOUNT_ROOT}


def denies(policy: Any) -> set[str]:
    """The policy's Deny statements, each as JSON: a changed one counts as lost."""
    if not isinstance(policy, dict):
        return set()
    return {json.dumps(s, sort_keys=True) for s in _list(policy.get("Statement", [])) if s.get("Effect") == "Deny"}


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in KMS_KEY_TYPES or change.action != "Modify":
        return []
    old, new = props(change.old).get("KeyPolicy"), props(change.new).get("KeyPolicy")
    lost = sorted(administrators(old) - administrators(new))
    lost_use = sorted(service_uses(old) - service_uses(new))
    lost_denies = sorted(json.loads(d).get("Sid", "a Deny") for d in denies(old) - denies(new))
    if not lost and not lost_use and not lost_denies:
        return []
    kept_sids = {json.loads(d).get("Sid") for d in denies(new)}
    what = [f"administrator {p} may no longer replace its policy" for p in lost]
    what += [f"use through {v} is gone" for v in lost_use]
    what += [
        f"Deny {sid} {'changed (whom it exempts, or what it denies)' if sid in kept_sids else 'removed'}"
        for sid in lost_denies
    ]
    consequence = (
        "the table (or its backups) could become unreadable, or the key manageable by the root user alone"
        if lost_use or (lost and not administrators(new) - {json.dumps(ROOT_PRINCIPAL)})
        else "who may disable, delete or re-policy the key changes: review it as a key administrator would"
    )
    return [
        RULE.at(
            change.logical_id,
            "KeyPolicy",
            f"{change.logical_id}: {'; '.join(what)}: {consequence}",
            "keep the administrators (key_admins) and the service's use in the key's policy; if the change is "
            "deliberate (an administrator handed over), have a key administrator confirm it and allow G022 for "
            "that one deploy",
        )
    ]


GUARD = Guard(RULE, change=check)
