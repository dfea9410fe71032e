"""Server-side encryption for the table: the three choices and the KMS key."""

from __future__ import annotations

from typing import Any

from awacs import kms as kms_actions
from awacs.aws import Allow, ArnNotEquals, Bool, Condition, Deny, PolicyDocument, Principal, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub, Tags, dynamodb, kms

from ..spec.loader import Spec
from .names import KEY_ALIAS_ID, deploy_role_arn, key_logical_id

# Longest waiting period: a mistaken key deletion stays reversible for 30 days.
KEY_PENDING_WINDOW_DAYS = 30


# Manage, never use: no Encrypt/Decrypt/GenerateDataKey and no CreateGrant
# (a grant could hand its holder the use of the key).
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
)
# A global table's multi-Region key: an administrator (the deploying role)
# replicates it into each replica Region (AWS::KMS::ReplicaKey calls
# ReplicateKey on the primary) and may move the primary Region: see
# _multi_region_statements for the Regions it may use.
# What DynamoDB does with a table's key on the caller's behalf.
KEY_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
# Actions that destroy access to the data: only administrators (and the root user, break-glass).
KEY_DESTRUCTIVE_ACTIONS = ("kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion")
ACCOUNT_ROOT = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"


def _actions(names: tuple[str, ...]) -> list[kms_actions.Action]:
    return [kms_actions.Action(n.split(":", 1)[1]) for n in names]


def key_admins(spec: Spec) -> list[Any]:
    """The configured administrators, and the deploy role with `ci:`: CloudFormation updates the
    key (tags, rotation, policy) with the deploying principal's rights, and KMS refuses a policy
    that would lock out the principal setting it."""
    admins: list[Any] = list(spec.env.key_admins)
    if spec.env.ci is not None:
        admins.append(Sub(deploy_role_arn(spec)))
    return admins


def key_policy(
    spec: Spec, service: str = "dynamodb", service_title: str = "DynamoDB", region: str | None = None
) -> PolicyDocument:
    """Separated duties, following AWS's key policy for DynamoDB (encryption.usagenotes, key-policy-default).

    Administrators manage and never use the key; anyone in the account may use
    it only through DynamoDB in this region (and only where an IAM policy also
    allows it: the account principal delegates to IAM); grants only for AWS
    resources; an explicit Deny of disabling, deleting or re-writing the key's
    policy for everyone but the administrators and the account's root user.
    A global table's replica keys (stacks/replica_key_stack.py) get the same
    policy for their own Region.
    """
    region = region or spec.env.region  # a replica key: its own Region's service endpoint
    admins = key_admins(spec)
    via_service = {"kms:ViaService": f"{service}.{region}.amazonaws.com", "kms:CallerAccount": spec.env.account_id}
    root = Principal("AWS", Sub(ACCOUNT_ROOT))
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="KeyAdministratorsManageNeverUse",
                Effect=Allow,
                Principal=Principal("AWS", admins),
                Action=_actions(KEY_ADMIN_ACTIONS),
                Resource=["*"],
            ),
            *_multi_region_statements(spec, admins, service),
            # AWS requires the account to keep a way back in: without a statement
            # for the account, deleting the administrators' roles would leave the
            # key (and the table's data) unmanageable. Kept to reading and
            # replacing the policy; PutKeyPolicy is denied below to every IAM
            # principal but the administrators, so only the root user can use it.
            Statement(
                Sid="AccountRecoveryOnly",
                Effect=Allow,
                Principal=root,
                Action=_actions(("kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy")),
                Resource=["*"],
            ),
            Statement(
                Sid=f"UseOnlyThrough{service_title}",
                Effect=Allow,
                Principal=root,
                Action=_actions(KEY_USE_ACTIONS),
                Resource=["*"],
                Condition=Condition(StringEquals(via_service)),
            ),
            Statement(
                Sid=f"GrantsOnlyFor{service_title}",
                Effect=Allow,
                Principal=root,
                Action=_actions(("kms:CreateGrant",)),
                Resource=["*"],
                Condition=Condition([Bool({"kms:GrantIsForAWSResource": "true"}), StringEquals(via_service)]),
            ),
            Statement(
                Sid="OnlyAdministratorsDisableDeleteOrRepolicy",
                Effect=Deny,
                Principal=Principal("AWS", "*"),
                Action=_actions(KEY_DESTRUCTIVE_ACTIONS),
                Resource=["*"],
                Condition=Condition(ArnNotEquals({"aws:PrincipalArn": [*admins, Sub(ACCOUNT_ROOT)]})),
            ),
        ],
    )


def _multi_region_statements(spec: Spec, admins: list[Any], service: str) -> list[Statement]:
    """A global table's key: its administrators replicate it only into the replica Regions
    (kms:ReplicaRegion) and move the primary only among them (kms:PrimaryRegion): where the data
    may live is the environment's replicas: list, not any Region."""
    if not spec.env.global_table or service != "dynamodb":
        return []
    regions = spec.env.replica_regions
    out = [
        Statement(
            Sid="AdministratorsMovePrimaryOnlyAmongReplicaRegions",
            Effect=Allow,
            Principal=Principal("AWS", admins),
            Action=_actions(("kms:UpdatePrimaryRegion",)),
            Resource=["*"],
            Condition=Condition(StringEquals({"kms:PrimaryRegion": regions})),
        )
    ]
    if len(regions) > 1:
        out.insert(
            0,
            Statement(
                Sid="AdministratorsReplicateOnlyIntoReplicaRegions",
                Effect=Allow,
                Principal=Principal("AWS", admins),
                Action=_actions(("kms:ReplicateKey",)),
                Resource=["*"],
                Condition=Condition(StringEquals({"kms:ReplicaRegion": regions[1:]})),
            ),
        )
    return out


def build_key(spec: Spec) -> tuple[kms.Key, kms.Alias]:
    # A global table's key is a multi-Region primary: each replica Region
    # holds a replica of it (same key id), made by a key-<region> stack. It has
    # its own logical ID (GlobalTableKey): a live single-Region TableKey cannot
    # become multi-Region, so a table moving to a global table gets a new key.
    multi_region = {"MultiRegion": True} if spec.env.global_table else {}
    key = kms.Key(
        key_logical_id(spec.env.global_table),
        Description=f"Encrypts DynamoDB table {spec.table_name} ({spec.env_name})",
        EnableKeyRotation=True,
        **multi_region,
        PendingWindowInDays=KEY_PENDING_WINDOW_DAYS,
        KeyPolicy=key_policy(spec),
        Tags=Tags(**spec.tags),
        DeletionPolicy=spec.env.retention,
        UpdateReplacePolicy=spec.env.retention,
    )
    alias = kms.Alias(
        KEY_ALIAS_ID,
        AliasName=f"alias/{spec.table_name}",
        TargetKeyId=Ref(key),
    )
    return key, alias


def sse_specification(spec: Spec, key: kms.Key | None) -> dynamodb.SSESpecification:
    choice = spec.env.encryption
    if choice == "aws_owned":
        return dynamodb.SSESpecification(SSEEnabled=False)
    if choice == "aws_managed":
        # No key id: DynamoDB uses the AWS managed key alias/aws/dynamodb.
        return dynamodb.SSESpecification(SSEEnabled=True, SSEType="KMS")
    assert key is not None, "customer_managed encryption needs the key resource"
    return dynamodb.SSESpecification(SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=GetAtt(key, "Arn"))
