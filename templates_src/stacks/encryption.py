"""Server-side encryption for the table: the three choices and the KMS key."""

from __future__ import annotations

from typing import Any

from awacs.aws import (
    Allow,
    ArnEquals,
    ArnNotEquals,
    Bool,
    Condition,
    Deny,
    ForAllValuesStringNotEquals,
    ForAnyValueStringEquals,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Ref, Sub, Tags, dynamodb, kms

from ..spec.loader import Spec
from .actions import iam_actions
from .key_actions import (
    KEY_ADMIN_ACTIONS,
    KEY_ALIAS_ACTIONS,
    KEY_DESTRUCTIVE_ACTIONS,
    KEY_GRANT_ACTIONS,
    KEY_MOVE_PRIMARY_ACTIONS,
    KEY_RECOVERY_ACTIONS,
    KEY_REPLICATE_ACTIONS,
    KEY_RETIRE_GRANT_ACTIONS,
    KEY_USE_ACTIONS,
)
from .names import KEY_ALIAS_ID, deploy_role_arn, key_alias_name, key_logical_id
from .replication import key_statements

# Longest waiting period: a mistaken key deletion stays reversible for 30 days.
KEY_PENDING_WINDOW_DAYS = 30


ACCOUNT_ROOT = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
CLOUDFORMATION = "cloudformation.amazonaws.com"
THROUGH_CLOUDFORMATION = {"aws:CalledVia": [CLOUDFORMATION]}


def service_endpoint(service: str, region: str) -> str:
    """The kms:ViaService value of a service in a Region."""
    return f"{service}.{region}.amazonaws.com"


def dynamodb_endpoint(region: str) -> str:
    return service_endpoint("dynamodb", region)


def deploy_role_only_through_cloudformation(deployer: Sub, actions: list[Any]) -> Statement:
    """A resource policy's Deny of `actions` to the deploy role unless CloudFormation calls on its behalf."""
    return Statement(
        Sid="DeployRoleOnlyThroughCloudFormation",
        Effect=Deny,
        Principal=Principal("AWS", "*"),
        Action=actions,
        Resource=["*"],
        # ForAllValues holds when aws:CalledVia is absent (a direct call): denied.
        Condition=Condition(
            [ArnEquals({"aws:PrincipalArn": deployer}), ForAllValuesStringNotEquals(THROUGH_CLOUDFORMATION)]
        ),
    )


def deploy_role(spec: Spec) -> Sub | None:
    """The pipeline's role (with `ci:`): it manages the key only through CloudFormation."""
    return Sub(deploy_role_arn(spec)) if spec.env.ci is not None else None


def key_policy(
    spec: Spec,
    service: str = "dynamodb",
    service_title: str = "DynamoDB",
    region: str | None = None,
    alias: str | None = "",
) -> PolicyDocument:
    """Separated duties, following AWS's key policy for DynamoDB (encryption.usagenotes, key-policy-default).

    Administrators (key_admins) manage and never use the key, and name it with
    its alias; the deploy role (with `ci:`) does the same only through
    CloudFormation (aws:CalledVia), so a job holding it cannot re-policy,
    disable or revoke the key directly; anyone in the account may use the key
    only through DynamoDB in this region (and only where an IAM policy also
    allows it: the account principal delegates to IAM); grants only for AWS
    resources; an explicit Deny of the destructive actions for everyone but the
    administrators and the account's root user, and for the deploy role outside
    CloudFormation. A global table's replica keys (stacks/replica_key_stack.py)
    get the same policy for their own Region. alias: the key's alias ("" for
    the table's, None for a key without one: no alias statement).
    """
    region = region or spec.env.region  # a replica key: its own Region's service endpoint
    alias = key_alias_name(spec) if alias == "" else alias
    admins = list(spec.env.key_admins)
    deployer = deploy_role(spec)
    via_service = {"kms:ViaService": service_endpoint(service, region), "kms:CallerAccount": spec.env.account_id}
    root = Principal("AWS", Sub(ACCOUNT_ROOT))
    managers: list[tuple[str, list[Any], dict[str, Any]]] = [("KeyAdministrators", admins, {})]
    if deployer is not None:
        managers.append(("DeployRoleThroughCloudFormation", [deployer], THROUGH_CLOUDFORMATION))
    manage: list[Statement] = []
    for who, principals, via in managers:
        if not principals:
            continue
        manage.append(
            Statement(
                Sid=f"{who}ManageNeverUse",
                Effect=Allow,
                Principal=Principal("AWS", principals),
                Action=iam_actions(KEY_ADMIN_ACTIONS),
                Resource=["*"],
                **({"Condition": Condition(ForAnyValueStringEquals(via))} if via else {}),
            )
        )
        if alias:
            # The key's side of an alias operation. kms:AliasName works in IAM policies only
            # (conditions-kms.html): which alias is the caller's IAM policy's resource (deploy_role.py).
            manage.append(
                Statement(
                    Sid=f"{who}NameTheKey",
                    Effect=Allow,
                    Principal=Principal("AWS", principals),
                    Action=iam_actions(KEY_ALIAS_ACTIONS),
                    Resource=["*"],
                    **({"Condition": Condition(ForAnyValueStringEquals(via))} if via else {}),
                )
            )
        manage += _multi_region_statements(spec, who, principals, via, service)
    denies = [
        # Bypassing KMS's lockout check could leave the key to no one (PutKeyPolicy,
        # BypassPolicyLockoutSafetyCheck): not even an administrator may; the root user can.
        Statement(
            Sid="NoOneBypassesTheLockoutCheck",
            Effect=Deny,
            Principal=Principal("AWS", "*"),
            Action=iam_actions(("kms:PutKeyPolicy",)),
            Resource=["*"],
            Condition=Condition(
                [
                    Bool({"kms:BypassPolicyLockoutSafetyCheck": "true"}),
                    ArnNotEquals({"aws:PrincipalArn": Sub(ACCOUNT_ROOT)}),
                ]
            ),
        ),
        Statement(
            Sid="OnlyAdministratorsDisableRevokeDeleteOrRepolicy",
            Effect=Deny,
            Principal=Principal("AWS", "*"),
            Action=iam_actions(KEY_DESTRUCTIVE_ACTIONS),
            Resource=["*"],
            Condition=Condition(
                ArnNotEquals({"aws:PrincipalArn": [*admins, *([deployer] if deployer else []), Sub(ACCOUNT_ROOT)]})
            ),
        ),
    ]
    if deployer is not None:
        denies.append(deploy_role_only_through_cloudformation(deployer, iam_actions(KEY_DESTRUCTIVE_ACTIONS)))
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            *manage,
            # AWS requires the account to keep a way back in: without a statement
            # for the account, deleting the administrators' roles would leave the
            # key (and the table's data) unmanageable. Kept to reading and
            # replacing the policy; PutKeyPolicy is denied below to every IAM
            # principal but the administrators, so only the root user can use it.
            Statement(
                Sid="AccountRecoveryOnly",
                Effect=Allow,
                Principal=root,
                Action=iam_actions(KEY_RECOVERY_ACTIONS),
                Resource=["*"],
            ),
            Statement(
                Sid=f"UseOnlyThrough{service_title}",
                Effect=Allow,
                Principal=root,
                Action=iam_actions(KEY_USE_ACTIONS),
                Resource=["*"],
                Condition=Condition(StringEquals(via_service)),
            ),
            Statement(
                Sid=f"GrantsOnlyFor{service_title}",
                Effect=Allow,
                Principal=root,
                Action=iam_actions(KEY_GRANT_ACTIONS),
                Resource=["*"],
                Condition=Condition([Bool({"kms:GrantIsForAWSResource": "true"}), StringEquals(via_service)]),
            ),
            # The service retires its grant when CloudFormation deletes what holds it (the vault's, the
            # table's handlers list kms:RetireGrant): only through that service; retiring only takes away.
            Statement(
                Sid=f"GrantsRetiredOnlyThrough{service_title}",
                Effect=Allow,
                Principal=root,
                Action=iam_actions(KEY_RETIRE_GRANT_ACTIONS),
                Resource=["*"],
                Condition=Condition(StringEquals(via_service)),
            ),
            # A multi-account global table's replication principal (stacks/replication.py); DynamoDB's only.
            *(key_statements(spec) if service == "dynamodb" else []),
            *denies,
        ],
    )


