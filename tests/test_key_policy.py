"""The table key's policy, decided by the IAM simulator with an account administrator's kms:* policy.

Separated duties: an IAM principal with kms:* on * cannot disable, delete or
re-policy the key, nor use it outside DynamoDB; the key administrators can
manage it and cannot use it. Walks every environment with a customer managed
key, the user's and the fixtures' (a security test).
"""

from __future__ import annotations

from typing import Any

import pytest

from templates_src.stacks.artifacts import template_file
from templates_src.stacks.encryption import key_policy
from templates_src.stacks.names import DATA, key_logical_id

from .conftest import SECURITY_PROJECTS, fixture_build, fixture_spec, read_json
from .iam_support import Arns, resolve, simulate

KMS_STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
NOTHING = {"Version": "2012-10-17", "Statement": []}

CMK_ENVS = [
    (project, env)
    for project, p in SECURITY_PROJECTS.items()
    for env in p.env_names
    if p.spec(env).env.encryption == "customer_managed"
]


def _cases(project: str, env: str) -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(expect, who, action, context, why); who is "kms-star" or "key-admin"."""
    spec = SECURITY_PROJECTS[project].spec(env)
    via_dynamodb = {"kms:ViaService": f"dynamodb.{spec.env.region}.amazonaws.com"}
    via_s3 = {"kms:ViaService": f"s3.{spec.env.region}.amazonaws.com"}
    aws_resource = {**via_dynamodb, "kms:GrantIsForAWSResource": "true"}
    return [
        ("deny", "kms-star", "kms:ScheduleKeyDeletion", {}, "account admins cannot delete the table's key"),
        ("deny", "kms-star", "kms:DisableKey", {}, "nor disable it"),
        ("deny", "kms-star", "kms:PutKeyPolicy", {}, "nor rewrite its policy"),
        ("deny", "kms-star", "kms:Decrypt", {}, "nor use it directly"),
        ("deny", "kms-star", "kms:Decrypt", via_s3, "nor through another service"),
        ("deny", "kms-star", "kms:CreateGrant", via_dynamodb, "grants only for AWS resources"),
        ("allow", "kms-star", "kms:Decrypt", via_dynamodb, "use through DynamoDB, where IAM allows it"),
        ("allow", "kms-star", "kms:CreateGrant", aws_resource, "DynamoDB's own grants"),
        ("allow", "key-admin", "kms:ScheduleKeyDeletion", {}, "administrators manage the key"),
        ("allow", "key-admin", "kms:PutKeyPolicy", {}, "administrators manage the key"),
        ("allow", "key-admin", "kms:DisableKey", {}, "administrators manage the key"),
        ("deny", "key-admin", "kms:Decrypt", via_dynamodb, "administrators never use the key"),
        ("deny", "key-admin", "kms:CreateGrant", aws_resource, "nor grant themselves its use"),
    ]


@pytest.mark.parametrize(("project", "env"), CMK_ENVS)
def test_key_policy_separates_duties(project: str, env: str) -> None:
    spec = SECURITY_PROJECTS[project].spec(env)
    arns = Arns.for_spec(spec)
    data = read_json(SECURITY_PROJECTS[project].build / env / template_file(DATA))["Resources"]
    key_policy = resolve(data[key_logical_id(spec.env.global_table)]["Properties"]["KeyPolicy"], spec, arns)
    principals = {
        "kms-star": (f"arn:aws:iam::{arns.account}:role/account-administrator", KMS_STAR),
        "key-admin": (spec.env.key_admins[0], NOTHING),
    }
    cases = _cases(project, env)
    requests = []
    for _, who, action, context, _ in cases:
        principal, policy = principals[who]
        requests.append(
            {
                "policy": policy,
                "principal": principal,
                "action": action,
                "resource": arns.key,
                "accountId": arns.account,
                "resourcePolicy": key_policy,
                "context": {"aws:PrincipalArn": principal, "kms:CallerAccount": arns.account, **context},
            }
        )
    wrong = []
    for (expect, who, action, context, why), result in zip(cases, simulate(requests), strict=True):
        assert result["decision"] != "Error", result
        if (result["decision"] == "Allowed") != (expect == "allow"):
            wrong.append(f"{expect.upper()} expected, got {result['decision']}: {who} {action} {context} ({why})")
    assert not wrong, f"{project} {env}:\n" + "\n".join(wrong)


# -- every statement of each kind of key policy, written out ---------------------------------------

ADMIN_ACTIONS = [
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
]
USE_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]
DESTRUCTIVE = [
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
]
ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
VIA_CLOUDFORMATION = {"ForAnyValue:StringEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]}}


def intended_key_policy(
    account: str,
    region: str,
    *,
    service: str = "dynamodb",
    title: str = "DynamoDB",
    deploy_role: str | None = None,
    alias: bool = True,
    home: str | None = None,
    replica_regions: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The key policy as docs/security-model.md describes it, built here from the environment's facts."""
    admins = [f"arn:aws:iam::{account}:role/platform-key-admins", f"arn:aws:iam::{account}:role/platform-deployer"]
    deployer = {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/conversations/{deploy_role}"}
    managers: list[tuple[str, list[Any], dict[str, Any]]] = [("KeyAdministrators", admins, {})]
    if deploy_role:
        managers.append(("DeployRoleThroughCloudFormation", [deployer], VIA_CLOUDFORMATION))
    statements: list[dict[str, Any]] = []

    def allow(sid: str, principal: Any, actions: list[str], condition: dict[str, Any]) -> dict[str, Any]:
        statement = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": actions,
            "Resource": ["*"],
        }
        return {**statement, "Condition": condition} if condition else statement

    for who, principals, via in managers:
        statements.append(allow(f"{who}ManageNeverUse", principals, ADMIN_ACTIONS, via))
        if alias:
            statements.append(
                allow(f"{who}NameTheKey", principals, ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"], via)
            )
        if replica_regions:
            replicas = {"StringEquals": {"kms:ReplicaRegion": list(replica_regions)}}
            primaries = {"StringEquals": {"kms:PrimaryRegion": [home, *replica_regions]}}
            statements.append(
                allow(f"{who}ReplicateOnlyIntoReplicaRegions", principals, ["kms:ReplicateKey"], {**via, **replicas})
            )
            statements.append(
                allow(
                    f"{who}MovePrimaryOnlyAmongReplicaRegions",
                    principals,
                    ["kms:UpdatePrimaryRegion"],
                    {**via, **primaries},
                )
            )
    via_service = {"kms:CallerAccount": account, "kms:ViaService": f"{service}.{region}.amazonaws.com"}
    statements += [
        allow(
            "AccountRecoveryOnly",
            ROOT,
            ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:PutKeyPolicy"],
            {},
        ),
        allow(f"UseOnlyThrough{title}", ROOT, USE_ACTIONS, {"StringEquals": via_service}),
        allow(
            f"GrantsOnlyFor{title}",
            ROOT,
            ["kms:CreateGrant"],
            {"Bool": {"kms:GrantIsForAWSResource": "true"}, "StringEquals": via_service},
        ),
        allow(f"GrantsRetiredOnlyThrough{title}", ROOT, ["kms:RetireGrant"], {"StringEquals": via_service}),
        {
            "Sid": "NoOneBypassesTheLockoutCheck",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["kms:PutKeyPolicy"],
            "Resource": ["*"],
            "Condition": {
                "Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"},
                "ArnNotEquals": {"aws:PrincipalArn": ROOT},
            },
        },
        {
            "Sid": "OnlyAdministratorsDisableRevokeDeleteOrRepolicy",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": DESTRUCTIVE,
            "Resource": ["*"],
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [*admins, *([deployer] if deploy_role else []), ROOT]}},
        },
    ]
    if deploy_role:
        statements.append(
            {
                "Sid": "DeployRoleOnlyThroughCloudFormation",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": DESTRUCTIVE,
                "Resource": ["*"],
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": deployer},
                    "ForAllValues:StringNotEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]},
                },
            }
        )
    return statements


