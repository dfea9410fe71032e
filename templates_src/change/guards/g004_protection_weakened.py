"""G004: a protection of the data is turned off.

Retain policies, deletion protection, point-in-time recovery and the
customer managed key are what make a mistaken delete recoverable.
"""

from __future__ import annotations

from typing import Any

from ...diagnostics import Diagnostic, Rule
from ..diff import ResourceChange
from . import STATEFUL_TYPES

RULE = Rule(
    "G004",
    "Retain, deletion protection, PITR and the customer managed key stay on",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html",
)


def _props(resource: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = resource.get("Properties", {})
    return props


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in STATEFUL_TYPES or change.action not in ("Modify", "Replace"):
        return []
    findings = []

    def add(prop: str, message: str, way: str) -> None:
        findings.append(RULE.at(change.logical_id, prop, message, way))

    for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
        if change.old.get(policy) == "Retain" and change.new.get(policy) != "Retain":
            add(
                policy,
                f"{policy} leaves Retain (now {change.new.get(policy) or 'Delete (default)'})",
                "keep Retain; if the data really may go, take a backup first and allow G004 for this deploy",
            )
    old, new = _props(change.old), _props(change.new)
    if old.get("DeletionProtectionEnabled") and not new.get("DeletionProtectionEnabled"):
        add(
            "DeletionProtectionEnabled",
            "deletion protection would be turned off",
            "keep it on; turn it off only in the deploy right before an intended deletion",
        )
    old_pitr = (old.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    new_pitr = (new.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    if old_pitr and not new_pitr:
        add(
            "PointInTimeRecoverySpecification",
            "point-in-time recovery would be turned off (its history is lost)",
            "keep PITR on; its 35-day history cannot be recovered once disabled",
        )
    old_days = (old.get("PointInTimeRecoverySpecification") or {}).get("RecoveryPeriodInDays", 35)
    new_days = (new.get("PointInTimeRecoverySpecification") or {}).get("RecoveryPeriodInDays", 35)
    if old_pitr and new_pitr and new_days < old_days:
        add(
            "PointInTimeRecoverySpecification.RecoveryPeriodInDays",
            f"the PITR window shrinks from {old_days} to {new_days} days (older restore points are gone at once)",
            "keep the window; shorten it only after a backup, allowing G004 for that deploy",
        )
    if (old.get("SSESpecification") or {}).get("SSEEnabled") and not (new.get("SSESpecification") or {}).get(
        "SSEEnabled"
    ):
        add(
            "SSESpecification.SSEEnabled",
            "KMS encryption would be turned off (AWS owned key)",
            "keep encryption: customer_managed (or aws_managed)",
        )
    old_key = (old.get("SSESpecification") or {}).get("KMSMasterKeyId")
    new_key = (new.get("SSESpecification") or {}).get("KMSMasterKeyId")
    if old_key and not new_key:
        add(
            "SSESpecification.KMSMasterKeyId",
            "the customer managed key would be turned off",
            "keep encryption: customer_managed",
        )
    return findings
