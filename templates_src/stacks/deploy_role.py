"""The deploy role: what a GitHub Actions job assumes (OIDC, no stored keys) to run `deploy`.

Least privilege, derived from what is called:

- trust: GitHub's OIDC provider, for this repository's deploy workflow on
  its deploy branch in this GitHub environment only (a customized `sub`
  with job_workflow_ref; the environment's protection rules gate every
  deploy), audience STS;
- the command line's own calls (aws_calls.PIPELINE_CALLS: change sets,
  stack policy, drift, the table's and key's descriptions), each on this
  environment's stacks, table, roles or key; DeleteStack only where the
  environment may be destroyed; never an IMPORT change set;
- everything CloudFormation does with the caller's credentials (create the
  table, its key, its roles): the handler permissions of the resource types
  in this environment's templates (registry schemas, stacks/registry.py),
  usable only through CloudFormation (aws:CalledVia), each on its own
  resources: the table's ARNs, keys tagged as this environment's (and the
  table's key only through DynamoDB), the key's alias, the vault by name,
  alarms by the data stack's name; roles only under this environment's
  prefix and only with its permissions boundary, never unbounded, never
  a managed policy the templates do not attach, never the deploy role;
- a protected environment: an explicit Deny of deleting the table, its key,
  its backup vault or its recovery points, even through a change set.

The key policies (stacks/encryption.py) let this role manage a key only
through CloudFormation: directly it cannot re-policy, disable, revoke a grant
on or schedule the deletion of any key of ours.

The stack is created once by an administrator (it is the pipeline's own
identity); the pipeline never deploys it.
"""

from __future__ import annotations

from typing import Any

from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    Bool,
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

from ..aws_calls import PIPELINE_CALLS, On
from ..spec.environment import ENVIRONMENT_TAG_KEYS
from ..spec.loader import Spec
from ..spec.partitions import partition
from .actions import iam_actions
from .artifacts import Stack
from .backup import vault_name
from .encryption import THROUGH_CLOUDFORMATION, dynamodb_endpoint, service_endpoint
from .grants import existing_key_scopes
from .key_actions import KEY_ALIAS_ACTIONS
from .names import (
    AWS_MANAGED_DYNAMODB_ALIAS,
    DATA,
    DEPLOY_ROLE,
    ROLE_TYPE,
    STACK_KINDS,
    deploy_role_arn,
    deploy_role_name,
    key_alias_name,
    replica_key_kind,
    stack_name,
)
from .registry import handler_permissions
from .replica_key_stack import replica_key_regions

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
OIDC_PROVIDER_PARAMETER = "GitHubOidcProviderArn"
DEPLOY_ROLE_ID = "DeployRole"
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
        # Listed by the GlobalTable and BackupVault schemas, but no IAM action has these names
        # (AWS Backup's vault needs backup-storage:MountCapsule, which is kept).
        "dynamodb:DisassociateTableReplica",
        "backup-storage:Mount",
    }
)
UNUSED_SERVICES = frozenset({"s3", "logs", "kinesis", "lambda"})
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
    "backup:DeleteRecoveryPoint",
    "cloudformation:DeleteStack",
    "dynamodb:DeleteTable",
    # Removing a replica deletes that Region's copy (Retain does not keep it).
    "dynamodb:DeleteTableReplica",
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
)
# What DynamoDB does with the table's key, and AWS Backup with the vault's, for the
# caller while CloudFormation creates or updates the table or vault (the grant the
# service keeps, the data keys): only through that service (kms:ViaService), never directly.
KEY_USE_VIA_SERVICE = frozenset(
    {
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:RetireGrant",
        "kms:RevokeGrant",
    }
)
# Creating a key names no key yet; listing aliases has no resource-level permission.
KMS_WITHOUT_RESOURCE = frozenset({"kms:CreateKey"})
KMS_NO_RESOURCE = frozenset({"kms:ListAliases"})
# AWS Backup: the vault (by name) and its access policy and lock; the rest acts on a backup plan,
# whose ARN holds an id AWS generates.
BACKUP_VAULT_ACTION_WORDS = ("BackupVault", "ListTags", "TagResource", "UntagResource")


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


