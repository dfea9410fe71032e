"""G004: a protection of the data is turned off.

Retain policies, deletion protection, point-in-time recovery and the
customer managed key are what make a mistaken delete recoverable. A global
table's protection, PITR and key are per replica: each replica is checked
(table_shape.replica_settings), and a key (or replica key) stays enabled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import KMS_KEY_TYPES, STATEFUL_TYPES
from ..diff import ResourceChange
from ..table_shape import paired_replicas, props, replica_label, replica_path
from . import Guard

RULE = Rule(
    "G004",
    "Retain, deletion protection, PITR and the customer managed key stay on",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html",
)


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
    # Per replica: a plain Table is its one replica, a GlobalTable's replicas each have their own.
    for region, old, new in paired_replicas(change.old, change.new):
        _replica_findings(region, old, new, add)
    if (props(change.old).get("SSESpecification") or {}).get("SSEEnabled") and not (
        props(change.new).get("SSESpecification") or {}
    ).get("SSEEnabled"):
        add(
            "SSESpecification.SSEEnabled",
            "KMS encryption would be turned off (AWS owned key)",
            "keep encryption: customer_managed (or aws_managed)",
        )
    key_disabled = props(change.old).get("Enabled", True) is not False and props(change.new).get("Enabled") is False
    if change.resource_type in KMS_KEY_TYPES and key_disabled:
        add(
            "Enabled",
            f"{change.resource_type} {change.logical_id} would be disabled: the table (or replica) it "
            "encrypts becomes inaccessible",
            "keep the key enabled while any table or backup is encrypted with it",
        )
    return findings


def _replica_findings(
    region: str, old: dict[str, Any], new: dict[str, Any], add: Callable[[str, str, str], None]
) -> None:
    label = replica_label(region)
    if old.get("DeletionProtectionEnabled") and not new.get("DeletionProtectionEnabled"):
        add(
            replica_path(region, "DeletionProtectionEnabled"),
            f"{label}deletion protection would be turned off",
            "keep it on; turn it off only in the deploy right before an intended deletion",
        )
    old_pitr = (old.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    new_pitr = (new.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    if old_pitr and not new_pitr:
        add(
            replica_path(region, "PointInTimeRecoverySpecification"),
            f"{label}point-in-time recovery would be turned off (its history is lost)",
            "keep PITR on; its 35-day history cannot be recovered once disabled",
        )
    old_days = (old.get("PointInTimeRecoverySpecification") or {}).get("RecoveryPeriodInDays", 35)
    new_days = (new.get("PointInTimeRecoverySpecification") or {}).get("RecoveryPeriodInDays", 35)
    if old_pitr and new_pitr and new_days < old_days:
        add(
            replica_path(region, "PointInTimeRecoverySpecification.RecoveryPeriodInDays"),
            f"{label}the PITR window shrinks from {old_days} to {new_days} days (older restore points are gone "
            "at once)",
            "keep the window; shorten it only after a backup, allowing G004 for that deploy",
        )
    old_key = (old.get("SSESpecification") or {}).get("KMSMasterKeyId")
    new_key = (new.get("SSESpecification") or {}).get("KMSMasterKeyId")
    if old_key and not new_key:
        add(
            replica_path(region, "SSESpecification.KMSMasterKeyId"),
            f"{label}the customer managed key would be turned off",
            "keep encryption: customer_managed",
        )


GUARD = Guard(RULE, change=check)