@pytest.mark.parametrize(
    ("template", "key", "intended"),
    [
        (
            "prod/data",
            "TableKey",
            intended_key_policy("333333333333", "us-east-1", deploy_role="conversations-prod-deploy"),
        ),
        (
            "prod/data",
            "BackupVaultKey",
            intended_key_policy(
                "333333333333",
                "us-east-1",
                service="backup",
                title="Backup",
                deploy_role="conversations-prod-deploy",
                alias=False,
            ),
        ),
        ("staging/data", "TableKey", intended_key_policy("222222222222", "us-east-1")),
        (
            "global/data",
            "GlobalTableKey",
            intended_key_policy(
                "444444444444",
                "us-east-1",
                deploy_role="conversations-global-deploy",
                home="us-east-1",
                replica_regions=("eu-west-1", "ap-southeast-2"),
            ),
        ),
        (
            "global/key-eu-west-1",
            "ReplicaKey",
            intended_key_policy(
                "444444444444",
                "eu-west-1",
                deploy_role="conversations-global-deploy",
                home="us-east-1",
                replica_regions=("eu-west-1", "ap-southeast-2"),
            ),
        ),
    ],
    ids=["table key", "backup vault key", "without ci", "multi-Region primary", "replica key"],
)
def test_each_key_policy_is_exactly_the_intended_one(template: str, key: str, intended: list[dict[str, Any]]) -> None:
    rendered = read_json(fixture_build() / f"{template}.template.json")["Resources"][key]["Properties"]["KeyPolicy"]
    assert rendered["Version"] == "2012-10-17"
    assert [s["Sid"] for s in rendered["Statement"]] == [s["Sid"] for s in intended]
    for got, want in zip(rendered["Statement"], intended, strict=True):
        assert got == want, got["Sid"]


