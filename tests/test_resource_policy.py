"""The table's resource-based policy, decided by the IAM simulator.

IAM sets aws:PrincipalAccount and aws:PrincipalIsAWSService on every request;
the simulator does not derive them, so each case passes them as AWS would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.spec.loader import load_spec
from templates_src.stacks.data_stack import build_data_stack

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS
from .iam_support import Arns, resolve, simulate

ME = "333333333333"
OTHER = "999999999999"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}


def _policy(tmp_path: Path, settings: dict[str, Any]) -> tuple[dict[str, Any], Arns]:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())
    env["resource_policy"] = settings
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(env))
    spec = load_spec(path, FIXTURE_DESIGNS)
    table = build_data_stack(spec).template_dict["Resources"]["Table"]["Properties"]
    arns = Arns.for_spec(spec)
    return resolve(table["ResourcePolicy"]["PolicyDocument"], spec, arns), arns


def _decide(policy: dict[str, Any], arns: Arns, cases: list[tuple[str, str, dict[str, str]]]) -> list[str]:
    requests = [
        {
            "policy": ALLOW_ALL,
            "principal": principal,
            "action": "dynamodb:Query" if "/index/" in resource else "dynamodb:GetItem",
            "resource": resource,
            "accountId": ME,
            "resourcePolicy": policy,
            "context": context,
        }
        for principal, resource, context in cases
    ]
    return [r["decision"] for r in simulate(requests)]


def _context(account: str | None, tls: bool = True, service: bool = False) -> dict[str, str]:
    context = {"aws:SecureTransport": str(tls).lower(), "aws:PrincipalIsAWSService": str(service).lower()}
    if account:
        context["aws:PrincipalAccount"] = account
    return context


def test_denies_other_accounts_and_plain_http_but_not_this_account_or_aws_services(tmp_path: Path) -> None:
    policy, arns = _policy(tmp_path, {})
    index = f"{arns.table}/index/ByUserUpdated"
    cases = [
        (f"arn:aws:iam::{ME}:role/app", arns.table, _context(ME), "Allowed"),
        (f"arn:aws:iam::{ME}:role/app", arns.table, _context(ME, tls=False), "ExplicitlyDenied"),
        (f"arn:aws:iam::{OTHER}:role/x", arns.table, _context(OTHER), "ExplicitlyDenied"),
        (f"arn:aws:iam::{OTHER}:role/x", index, _context(OTHER), "ExplicitlyDenied"),
        ("backup.amazonaws.com", arns.table, _context(None, service=True), "ImplicitlyDenied"),  # not the Deny
    ]
    got = _decide(policy, arns, [(p, r, c) for p, r, c, _ in cases])
    assert got == [want for *_, want in cases]


def test_each_deny_can_be_turned_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy, arns = _policy(tmp_path, {"deny_other_accounts": False})
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport"]
    assert _decide(policy, arns, [(f"arn:aws:iam::{OTHER}:role/x", arns.table, _context(OTHER))]) != [
        "ExplicitlyDenied"
    ]
    assert json.dumps(policy).count("aws:SecureTransport") == 1