def _multi_region_statements(
    spec: Spec, who: str, principals: list[Any], via: dict[str, Any], service: str
) -> list[Statement]:
    """A global table's key: its managers replicate it only into the replica Regions
    (kms:ReplicaRegion) and move the primary only among them (kms:PrimaryRegion): where the data
    may live is the environment's replicas: list, not any Region."""
    if not spec.env.global_table or service != "dynamodb":
        return []
    regions = spec.env.replica_regions

    def condition(key: str, values: list[str]) -> Condition:
        return Condition([*([ForAnyValueStringEquals(via)] if via else []), StringEquals({key: values})])

    out = [
        Statement(
            Sid=f"{who}MovePrimaryOnlyAmongReplicaRegions",
            Effect=Allow,
            Principal=Principal("AWS", principals),
            Action=iam_actions(KEY_MOVE_PRIMARY_ACTIONS),
            Resource=["*"],
            Condition=condition("kms:PrimaryRegion", regions),
        )
    ]
    if len(regions) > 1:
        out.insert(
            0,
            Statement(
                Sid=f"{who}ReplicateOnlyIntoReplicaRegions",
                Effect=Allow,
                Principal=Principal("AWS", principals),
                Action=iam_actions(KEY_REPLICATE_ACTIONS),
                Resource=["*"],
                Condition=condition("kms:ReplicaRegion", regions[1:]),
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
        AliasName=key_alias_name(spec),
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
    existing = spec.env.existing_key_arn
    if existing is not None:  # a key the project does not manage: named as the environment names it
        return dynamodb.SSESpecification(SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=existing)
    assert key is not None, "customer_managed encryption needs the key resource"
    return dynamodb.SSESpecification(SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=GetAtt(key, "Arn"))
