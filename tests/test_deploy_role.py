"""The GitHub Actions deploy role and the key policies around it, decided by the IAM simulator.

Every expected action and decision is written out here, never taken from the
module that builds the role. The simulator cannot evaluate an OIDC
provider's condition keys (token.actions.githubusercontent.com:sub), so the
trust policy is checked for its exact conditions instead.
tests/test_deploy_role_calls.py proves the role runs every request the tool
sends and every handler permission of its templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.cli import main as cli_main

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, read_json
from .conftest import fixture_spec as spec_for
from .iam_support import Arns, resolve, simulate

VIA_CLOUDFORMATION = {"aws:CalledVia": ["cloudformation.amazonaws.com"]}
KMS_STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
# Another team's key with KMS's default key policy: it delegates everything to IAM, so only the
# deploy role's own IAM policy stands between (key-policy-default.html).
DEFAULT_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::333333333333:root"}, "Action": "kms:*", "Resource": "*"}
    ],
}
PROD_DEPLOY = "arn:aws:iam::333333333333:role/conversations/conversations-prod-deploy"
PROD_TAGS = {"aws:ResourceTag/Design": "conversations", "aws:ResourceTag/Environment": "prod"}
PROD_REQUEST_TAGS = {"aws:RequestTag/Design": "conversations", "aws:RequestTag/Environment": "prod"}
BYPASS = {"kms:BypassPolicyLockoutSafetyCheck": "true"}
BOUNDARY = "arn:aws:iam::333333333333:policy/chat-platform-boundary"
# The fixture environments' own stacks (tests/fixtures/environments/*.yaml: design conversations).
OWN_STACKS = ("conversations-{env}-data", "conversations-{env}-access")
# What the command line calls on its stacks (deploy, destroy, drift, plan --deployed): written out.
TOOL_STACK_ACTIONS = (
    "cloudformation:CreateChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResourceDrifts",
    "cloudformation:DescribeStacks",
    "cloudformation:DetectStackDrift",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:GetStackPolicy",
    "cloudformation:GetTemplate",
    "cloudformation:SetStackPolicy",
    "cloudformation:UpdateTerminationProtection",
)


def deploy_role_document(env: str) -> dict[str, Any]:
    return read_json(fixture_build() / env / "deploy-role.template.json")["Resources"]["DeployRole"]


def _policy(env: str) -> tuple[dict[str, Any], Arns]:
    spec = spec_for(env)
    arns = Arns.for_spec(spec)
    (policy,) = deploy_role_document(env)["Properties"]["Policies"]
    return resolve(policy["PolicyDocument"], spec, arns), arns


def _key_policy(env: str) -> dict[str, Any]:
    spec = spec_for(env)
    data = read_json(fixture_build() / env / "data.template.json")["Resources"]
    return resolve(data["TableKey"]["Properties"]["KeyPolicy"], spec, Arns.for_spec(spec))


def _decide(
    env: str,
    cases: list[tuple[str, str, dict[str, Any]]],
    principal: str = "",
    resource_policy: dict[str, Any] | None = None,
    identity_policy: dict[str, Any] | None = None,
) -> list[str]:
    policy, arns = _policy(env)
    principal = principal or f"arn:aws:iam::{arns.account}:role/conversations/conversations-{env}-deploy"
    requests = [
        {
            "policy": identity_policy if identity_policy is not None else policy,
            "principal": principal,
            "action": action,
            "resource": resource,
            "accountId": arns.account,
            "context": {"aws:PrincipalArn": principal, "kms:CallerAccount": arns.account, **context},
            **({"resourcePolicy": resource_policy} if resource_policy is not None else {}),
        }
        for action, resource, context in cases
    ]
    decisions = [r["decision"] for r in simulate(requests)]
    assert "Error" not in decisions, decisions
    return decisions


def _check(env: str, cases: list[tuple[str, str, dict[str, Any], str]], **kwargs: Any) -> None:
    got = _decide(env, [(a, r, c) for a, r, c, _ in cases], **kwargs)
    wrong = [(a, r, c, want, g) for (a, r, c, want), g in zip(cases, got, strict=True) if want != g]
    assert not wrong, "\n".join(map(str, wrong))


def _stack(env: str, name: str) -> str:
    arns = Arns.for_spec(spec_for(env))
    return f"arn:aws:cloudformation:{arns.region}:{arns.account}:stack/{name}/0a1b2c3d"


@pytest.mark.parametrize("env", ["prod", "dev"])
def test_the_tools_calls_only_on_this_environments_stacks(env: str) -> None:
    own = [_stack(env, s.format(env=env)) for s in OWN_STACKS]
    other = _stack(env, "someone-elses-stack")
    cases = [(a, stack, {}, "Allowed") for a in TOOL_STACK_ACTIONS for stack in own]
    cases += [(a, other, {}, "ImplicitlyDenied") for a in TOOL_STACK_ACTIONS]
    cases += [("cloudformation:CreateStack", other, {}, "ImplicitlyDenied")]
    # No resource-level permission exists for these.
    cases += [("cloudformation:ListImports", "*", {}, "Allowed")]
    cases += [("cloudformation:DescribeStackDriftDetectionStatus", "*", {}, "Allowed")]
    _check(env, cases)


def test_destroy_only_where_the_environment_may_be_destroyed() -> None:
    _check("dev", [("cloudformation:DeleteStack", _stack("dev", "conversations-dev-data"), {}, "Allowed")])
    _check("dev", [("cloudformation:DeleteStack", _stack("dev", "someone-elses-stack"), {}, "ImplicitlyDenied")])
    _check("prod", [("cloudformation:DeleteStack", _stack("prod", "conversations-prod-data"), {}, "ExplicitlyDenied")])


def test_the_tool_reads_its_table_key_and_roles_and_nothing_else() -> None:
    _, arns = _policy("prod")
    other_table = f"arn:aws:dynamodb:us-east-1:{arns.account}:table/someone-else"
    app = f"arn:aws:iam::{arns.account}:role/conversations/conversations-prod-app"
    aliases = {"kms:ResourceAliases": ["alias/conversations-prod"]}
    cases = [
        ("dynamodb:DescribeTable", arns.table, {}, "Allowed"),
        ("dynamodb:DescribeTimeToLive", arns.table, {}, "Allowed"),
        ("dynamodb:DescribeContinuousBackups", arns.table, {}, "Allowed"),
        ("dynamodb:DescribeContributorInsights", arns.table, {}, "Allowed"),
        ("dynamodb:ListTagsOfResource", arns.table, {}, "Allowed"),
        ("dynamodb:DescribeTable", other_table, {}, "ImplicitlyDenied"),
        # adopt's legacy check: a version 2017.11.29 global table's ARN has no Region.
        (
            "dynamodb:DescribeGlobalTable",
            f"arn:aws:dynamodb::{arns.account}:global-table/conversations-prod",
            {},
            "Allowed",
        ),
        (
            "dynamodb:DescribeGlobalTable",
            f"arn:aws:dynamodb::{arns.account}:global-table/someone-else",
            {},
            "ImplicitlyDenied",
        ),
        # The read-back after each access step: the role, its inline policies and attachments.
        ("iam:GetRole", app, {}, "Allowed"),
        ("iam:ListRolePolicies", app, {}, "Allowed"),
        ("iam:GetRolePolicy", app, {}, "Allowed"),
        ("iam:ListAttachedRolePolicies", app, {}, "Allowed"),
        ("iam:GetRolePolicy", f"arn:aws:iam::{arns.account}:role/admin", {}, "ImplicitlyDenied"),
        ("iam:PutRolePolicy", app, {}, "ImplicitlyDenied"),  # only CloudFormation, never the tool itself
        ("cloudformation:ListExports", "*", {}, "Allowed"),
    ]
    _check("prod", cases)
    keys = [
        ("kms:DescribeKey", arns.key, aliases, "Allowed"),
        ("kms:DescribeKey", arns.key, {"kms:ResourceAliases": ["alias/aws/dynamodb"]}, "Allowed"),
        ("kms:DescribeKey", arns.key, {"kms:ResourceAliases": ["alias/someone-else"]}, "ImplicitlyDenied"),
        # The read-back after each data step: the table key's policy and rotation; no other key's.
        ("kms:GetKeyPolicy", arns.key, aliases, "Allowed"),
        ("kms:GetKeyRotationStatus", arns.key, aliases, "Allowed"),
        ("kms:GetKeyPolicy", arns.key, {"kms:ResourceAliases": ["alias/someone-else"]}, "ImplicitlyDenied"),
    ]
    _check("prod", keys, resource_policy=DEFAULT_KEY_POLICY)
    dev = Arns.for_spec(spec_for("dev"))
    _check(
        "dev",
        [
            ("iam:GetRole", f"arn:aws:iam::{dev.account}:role/conversations/conversations-dev-app", {}, "Allowed"),
            ("iam:GetRole", f"arn:aws:iam::{dev.account}:role/admin", {}, "ImplicitlyDenied"),
        ],
    )


def test_resources_only_through_cloudformation_and_never_the_items() -> None:
    _, arns = _policy("prod")
    role = f"arn:aws:iam::{arns.account}:role/conversations/conversations-prod-app"
    admin = f"arn:aws:iam::{arns.account}:role/admin"
    cases = [
        ("dynamodb:CreateTable", arns.table, VIA_CLOUDFORMATION, "Allowed"),
        ("dynamodb:UpdateTable", arns.table, VIA_CLOUDFORMATION, "Allowed"),
        ("dynamodb:UpdateTable", arns.table, {}, "ImplicitlyDenied"),  # not called by CloudFormation
        ("dynamodb:UpdateContinuousBackups", arns.table, {}, "ImplicitlyDenied"),
        ("dynamodb:PutResourcePolicy", arns.table, {}, "ImplicitlyDenied"),
        ("kms:PutKeyPolicy", arns.key, PROD_TAGS, "ImplicitlyDenied"),
        ("dynamodb:GetItem", arns.table, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # items: never
        ("dynamodb:Scan", arns.table, VIA_CLOUDFORMATION, "ImplicitlyDenied"),
        ("iam:GetRole", role, VIA_CLOUDFORMATION, "Allowed"),
        ("iam:GetRole", admin, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # roles of this environment only
        ("s3:GetObject", "arn:aws:s3:::any-bucket/key", VIA_CLOUDFORMATION, "ImplicitlyDenied"),
    ]
    _check("prod", cases)


def test_keys_vaults_and_alarms_of_this_environment_only() -> None:
    _, arns = _policy("prod")
    other_key = f"arn:aws:kms:us-east-1:{arns.account}:key/1111aaaa-2222-4333-8444-555566667777"
    other_tags = {"aws:ResourceTag/Design": "billing", "aws:ResourceTag/Environment": "prod"}
    vault = f"arn:aws:backup:us-east-1:{arns.account}:backup-vault:conversations-prod-backups"
    other_vault = f"arn:aws:backup:us-east-1:{arns.account}:backup-vault:billing-backups"
    alarm = f"arn:aws:cloudwatch:us-east-1:{arns.account}:alarm:conversations-prod-data-ReadThrottleAlarm-X1"
    other_alarm = f"arn:aws:cloudwatch:us-east-1:{arns.account}:alarm:billing-errors"
    via_dynamodb = {**VIA_CLOUDFORMATION, "kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}
    keys = [
        ("kms:EnableKeyRotation", arns.key, {**VIA_CLOUDFORMATION, **PROD_TAGS}, "Allowed"),
        ("kms:PutKeyPolicy", other_key, {**VIA_CLOUDFORMATION, **other_tags}, "ImplicitlyDenied"),
        ("kms:DisableKeyRotation", other_key, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # untagged
        ("kms:ScheduleKeyDeletion", arns.key, {**VIA_CLOUDFORMATION, **PROD_TAGS}, "ExplicitlyDenied"),  # protected
        ("kms:CreateKey", "*", {**VIA_CLOUDFORMATION, **PROD_REQUEST_TAGS}, "Allowed"),
        ("kms:CreateKey", "*", VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # a new key is tagged as prod's
        ("kms:CreateKey", "*", {**VIA_CLOUDFORMATION, **PROD_REQUEST_TAGS, **BYPASS}, "ExplicitlyDenied"),
        ("kms:TagResource", "*", {**VIA_CLOUDFORMATION, **PROD_REQUEST_TAGS}, "Allowed"),  # tags at create
        ("kms:PutKeyPolicy", arns.key, {**VIA_CLOUDFORMATION, **PROD_TAGS, **BYPASS}, "ExplicitlyDenied"),
        ("kms:CreateGrant", arns.key, {**via_dynamodb, **PROD_TAGS}, "Allowed"),
        ("kms:CreateGrant", arns.key, {**VIA_CLOUDFORMATION, **PROD_TAGS}, "ImplicitlyDenied"),  # not via DynamoDB
        ("kms:CreateGrant", other_key, {**via_dynamodb, **other_tags}, "ImplicitlyDenied"),  # another team's key
        ("kms:Decrypt", other_key, {**via_dynamodb, **other_tags}, "ImplicitlyDenied"),
        ("kms:RevokeGrant", other_key, VIA_CLOUDFORMATION, "ImplicitlyDenied"),
        (
            "kms:Decrypt",
            arns.key,
            {"kms:ViaService": "s3.us-east-1.amazonaws.com", **VIA_CLOUDFORMATION},
            "ImplicitlyDenied",
        ),
        (
            "kms:CreateAlias",
            f"arn:aws:kms:us-east-1:{arns.account}:alias/conversations-prod",
            VIA_CLOUDFORMATION,
            "Allowed",
        ),
        (
            "kms:CreateAlias",
            f"arn:aws:kms:us-east-1:{arns.account}:alias/billing",
            VIA_CLOUDFORMATION,
            "ImplicitlyDenied",
        ),
    ]
    _check("prod", keys, resource_policy=DEFAULT_KEY_POLICY)
    cases = [
        ("backup:PutBackupVaultAccessPolicy", vault, VIA_CLOUDFORMATION, "Allowed"),
        ("backup:PutBackupVaultAccessPolicy", other_vault, VIA_CLOUDFORMATION, "ImplicitlyDenied"),
        ("backup:PutBackupVaultLockConfiguration", other_vault, VIA_CLOUDFORMATION, "ImplicitlyDenied"),
        ("backup:DeleteRecoveryPoint", vault, VIA_CLOUDFORMATION, "ExplicitlyDenied"),
        ("cloudwatch:PutMetricAlarm", alarm, VIA_CLOUDFORMATION, "Allowed"),
        ("cloudwatch:DeleteAlarms", other_alarm, VIA_CLOUDFORMATION, "ImplicitlyDenied"),
    ]
    _check("prod", cases)


def test_no_way_to_more_power_than_the_environments_roles() -> None:
    _, arns = _policy("prod")
    account = arns.account
    app = f"arn:aws:iam::{account}:role/conversations/conversations-prod-app"
    itself = PROD_DEPLOY
    backup = f"arn:aws:iam::{account}:role/conversations-prod-data-BackupRole-ABC123"
    admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess"
    bounded = {**VIA_CLOUDFORMATION, "iam:PermissionsBoundary": BOUNDARY}
    other_boundary = {**VIA_CLOUDFORMATION, "iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}
    cases = [
        ("iam:CreateRole", app, bounded, "Allowed"),
        ("iam:CreateRole", app, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # without the environment's boundary
        ("iam:CreateRole", app, other_boundary, "ImplicitlyDenied"),
        ("iam:CreateRole", app, {"iam:PermissionsBoundary": BOUNDARY}, "ImplicitlyDenied"),  # directly
        ("iam:PutRolePolicy", app, bounded, "Allowed"),
        ("iam:PutRolePolicy", app, VIA_CLOUDFORMATION, "ImplicitlyDenied"),
        ("iam:PutRolePermissionsBoundary", app, other_boundary, "ImplicitlyDenied"),
        ("iam:DeleteRolePermissionsBoundary", app, bounded, "ExplicitlyDenied"),
        ("iam:AttachRolePolicy", app, {**bounded, "iam:PolicyARN": admin_policy}, "ImplicitlyDenied"),
        ("iam:AttachRolePolicy", backup, {**bounded, "iam:PolicyARN": admin_policy}, "ImplicitlyDenied"),
        ("iam:UpdateAssumeRolePolicy", app, {}, "ImplicitlyDenied"),  # re-trust only through CloudFormation
        ("iam:PutRolePolicy", itself, bounded, "ExplicitlyDenied"),  # never its own policy
        ("iam:UpdateAssumeRolePolicy", itself, VIA_CLOUDFORMATION, "ExplicitlyDenied"),
        ("iam:CreateRole", backup, bounded, "Allowed"),
        ("iam:CreateRole", backup, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # the backup role is bounded too
        ("iam:PassRole", backup, {**VIA_CLOUDFORMATION, "iam:PassedToService": "backup.amazonaws.com"}, "Allowed"),
        (
            "iam:PassRole",
            backup,
            {**VIA_CLOUDFORMATION, "iam:PassedToService": "ec2.amazonaws.com"},
            "ImplicitlyDenied",
        ),
        (
            "dynamodb:CreateTable",
            f"arn:aws:dynamodb:us-east-1:{account}:table/other",
            VIA_CLOUDFORMATION,
            "ImplicitlyDenied",
        ),
        (
            "cloudformation:CreateChangeSet",
            _stack("prod", "conversations-prod-data"),
            {"cloudformation:ImportResourceTypes": ["AWS::DynamoDB::Table"]},
            "ExplicitlyDenied",  # an IMPORT change set could adopt any resource of the account
        ),
    ]
    _check("prod", cases)


def test_the_deploy_role_manages_a_key_only_through_cloudformation() -> None:
    """With the key policy as the resource policy: directly, the role can neither re-policy, disable,
    revoke, stop rotating nor delete the key; through CloudFormation it deploys it; only the aliases
    of the stack's own name."""
    arns = Arns.for_spec(spec_for("prod"))
    key_policy = _key_policy("prod")
    tags = {**PROD_TAGS}
    via = {**VIA_CLOUDFORMATION, **tags}
    destructive = ("kms:PutKeyPolicy", "kms:RevokeGrant", "kms:DisableKeyRotation", "kms:DisableKey")
    cases = [(a, arns.key, tags, "ExplicitlyDenied") for a in destructive]
    cases += [
        ("kms:ScheduleKeyDeletion", arns.key, tags, "ExplicitlyDenied"),
        ("kms:PutKeyPolicy", arns.key, via, "Allowed"),
        ("kms:EnableKeyRotation", arns.key, via, "Allowed"),
        ("kms:TagResource", arns.key, via, "Allowed"),
        ("kms:CreateAlias", arns.key, via, "Allowed"),  # the alias itself: the IAM policy's alias ARN
        ("kms:CreateAlias", arns.key, tags, "ImplicitlyDenied"),
        ("kms:Decrypt", arns.key, via, "ImplicitlyDenied"),  # manage, never use
    ]
    _check("prod", cases, resource_policy=key_policy)


