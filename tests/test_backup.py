"""AWS Backup: the role AWS Backup assumes, the vault's access policy and Vault Lock.

Decided by the IAM simulator on the fixtures' prod build: the data stack's own
resources (Fn::GetAtt) are resolved to the ARNs CloudFormation would give them,
written out here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.spec.loader import load_spec
from templates_src.stacks.data_stack import build_data_stack
from templates_src.stacks.taskcat import disposable_variant

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, fixture_spec, read_json
from .iam_support import Arns, resolve, simulate

ACCOUNT = "333333333333"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/conversations-prod"
VAULT = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:conversations-prod-backups"
TABLE_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-4333-8444-555555555555"
VAULT_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/66666666-7777-4888-8999-000000000000"
RECOVERY_POINT = f"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
ATTRIBUTES = {
    "Table.Arn": TABLE,
    "TableKey.Arn": TABLE_KEY,
    "BackupVaultKey.Arn": VAULT_KEY,
}
BACKUP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/conversations-prod-data-BackupRole-ABC123"
# key_admins of the prod fixture, the deploy role (ci:) and the root user: the vault's administrators.
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/conversations/conversations-prod-deploy"
ADMINS = [
    f"arn:aws:iam::{ACCOUNT}:role/platform-key-admins",
    f"arn:aws:iam::{ACCOUNT}:role/platform-deployer",
    f"arn:aws:iam::{ACCOUNT}:root",
]
STRANGER = f"arn:aws:iam::{ACCOUNT}:role/backup-operator"
BACKUP_ANYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "backup:*", "Resource": "*"}]}
VIA_DYNAMODB = {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT}
VIA_BACKUP = {"kms:ViaService": "backup.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT}


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = read_json(fixture_build() / "prod" / "data.template.json")["Resources"]
    return resources


def _resolved(value: Any) -> Any:
    spec = fixture_spec("prod")
    return resolve(value, spec, Arns.for_spec(spec), {"BackupVault": "conversations-prod-backups"}, ATTRIBUTES)


def _delegating_key_policy() -> dict[str, Any]:
    """Another key of the account: AWS's default key policy (the account delegates to IAM)."""
    root = f"arn:aws:iam::{ACCOUNT}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}],
    }


