"""The deploy role runs every call the tool makes, and every call CloudFormation makes for it.

1. Every AWS request the deploy, destroy, drift, adopt and global-table tests
   send from the tool's code (recorded by tests/record_calls.py, botocore's
   own request path, Stubber and local runs alike) is simulated against the
   generated deploy role of the environment it was made for, with the
   environment's key policy where KMS decides: every one allowed.
2. Every handler permission of every resource type in the fixtures'
   templates (read here from the registry schemas cfn-lint ships, not from
   the module that builds the role) is simulated on the resource it acts on,
   through CloudFormation: allowed, but for the exclusions written out below.

Both fail when an action is dropped from the role. Nothing here reads the
tool's own action lists (templates_src/aws_calls.py, stacks/deploy_role.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from . import record_calls
from .conftest import RECORDED, ROOT, fixture_build, module_of, read_json
from .conftest import fixture_spec as spec_for
from .iam_support import Arns, resolve, simulate

# Calls IAM authorizes on "*" only (no resource-level permission; the simulator refuses an ARN).
NO_RESOURCE_LEVEL = {
    "cloudformation:ListImports",
    "cloudformation:DescribeStackDriftDetectionStatus",
    "cloudformation:ListExports",
}
# Requires no permission at all: "No permissions are required to perform this operation" (STS API).
NO_PERMISSION = {"sts:GetCallerIdentity"}
# Run by an administrator, never the pipeline (docs/adopting-and-drift.md: Adopting an existing table): an IMPORT change
# set, and the release that precedes it, can take any resource of the account into a stack, so the
# deploy role denies IMPORT change sets (test_deploy_role.py).
ADMINISTRATOR_MODULES = {"templates_src.deploy.takeover"}
VIA_CLOUDFORMATION = {"aws:CalledVia": ["cloudformation.amazonaws.com"]}
VAULT_KEY_ID = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
# The simulator cannot decide these ("multiple.resource.types": a vault, a plan or a recovery point);
# checked against the role's statements instead.
UNDECIDABLE = {"backup:TagResource", "backup:UntagResource", "backup:ListTags"}
# The part of DynamoDB's AWS managed key policy (alias/aws/dynamodb) that lets account principals read
# its metadata through IAM ("Allow direct access to key metadata to the account").
AWS_MANAGED_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::{account}:root"},
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
            "Resource": "*",
        }
    ],
}


def _records() -> list[dict[str, Any]]:
    """What the RECORDED modules' tests sent.

    This session's records when every recorded module ran in it (under pytest-xdist, in this test's
    worker: tests/conftest.py schedules them together); else a recording run of them. Either way only
    their requests, whichever other tests ran beside them.
    """
    ran = {module_of(nodeid) for nodeid in record_calls.TESTS_RUN}
    if set(RECORDED) <= ran:
        return [r for r in record_calls.RECORDS if module_of(r["test"]) in RECORDED]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "calls.jsonl"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(f"tests/{m}" for m in RECORDED)],
            cwd=ROOT,
            env={**os.environ, "RECORD_AWS_CALLS": str(out)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-3000:]
        return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _request(record: dict[str, Any]) -> dict[str, Any] | None:
    """The IAM request a recorded call makes: action, resource, context and, for KMS, the key policy."""
    env, params, region = record["env"], record["params"], record["region"]
    action = f"{record['prefix']}:{record['operation']}"
    account = env["account"]
    context: dict[str, Any] = {"aws:PrincipalArn": env["principal"], "kms:CallerAccount": account}
    resource_policy = None
    if action in NO_RESOURCE_LEVEL:
        resource = "*"
    elif record["prefix"] == "cloudformation":
        name = params["StackName"]
        resource = name if name.startswith("arn:") else f"arn:aws:cloudformation:{region}:{account}:stack/{name}/id"
    elif action == "dynamodb:DescribeGlobalTable":  # version 2017.11.29: the ARN has no Region
        resource = f"arn:aws:dynamodb::{account}:global-table/{params['GlobalTableName']}"
    elif record["prefix"] == "dynamodb":
        resource = params.get("ResourceArn") or f"arn:aws:dynamodb:{region}:{account}:table/{params['TableName']}"
    elif record["prefix"] == "iam":  # GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies
        resource = f"arn:aws:iam::{account}:role{env['role_path']}{params['RoleName']}"
    elif action in ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"):
        resource = params["KeyId"]
        # The table's key carries its stack's alias, or is DynamoDB's AWS managed key.
        managed = env["encryption"] == "aws_managed"
        context["kms:ResourceAliases"] = ["alias/aws/dynamodb" if managed else f"alias/{env['table']}"]
        key_policy = env["key_policies"].get(region)
        resource_policy = key_policy if key_policy and not managed else _aws_managed_key_policy(account)
    else:
        raise AssertionError(f"no IAM mapping for {action}: add one here")
    return {
        "policy": env["policy"],
        "principal": env["principal"],
        "action": action,
        "resource": resource,
        "accountId": account,
        "context": context,
        **({"resourcePolicy": resource_policy} if resource_policy is not None else {}),
    }


def _aws_managed_key_policy(account: str) -> dict[str, Any]:
    return json.loads(json.dumps(AWS_MANAGED_KEY_POLICY).replace("{account}", account))


def test_every_request_the_tool_sends_is_allowed_by_its_environments_deploy_role() -> None:
    records = _records()
    assert len(records) > 300, "the recorded tests sent too few requests: did they run?"
    by_env = [r for r in records if r["env"] is not None]
    without_env = [r for r in records if r["env"] is None]
    # Only the account check and adopt's first read (before the environment file exists) run without one.
    assert {(r["module"], f"{r['prefix']}:{r['operation']}") for r in without_env} <= {
        ("templates_src.cli", "sts:GetCallerIdentity"),
        ("templates_src.deploy.deployer", "sts:GetCallerIdentity"),
        ("templates_src.deploy.adopt", "sts:GetCallerIdentity"),
        ("templates_src.deploy.adopt", "dynamodb:DescribeGlobalTable"),  # whether the table is a legacy one
        # A unit test calls the drift detection directly, with no environment.
        ("templates_src.deploy.drift", "cloudformation:DetectStackDrift"),
        *(
            ("templates_src.deploy.live", a)
            for a in (
                "dynamodb:DescribeTable",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeContributorInsights",
                "dynamodb:ListTagsOfResource",
                "kms:DescribeKey",
            )
        ),
    }
    checked = [
        r
        for r in by_env
        if f"{r['prefix']}:{r['operation']}" not in NO_PERMISSION and r["module"] not in ADMINISTRATOR_MODULES
    ]
    requests = [_request(r) for r in checked]
    unique: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for record, request in zip(checked, requests, strict=True):
        unique.setdefault(json.dumps(request, sort_keys=True), (record, request))
    decisions = simulate([request for _, request in unique.values()])
    denied = [
        f"{req['action']} on {req['resource']} ({rec['module']}, {rec['test']}): {d['decision']}"
        for (rec, req), d in zip(unique.values(), decisions, strict=True)
        if d["decision"] != "Allowed"
    ]
    assert not denied, "\n".join(denied)
    # What the recorded runs covered: deploy, destroy, drift and the global-table steps.
    actions = {req["action"] for _, req in unique.values()}
    assert {
        "cloudformation:CreateChangeSet",
        "cloudformation:ExecuteChangeSet",
        "cloudformation:SetStackPolicy",
        "cloudformation:UpdateTerminationProtection",
        "cloudformation:DeleteStack",
        "cloudformation:ListImports",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "cloudformation:ListExports",
        "dynamodb:GetResourcePolicy",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
    } <= actions
    regions = {req["resource"].split(":")[3] for _, req in unique.values() if req["resource"] != "*"}
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= regions  # the replica key stacks' Regions too
    # drift (and adopt) read a global table's replicas each in its own Region: those reads, and the
    # replica key's DescribeKey there, were simulated above.
    replica_reads = {
        (req["action"], req["resource"].split(":")[3])
        for rec, req in unique.values()
        if rec["module"] == "templates_src.deploy.live" and req["resource"].split(":")[3] != "us-east-1"
    }
    assert {
        (action, region)
        for action in (
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:ListTagsOfResource",
            "dynamodb:DescribeContributorInsights",
            "kms:DescribeKey",
        )
        for region in ("eu-west-1", "ap-southeast-2")
    } <= replica_reads, sorted(replica_reads)


# -- 2. CloudFormation's handler permissions ------------------------------------------------------


def _registry_handler_permissions(resource_type: str) -> set[str]:
    """Read here from cfn-lint's registry schemas, independently of stacks/registry.py."""
    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    digest = json.loads((schemas / "providers" / "us-east-1.json").read_text(encoding="utf-8"))[resource_type]
    schema = json.loads((schemas / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
    handlers = schema["handlers"]
    return {a for h in ("create", "read", "update", "delete") for a in handlers.get(h, {}).get("permissions", [])}


# Handler permissions the deploy role deliberately lacks, by why: features no template uses (item
# writes and S3 reads are for ImportSourceSpecification, Kinesis for a streaming destination, Lambda
# and logs for other resource kinds of the same schemas) and the replica handlers of a table that is
# not global.
NEVER_NEEDED = {
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
    "dynamodb:ImportTable",
    "dynamodb:DescribeImport",
    "dynamodb:EnableKinesisStreamingDestination",
    "dynamodb:DisableKinesisStreamingDestination",
    "dynamodb:UpdateKinesisStreamingDestination",
    "dynamodb:CreateTableReplica",
    "dynamodb:AssociateTableReplica",
}
NEVER_NEEDED_SERVICES = {"s3", "logs", "kinesis", "lambda"}
# Named by a schema but not an IAM action (the simulator knows no such action).
NOT_IAM_ACTIONS = {"backup-storage:Mount", "dynamodb:DisassociateTableReplica"}
# Denied by design, everywhere: a role's boundary is never removed; the access roles' policies are
# inline, so no managed policy may be attached to them.
DENIED_BY_DESIGN = {
    "iam:DeleteRolePermissionsBoundary": "ExplicitlyDenied",
    "iam:AttachRolePolicy": "ImplicitlyDenied",
    "iam:DetachRolePolicy": "ImplicitlyDenied",
}
# An explicit Deny in a protected environment, whatever a change set says.
PROTECTED_DENIES = {
    "dynamodb:DeleteTable",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "backup:DeleteBackupVault",
    "dynamodb:DeleteTableReplica",
}


def _resource_for(action: str, resource_type: str, env: str, arns: Arns) -> tuple[str, dict[str, Any]]:
    """The ARN a handler's action acts on in this environment, and the context the request carries."""
    account, region, table = arns.account, arns.region, arns.table.rsplit("/", 1)[1]
    service = action.split(":")[0]
    tags = {"aws:ResourceTag/Design": "conversations", "aws:ResourceTag/Environment": env}
    if service == "dynamodb":
        return arns.table, {}
    if service == "kms":
        grant = {"kms:GrantIsForAWSResource": "true"} if action == "kms:CreateGrant" else {}
        if resource_type == "AWS::Backup::BackupVault":  # the vault's own key, used through AWS Backup
            return _vault_key(arns), {"kms:ViaService": f"backup.{region}.amazonaws.com", **grant, **tags}
        if action == "kms:ListAliases":
            return "*", {}
        if action == "kms:CreateKey":  # the handler tags the new key in CreateKey itself
            return "*", {f"aws:RequestTag/{k.split('/')[1]}": v for k, v in tags.items()}
        if action in ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"):
            return f"arn:aws:kms:{region}:{account}:alias/{table}", {}
        if resource_type == "AWS::DynamoDB::Table" or action in (
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:CreateGrant",
            "kms:RetireGrant",
        ):
            return arns.key, {"kms:ViaService": f"dynamodb.{region}.amazonaws.com", **grant, **tags}
        return arns.key, tags
    if service == "backup":
        if resource_type == "AWS::Backup::BackupVault":
            return f"arn:aws:backup:{region}:{account}:backup-vault:{table}-backups", {}
        return f"arn:aws:backup:{region}:{account}:backup-plan:0a1b2c3d", {}
    if service == "events":
        return f"arn:aws:events:{region}:{account}:rule/conversations-{env}-data-TableChangeWatch-1A2B", {}
    if action == "cloudwatch:PutMetricData":  # no resource-level permission
        return "*", {}
    if service == "cloudwatch":
        return f"arn:aws:cloudwatch:{region}:{account}:alarm:conversations-{env}-data-SystemErrorsAlarm-1A2B", {}
    if service == "iam":
        boundary = {"iam:PermissionsBoundary": f"arn:aws:iam::{account}:policy/chat-platform-boundary"}
        if action == "iam:CreateServiceLinkedRole":
            return "*", {"iam:AWSServiceName": "backup.amazonaws.com"}
        if action == "iam:PassRole":
            return (
                f"arn:aws:iam::{account}:role/conversations-{env}-data-BackupRole-1A2B",
                {"iam:PassedToService": "backup.amazonaws.com"},
            )
        role = (
            f"arn:aws:iam::{account}:role/conversations-{env}-data-BackupRole-1A2B"
            if resource_type == "AWS::Backup::BackupSelection"
            else f"arn:aws:iam::{account}:role/conversations/conversations-{env}-app"
        )
        return role, boundary
    return "*", {}


@pytest.mark.parametrize("env", ["prod", "dev", "global"])
def test_every_handler_permission_of_the_templates_is_allowed_through_cloudformation(env: str) -> None:
    spec = spec_for(env)
    arns = Arns.for_spec(spec)
    build = fixture_build() / env
    (policy,) = read_json(build / "deploy-role.template.json")["Resources"]["DeployRole"]["Properties"]["Policies"]
    role_policy = resolve(policy["PolicyDocument"], spec, arns)
    # The data and access stacks, and a global table's key-<region> stacks.
    files = [build / "data.template.json", build / "access.template.json", *sorted(build.glob("key-*.template.json"))]
    templates = [read_json(path) for path in files]
    types = sorted({r["Type"] for t in templates for r in t["Resources"].values()})
    principal = f"arn:aws:iam::{arns.account}:role/conversations/conversations-{env}-deploy"
    data = templates[0]["Resources"]
    table_key = next((data[k] for k in ("TableKey", "GlobalTableKey") if k in data), None)
    key_policy = resolve(table_key["Properties"]["KeyPolicy"], spec, arns) if table_key is not None else None
    vault_key_policy = (
        resolve(data["BackupVaultKey"]["Properties"]["KeyPolicy"], spec, arns) if "BackupVaultKey" in data else None
    )
    cases = []
    by_statement = []
    for resource_type in types:
        for action in sorted(_registry_handler_permissions(resource_type)):
            if action in NEVER_NEEDED | NOT_IAM_ACTIONS or action.split(":")[0] in NEVER_NEEDED_SERVICES:
                continue
            if re.search(r"\*", action):
                continue  # a wildcard action in a schema (Describe*) is checked by its concrete calls
            if action.startswith("kms:") and spec.env.encryption == "aws_owned" and resource_type != "AWS::KMS::Key":
                continue  # an AWS owned key: DynamoDB calls KMS for no one
            resource, context = _resource_for(action, resource_type, env, arns)
            # A multi-Region key is replicated into, or its primary moved to, a replica Region.
            if action == "kms:ReplicateKey":
                context["kms:ReplicaRegion"] = spec.env.replicas[0].region
            if action == "kms:UpdatePrimaryRegion":
                context["kms:PrimaryRegion"] = spec.env.replicas[0].region
            if action in UNDECIDABLE:
                by_statement.append((action, resource))
                continue
            expect = "ExplicitlyDenied" if spec.env.protected and action in PROTECTED_DENIES else "Allowed"
            expect = DENIED_BY_DESIGN.get(action, expect) if resource_type == "AWS::IAM::Role" else expect
            # iam:PassRole and service-linked roles are checked with the backup role's service.
            key = (
                {arns.key: key_policy, _vault_key(arns): vault_key_policy}.get(resource)
                if action.startswith("kms:")
                else None
            )
            cases.append(
                (
                    expect,
                    resource_type,
                    {
                        "policy": role_policy,
                        "principal": principal,
                        "action": action,
                        "resource": resource,
                        "accountId": arns.account,
                        "context": {
                            **VIA_CLOUDFORMATION,
                            "aws:PrincipalArn": principal,
                            "kms:CallerAccount": arns.account,
                            **context,
                        },
                        **({"resourcePolicy": key} if key is not None else {}),
                    },
                )
            )
    if "AWS::KMS::Key" in types:  # tagging the key while CloudFormation creates it (no resource yet)
        request_tags = {"aws:RequestTag/Design": "conversations", "aws:RequestTag/Environment": env}
        cases.append(
            (
                "Allowed",
                "AWS::KMS::Key",
                {
                    "policy": role_policy,
                    "principal": principal,
                    "action": "kms:TagResource",
                    "resource": "*",
                    "accountId": arns.account,
                    "context": {**VIA_CLOUDFORMATION, "aws:PrincipalArn": principal, **request_tags},
                },
            )
        )
    assert len(cases) > 30
    for action, resource in by_statement:
        assert any(
            st["Effect"] == "Allow" and action in st["Action"] and _matches(st["Resource"], resource)
            for st in role_policy["Statement"]
        ), (action, resource)
    decisions = simulate([c for _, _, c in cases])
    wrong = [
        f"{t} {c['action']} on {c['resource']}: expected {want}, got {d['decision']}"
        for (want, t, c), d in zip(cases, decisions, strict=True)
        if d["decision"] != want
    ]
    assert not wrong, "\n".join(wrong)


def _matches(patterns: list[str], resource: str) -> bool:
    return any(re.fullmatch(re.escape(p).replace(r"\*", ".*"), resource) for p in patterns)


def _vault_key(arns: Arns) -> str:
    return f"arn:aws:kms:{arns.region}:{arns.account}:key/{VAULT_KEY_ID}"
