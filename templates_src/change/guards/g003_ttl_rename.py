"""G003: the TTL attribute renamed in one step.

DynamoDB must disable TTL before it can enable it on another attribute, and
re-enabling is throttled for up to an hour (aws-cdk#13106). A global table
has one TTL setting for every replica, checked the same way.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_TYPES
from ..diff import ResourceChange
from . import Guard

RULE = Rule(
    "G003",
    "The TTL attribute is not renamed in one step",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or change.action != "Modify":
        return []
    old = change.old.get("Properties", {}).get("TimeToLiveSpecification") or {}
    new = change.new.get("Properties", {}).get("TimeToLiveSpecification") or {}
    if old.get("Enabled") and new.get("Enabled") and old.get("AttributeName") != new.get("AttributeName"):
        return [
            RULE.at(
                change.logical_id,
                "TimeToLiveSpecification.AttributeName",
                f"TTL attribute renamed from {old.get('AttributeName')!r} to {new.get('AttributeName')!r} in one step",
                "deploy 1: TTL disabled (remove ttl_days); deploy 2, an hour later: enable it on the new attribute",
            )
        ]
    return []


GUARD = Guard(RULE, change=check)