def test_the_dynamodb_endpoint_of_a_region() -> None:
    from templates_src.stacks.encryption import dynamodb_endpoint

    assert dynamodb_endpoint("eu-west-1") == "dynamodb.eu-west-1.amazonaws.com"


def test_the_table_key_describes_its_table_and_waits_30_days_before_deletion() -> None:
    key = read_json(fixture_build() / "prod" / "data.template.json")["Resources"]["TableKey"]["Properties"]
    assert key["Description"] == "Encrypts DynamoDB table conversations-prod (prod)"
    assert key["PendingWindowInDays"] == 30


def _global_key_sids(tmp_path: Any, replicas: int) -> list[str]:
    import yaml

    from templates_src.spec.loader import load_spec
    from templates_src.stacks.data_stack import build_data_stack

    from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS

    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "global.yaml").read_text())
    env["replicas"] = env["replicas"][: replicas - 1]
    path = tmp_path / "global.yaml"
    path.write_text(yaml.safe_dump(env))
    resources = build_data_stack(load_spec(path, FIXTURE_DESIGNS)).template_dict["Resources"]
    return [s["Sid"] for s in resources["GlobalTableKey"]["Properties"]["KeyPolicy"]["Statement"]]


@pytest.mark.parametrize(("replicas", "replicates"), [(1, False), (2, True)])
def test_a_global_key_is_replicated_only_where_there_is_another_region(
    tmp_path: Any, replicas: int, replicates: bool
) -> None:
    sids = _global_key_sids(tmp_path, replicas)
    assert "KeyAdministratorsMovePrimaryOnlyAmongReplicaRegions" in sids
    assert ("KeyAdministratorsReplicateOnlyIntoReplicaRegions" in sids) == replicates


def test_only_the_tables_key_lets_dynamodbs_replication_use_it_never_the_vaults() -> None:
    spec = fixture_spec("multiaccount")

    def sids(**kwargs: Any) -> list[str]:
        return [statement.Sid for statement in key_policy(spec, **kwargs).Statement]

    assert "ReplicationServiceUsesTheKey" in sids()
    assert "ReplicationServiceUsesTheKey" not in sids(service="backup", service_title="Backup", alias=None)
