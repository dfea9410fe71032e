"""The deploy role: what a GitHub Actions job assumes (OIDC, no stored keys) to run `deploy`.

Least privilege for change sets on this environment's stacks only:

- trust: GitHub's OIDC provider, for this repository's jobs in this GitHub
  environment only (its protection rules gate every deploy), audience STS;
- CloudFormation: the change-set actions `deploy` calls, on this
  environment's data and access stacks only; no DeleteStack, no IMPORT;
- everything CloudFormation does with the caller's credentials (create the
  table, its key, its roles): the handler permissions of the resource types
  in this environment's templates (registry schemas, stacks/registry.py),
  usable only through CloudFormation (aws:CalledVia); DynamoDB on this
  table only; roles only under this environment's prefix, the access
  stack's with its permissions boundary (when set), the backup role with
  AWS Backup's managed policy only, never the deploy role itself;
- a protected environment: an explicit Deny of deleting the table, its key or
  its backup vault, even through a change set.

The stack is created once by an administrator (it is the pipeline's own
identity); the pipeline never deploys it.
"""

from __future__ import annotations

from typing import Any

from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    Condition,
    Deny,
    ForAnyValueStringEquals,
    Null,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Output, Parameter, Ref, Sub, Tags, Template, iam

from ..spec.loader import Spec
from .artifacts import Stack
from .backup import BACKUP_SERVICE_POLICY
from .names import DATA, DEPLOY_ROLE, STACK_KINDS, deploy_role_arn, deploy_role_name, replica_key_kind, stack_name
from .registry import handler_permissions
from .replica_key_stack import replica_key_regions

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
OIDC_PROVIDER_PARAMETER = "GitHubOidcProviderArn"
DEPLOY_ROLE_ID = "DeployRole"
CLOUDFORMATION = "cloudformation.amazonaws.com"
# What `deploy` (deploy/change_sets.py) calls on its stacks.
CHANGE_SET_ACTIONS = (
    "cloudformation:CreateChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:GetTemplate",
    "cloudformation:SetStackPolicy",
    "cloudformation:UpdateTerminationProtection",
)
# Handler permissions for features no template of ours uses: a table imported
# from S3 (ImportSourceSpecification: item writes, S3 reads, import logs),
# Kinesis streaming, replicas, Lambda provisioned concurrency. Leaving them
# out keeps the role off every item and every other service's data.
UNUSED_HANDLER_ACTIONS = frozenset(
    {
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
        "dynamodb:ImportTable",
        "dynamodb:DescribeImport",
        "dynamodb:CreateTableReplica",
        "dynamodb:AssociateTableReplica",
        # Streaming every item to Kinesis: only describing it (the read handler does) is kept.
        "dynamodb:EnableKinesisStreamingDestination",
        "dynamodb:DisableKinesisStreamingDestination",
        "dynamodb:UpdateKinesisStreamingDestination",
        # Listed by the GlobalTable schema, but no IAM action has this name.
        "dynamodb:DisassociateTableReplica",
    }
)
UNUSED_SERVICES = frozenset({"s3", "logs", "kinesis", "lambda", "backup-storage"})
# A global table's replicas: CloudFormation adds one with the caller's
# credentials, and DynamoDB requires the caller to hold the item actions on
# the table too (AWS::DynamoDB::GlobalTable, "The IAM Principal executing the
# stack operation must have the permissions listed below in all regions").
# Kept, on this table's ARNs only, when the environment is a global table.
REPLICA_HANDLER_ACTIONS = frozenset(
    {
        "dynamodb:BatchWriteItem",
        "dynamodb:CreateTableReplica",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
    }
)
# kinesis_stream: CloudFormation turns the streaming destination on and off
# (on the table only), and checks the stream (on that stream only).
KINESIS_HANDLER_ACTIONS = frozenset(
    {
        "dynamodb:EnableKinesisStreamingDestination",
        "dynamodb:DisableKinesisStreamingDestination",
        "dynamodb:UpdateKinesisStreamingDestination",
    }
)
# An MRSC table's witness Region (globaltables-security IAM, "with a witness").
WITNESS_ACTIONS = ("dynamodb:CreateGlobalTableWitness", "dynamodb:DeleteGlobalTableWitness")
# Never, in a protected environment, whatever a change set says.
DATA_LOSS_ACTIONS = (
    "backup:DeleteBackupVault",
    "cloudformation:DeleteStack",
    "dynamodb:DeleteTable",
    # Removing a replica deletes that Region's copy (Retain does not keep it).
    "dynamodb:DeleteTableReplica",
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
)


