"""Residual paths, watched: CloudTrail management events that weaken a protected environment.

IAM and the deploy's guards cannot stop everything: a principal holding the
deploy role (a job of the prod GitHub environment), a key administrator or the
root user can still turn PITR or deletion protection off, re-policy or disable
the key, loosen a stack policy or the backup vault (docs/residual-paths.md).
These EventBridge rules, in a protected environment with an alarm topic, send
each such call to that topic as the CloudTrail event, which names the caller
(userIdentity).

CloudTrail delivers management events to EventBridge with detail-type "AWS API
Call via CloudTrail" and source aws.<service> (EventBridge user guide,
eb-service-event-cloudtrail; a trail with logging enabled is required); event
fields are CloudTrail's: requestParameters are the API parameters in lower
camel case. A rule sees its own Region's events only.

Noise: the deploy itself sets each protected stack's policy (before and after a
change set) and turns termination protection on; the CI deploy role's
SetStackPolicy is therefore not sent (anything-but on the session's issuer),
and termination protection only when it is turned off. Everything else the
deploy role does here is sent: a template that turns PITR off is exactly the
residual path to see.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Parameter, Ref, Sub, Tags, backup, dynamodb, events, kms

from ..spec.loader import Spec
from .names import ACCESS, deploy_role_arn, stack_name

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
STACK_ARN = "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/%s/"
ALARM_TOPIC_TARGET_ID = "AlarmTopic"

# What is watched, per service: the calls that weaken a protection of this environment.
TABLE_EVENTS_TURNING_OFF = {
    # UpdateTable with DeletionProtectionEnabled false; UpdateContinuousBackups with PITR off.
    "UpdateTable": ("deletionProtectionEnabled",),
    "UpdateContinuousBackups": ("pointInTimeRecoverySpecification", "pointInTimeRecoveryEnabled"),
}
TABLE_EVENTS = ("DeleteTable",)
TABLE_POLICY_EVENTS = ("DeleteResourcePolicy", "PutResourcePolicy")
KEY_EVENTS = ("DisableKey", "DisableKeyRotation", "PutKeyPolicy", "RevokeGrant", "ScheduleKeyDeletion")
STACK_POLICY_EVENTS = ("SetStackPolicy",)
STACK_PROTECTION_EVENTS = ("UpdateTerminationProtection",)
# The backup plan and its selection: their retention shortened, or either deleted.
PLAN_EVENTS = ("DeleteBackupPlan", "DeleteBackupSelection", "UpdateBackupPlan")
VAULT_EVENTS = (
    "DeleteBackupVault",
    "DeleteBackupVaultAccessPolicy",
    "DeleteBackupVaultLockConfiguration",
    "PutBackupVaultAccessPolicy",
    "PutBackupVaultLockConfiguration",
)


def _cloudtrail(service: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": [f"aws.{service}"],
        "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
        "detail": {"eventSource": [f"{service}.amazonaws.com"], **detail},
    }


def _turned_off(path: tuple[str, ...]) -> dict[str, Any]:
    """{"a": {"b": [false]}} for ("a", "b")."""
    node: Any = [False]
    for part in reversed(path):
        node = {part: node}
    return dict(node)


def table_pattern(table: dynamodb.Table | dynamodb.GlobalTable, window: int | None = None) -> dict[str, Any]:
    """window: the environment's PITR window in days (None: PITR off, nothing to shorten)."""
    # A table is named by its name or its ARN in a request (UpdateTable, UpdateContinuousBackups, DeleteTable).
    names = [Ref(table), GetAtt(table, "Arn")]
    branches: list[dict[str, Any]] = [
        {"eventName": [name], "requestParameters": {"tableName": names, **_turned_off(path)}}
        for name, path in TABLE_EVENTS_TURNING_OFF.items()
    ]
    branches.append({"eventName": list(TABLE_EVENTS), "requestParameters": {"tableName": names}})
    # The table's encryption changed (another key, or KMS off): UpdateTable's SSESpecification.
    branches.append(
        {
            "eventName": ["UpdateTable"],
            "requestParameters": {"tableName": names, "sSESpecification": {"enabled": [{"exists": True}]}},
        }
    )
    branches.append(
        {
            "eventName": ["UpdateTable"],
            "requestParameters": {"tableName": names, "sSESpecification": {"kMSMasterKeyId": [{"exists": True}]}},
        }
    )
    # The PITR window shortened below the environment's (older restore points go at once).
    if window is not None:
        branches.append(
            {
                "eventName": ["UpdateContinuousBackups"],
                "requestParameters": {
                    "tableName": names,
                    "pointInTimeRecoverySpecification": {"recoveryPeriodInDays": [{"numeric": ["<", window]}]},
                },
            }
        )
    # The table's or its stream's resource policy (stacks/resource_policy.py).
    branches.append(
        {
            "eventName": list(TABLE_POLICY_EVENTS),
            "requestParameters": {
                "resourceArn": [GetAtt(table, "Arn"), {"prefix": Sub(f"${{{table.title}.Arn}}/stream/")}]
            },
        }
    )
    return _cloudtrail("dynamodb", {"$or": branches})