def test_the_backup_role_attaches_no_managed_policy_and_keeps_its_trust() -> None:
    role = _resources()["BackupRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert "RoleName" not in role, "unnamed: taskcat regions must not collide"
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_the_backup_role_reaches_this_table_vault_and_keys_only() -> None:
    resources = _resources()
    (policy,) = resources["BackupRole"]["Properties"]["Policies"]
    role_policy = _resolved(policy["PolicyDocument"])
    key_policies = {
        TABLE_KEY: _resolved(resources["TableKey"]["Properties"]["KeyPolicy"]),
        VAULT_KEY: _resolved(resources["BackupVaultKey"]["Properties"]["KeyPolicy"]),
    }
    other_table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/payments"
    other_key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/99999999-8888-4777-8666-555555555555"
    grant_for_aws = {**VIA_BACKUP, "kms:GrantIsForAWSResource": "true"}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        # Backing the table up: legacy DynamoDB backups and advanced (AWS Backup) ones.
        ("dynamodb:StartAwsBackupJob", TABLE, {}, "Allowed"),
        ("dynamodb:CreateBackup", TABLE, {}, "Allowed"),
        ("dynamodb:DescribeTable", TABLE, {}, "Allowed"),
        ("dynamodb:ListTagsOfResource", TABLE, {}, "Allowed"),
        ("dynamodb:DescribeBackup", f"{TABLE}/backup/01700000000000-abcdef12", {}, "Allowed"),
        ("dynamodb:DeleteBackup", f"{TABLE}/backup/01700000000000-abcdef12", {}, "Allowed"),  # lifecycle
        ("backup:DescribeBackupVault", VAULT, {}, "Allowed"),
        ("backup:CopyIntoBackupVault", VAULT, {}, "Allowed"),
        ("backup:TagResource", RECOVERY_POINT, {}, "Allowed"),
        ("kms:Decrypt", TABLE_KEY, VIA_DYNAMODB, "Allowed"),
        ("kms:GenerateDataKey", TABLE_KEY, VIA_DYNAMODB, "Allowed"),
        ("kms:CreateGrant", VAULT_KEY, grant_for_aws, "Allowed"),
        ("kms:DescribeKey", VAULT_KEY, VIA_BACKUP, "Allowed"),
        ("tag:GetResources", "*", {}, "Allowed"),
        # What AWS's account-wide managed policy would also have allowed.
        ("dynamodb:CreateBackup", other_table, {}, "ImplicitlyDenied"),
        ("dynamodb:StartAwsBackupJob", other_table, {}, "ImplicitlyDenied"),
        ("dynamodb:DeleteBackup", f"{other_table}/backup/01700000000000-abcdef12", {}, "ImplicitlyDenied"),
        (
            "backup:CopyIntoBackupVault",
            f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:other",
            {},
            "ImplicitlyDenied",
        ),
        ("kms:Decrypt", other_key, VIA_DYNAMODB, "ImplicitlyDenied"),
        ("kms:CreateGrant", other_key, grant_for_aws, "ImplicitlyDenied"),
        ("ec2:CreateSnapshot", "*", {}, "ImplicitlyDenied"),
        ("ec2:DeleteSnapshot", "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0", {}, "ImplicitlyDenied"),
        ("rds:ModifyDBCluster", f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:orders", {}, "ImplicitlyDenied"),
        # And nothing beyond backing up: no data, no table changes, no deleting recovery points, keys only via DynamoDB.
        ("dynamodb:GetItem", TABLE, {}, "ImplicitlyDenied"),
        ("dynamodb:Scan", TABLE, {}, "ImplicitlyDenied"),
        ("dynamodb:UpdateTable", TABLE, {}, "ImplicitlyDenied"),
        ("backup:DeleteRecoveryPoint", RECOVERY_POINT, {}, "ImplicitlyDenied"),
        (
            "kms:Decrypt",
            TABLE_KEY,
            {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT},
            "ImplicitlyDenied",
        ),
        ("kms:CreateGrant", VAULT_KEY, {**VIA_BACKUP, "kms:GrantIsForAWSResource": "false"}, "ImplicitlyDenied"),
    ]
    requests = [
        {
            "policy": role_policy,
            "principal": BACKUP_ROLE,
            "action": action,
            "resource": resource,
            "accountId": ACCOUNT,
            "context": context,
            "resourcePolicy": key_policies.get(resource)
            or (_delegating_key_policy() if action.startswith("kms:") else None),
        }
        for action, resource, context, _ in cases
    ]
    got = [r["decision"] for r in simulate(requests)]
    wrong = [
        f"{a} on {r}: {want} expected, got {g}" for (a, r, _, want), g in zip(cases, got, strict=True) if g != want
    ]
    assert not wrong, "\n".join(wrong)


def test_only_administrators_delete_recovery_points_or_loosen_the_vault() -> None:
    """A principal whose own policy allows backup:* is stopped by the vault's access policy; the
    environment's administrators (key_admins, the root user) are not; the deploy role only through
    CloudFormation (it deploys the vault's policy and lock as a reviewed template says)."""
    vault = _resources()["BackupVault"]["Properties"]
    access_policy = _resolved(vault["AccessPolicy"])
    protected = [
        ("backup:DeleteRecoveryPoint", RECOVERY_POINT),
        ("backup:UpdateRecoveryPointLifecycle", RECOVERY_POINT),
        ("backup:PutBackupVaultAccessPolicy", VAULT),
        ("backup:DeleteBackupVaultAccessPolicy", VAULT),
        ("backup:PutBackupVaultLockConfiguration", VAULT),
        ("backup:DeleteBackupVaultLockConfiguration", VAULT),
    ]
    cases = [(STRANGER, action, resource, "ExplicitlyDenied") for action, resource in protected]
    cases += [(admin, "backup:DeleteRecoveryPoint", RECOVERY_POINT, "Allowed") for admin in ADMINS]
    cases += [(ADMINS[0], "backup:PutBackupVaultAccessPolicy", VAULT, "Allowed")]
    cases += [(DEPLOY_ROLE, action, resource, "ExplicitlyDenied") for action, resource in protected]
    via_cloudformation = {"aws:CalledVia": ["cloudformation.amazonaws.com"]}
    cases += [(DEPLOY_ROLE, "backup:PutBackupVaultAccessPolicy", VAULT, "Allowed", via_cloudformation)]
    # Everything else stays with IAM: the vault policy denies only what loosens it.
    cases += [
        (STRANGER, "backup:DescribeBackupVault", VAULT, "Allowed"),
        (STRANGER, "backup:StartBackupJob", VAULT, "Allowed"),
    ]
    requests = [
        {
            "policy": BACKUP_ANYTHING,
            "principal": principal,
            "action": action,
            "resource": resource,
            "accountId": ACCOUNT,
            "context": {"aws:PrincipalArn": principal, "aws:PrincipalAccount": ACCOUNT, **(extra[0] if extra else {})},
            "resourcePolicy": access_policy,
        }
        for principal, action, resource, _, *extra in cases
    ]
    got = [r["decision"] for r in simulate(requests)]
    wrong = [
        f"{p} {a} on {r}: {want} expected, got {g}"
        for (p, a, r, want, *_), g in zip(cases, got, strict=True)
        if g != want
    ]
    assert not wrong, "\n".join(wrong)


def _vault_with(tmp_path: Path, backup: dict[str, Any]) -> dict[str, Any]:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())
    env["backup"] = backup
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(env))
    template = build_data_stack(load_spec(path, FIXTURE_DESIGNS)).template_dict
    vault: dict[str, Any] = template["Resources"]["BackupVault"]["Properties"]
    return vault


def test_no_vault_lock_unless_asked(tmp_path: Path) -> None:
    assert "LockConfiguration" not in _resources()["BackupVault"]["Properties"]


@pytest.mark.parametrize(
    ("lock", "expected"),
    [
        (
            {"mode": "governance", "min_retention_days": 7, "max_retention_days": 365},
            {"MinRetentionDays": 7, "MaxRetentionDays": 365},
        ),
        (
            {"mode": "compliance", "min_retention_days": 35, "changeable_for_days": 3},
            {"MinRetentionDays": 35, "ChangeableForDays": 3},
        ),
    ],
)
def test_vault_lock_modes(tmp_path: Path, lock: dict[str, Any], expected: dict[str, int]) -> None:
    """Governance: no ChangeableForDays (changeable any time); compliance: immutable after it."""
    vault = _vault_with(tmp_path, {"retention_days": 35, "vault_lock": lock})
    assert vault["LockConfiguration"] == expected


def test_the_taskcat_variant_vault_is_deletable(tmp_path: Path) -> None:
    spec_path = tmp_path / "prod.yaml"
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())
    env["backup"] = {"vault_lock": {"mode": "compliance", "min_retention_days": 7, "changeable_for_days": 3}}
    spec_path.write_text(yaml.safe_dump(env))
    spec = load_spec(spec_path, FIXTURE_DESIGNS)
    variant = disposable_variant(build_data_stack(spec).template_dict, spec)
    vault = variant["Resources"]["BackupVault"]
    assert "LockConfiguration" not in vault["Properties"] and "AccessPolicy" not in vault["Properties"]
    assert vault["DeletionPolicy"] == "Delete"
