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
from templates_src.stacks.names import DATA, key_logical_id

from .conftest import SECURITY_PROJECTS, read_json
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
