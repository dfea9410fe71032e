"""The table's and stream's resource-based policies, decided by the IAM simulator.

Every environment gets them by default (stacks/resource_policy.py): the
staging and dev fixtures name no policy and are checked as built. IAM sets
aws:PrincipalAccount and aws:PrincipalIsAWSService on every request; the
simulator does not derive them, so each case passes them as AWS would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.spec.loader import load_spec
from templates_src.stacks.data_stack import build_data_stack

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, fixture_spec, read_json
from .iam_support import Arns, resolve, simulate

OTHER = "999999999999"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
}
# The fixtures' own accounts, written out: staging-like (protected) and dev-like (unprotected).
ACCOUNTS = {"staging": "222222222222", "dev": "111111111111"}


def _policy(tmp_path: Path, settings: dict[str, Any], base: str = "prod") -> tuple[dict[str, Any], Arns]:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / f"{base}.yaml").read_text())
    env["resource_policy"] = settings
    path = tmp_path / f"{base}.yaml"
    path.write_text(yaml.safe_dump(env))
    spec = load_spec(path, FIXTURE_DESIGNS)
    table = build_data_stack(spec).template_dict["Resources"]["Table"]["Properties"]
    arns = Arns.for_spec(spec)
    return resolve(table["ResourcePolicy"]["PolicyDocument"], spec, arns), arns


def _action(resource: str) -> str:
    if "/stream/" in resource:
        return "dynamodb:GetRecords"
    return "dynamodb:Query" if "/index/" in resource else "dynamodb:GetItem"


def _decide(me: str, cases: list[tuple[dict[str, Any], str, str, dict[str, str]]]) -> list[str]:
    """(resource policy, principal, resource, context) per case -> the simulator's decisions, in one run."""
    requests = [
        {
            "policy": ALLOW_ALL,
            "principal": principal,
            "action": _action(resource),
            "resource": resource,
            "accountId": me,
            "resourcePolicy": policy,
            "context": context,
        }
        for policy, principal, resource, context in cases
    ]
    return [r["decision"] for r in simulate(requests)]


def _context(account: str | None, tls: bool = True, service: bool = False) -> dict[str, str]:
    context = {"aws:SecureTransport": str(tls).lower(), "aws:PrincipalIsAWSService": str(service).lower()}
    if account:
        context["aws:PrincipalAccount"] = account
    return context


@pytest.mark.parametrize("env", sorted(ACCOUNTS))
def test_every_environment_denies_plain_http_and_other_accounts_by_default(env: str) -> None:
    """staging (protected) and dev (unprotected) name no policy in their files: both denies hold, on
    the table, its indexes and its stream, whatever an identity policy allows."""
    me = ACCOUNTS[env]
    spec = fixture_spec(env)
    arns = Arns.for_spec(spec)
    props = read_json(fixture_build() / env / "data.template.json")["Resources"]["Table"]["Properties"]
    table_policy = resolve(props["ResourcePolicy"]["PolicyDocument"], spec, arns)
    stream_policy = resolve(props["StreamSpecification"]["ResourcePolicy"]["PolicyDocument"], spec, arns)
    table = f"arn:aws:dynamodb:us-east-1:{me}:table/conversations-{env}"
    index, stream = f"{table}/index/ByUserUpdated", f"{table}/stream/2026-01-01T00:00:00.000"
    mine, theirs = f"arn:aws:iam::{me}:role/app", f"arn:aws:iam::{OTHER}:role/x"
    cases = [
        (table_policy, mine, table, _context(me), "Allowed"),
        (table_policy, mine, table, _context(me, tls=False), "ExplicitlyDenied"),
        (table_policy, mine, index, _context(me, tls=False), "ExplicitlyDenied"),
        (table_policy, theirs, table, _context(OTHER), "ExplicitlyDenied"),
        (table_policy, theirs, index, _context(OTHER), "ExplicitlyDenied"),
        (stream_policy, mine, stream, _context(me), "Allowed"),
        (stream_policy, mine, stream, _context(me, tls=False), "ExplicitlyDenied"),
        (stream_policy, theirs, stream, _context(OTHER), "ExplicitlyDenied"),
    ]
    got = _decide(me, [(policy, p, r, c) for policy, p, r, c, _ in cases])
    assert got == [want for *_, want in cases]


