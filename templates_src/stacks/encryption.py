"""Server-side encryption for the table: the three choices and the KMS key."""

from __future__ import annotations

from awacs import kms as kms_actions
from awacs.aws import Allow, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Ref, Sub, Tags, dynamodb, kms

from ..spec.loader import Spec
from .names import KEY_ALIAS_ID, KEY_ID

# Longest waiting period: a mistaken key deletion stays reversible for 30 days.
KEY_PENDING_WINDOW_DAYS = 30


def key_policy() -> PolicyDocument:
    # Delegating to IAM through the account root is the AWS default key
    # policy; without it the key can become unmanageable (policy lockout).
    # Principals are this account only: no wildcard principal.
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="EnableIamPoliciesOfThisAccount",
                Effect=Allow,
                Principal=Principal("AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")),
                Action=[kms_actions.Action("*")],
                Resource=["*"],
            )
        ],
    )


def build_key(spec: Spec) -> tuple[kms.Key, kms.Alias]:
    key = kms.Key(
        KEY_ID,
        Description=f"Encrypts DynamoDB table {spec.table_name} ({spec.env_name})",
        EnableKeyRotation=True,
        PendingWindowInDays=KEY_PENDING_WINDOW_DAYS,
        KeyPolicy=key_policy(),
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