def _regions(spec: Spec) -> list[bool | str]:
    """Where the table lives: the stack's Region, or each replica Region by name."""
    return list(spec.env.replica_regions) if spec.env.replicas else [True]


# IAM actions by what they do to a role (the rest of the handlers' IAM actions are reads).
ROLE_WRITES = ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary")
ROLE_MANAGED_POLICY = ("iam:AttachRolePolicy", "iam:DetachRolePolicy")
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


def managed_policies(templates: list[dict[str, Any]]) -> list[Any]:
    """The managed policies the templates' roles attach: the only ones the deploy role may attach."""
    found: list[Any] = []
    for template in templates:
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == ROLE_TYPE:
                found += [a for a in resource["Properties"].get("ManagedPolicyArns", []) if a not in found]
    return found


def _tool_statements(spec: Spec, stacks: list[Sub]) -> list[Statement | None]:
    """What the command line itself calls (aws_calls.py), each on its own resources."""
    calls = [c for c in PIPELINE_CALLS if not (c.destroys and spec.env.protected)]
    table = f"table/{spec.table_name}"
    key_aliases = [key_alias_name(spec), AWS_MANAGED_DYNAMODB_ALIAS]
    resources: dict[On, tuple[list[Any], dict[str, Any]]] = {
        On.STACKS: (stacks, {}),
        On.TABLE: ([_arn("dynamodb", table, region) for region in _regions(spec)], {}),
        # Global tables version 2017.11.29: ARNs without a Region (arn:aws:dynamodb::<account>:global-table/<name>).
        On.LEGACY_GLOBAL_TABLE: ([_arn("dynamodb", f"global-table/{spec.table_name}")], {}),
        On.ROLES: ([_access_roles(spec), _data_roles(spec)], {}),
        # The table's key by its alias (ours, or DynamoDB's AWS managed key's): no other key.
        On.KEY: (
            [_arn("kms", "key/*", region) for region in _regions(spec)],
            {"ForAnyValue:StringEquals": {"kms:ResourceAliases": key_aliases}},
        ),
        On.ANY: (["*"], {}),
    }
    sids = {
        On.STACKS: "ToolOnTheseStacks",
        On.TABLE: "ToolReadsTheTable",
        On.LEGACY_GLOBAL_TABLE: "ToolAsksWhetherTheTableIsALegacyGlobalTable",
        On.ROLES: "ToolReadsTheRoles",
        On.KEY: "ToolDescribesTheTablesKey",
        On.ANY: "ToolCallsWithoutResourceLevelPermissions",
    }
    # The pipeline's resources only (an operator's, On.MIGRATION, are never the deploy role's).
    statements = [_allow(sids[on], [c.action for c in calls if c.on is on], *resources[on]) for on in sids]
    # The read-back's and drift's reads of an existing key (who manages it: DescribeKey).
    key_reads = [c.action for c in calls if c.on is On.KEY and c.action == "kms:DescribeKey"]
    return [*statements, *_existing_key("ToolDescribesTheExistingKey", spec, key_reads, {})]


def _existing_key(sid: str, spec: Spec, actions: list[str], condition: dict[str, Any]) -> list[Statement | None]:
    """Statements on the environment's existing keys alone (each replica's too): by ARN, or the keys
    carrying an alias; [] without one."""
    return [
        _allow(sid if n == 0 else f"{sid}ByAlias", actions, list(resources), scoped)
        for n, (resources, scoped) in enumerate(existing_key_scopes(spec.env.existing_key_arns, condition))
    ]


def _key_services(spec: Spec) -> list[str]:
    """The kms:ViaService endpoints that use our keys: DynamoDB in each table Region, AWS Backup in the stack's."""
    regions = spec.env.replica_regions if spec.env.replicas else [spec.env.region]
    backup = [service_endpoint("backup", spec.env.region)] if spec.backup is not None else []
    return [*(dynamodb_endpoint(region) for region in regions), *backup]


def _access_roles(spec: Spec) -> Sub:
    return _arn("iam", f"role{_role_path(spec)}{spec.stack_prefix}-*")


def _data_roles(spec: Spec) -> Sub:
    # The data stack's roles (the backup role) get generated names, under "/".
    return _arn("iam", f"role/{stack_name(spec, DATA)}-*")