def key_pattern(keys: list[kms.Key]) -> dict[str, Any]:
    # These calls take the key's id or ARN (never an alias): KMS API reference, KeyId of each.
    ids = [value for key in keys for value in (Ref(key), GetAtt(key, "Arn"))]
    return _cloudtrail("kms", {"eventName": list(KEY_EVENTS), "requestParameters": {"keyId": ids}})


def stack_pattern(spec: Spec) -> dict[str, Any]:
    """The data stack (this one) and the access stack, by name or by stack ARN."""
    names: list[Any] = []
    for name, in_sub in ((Ref("AWS::StackName"), "${AWS::StackName}"), (stack_name(spec, ACCESS),) * 2):
        names += [name, {"prefix": Sub(STACK_ARN % in_sub)}]
    policy: dict[str, Any] = {"eventName": list(STACK_POLICY_EVENTS), "requestParameters": {"stackName": names}}
    branches: list[dict[str, Any]] = [
        {
            "eventName": list(STACK_PROTECTION_EVENTS),
            "requestParameters": {"stackName": names, "enableTerminationProtection": [False]},
        }
    ]
    if spec.env.ci is None:
        branches.append(policy)
    else:
        # Every deploy sets the stack policy as the CI deploy role: expected, not sent. Any other
        # caller is: a session of another role, or an identity that is no role session at all.
        branches += [
            {**policy, "userIdentity": {"type": [{"anything-but": "AssumedRole"}]}},
            {
                **policy,
                "userIdentity": {
                    "type": ["AssumedRole"],
                    "sessionContext": {"sessionIssuer": {"arn": [{"anything-but": Sub(deploy_role_arn(spec))}]}},
                },
            },
        ]
    return _cloudtrail("cloudformation", {"$or": branches})


def vault_pattern(vault: backup.BackupVault, plan: backup.BackupPlan | None = None) -> dict[str, Any]:
    branches: list[dict[str, Any]] = [
        {"eventName": list(VAULT_EVENTS), "requestParameters": {"backupVaultName": [Ref(vault)]}}
    ]
    if plan is not None:  # Ref of a plan is its id (AWS::Backup::BackupPlan return values)
        branches.append({"eventName": list(PLAN_EVENTS), "requestParameters": {"backupPlanId": [Ref(plan)]}})
    return _cloudtrail("backup", {"$or": branches})


def build_change_watch(
    spec: Spec,
    table: dynamodb.Table | dynamodb.GlobalTable,
    keys: list[kms.Key],
    vault: backup.BackupVault | None,
    topic: Parameter,
    plan: backup.BackupPlan | None = None,
) -> list[events.Rule]:
    """The rules of a protected environment (none otherwise), each sending to the alarm topic."""
    if not spec.env.protected:
        return []
    watched: list[tuple[str, str, dict[str, Any]]] = [
        (
            "TableChangeWatch",
            f"deletion protection or PITR turned off, deletion or resource policy of {spec.table_name}",
            table_pattern(
                table,
                spec.env.point_in_time_recovery.recovery_period_days
                if spec.env.point_in_time_recovery.enabled
                else None,
            ),
        ),
        (
            "StackChangeWatch",
            f"stack policy or termination protection of {spec.env_name}'s stacks",
            stack_pattern(spec),
        ),
    ]
    if keys:
        watched.append(
            (
                "KeyChangeWatch",
                f"policy, rotation, disabling or deletion of {spec.table_name}'s keys",
                key_pattern(keys),
            )
        )
    if vault is not None:
        watched.append(
            (
                "BackupVaultChangeWatch",
                f"access policy, lock or deletion of {spec.table_name}'s backup vault; its plan changed or deleted",
                vault_pattern(vault, plan),
            )
        )
    return [
        events.Rule(
            logical_id,
            Description=f"Residual path watched: {what} (docs/residual-paths.md)",
            State="ENABLED",
            EventPattern=pattern,
            Targets=[events.Target(Id=ALARM_TOPIC_TARGET_ID, Arn=Ref(topic))],
            Tags=Tags(**spec.tags),
        )
        for logical_id, what, pattern in watched
    ]