def resource_actions(templates: list[dict[str, Any]], replicas: bool = False, kinesis: bool = False) -> list[str]:
    """The handler permissions of every resource type in the templates, less the unused ones
    (a global table's replicas, a Kinesis streaming destination: kept when used)."""
    types = {r["Type"] for t in templates for r in t.get("Resources", {}).values()}
    actions = {a for t in types for a in handler_permissions(t)}
    unused = (
        UNUSED_HANDLER_ACTIONS
        - (REPLICA_HANDLER_ACTIONS if replicas else frozenset())
        - (KINESIS_HANDLER_ACTIONS if kinesis else frozenset())
    )
    services = UNUSED_SERVICES - ({"kinesis"} if kinesis else set())
    return sorted(a for a in actions if a not in unused and a.split(":")[0] not in services)


def _witness_actions(spec: Spec) -> list[str]:
    # The schema's handlers do not list them; DynamoDB's global tables IAM page does.
    return list(WITNESS_ACTIONS) if spec.env.witness_region is not None else []


def _arn(service: str, resource: str, region: bool | str = False) -> Sub:
    """region: True for the stack's, a name for that Region's, False for a global resource."""
    where = region if isinstance(region, str) else ("${AWS::Region}" if region else "")
    return Sub(f"arn:${{AWS::Partition}}:{service}:{where}:${{AWS::AccountId}}:{resource}")


def _role_path(spec: Spec) -> str:
    return spec.env.access.role_path if spec.env.access is not None else "/"


# IAM actions by what they do to a role (the rest of the handlers' IAM actions are reads).
ROLE_POLICY_WRITES = ("iam:PutRolePolicy", "iam:DeleteRolePolicy")
ROLE_MANAGED_POLICY = ("iam:AttachRolePolicy", "iam:DetachRolePolicy")
ROLE_BOUNDARY = ("iam:PutRolePermissionsBoundary",)
# A role's boundary is never removed by a deploy: a template that drops it fails.
NEVER = ("iam:DeleteRolePermissionsBoundary",)
PASS_ROLE = "iam:PassRole"
SERVICE_LINKED = "iam:CreateServiceLinkedRole"
# Services that create their service-linked roles for our resources.
LINKED_SERVICES = ("backup.amazonaws.com", "dynamodb.application-autoscaling.amazonaws.com")
# A global table's replication runs as AWSServiceRoleForDynamoDBReplication, created with the first replica.
REPLICATION_SERVICE = "replication.dynamodb.amazonaws.com"


def linked_services(spec: Spec) -> list[str]:
    return [*LINKED_SERVICES, *([REPLICATION_SERVICE] if spec.env.replicas else [])]


