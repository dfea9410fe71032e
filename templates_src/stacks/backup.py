"""An AWS Backup plan for the table: its own vault and key, a schedule, retention, an optional copy.

PITR restores to any second of the last 35 days, but only into the same
account and region, and disabling it loses that history; AWS Backup keeps
recovery points in a vault with its own key and can copy them elsewhere
(HIPAA and NIST rule packs require a backup plan for the table).

The vault's access policy denies deleting recovery points, shortening their
lifecycle and changing the vault's policy or lock to everyone but the
environment's administrators (key_admins, the deploy role with `ci:`) and the
account's root user; an opt-in Vault Lock (backup.vault_lock) holds even
against them. The role AWS Backup assumes may touch only this table, its
backups, this vault and these keys.
"""

from __future__ import annotations

from typing import Any

from awacs.aws import (
    Allow,
    ArnNotEquals,
    Bool,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Ref, Sub, Tags, backup, iam, kms
from troposphere.dynamodb import GlobalTable, Table

from ..spec.environment import Backup
from ..spec.loader import Spec
from .actions import iam_actions
from .encryption import (
    ACCOUNT_ROOT,
    KEY_PENDING_WINDOW_DAYS,
    deploy_role,
    deploy_role_only_through_cloudformation,
    key_policy,
)
from .json_object import JsonObject
from .key_actions import DATA_KEY_ACTIONS, KEY_DESCRIBE_ACTIONS, KEY_GRANT_ACTIONS
from .names import BACKUP_KEY_ID, BACKUP_PLAN_ID, BACKUP_ROLE_ID, BACKUP_SELECTION_ID, BACKUP_VAULT_ID
from .suppressions import backup_role_suppressions

# What AWS Backup does with the role to back up a DynamoDB table: the DynamoDB, backup, KMS and
# tag statements of AWSBackupServiceRolePolicyForBackup (AWS managed policy reference), each cut
# to this table, vault and keys. Legacy DynamoDB backups: CreateBackup, then DescribeBackup and
# DeleteBackup (lifecycle) on the table's backups; advanced DynamoDB backup (AWS Backup developer
# guide, advanced-ddb-backup; DynamoDB developer guide, backuprestore_IAM example 8):
# StartAwsBackupJob. Both, so the role works whichever the account has enabled.
BACKUP_ROLE_TABLE_ACTIONS = (
    "dynamodb:CreateBackup",
    "dynamodb:DescribeTable",
    "dynamodb:ListTagsOfResource",
    "dynamodb:StartAwsBackupJob",
)
BACKUP_ROLE_BACKUPS_ACTIONS = ("dynamodb:DeleteBackup", "dynamodb:DescribeBackup")
BACKUP_ROLE_VAULT_ACTIONS = ("backup:CopyIntoBackupVault", "backup:DescribeBackupVault")
BACKUP_ROLE_TAG_RECOVERY_POINT_ACTIONS = ("backup:TagResource",)
BACKUP_ROLE_COPY_FROM_ACTIONS = ("backup:CopyFromBackupVault",)
# tag:GetResources supports no resource ARN (Service Authorization Reference): AWS Backup reads
# resource tags with it (GetResourcesPermissions); metadata only.
BACKUP_ROLE_TAG_READ_ACTIONS = ("tag:GetResources",)

# Denied on the vault to all but the administrators and the root user (AWS Backup developer
# guide, create-a-vault-access-policy; the AWS Config rule
# backup-recovery-point-manual-deletion-disabled asks for the first three, with "*" as
# Principal and Resource). Vault access policies take no wildcard in Action. Not
# DeleteBackupVault: a vault holding recovery points cannot be deleted anyway.
VAULT_PROTECTED_ACTIONS = (
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:PutBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:PutBackupVaultLockConfiguration",
    "backup:DeleteBackupVaultLockConfiguration",
)
RECOVERY_POINTS = "arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:recovery-point:*"
VAULT_ARN = "arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:backup-vault:${%s}"


def _boundary(spec: Spec) -> str | None:
    return spec.env.access.permissions_boundary_arn if spec.env.access is not None else None


def vault_name(spec: Spec) -> str:
    return f"{spec.table_name}-backups"


def vault_access_policy(spec: Spec) -> PolicyDocument:
    """The vault's access policy: who may delete recovery points or loosen the vault's protection."""
    deployer = [role] if (role := deploy_role(spec)) is not None else []
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="OnlyAdministratorsDeleteRecoveryPointsOrLoosenTheVault",
                Effect=Deny,
                Principal=Principal("AWS", "*"),
                Action=iam_actions(VAULT_PROTECTED_ACTIONS),
                Resource=["*"],
                Condition=Condition(
                    ArnNotEquals({"aws:PrincipalArn": [*spec.env.key_admins, *deployer, Sub(ACCOUNT_ROOT)]})
                ),
            ),
            # The deploy role puts the vault's policy and lock only as a reviewed template says.
            *(
                [deploy_role_only_through_cloudformation(role, iam_actions(VAULT_PROTECTED_ACTIONS))]
                if (role := deploy_role(spec)) is not None
                else []
            ),
        ],
    )


def _lock_configuration(plan: Backup) -> dict[str, backup.LockConfigurationType]:
    lock = plan.vault_lock
    if lock is None:
        return {}
    props: dict[str, int] = {"MinRetentionDays": lock.min_retention_days}
    if lock.max_retention_days is not None:
        props["MaxRetentionDays"] = lock.max_retention_days
    # With ChangeableForDays the lock becomes immutable after that many days (compliance mode);
    # without it, it stays changeable (governance mode): CloudFormation LockConfigurationType.
    if lock.mode == "compliance":
        assert lock.changeable_for_days is not None  # N207
        props["ChangeableForDays"] = lock.changeable_for_days
    return {"LockConfiguration": backup.LockConfigurationType(**props)}