def test_only_the_named_administrators_break_the_key_directly() -> None:
    arns = Arns.for_spec(spec_for("prod"))
    key_policy = _key_policy("prod")
    admin = "arn:aws:iam::333333333333:role/platform-key-admins"
    stranger = "arn:aws:iam::333333333333:role/account-administrator"
    for action in ("kms:PutKeyPolicy", "kms:RevokeGrant", "kms:DisableKeyRotation", "kms:DisableKey"):
        assert _decide("prod", [(action, arns.key, {})], admin, key_policy, KMS_STAR) == ["Allowed"], action
        assert _decide("prod", [(action, arns.key, VIA_CLOUDFORMATION)], stranger, key_policy, KMS_STAR) == [
            "ExplicitlyDenied"
        ], action
    # The principals that create the stack's alias (administrators deploying by hand) may.
    assert _decide("prod", [("kms:CreateAlias", arns.key, {})], admin, key_policy, KMS_STAR) == ["Allowed"]
    assert _decide("prod", [("kms:CreateAlias", arns.key, {})], stranger, key_policy, KMS_STAR) == ["ImplicitlyDenied"]


def test_a_protected_environment_denies_deleting_the_data_even_through_a_change_set() -> None:
    _, prod = _policy("prod")
    _, dev = _policy("dev")
    assert _decide("prod", [("dynamodb:DeleteTable", prod.table, VIA_CLOUDFORMATION)]) == ["ExplicitlyDenied"]
    assert _decide("prod", [("kms:ScheduleKeyDeletion", prod.key, VIA_CLOUDFORMATION)]) == ["ExplicitlyDenied"]
    # dev is unprotected: `make destroy` may delete its table, through CloudFormation only.
    assert _decide("dev", [("dynamodb:DeleteTable", dev.table, VIA_CLOUDFORMATION)]) == ["Allowed"]
    assert _decide("dev", [("dynamodb:DeleteTable", dev.table, {})]) == ["ImplicitlyDenied"]