def permission_policy(spec: Spec, templates: list[dict[str, Any]]) -> PolicyDocument:
    """See the module docstring; every Allow but the change sets needs aws:CalledVia CloudFormation."""
    kinesis = spec.env.kinesis_stream
    actions = sorted(
        {
            *resource_actions(templates, replicas=bool(spec.env.replicas), kinesis=kinesis is not None),
            *_witness_actions(spec),
        }
    )
    via: dict[str, Any] = {"ForAnyValue:StringEquals": {"aws:CalledVia": [CLOUDFORMATION]}}
    iam_actions = [a for a in actions if a.startswith("iam:") and a not in (*NEVER, PASS_ROLE, SERVICE_LINKED)]
    dynamodb = [a for a in actions if a.startswith("dynamodb:")]
    others = [a for a in actions if not a.startswith(("iam:", "dynamodb:", "kinesis:"))]
    kinesis_actions = [a for a in actions if a.startswith("kinesis:")]
    table = f"table/{spec.table_name}"
    access_roles = _arn("iam", f"role{_role_path(spec)}{spec.stack_prefix}-*")
    # The data stack's roles (the backup role) get generated names, under "/".
    data_roles = _arn("iam", f"role/{stack_name(spec, DATA)}-*")
    boundary = spec.env.access.permissions_boundary_arn if spec.env.access is not None else None
    access_role_condition = dict(via)
    if boundary is not None:  # no role of the access stack without the environment's boundary
        access_role_condition["StringEquals"] = {"iam:PermissionsBoundary": boundary}

    def allow(
        sid: str, names: list[str] | tuple[str, ...], resources: list[Any], condition: dict[str, Any]
    ) -> Statement | None:
        if not names:
            return None
        return Statement(
            Sid=sid,
            Effect=Allow,
            Action=[Action(*a.split(":")) for a in sorted(names)],
            Resource=resources,
            Condition=_condition(condition),
        )

    reads = [a for a in iam_actions if a not in (*ROLE_POLICY_WRITES, *ROLE_MANAGED_POLICY, *ROLE_BOUNDARY)]
    bounded = [a for a in iam_actions if a in (*ROLE_POLICY_WRITES, *ROLE_BOUNDARY)] + (
        ["iam:CreateRole"] if "iam:CreateRole" in reads else []
    )
    plain = [a for a in reads if a != "iam:CreateRole"]
    statements: list[Statement | None] = [
        Statement(
            Sid="ChangeSetsOnTheseStacks",
            Effect=Allow,
            Action=[Action(*a.split(":")) for a in CHANGE_SET_ACTIONS],
            Resource=[
                *(_arn("cloudformation", f"stack/{stack_name(spec, kind)}/*", True) for kind in STACK_KINDS),
                # A global table's replica key stacks, each in its own Region.
                *(
                    _arn("cloudformation", f"stack/{stack_name(spec, replica_key_kind(region))}/*", region)
                    for region in replica_key_regions(spec)
                ),
            ],
        ),
        allow(
            "TheTableThroughCloudFormation",
            dynamodb,
            [
                arn
                for region in (spec.env.replica_regions if spec.env.replicas else [True])
                for arn in (_arn("dynamodb", table, region), _arn("dynamodb", f"{table}/*", region))
            ],
            via,
        ),
        allow("ResourcesThroughCloudFormation", others, ["*"], via),
        allow(
            "TheKinesisStreamThroughCloudFormation",
            kinesis_actions,
            [kinesis.stream_arn] if kinesis is not None else [],
            via,
        ),
        allow("RolesThroughCloudFormation", plain, [access_roles, data_roles], via),
        allow("AccessRolesPoliciesThroughCloudFormation", bounded, [access_roles], access_role_condition),
        # The backup role: created with AWS's managed service-role policy only, never an inline policy.
        allow(
            "BackupRoleThroughCloudFormation",
            ["iam:CreateRole"] if "iam:CreateRole" in reads else [],
            [data_roles],
            via,
        ),
        allow(
            "BackupRoleManagedPolicyThroughCloudFormation",
            [a for a in iam_actions if a in ROLE_MANAGED_POLICY],
            [data_roles],
            {**via, "ArnEquals": {"iam:PolicyARN": [Sub(BACKUP_SERVICE_POLICY)]}},
        ),
        allow(
            "PassRolesToTheirServices",
            [PASS_ROLE] if PASS_ROLE in actions else [],
            [data_roles, _arn("iam", "role/aws-service-role/*")],
            {**via, "StringEquals": {"iam:PassedToService": list(LINKED_SERVICES)}},
        ),
        allow(
            "ServiceLinkedRoles",
            [SERVICE_LINKED] if SERVICE_LINKED in actions else [],
            ["*"],
            {**via, "StringEquals": {"iam:AWSServiceName": linked_services(spec)}},
        ),
        Statement(
            Sid="NeverItself",
            Effect=Deny,
            Action=[Action("iam", "*")],
            Resource=[Sub(deploy_role_arn(spec))],
        ),
        # An IMPORT change set would adopt any resource of the account into these stacks.
        Statement(
            Sid="NoImports",
            Effect=Deny,
            Action=[Action("cloudformation", "CreateChangeSet")],
            Resource=["*"],
            Condition=_condition({"Null": {"cloudformation:ImportResourceTypes": "false"}}),
        ),
    ]
    if spec.env.protected:
        statements.append(
            Statement(
                Sid="NeverDeleteTheData",
                Effect=Deny,
                Action=[Action(*a.split(":")) for a in DATA_LOSS_ACTIONS],
                Resource=["*"],
            )
        )
    return PolicyDocument(Version="2012-10-17", Statement=[s for s in statements if s is not None])


_OPERATORS: dict[str, Any] = {
    "ForAnyValue:StringEquals": ForAnyValueStringEquals,
    "StringEquals": StringEquals,
    "ArnEquals": ArnEquals,
    "Null": Null,
}


