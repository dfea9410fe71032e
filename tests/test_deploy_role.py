"""The GitHub Actions deploy role: change sets on this environment's stacks only, the rest through CloudFormation.

Decisions come from the IAM simulator (tests/iam/simulate.mjs) on the
fixtures' rendered policy. The simulator cannot evaluate an OIDC provider's
condition keys (token.actions.githubusercontent.com:sub), so the trust
policy is checked for its exact conditions instead.
"""

from __future__ import annotations

from typing import Any

import pytest

from templates_src.stacks.artifacts import template_file
from templates_src.stacks.deploy_role import CHANGE_SET_ACTIONS, DEPLOY_ROLE_ID, resource_actions
from templates_src.stacks.names import ACCESS, DATA, DEPLOY_ROLE, stack_name

from .conftest import fixture_build, read_json
from .conftest import fixture_spec as spec_for
from .iam_support import Arns, resolve, simulate

VIA_CLOUDFORMATION = {"aws:CalledVia": ["cloudformation.amazonaws.com"]}


def _policy(env: str) -> tuple[dict[str, Any], Arns]:
    spec = spec_for(env)
    arns = Arns.for_spec(spec)
    role = read_json(fixture_build() / env / template_file(DEPLOY_ROLE))["Resources"][DEPLOY_ROLE_ID]
    (policy,) = role["Properties"]["Policies"]
    return resolve(policy["PolicyDocument"], spec, arns), arns


