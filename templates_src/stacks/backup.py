"""An AWS Backup plan for the table: its own vault and key, a schedule, retention, an optional copy.

PITR restores to any second of the last 35 days, but only into the same
account and region, and disabling it loses that history; AWS Backup keeps
recovery points in a vault with its own key and can copy them elsewhere
(HIPAA and NIST rule packs require a backup plan for the table).
"""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Tags, backup, iam, kms
from troposphere.dynamodb import Table

from ..spec.environment import Backup
from ..spec.loader import Spec
from .encryption import KEY_PENDING_WINDOW_DAYS, key_policy
from .names import BACKUP_KEY_ID, BACKUP_PLAN_ID, BACKUP_ROLE_ID, BACKUP_SELECTION_ID, BACKUP_VAULT_ID
from .suppressions import backup_role_suppressions

# AWS's managed policy for the role AWS Backup assumes to back up resources.
BACKUP_SERVICE_POLICY = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"


def _boundary(spec: Spec) -> str | None:
    return spec.env.access.permissions_boundary_arn if spec.env.access is not None else None


def vault_name(spec: Spec) -> str:
    return f"{spec.table_name}-backups"


def build_backup(spec: Spec, table: Table, plan: Backup) -> list[object]:
    retention = spec.env.retention
    key = kms.Key(
        BACKUP_KEY_ID,
        Description=f"Encrypts the AWS Backup vault of table {spec.table_name} ({spec.env_name})",
        EnableKeyRotation=True,
        PendingWindowInDays=KEY_PENDING_WINDOW_DAYS,
        KeyPolicy=key_policy(spec, service="backup", service_title="Backup", alias=None),
        Tags=Tags(**spec.tags),
        DeletionPolicy=retention,
        UpdateReplacePolicy=retention,
    )
    vault = backup.BackupVault(
        BACKUP_VAULT_ID,
        BackupVaultName=vault_name(spec),
        EncryptionKeyArn=GetAtt(key, "Arn"),
        BackupVaultTags=spec.tags,
        DeletionPolicy=retention,
        UpdateReplacePolicy=retention,
    )
    rule: dict[str, object] = dict(
        RuleName="daily",
        TargetBackupVault=Ref(vault),
        ScheduleExpression=plan.schedule,
        Lifecycle=backup.LifecycleResourceType(DeleteAfterDays=plan.retention_days),
    )
    if plan.copy_to_vault_arn is not None:
        rule["CopyActions"] = [
            backup.CopyActionResourceType(
                DestinationBackupVaultArn=plan.copy_to_vault_arn,
                Lifecycle=backup.LifecycleResourceType(DeleteAfterDays=plan.retention_days),
            )
        ]
    backup_plan = backup.BackupPlan(
        BACKUP_PLAN_ID,
        BackupPlan=backup.BackupPlanResourceType(
            BackupPlanName=f"{spec.table_name}-plan", BackupPlanRule=[backup.BackupRuleResourceType(**rule)]
        ),
        BackupPlanTags=spec.tags,
    )
    # Unnamed: one per stack and region, so taskcat's parallel regions never collide.
    role = iam.Role(
        BACKUP_ROLE_ID,
        Description=f"AWS Backup backs up table {spec.table_name}",
        AssumeRolePolicyDocument={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "backup.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": spec.env.account_id}},
                }
            ],
        },
        ManagedPolicyArns=[Sub(BACKUP_SERVICE_POLICY)],
        # The environment's boundary, as on every role the deploy role may create (N204).
        **({"PermissionsBoundary": boundary} if (boundary := _boundary(spec)) is not None else {}),
        Tags=Tags(**spec.tags),
        Metadata=backup_role_suppressions(),
    )
    selection = backup.BackupSelection(
        BACKUP_SELECTION_ID,
        BackupPlanId=Ref(backup_plan),
        BackupSelection=backup.BackupSelectionResourceType(
            SelectionName="conversations-table", IamRoleArn=GetAtt(role, "Arn"), Resources=[GetAtt(table, "Arn")]
        ),
    )
    return [key, vault, backup_plan, role, selection]
