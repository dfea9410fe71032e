"""Action names to awacs Actions (templates_src/stacks/actions.py): the one place a policy's actions are made."""

from __future__ import annotations

import re

import pytest

from templates_src.stacks.actions import iam_action, iam_actions


@pytest.mark.parametrize(
    ("name", "service", "action"),
    [
        ("dynamodb:GetItem", "dynamodb", "GetItem"),
        ("kms:GenerateDataKey*", "kms", "GenerateDataKey*"),
        ("sqs:*", "sqs", "*"),
        ("execute-api:Invoke", "execute-api", "Invoke"),
        ("s3:Get?bject", "s3", "Get?bject"),
        ("route53:ListHostedZones2", "route53", "ListHostedZones2"),
    ],
)
def test_a_name_is_split_at_its_colon(name: str, service: str, action: str) -> None:
    made = iam_action(name)
    assert (made.prefix, made.action) == (service, action)
    assert made.JSONrepr() == name


def test_the_names_keep_their_order() -> None:
    made = iam_actions(("kms:Decrypt", "dynamodb:Query", "backup:StartBackupJob"))
    assert [a.JSONrepr() for a in made] == ["kms:Decrypt", "dynamodb:Query", "backup:StartBackupJob"]
    assert iam_actions(()) == []


@pytest.mark.parametrize(
    "name",
    [
        "GetItem",
        "dynamodb",
        ":GetItem",
        "dynamodb:",
        "dynamodb:Get:Item",
        "",
        "*",
        "DynamoDB:GetItem",  # service prefixes are lower case
        "dynamodb:GetItem ",
        " dynamodb:GetItem",
        "dynamodb: GetItem",
        "dynamodb:Get-Item",
        "dynamodb:GetItem\n",
    ],
)
def test_a_name_that_is_not_service_colon_action_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(f"not an IAM action name (service:Action): {name!r}") + "$"):
        iam_action(name)