def _decide(env: str, cases: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    policy, arns = _policy(env)
    requests = [
        {
            "policy": policy,
            "principal": f"arn:aws:iam::{arns.account}:role/deploy",
            "action": action,
            "resource": resource,
            "accountId": arns.account,
            "context": context,
        }
        for action, resource, context in cases
    ]
    return [r["decision"] for r in simulate(requests)]


def _stack(env: str, kind: str) -> str:
    spec = spec_for(env)
    arns = Arns.for_spec(spec)
    return f"arn:aws:cloudformation:{arns.region}:{arns.account}:stack/{stack_name(spec, kind)}/0a1b2c3d"


@pytest.mark.parametrize("env", ["prod", "dev"])
def test_change_sets_only_on_this_environments_stacks(env: str) -> None:
    spec = spec_for(env)
    arns = Arns.for_spec(spec)
    other = f"arn:aws:cloudformation:{arns.region}:{arns.account}:stack/someone-elses-stack/0a1b2c3d"
    cases = [(a, _stack(env, kind), {}) for a in CHANGE_SET_ACTIONS for kind in (DATA, ACCESS)]
    cases += [(a, other, {}) for a in CHANGE_SET_ACTIONS]
    cases += [("cloudformation:DeleteStack", _stack(env, DATA), {}), ("cloudformation:CreateStack", other, {})]
    expected = ["Allowed"] * (2 * len(CHANGE_SET_ACTIONS)) + ["ImplicitlyDenied"] * len(CHANGE_SET_ACTIONS)
    got = _decide(env, cases)
    assert got[: len(expected)] == expected
    assert got[len(expected) :] in (["ImplicitlyDenied", "ImplicitlyDenied"], ["ExplicitlyDenied", "ImplicitlyDenied"])


def test_resources_only_through_cloudformation_and_never_the_items() -> None:
    _, arns = _policy("prod")
    role = f"arn:aws:iam::{arns.account}:role/conversations/conversations-prod-app"
    admin = f"arn:aws:iam::{arns.account}:role/admin"
    cases = [
        ("dynamodb:CreateTable", arns.table, VIA_CLOUDFORMATION, "Allowed"),
        ("dynamodb:UpdateTable", arns.table, VIA_CLOUDFORMATION, "Allowed"),
        ("dynamodb:UpdateTable", arns.table, {}, "ImplicitlyDenied"),  # not called by CloudFormation
        ("kms:PutKeyPolicy", arns.key, {}, "ImplicitlyDenied"),
        ("dynamodb:GetItem", arns.table, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # items: never
        ("dynamodb:Scan", arns.table, VIA_CLOUDFORMATION, "ImplicitlyDenied"),
        ("iam:GetRole", role, VIA_CLOUDFORMATION, "Allowed"),
        ("iam:GetRole", admin, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # roles of this environment only
        ("s3:GetObject", "arn:aws:s3:::any-bucket/key", VIA_CLOUDFORMATION, "ImplicitlyDenied"),
    ]
    got = _decide("prod", [(a, r, c) for a, r, c, _ in cases])
    assert got == [expect for *_, expect in cases], list(zip(cases, got, strict=True))


def test_no_way_to_more_power_than_the_environments_roles() -> None:
    _, arns = _policy("prod")
    account = arns.account
    boundary = "arn:aws:iam::333333333333:policy/chat-platform-boundary"
    app = f"arn:aws:iam::{account}:role/conversations/conversations-prod-app"
    itself = f"arn:aws:iam::{account}:role/conversations/conversations-prod-deploy"
    backup = f"arn:aws:iam::{account}:role/conversations-prod-data-BackupRole-ABC123"
    admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess"
    backup_policy = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    bounded = {**VIA_CLOUDFORMATION, "iam:PermissionsBoundary": boundary}
    cases = [
        ("iam:CreateRole", app, bounded, "Allowed"),
        ("iam:CreateRole", app, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # without the environment's boundary
        ("iam:PutRolePolicy", app, bounded, "Allowed"),
        ("iam:PutRolePolicy", app, VIA_CLOUDFORMATION, "ImplicitlyDenied"),
        ("iam:DeleteRolePermissionsBoundary", app, VIA_CLOUDFORMATION, "ImplicitlyDenied"),
        ("iam:AttachRolePolicy", app, {**bounded, "iam:PolicyARN": admin_policy}, "ImplicitlyDenied"),
        ("iam:PutRolePolicy", itself, bounded, "ExplicitlyDenied"),  # never its own policy
        ("iam:UpdateAssumeRolePolicy", itself, VIA_CLOUDFORMATION, "ExplicitlyDenied"),
        ("iam:CreateRole", backup, VIA_CLOUDFORMATION, "Allowed"),
        ("iam:AttachRolePolicy", backup, {**VIA_CLOUDFORMATION, "iam:PolicyARN": backup_policy}, "Allowed"),
        ("iam:AttachRolePolicy", backup, {**VIA_CLOUDFORMATION, "iam:PolicyARN": admin_policy}, "ImplicitlyDenied"),
        ("iam:PutRolePolicy", backup, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # no inline policy there
        ("iam:PassRole", backup, {**VIA_CLOUDFORMATION, "iam:PassedToService": "backup.amazonaws.com"}, "Allowed"),
        (
            "iam:PassRole",
            backup,
            {**VIA_CLOUDFORMATION, "iam:PassedToService": "ec2.amazonaws.com"},
            "ImplicitlyDenied",
        ),
        (
            "dynamodb:CreateTable",
            f"arn:aws:dynamodb:{arns.region}:{account}:table/other",
            VIA_CLOUDFORMATION,
            "ImplicitlyDenied",
        ),
        (
            "cloudformation:CreateChangeSet",
            _stack("prod", DATA),
            {"cloudformation:ImportResourceTypes": ["AWS::DynamoDB::Table"]},
            "ExplicitlyDenied",  # an IMPORT change set could adopt any resource of the account
        ),
    ]
    got = _decide("prod", [(a, r, c) for a, r, c, _ in cases])
    assert got == [expect for *_, expect in cases], [
        (a, r.rsplit(":", 1)[-1], want, g) for (a, r, _, want), g in zip(cases, got, strict=True) if want != g
    ]


def test_the_deploy_role_administers_the_keys_it_deploys() -> None:
    data = read_json(fixture_build() / "prod" / template_file(DATA))["Resources"]
    (admins,) = [
        s
        for s in data["TableKey"]["Properties"]["KeyPolicy"]["Statement"]
        if s["Sid"] == "KeyAdministratorsManageNeverUse"
    ]
    expected = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/conversations/conversations-prod-deploy"}
    assert expected in admins["Principal"]["AWS"]


def test_a_protected_environment_denies_deleting_the_data_even_through_a_change_set() -> None:
    _, prod = _policy("prod")
    _, dev = _policy("dev")
    assert _decide("prod", [("dynamodb:DeleteTable", prod.table, VIA_CLOUDFORMATION)]) == ["ExplicitlyDenied"]
    assert _decide("prod", [("kms:ScheduleKeyDeletion", prod.key, VIA_CLOUDFORMATION)]) == ["ExplicitlyDenied"]
    # dev is unprotected: `make destroy` may delete its table, through CloudFormation only.
    assert _decide("dev", [("dynamodb:DeleteTable", dev.table, VIA_CLOUDFORMATION)]) == ["Allowed"]


def test_trust_is_this_repository_in_this_github_environment_through_sts_only() -> None:
    role = read_json(fixture_build() / "prod" / template_file(DEPLOY_ROLE))["Resources"][DEPLOY_ROLE_ID]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": {"Ref": "GitHubOidcProviderArn"}}
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:example-org/chat-platform-infra:environment:prod",
        }
    }
    params = read_json(fixture_build() / "prod" / "deploy-role.parameters.json")
    assert params == [
        {
            "ParameterKey": "GitHubOidcProviderArn",
            "ParameterValue": "arn:aws:iam::333333333333:oidc-provider/token.actions.githubusercontent.com",
        }
    ]


def test_actions_come_from_the_registry_schemas_of_the_templates() -> None:
    data = read_json(fixture_build() / "prod" / template_file(DATA))
    actions = resource_actions([data])
    assert {"dynamodb:CreateTable", "kms:CreateKey", "backup:CreateBackupPlan"} <= set(actions)
    assert not [a for a in actions if a.startswith(("s3:", "logs:", "lambda:", "kinesis:"))]
    assert "dynamodb:PutItem" not in actions
    # No alarms in a template: no cloudwatch alarm actions.
    no_alarms = {"Resources": {k: v for k, v in data["Resources"].items() if v["Type"] != "AWS::CloudWatch::Alarm"}}
    assert "cloudwatch:PutMetricAlarm" in actions and "cloudwatch:PutMetricAlarm" not in resource_actions([no_alarms])


def test_no_ci_section_no_deploy_role() -> None:
    assert not (fixture_build() / "staging" / template_file(DEPLOY_ROLE)).exists()
