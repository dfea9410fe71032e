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
        ("iam:CreateRole", role, VIA_CLOUDFORMATION, "Allowed"),
        ("iam:PutRolePolicy", admin, VIA_CLOUDFORMATION, "ImplicitlyDenied"),  # roles of this environment only
        ("s3:GetObject", "arn:aws:s3:::any-bucket/key", VIA_CLOUDFORMATION, "ImplicitlyDenied"),
    ]
    got = _decide("prod", [(a, r, c) for a, r, c, _ in cases])
    assert got == [expect for *_, expect in cases], list(zip(cases, got, strict=True))


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