def _copy_statements(plan: Backup) -> list[Statement]:
    """A copy to another vault: into that vault, from this account's recovery points, with grants on
    that vault's Region and account's keys (the destination vault's key is not known here)."""
    if plan.copy_to_vault_arn is None:
        return []
    partition, _, region, account = plan.copy_to_vault_arn.split(":")[1:5]
    return [
        Statement(
            Sid="CopyIntoTheCopyVault",
            Effect=Allow,
            Action=iam_actions(("backup:CopyIntoBackupVault",)),
            Resource=[plan.copy_to_vault_arn],
        ),
        Statement(
            Sid="CopyFromThisAccountsRecoveryPoints",
            Effect=Allow,
            Action=iam_actions(BACKUP_ROLE_COPY_FROM_ACTIONS),
            Resource=[Sub(RECOVERY_POINTS)],
        ),
        Statement(
            Sid="CopyVaultKeyGrantsForAWSResources",
            Effect=Allow,
            Action=iam_actions(KEY_DESCRIBE_ACTIONS + KEY_GRANT_ACTIONS),
            Resource=[f"arn:{partition}:kms:{region}:{account}:key/*"],
            Condition=Condition(Bool({"kms:GrantIsForAWSResource": "true"})),
        ),
    ]


def backup_role_policy(
    spec: Spec, table: Table | GlobalTable, vault: backup.BackupVault, keys: list[kms.Key], plan: Backup
) -> PolicyDocument:
    """The backup role's own policy: this table, its backups, this vault, these keys."""
    table_arn = GetAtt(table, "Arn")
    key_arns: list[Any] = [GetAtt(k, "Arn") for k in keys]
    via_dynamodb = {"kms:ViaService": f"dynamodb.{spec.env.region}.amazonaws.com"}
    statements = [
        Statement(
            Sid="BackUpThisTable", Effect=Allow, Action=iam_actions(BACKUP_ROLE_TABLE_ACTIONS), Resource=[table_arn]
        ),
        Statement(
            Sid="ThisTablesBackups",
            Effect=Allow,
            Action=iam_actions(BACKUP_ROLE_BACKUPS_ACTIONS),
            Resource=[Sub(f"${{{table.title}.Arn}}/backup/*")],
        ),
        Statement(
            Sid="ThisVault",
            Effect=Allow,
            Action=iam_actions(BACKUP_ROLE_VAULT_ACTIONS),
            # The vault's ARN from its name (Ref): the same value as GetAtt BackupVaultArn, and moto,
            # which has no AWS Backup, can still create this role locally.
            Resource=[Sub(VAULT_ARN % vault.title)],
        ),
        Statement(
            Sid="TagThisAccountsRecoveryPoints",
            Effect=Allow,
            Action=iam_actions(BACKUP_ROLE_TAG_RECOVERY_POINT_ACTIONS),
            Resource=[Sub(RECOVERY_POINTS)],
        ),
        # The managed policy's KMS statements: data keys only through DynamoDB (KMSDynamoDBPermissions),
        # CreateGrant only for AWS resources (KMSCreateGrantPermissions), DescribeKey.
        Statement(
            Sid="KeysOnlyThroughDynamoDB",
            Effect=Allow,
            Action=iam_actions(DATA_KEY_ACTIONS),
            Resource=key_arns,
            Condition=Condition(StringEquals(via_dynamodb)),
        ),
        Statement(Sid="DescribeKeys", Effect=Allow, Action=iam_actions(KEY_DESCRIBE_ACTIONS), Resource=key_arns),
        Statement(
            Sid="KeyGrantsOnlyForAWSResources",
            Effect=Allow,
            Action=iam_actions(KEY_GRANT_ACTIONS),
            Resource=key_arns,
            Condition=Condition(Bool({"kms:GrantIsForAWSResource": "true"})),
        ),
        Statement(
            Sid="ReadResourceTags", Effect=Allow, Action=iam_actions(BACKUP_ROLE_TAG_READ_ACTIONS), Resource=["*"]
        ),
        *_copy_statements(plan),
    ]
    return PolicyDocument(Version="2012-10-17", Statement=statements)


def build_backup(spec: Spec, table: Table | GlobalTable, plan: Backup, table_key: kms.Key | None) -> list[object]:
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
        AccessPolicy=JsonObject(vault_access_policy(spec)),
        BackupVaultTags=spec.tags,
        DeletionPolicy=retention,
        UpdateReplacePolicy=retention,
        **_lock_configuration(plan),
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
    keys = [k for k in (table_key, key) if k is not None]
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
        # The environment's boundary, as on every role the deploy role may create (N204).
        **({"PermissionsBoundary": boundary} if (boundary := _boundary(spec)) is not None else {}),
        Policies=[
            iam.Policy(
                PolicyName="back-up-this-table",
                PolicyDocument=backup_role_policy(spec, table, vault, keys, plan),
            )
        ],
        Tags=Tags(**spec.tags),
        Metadata=backup_role_suppressions(plan),
    )
    selection = backup.BackupSelection(
        BACKUP_SELECTION_ID,
        BackupPlanId=Ref(backup_plan),
        BackupSelection=backup.BackupSelectionResourceType(
            SelectionName="conversations-table", IamRoleArn=GetAtt(role, "Arn"), Resources=[GetAtt(table, "Arn")]
        ),
    )
    return [key, vault, backup_plan, role, selection]