def _condition(condition: dict[str, Any]) -> Condition:
    return Condition([_OPERATORS[op](values) for op, values in sorted(condition.items())])


def trust_policy(spec: Spec, provider: Parameter) -> PolicyDocument:
    assert spec.env.ci is not None
    github_environment = spec.env.ci.github_environment or spec.env_name
    subject = f"repo:{spec.env.ci.github_repository}:environment:{github_environment}"
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Federated", Ref(provider)),
                Action=[Action("sts", "AssumeRoleWithWebIdentity")],
                Condition=Condition(
                    StringEquals({f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com", f"{GITHUB_OIDC_HOST}:sub": subject})
                ),
            )
        ],
    )


def deploy_role_suppressions(spec: Spec) -> dict[str, Any]:
    why_star = (
        "CloudFormation's handler permissions for the resource types of this environment's templates (registry "
        "schemas); their ARNs do not exist before CloudFormation creates them; usable only through CloudFormation "
        "(aws:CalledVia), and CloudFormation only on this environment's stacks"
    )
    nag: list[dict[str, Any]] = [
        {
            "id": f"{pack}-IAMNoInlinePolicy",
            "reason": "inline by design: the policy is derived from this environment's templates and lives and dies with the role",
        }
        for pack in ("HIPAA.Security", "NIST.800.53.R5")
    ]
    nag.append({"id": "AwsSolutions-IAM5", "reason": why_star, "applies_to": ["Resource::*"]})
    nag.append(
        {
            "id": "AwsSolutions-IAM5",
            "reason": "change sets on this environment's stacks (a stack ARN ends with a generated id), roles under "
            "its prefix (the data stack's role names are generated), the table's indexes and streams, and the "
            "service-linked roles AWS Backup and Application Auto Scaling use",
            "applies_to": [{"regex": "/^Resource::arn:<AWS::Partition>:(cloudformation|iam|dynamodb):.*\\*$/g"}],
        }
    )
    nag.append(
        {
            "id": "AwsSolutions-IAM5",
            "reason": "Describe* as the registry schema of AWS::DynamoDB::GlobalTable lists it for its handlers "
            "(read-only), on this table's ARNs or through CloudFormation only",
            "applies_to": [{"regex": "/^Action::[a-z-]+:Describe\\*$/g"}],
        }
    )
    return {"cdk_nag": {"rules_to_suppress": nag}}


def build_deploy_role_stack(spec: Spec, templates: list[dict[str, Any]]) -> Stack | None:
    """The deploy role of an environment with `ci:`, for the templates the pipeline deploys."""
    ci = spec.env.ci
    if ci is None:
        return None
    template = Template(
        Description=(
            f"GitHub Actions deploy role for {stack_name(spec, DATA)} and its access stack (environment "
            f"{spec.env_name}); created once by an administrator. Generated by templates_src; edit the YAML."
        )
    )
    provider = template.add_parameter(
        Parameter(
            OIDC_PROVIDER_PARAMETER,
            Type="String",
            Description=f"The IAM OIDC provider of {GITHUB_OIDC_HOST} in this account",
            AllowedPattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$",
        )
    )
    provider_arn = ci.oidc_provider_arn or f"arn:aws:iam::{spec.env.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"
    role = template.add_resource(
        iam.Role(
            DEPLOY_ROLE_ID,
            Metadata=deploy_role_suppressions(spec),
            RoleName=deploy_role_name(spec),
            Path=spec.env.access.role_path if spec.env.access is not None else "/",
            Description=f"deploys {stack_name(spec, DATA)} from {ci.github_repository} through change sets",
            MaxSessionDuration=3600,
            AssumeRolePolicyDocument=trust_policy(spec, provider),
            Policies=[iam.Policy(PolicyName="change-set-deploy", PolicyDocument=permission_policy(spec, templates))],
            Tags=Tags(**spec.tags),
        )
    )
    template.add_output(
        Output("DeployRoleArn", Description="role-to-assume in the deploy workflow", Value=GetAtt(role, "Arn"))
    )
    return Stack(
        kind=DEPLOY_ROLE,
        name=stack_name(spec, DEPLOY_ROLE),
        template=template,
        parameters={OIDC_PROVIDER_PARAMETER: provider_arn},
        tags=spec.tags,
    )