def test_trust_is_the_deploy_workflow_on_main_in_this_github_environment_through_sts_only() -> None:
    role = deploy_role_document("prod")
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": {"Ref": "GitHubOidcProviderArn"}}
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    # GitHub's subject with include_claim_keys ["repo", "context", "ref", "workflow_ref",
    # "job_workflow_ref"]: a run from another branch (ref), another calling workflow file
    # (workflow_ref), another reusable workflow (job_workflow_ref) or another GitHub environment
    # yields another sub, and StringEquals fails.
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": (
                "repo:example-org/chat-platform-infra:environment:prod:ref:refs/heads/main:"
                "workflow_ref:example-org/chat-platform-infra/.github/workflows/deploy.yml@refs/heads/main:"
                "job_workflow_ref:example-org/chat-platform-infra/.github/workflows/deploy-environment.yml@refs/heads/main"
            ),
        }
    }
    params = read_json(fixture_build() / "prod" / "deploy-role.parameters.json")
    assert params == [
        {
            "ParameterKey": "GitHubOidcProviderArn",
            "ParameterValue": "arn:aws:iam::333333333333:oidc-provider/token.actions.githubusercontent.com",
        }
    ]


def test_no_ci_section_no_deploy_role() -> None:
    assert not (fixture_build() / "staging" / "deploy-role.template.json").exists()


@pytest.mark.parametrize(
    ("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("eu-west-1", "aws")]
)
def test_the_oidc_provider_named_by_default_is_in_the_environments_partition(
    region: str, partition: str, tmp_path: Path
) -> None:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())
    env["region"] = region
    # Every ARN of the environment in its partition (N614), the test Regions in it too.
    text = yaml.safe_dump(env, sort_keys=False).replace("arn:aws:", f"arn:{partition}:")
    text = text.replace("us-east-1", region)
    (tmp_path / "qa.yaml").write_text(text)
    out = tmp_path / "out"
    assert (
        cli_main(
            ["synth", "--env-file", str(tmp_path / "qa.yaml"), "--designs-dir", str(FIXTURE_DESIGNS), "--out", str(out)]
        )
        == 0
    )
    params = read_json(out / "qa" / "deploy-role.parameters.json")
    assert params[0]["ParameterValue"] == (
        f"arn:{partition}:iam::333333333333:oidc-provider/token.actions.githubusercontent.com"
    )
