"""Action names to awacs Actions (templates_src/stacks/actions.py): the one place a policy's actions are made."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from templates_src.stacks.actions import action_name, iam_action, iam_actions


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


@pytest.mark.parametrize(
    ("listed", "name"),
    [
        ("dynamodb:GetItem", "dynamodb:GetItem"),
        ("Iam:PassRole", "iam:PassRole"),  # IAM: "The prefix and the action name are case insensitive"
        ("CloudTrail:CreateTrail", "cloudtrail:CreateTrail"),
        ("s3:REST.PUT.OBJECT", None),  # an S3 log operation a registry schema lists: no policy grants it
        ("", None),
    ],
)
def test_a_listed_permission_as_an_action_name(listed: str, name: str | None) -> None:
    assert action_name(listed) == name


def test_every_handler_permission_of_every_registry_type_makes_a_policy_action() -> None:
    """The deploy role allows what the registry schemas cfn-lint ships list: an odd string there (an
    upper-case prefix, a log operation) must neither stop synth nor lose a real action. The schemas are
    read here too, independently of stacks/registry.py."""
    import json

    import cfnlint

    from templates_src.stacks.registry import handler_permissions

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    provider = json.loads((schemas / "providers" / "us-east-1.json").read_text(encoding="utf-8"))
    assert len(provider) > 1000
    a_name = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+")  # a prefix in any case
    for resource_type, digest in provider.items():
        kept = {a.JSONrepr() for a in iam_actions(sorted(handler_permissions(resource_type)))}
        assert all(a == a.split(":")[0].lower() + a[a.index(":") :] for a in kept), resource_type
        handlers = json.loads((schemas / "resources" / f"{digest}.json").read_bytes()).get("handlers", {})
        # What a deploy runs: create, read, update, delete (list is CloudFormation's own listing, never run here).
        crud = ("create", "read", "update", "delete")
        for listed in {p for h in crud for p in handlers.get(h, {}).get("permissions", [])}:
            service, _, action = listed.partition(":")
            if a_name.fullmatch(listed):
                assert f"{service.lower()}:{action}" in kept, (resource_type, listed)
            else:
                assert listed not in kept, (resource_type, listed)