def _allow(
    sid: str, names: list[str] | tuple[str, ...], resources: list[Any], condition: dict[str, Any]
) -> Statement | None:
    if not names or not resources:
        return None
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=iam_actions(sorted(set(names))),
        Resource=resources,
        **({"Condition": _condition(condition)} if condition else {}),
    )


def permission_policy(spec: Spec, templates: list[dict[str, Any]]) -> PolicyDocument:
    """See the module docstring; every Allow but the tool's own calls needs aws:CalledVia CloudFormation."""
    kinesis = spec.env.kinesis_stream
    actions = sorted(
        {
            *resource_actions(templates, replicas=bool(spec.env.replicas), kinesis=kinesis is not None),
            *_witness_actions(spec),
        }
    )
    via: dict[str, Any] = {"ForAnyValue:StringEquals": THROUGH_CLOUDFORMATION}
    by_service: dict[str, list[str]] = {}
    for a in actions:
        by_service.setdefault(a.split(":")[0], []).append(a)
    iam_service_actions = [a for a in by_service.pop("iam", []) if a not in (*NEVER, PASS_ROLE, SERVICE_LINKED)]
    dynamodb = by_service.pop("dynamodb", [])
    kms_actions = by_service.pop("kms", [])
    backup = by_service.pop("backup", [])
    cloudwatch = by_service.pop("cloudwatch", [])
    # PutMetricData (the GlobalTable handlers list it) has no resource-level permission.
    by_service["cloudwatch"] = [a for a in cloudwatch if a == "cloudwatch:PutMetricData"]
    cloudwatch = [a for a in cloudwatch if a != "cloudwatch:PutMetricData"]
    events = by_service.pop("events", [])
    kinesis_actions = by_service.pop("kinesis", [])
    others = [a for service in sorted(by_service) for a in by_service[service]]
    regions = _regions(spec)
    table = f"table/{spec.table_name}"
    access_roles, data_roles = _access_roles(spec), _data_roles(spec)
    # No role of this environment without its boundary (N204 requires one with `ci:`).
    boundary = spec.env.access.permissions_boundary_arn if spec.env.access is not None else None
    bounded = {**via, "StringEquals": {"iam:PermissionsBoundary": boundary}} if boundary is not None else via
    stacks = [
        *(_arn("cloudformation", f"stack/{stack_name(spec, kind)}/*", True) for kind in STACK_KINDS),
        # A global table's replica key stacks, each in its own Region.
        *(
            _arn("cloudformation", f"stack/{stack_name(spec, replica_key_kind(region))}/*", region)
            for region in replica_key_regions(spec)
        ),
    ]
    keys = [_arn("kms", "key/*", region) for region in regions]

    def environment_tags(prefix: str) -> dict[str, str]:
        """The tags that mark this environment's keys, as aws:RequestTag or aws:ResourceTag conditions."""
        return {f"{prefix}/{key}": spec.tags[key] for key in ENVIRONMENT_TAG_KEYS}

    policies = managed_policies(templates)
    statements: list[Statement | None] = [
        *_tool_statements(spec, stacks),
        _allow(
            "TheTableThroughCloudFormation",
            dynamodb,
            [
                arn
                for region in regions
                for arn in (_arn("dynamodb", table, region), _arn("dynamodb", f"{table}/*", region))
            ],
            via,
        ),
        # Keys: a new one (no resource yet) only tagged as this environment's, as CloudFormation's
        # handler tags it in CreateKey itself; tagging at create needs kms:TagResource in an IAM
        # policy not restricted to a key (kms tagging-keys, "Controlling access to tags"). Then only
        # keys tagged as this environment's. Our own keys' policies name this role (through
        # CloudFormation only): stacks/encryption.py.
        _allow(
            "NewKeysTaggedAsThisEnvironmentThroughCloudFormation",
            [a for a in kms_actions if a in (*KMS_WITHOUT_RESOURCE, "kms:TagResource")],
            ["*"],
            {**via, "StringEquals": environment_tags("aws:RequestTag")},
        ),
        _allow("KeyAliasesListedThroughCloudFormation", [a for a in kms_actions if a in KMS_NO_RESOURCE], ["*"], via),
        # Only this environment's keys, only as DynamoDB or AWS Backup use them for the table or
        # vault (kms:ViaService). No aws:CalledVia: AWS Backup's own KMS calls for the vault may not
        # carry CloudFormation in it, and the service already names who may act.
        _allow(
            "TheKeysThroughTheirServices",
            [a for a in kms_actions if a in KEY_USE_VIA_SERVICE],
            keys,
            {"StringEquals": {"kms:ViaService": _key_services(spec), **environment_tags("aws:ResourceTag")}},
        ),
        # An existing key (encryption: {kms_key_arn}): not ours, so never managed; only what DynamoDB's
        # handler does with a table's key (grants and data keys through DynamoDB, a describe through
        # CloudFormation). Its own key policy must allow the same: the owner's to give.
        *_existing_key(
            "TheExistingKeyThroughDynamoDB",
            spec,
            [a for a in kms_actions if a in KEY_USE_VIA_SERVICE],
            {"StringEquals": {"kms:ViaService": [dynamodb_endpoint(r) for r in spec.env.replica_regions]}},
        ),
        *_existing_key(
            "TheExistingKeyDescribedThroughCloudFormation",
            spec,
            [a for a in kms_actions if a == "kms:DescribeKey"],
            via,
        ),
        _allow(
            "TheKeysAliasThroughCloudFormation",
            [a for a in kms_actions if a in KEY_ALIAS_ACTIONS],
            [_arn("kms", f"{key_alias_name(spec)}", region) for region in regions],
            via,
        ),
        _allow(
            "TheseKeysThroughCloudFormation",
            [
                a
                for a in kms_actions
                if a not in (*KMS_WITHOUT_RESOURCE, *KMS_NO_RESOURCE, *KEY_USE_VIA_SERVICE, *KEY_ALIAS_ACTIONS)
            ],
            keys,
            {**via, "StringEquals": environment_tags("aws:ResourceTag")},
        ),
        _allow(
            "TheVaultThroughCloudFormation",
            [a for a in backup if any(word in a for word in BACKUP_VAULT_ACTION_WORDS)],
            [_arn("backup", f"backup-vault:{vault_name(spec)}", True)],
            via,
        ),
        _allow(
            "BackupPlansThroughCloudFormation",
            [a for a in backup if "BackupVault" not in a],
            [_arn("backup", "backup-plan:*", True)],
            via,
        ),
        # Alarms take generated names: <data stack>-<logical id>-<suffix>.
        _allow(
            "TheAlarmsThroughCloudFormation",
            cloudwatch,
            [_arn("cloudwatch", f"alarm:{stack_name(spec, DATA)}-*", True)],
            via,
        ),
        # The change-watch rules take generated names too: <data stack>-<logical id>-<suffix>.
        _allow(
            "TheRulesThroughCloudFormation", events, [_arn("events", f"rule/{stack_name(spec, DATA)}-*", True)], via
        ),
        _allow("ResourcesThroughCloudFormation", others, ["*"], via),
        _allow(
            "TheKinesisStreamThroughCloudFormation",
            kinesis_actions,
            [kinesis.stream_arn] if kinesis is not None else [],
            via,
        ),
        _allow(
            "RolesThroughCloudFormation",
            [a for a in iam_service_actions if a not in (*ROLE_WRITES, *ROLE_MANAGED_POLICY)],
            [access_roles, data_roles],
            via,
        ),
        _allow(
            "BoundedRolesThroughCloudFormation",
            [a for a in iam_service_actions if a in ROLE_WRITES],
            [access_roles, data_roles],
            bounded,
        ),
        _allow(
            "TheTemplatesManagedPoliciesThroughCloudFormation",
            [a for a in iam_service_actions if a in ROLE_MANAGED_POLICY] if policies else [],
            [access_roles, data_roles],
            {**bounded, "ArnEquals": {"iam:PolicyARN": policies}},
        ),
        _allow(
            "PassRolesToTheirServices",
            [PASS_ROLE] if PASS_ROLE in actions else [],
            [data_roles, _arn("iam", "role/aws-service-role/*")],
            {**via, "StringEquals": {"iam:PassedToService": list(LINKED_SERVICES)}},
        ),
        _allow(
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
        # KMS's lockout check keeps a key policy from locking out its setter; bypassing it could
        # leave a key no one can manage (PutKeyPolicy, BypassPolicyLockoutSafetyCheck).
        Statement(
            Sid="NeverBypassTheKeyLockoutCheck",
            Effect=Deny,
            Action=[Action("kms", "CreateKey"), Action("kms", "PutKeyPolicy")],
            Resource=["*"],
            Condition=_condition({"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}),
        ),
        Statement(
            Sid="NeverUnboundARole",
            Effect=Deny,
            Action=iam_actions(NEVER),
            Resource=["*"],
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
                Action=iam_actions(DATA_LOSS_ACTIONS),
                Resource=["*"],
            )
        )
    return PolicyDocument(Version="2012-10-17", Statement=[s for s in statements if s is not None])


_OPERATORS: dict[str, Any] = {
    "Bool": Bool,
    "ForAnyValue:StringEquals": ForAnyValueStringEquals,
    "StringEquals": StringEquals,
    "ArnEquals": ArnEquals,
    "Null": Null,
}


def _condition(condition: dict[str, Any]) -> Condition:
    return Condition([_OPERATORS[op](values) for op, values in sorted(condition.items())])


# GitHub's OIDC token names the repository, the GitHub environment, the ref, the workflow that
# runs (workflow_ref) and the reusable workflow the job runs in (job_workflow_ref); IAM evaluates
# none of the last three as claims of their own (docs/pull-requests.md: The deploy role),
# so GitHub's subject-claim customization puts them into `sub`, in this order (docs/pull-requests.md:
# The deploy role gives the `gh api` call that sets it).
SUBJECT_CLAIM_KEYS = ("repo", "context", "ref", "workflow_ref", "job_workflow_ref")


def oidc_subject(spec: Spec) -> str:
    """The `sub` of the deploy job's token, with SUBJECT_CLAIM_KEYS set on the repository."""
    ci = spec.env.ci
    assert ci is not None
    repo, ref = ci.github_repository, ci.deploy_ref
    claims = {
        "repo": repo,
        "context": f"environment:{ci.github_environment or spec.env_name}",
        "ref": ref,
        "workflow_ref": f"{repo}/{ci.deploy_workflow}@{ref}",
        "job_workflow_ref": f"{repo}/{ci.deploy_job_workflow}@{ref}",
    }
    # `context` is written bare ("environment:<name>"); every other claim as "<key>:<value>".
    return ":".join(claims[k] if k == "context" else f"{k}:{claims[k]}" for k in SUBJECT_CLAIM_KEYS)


def trust_policy(spec: Spec, provider: Parameter) -> PolicyDocument:
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Federated", Ref(provider)),
                Action=[Action("sts", "AssumeRoleWithWebIdentity")],
                Condition=Condition(
                    StringEquals(
                        {f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com", f"{GITHUB_OIDC_HOST}:sub": oidc_subject(spec)}
                    )
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
            "its prefix (the data stack's role names are generated), the table's indexes and streams, the "
            "service-linked roles AWS Backup and Application Auto Scaling use, keys only with this environment's "
            "Design and Environment tags or its alias or through DynamoDB (a key id is generated), the data "
            "stack's alarms and change-watch rules by name prefix (generated names) and backup plans (generated ids), all but the tool's "
            "own reads through CloudFormation only",
            "applies_to": [
                {
                    "regex": "/^Resource::arn:<AWS::Partition>:(cloudformation|iam|dynamodb|kms|backup|cloudwatch|events):.*\\*$/g"
                }
            ],
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


def build_deploy_role_stack(spec: Spec, stacks: list[Stack]) -> Stack | None:
    """The deploy role of an environment with `ci:`, for the stacks the pipeline deploys."""
    ci = spec.env.ci
    if ci is None:
        return None
    templates = [s.template_dict for s in stacks]  # read back from their JSON: only here, with `ci:`
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
    provider_arn = (
        ci.oidc_provider_arn
        or f"arn:{partition(spec.env.region)}:iam::{spec.env.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"
    )
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