def test_denies_other_accounts_and_plain_http_but_not_this_account_or_aws_services(tmp_path: Path) -> None:
    me = "333333333333"
    policy, arns = _policy(tmp_path, {})
    index = f"{arns.table}/index/ByUserUpdated"
    cases = [
        (f"arn:aws:iam::{me}:role/app", arns.table, _context(me), "Allowed"),
        (f"arn:aws:iam::{me}:role/app", arns.table, _context(me, tls=False), "ExplicitlyDenied"),
        (f"arn:aws:iam::{OTHER}:role/x", arns.table, _context(OTHER), "ExplicitlyDenied"),
        (f"arn:aws:iam::{OTHER}:role/x", index, _context(OTHER), "ExplicitlyDenied"),
        ("backup.amazonaws.com", arns.table, _context(None, service=True), "ImplicitlyDenied"),  # not the Deny
    ]
    got = _decide(me, [(policy, p, r, c) for p, r, c, _ in cases])
    assert got == [want for *_, want in cases]


def test_an_unprotected_environment_may_turn_a_deny_off(tmp_path: Path) -> None:
    policy, arns = _policy(tmp_path, {"deny_other_accounts": False}, base="dev")
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport"]
    other = (policy, f"arn:aws:iam::{OTHER}:role/x", arns.table, _context(OTHER))
    assert _decide("111111111111", [other]) != ["ExplicitlyDenied"]
    assert json.dumps(policy).count("aws:SecureTransport") == 1


def test_with_both_denies_off_there_is_no_policy(tmp_path: Path) -> None:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "dev.yaml").read_text())
    env["resource_policy"] = {"deny_insecure_transport": False, "deny_other_accounts": False}
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(env))
    table = build_data_stack(load_spec(path, FIXTURE_DESIGNS)).template_dict["Resources"]["Table"]["Properties"]
    assert "ResourcePolicy" not in table
    assert "ResourcePolicy" in table["StreamSpecification"]  # the stream's policy is its own setting


# -- the policies as rendered, statement by statement ------------------------------------------------

STREAM_READ = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]


def intended_policy(
    account: str, table: str, region: str = "${AWS::Region}", *, stream: bool, tls: bool = True, accounts: bool = True
) -> dict[str, Any]:
    """The denies of docs/security-model.md for one table (or its stream) in one Region."""
    arn = f"arn:${{AWS::Partition}}:dynamodb:{region}:${{AWS::AccountId}}:table/{table}"
    resources = [{"Fn::Sub": f"{arn}/stream/*"}] if stream else [{"Fn::Sub": arn}, {"Fn::Sub": f"{arn}/index/*"}]
    actions = STREAM_READ if stream else ["dynamodb:*"]

    def deny(sid: str, condition: dict[str, Any]) -> dict[str, Any]:
        return {
            "Sid": sid,
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": actions,
            "Resource": resources,
            "Condition": condition,
        }

    statements = []
    if tls:
        statements.append(deny("DenyInsecureTransport", {"Bool": {"aws:SecureTransport": "false"}}))
    if accounts:
        statements.append(
            deny(
                "DenyOtherAccounts",
                {
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                    "StringNotEquals": {"aws:PrincipalAccount": account},
                },
            )
        )
    return {"PolicyDocument": {"Statement": statements, "Version": "2012-10-17"}}


def test_the_table_and_its_stream_get_both_denies() -> None:
    table = read_json(fixture_build() / "prod" / "data.template.json")["Resources"]["Table"]["Properties"]
    assert table["ResourcePolicy"] == intended_policy("333333333333", "conversations-prod", stream=False)
    assert table["StreamSpecification"]["ResourcePolicy"] == intended_policy(
        "333333333333", "conversations-prod", stream=True
    )


def test_each_replica_gets_both_denies_in_its_own_region() -> None:
    replicas = read_json(fixture_build() / "global" / "data.template.json")["Resources"]["Table"]["Properties"][
        "Replicas"
    ]
    for replica in replicas:
        # The stack's own Region as the stack sees it; every other Region by name.
        region = "${AWS::Region}" if replica["Region"] == "us-east-1" else replica["Region"]
        assert replica["ResourcePolicy"] == intended_policy(
            "444444444444", "conversations-global", region, stream=False
        )
        assert replica["ReplicaStreamSpecification"]["ResourcePolicy"] == intended_policy(
            "444444444444", "conversations-global", region, stream=True
        ), region


@pytest.mark.parametrize(
    ("settings", "tls", "accounts"),
    [({"deny_insecure_transport": False}, False, True), ({"deny_other_accounts": False}, True, False)],
    ids=["without the transport deny", "without the accounts deny"],
)
def test_a_deny_turned_off_leaves_the_other(
    tmp_path: Path, settings: dict[str, Any], tls: bool, accounts: bool
) -> None:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "dev.yaml").read_text())
    env["resource_policy"] = settings
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(env))
    table = build_data_stack(load_spec(path, FIXTURE_DESIGNS)).template_dict["Resources"]["Table"]["Properties"]
    assert table["ResourcePolicy"] == intended_policy(
        "111111111111", table["TableName"], stream=False, tls=tls, accounts=accounts
    )
