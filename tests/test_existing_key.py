"""An environment that names an existing key (encryption: {kms_key_arn: ...}): the project neither creates
nor manages it, the table is encrypted with it, the roles (and the deploy role) may use only it, through
DynamoDB; a protected environment accepts it; no key fee is priced for it. Expected values written out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.cli import main as cli_main
from templates_src.spec.loader import load_spec

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, read_json, resources_of
from .iam_support import Arns, resolve, simulate

KEY = "arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "arn:aws:kms:us-east-1:{account}:key/99999999-12ab-34cd-56ef-1234567890ab"


def _synth(tmp_path: Path, env: str, kms_key_arn: str) -> tuple[Path, Path]:
    environments = tmp_path / "environments"
    shutil.copytree(FIXTURE_ENVIRONMENTS, environments)
    path = environments / f"{env}.yaml"
    data = yaml.safe_load(path.read_text())
    data["encryption"] = {"kms_key_arn": kms_key_arn.format(account=data["account_id"])}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    args = ["synth", "--environments-dir", str(environments), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main([*args, "--out", str(tmp_path / "build")]) == 0
    return environments, tmp_path / "build" / env


def _statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def test_the_table_uses_the_named_key_and_the_roles_may_use_only_it_through_dynamodb(tmp_path: Path) -> None:
    _, build = _synth(tmp_path, "dev", KEY)
    key = KEY.format(account="111111111111")
    data = read_json(build / "data.template.json")
    assert data["Resources"]["Table"]["Properties"]["SSESpecification"] == {
        "KMSMasterKeyId": key,
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    assert resources_of(data, "AWS::KMS::Key") == {}, "the project creates no key"
    assert resources_of(data, "AWS::KMS::Alias") == {}
    (grant,) = [s for s in _statements(read_json(build / "access.template.json"), "AppRole") if "kms" in str(s)]
    assert grant == {
        "Action": [
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ],
        "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}},
        "Effect": "Allow",
        "Resource": [key],
        "Sid": "TableKeyViaDynamoDB",
    }


def test_an_alias_arn_grants_the_keys_that_carry_the_alias(tmp_path: Path) -> None:
    _, build = _synth(tmp_path, "dev", "arn:aws:kms:us-east-1:{account}:alias/team/chat")
    (grant,) = [s for s in _statements(read_json(build / "access.template.json"), "ReaderRole") if "kms" in str(s)]
    assert grant["Resource"] == ["arn:aws:kms:us-east-1:111111111111:key/*"]
    assert grant["Condition"] == {
        "StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"},
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team/chat"},
    }


def test_a_protected_environment_accepts_it_and_prices_no_key_for_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environments, build = _synth(tmp_path, "prod", KEY)
    data = read_json(build / "data.template.json")
    assert sorted(resources_of(data, "AWS::KMS::Key")) == ["BackupVaultKey"], "the vault's key only"
    dirs = ["--environments-dir", str(environments), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["cost", "--env", "prod", *dirs, "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"name": "KMS keys"' in out and '"quantity": 1' in out.split('"name": "KMS keys"')[1].split("}")[0]
    assert load_spec(environments / "prod.yaml", FIXTURE_DESIGNS).env.protected is True


def test_the_deploy_role_may_use_the_key_only_as_dynamodb_does_and_never_manage_it(tmp_path: Path) -> None:
    environments, build = _synth(tmp_path, "dev", KEY)
    spec = load_spec(environments / "dev.yaml", FIXTURE_DESIGNS)
    arns = Arns.for_spec(spec)
    role = read_json(build / "deploy-role.template.json")["Resources"]["DeployRole"]["Properties"]
    policy = resolve(role["Policies"][0]["PolicyDocument"], spec, arns)
    principal = "arn:aws:iam::111111111111:role/conversations/conversations-dev-deploy"
    key, other = KEY.format(account="111111111111"), OTHER_KEY.format(account="111111111111")
    via_dynamodb = {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}
    via_cloudformation = {"aws:CalledVia": ["cloudformation.amazonaws.com"]}
    cases = [
        ("kms:CreateGrant", key, via_dynamodb, "Allowed"),  # DynamoDB's handler encrypts the table with it
        ("kms:CreateGrant", key, {}, "ImplicitlyDenied"),  # never directly
        ("kms:CreateGrant", other, via_dynamodb, "ImplicitlyDenied"),  # no other key
        ("kms:DescribeKey", key, via_cloudformation, "Allowed"),
        ("kms:DescribeKey", key, {}, "Allowed"),  # drift and the read-back: who manages the table's key
        ("kms:PutKeyPolicy", key, via_cloudformation, "ImplicitlyDenied"),  # not ours to manage
        ("kms:ScheduleKeyDeletion", key, via_cloudformation, "ImplicitlyDenied"),
        ("kms:Decrypt", key, {}, "ImplicitlyDenied"),
    ]
    requests = [
        {
            "policy": policy,
            "principal": principal,
            "action": action,
            "resource": resource,
            "accountId": "111111111111",
            "context": {"aws:PrincipalArn": principal, "kms:CallerAccount": "111111111111", **context},
            # The owner's key policy: KMS's default, delegating to the account's IAM policies.
            "resourcePolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            },
        }
        for action, resource, context, _ in cases
    ]
    got = [r["decision"] for r in simulate(requests)]
    assert got == [want for *_, want in cases], list(zip([c[:2] for c in cases], got, strict=True))


# A global table under the team's own keys: one per Region (the home key may be multi-Region; its replicas
# share its id in each Region's ARN).
GLOBAL_KEYS = {
    "us-east-1": "arn:aws:kms:us-east-1:444444444444:key/mrk-0123456789abcdef0123456789abcdef",
    "eu-west-1": "arn:aws:kms:eu-west-1:444444444444:key/mrk-0123456789abcdef0123456789abcdef",
    "ap-southeast-2": "arn:aws:kms:ap-southeast-2:444444444444:key/2234abcd-12ab-34cd-56ef-1234567890ab",
}


def _synth_global(tmp_path: Path, keys: dict[str, str] = GLOBAL_KEYS) -> tuple[Path, Path]:
    """The global fixture under existing keys, its replicas in the Regions of keys (beyond the first)."""
    environments = tmp_path / "environments"
    shutil.copytree(FIXTURE_ENVIRONMENTS, environments)
    path = environments / "global.yaml"
    data = yaml.safe_load(path.read_text())
    data["encryption"] = {"kms_key_arn": keys["us-east-1"]}
    own = {r["region"]: r for r in data["replicas"]}
    data["replicas"] = [
        {**own.get(region, {"region": region}), "kms_key_arn": keys[region]} for region in list(keys)[1:]
    ]
    data["traffic"] = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())["traffic"]  # to price
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    args = ["synth", "--environments-dir", str(environments), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main([*args, "--out", str(tmp_path / "build")]) == 0
    return environments, tmp_path / "build" / "global"


def test_a_global_table_names_each_replicas_own_key_and_the_roles_reach_only_those(tmp_path: Path) -> None:
    environments, build = _synth_global(tmp_path)

    data = read_json(build / "data.template.json")
    assert sorted(resources_of(data, "AWS::KMS::Key")) == ["BackupVaultKey"], "the vault's key only"
    assert not list(build.glob("key-*.template.json")), "no replica key stacks: the keys are the team's"
    table = data["Resources"]["Table"]["Properties"]
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert [(r["Region"], r["SSESpecification"]) for r in table["Replicas"]] == [
        (region, {"KMSMasterKeyId": GLOBAL_KEYS[region]}) for region in ("us-east-1", "eu-west-1", "ap-southeast-2")
    ]
    (grant,) = [s for s in _statements(read_json(build / "access.template.json"), "ReaderRole") if "kms" in str(s)]
    assert grant["Resource"] == list(GLOBAL_KEYS.values())
    assert grant["Condition"] == {
        "StringEquals": {
            "kms:ViaService": [f"dynamodb.{r}.amazonaws.com" for r in ("us-east-1", "eu-west-1", "ap-southeast-2")]
        }
    }

    # The deploy role (simulated): each replica's key through DynamoDB in the Regions, described directly
    # (adopt and drift read each replica's key in its Region), never another key.
    spec = load_spec(environments / "global.yaml", FIXTURE_DESIGNS)
    role = read_json(build / "deploy-role.template.json")["Resources"]["DeployRole"]["Properties"]
    policy = resolve(role["Policies"][0]["PolicyDocument"], spec, Arns.for_spec(spec))
    principal = "arn:aws:iam::444444444444:role/conversations/conversations-global-deploy"
    eu, other = GLOBAL_KEYS["eu-west-1"], "arn:aws:kms:eu-west-1:444444444444:key/99999999-12ab-34cd-56ef-1234567890ab"
    cases = [
        ("kms:DescribeKey", eu, {}, "Allowed"),
        ("kms:DescribeKey", GLOBAL_KEYS["ap-southeast-2"], {}, "Allowed"),
        ("kms:DescribeKey", other, {}, "ImplicitlyDenied"),
        ("kms:CreateGrant", eu, {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}, "Allowed"),
        ("kms:CreateGrant", other, {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}, "ImplicitlyDenied"),
        ("kms:PutKeyPolicy", eu, {"aws:CalledVia": ["cloudformation.amazonaws.com"]}, "ImplicitlyDenied"),
    ]
    requests = [
        {
            "policy": policy,
            "principal": principal,
            "action": action,
            "resource": resource,
            "accountId": "444444444444",
            "context": {"aws:PrincipalArn": principal, "kms:CallerAccount": "444444444444", **context},
            "resourcePolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            },
        }
        for action, resource, context, _ in cases
    ]
    got = [r["decision"] for r in simulate(requests)]
    assert got == [want for *_, want in cases], list(zip([c[:2] for c in cases], got, strict=True))


def test_an_alias_beside_replica_keys_gets_a_statement_of_its_own() -> None:
    from templates_src.stacks.grants import existing_key_scopes

    via = {"StringEquals": {"kms:ViaService": ["dynamodb.us-east-1.amazonaws.com"]}}
    alias = "arn:aws:kms:us-east-1:444444444444:alias/team/chat"
    assert existing_key_scopes([alias, GLOBAL_KEYS["eu-west-1"]], via) == [
        ((GLOBAL_KEYS["eu-west-1"],), via),
        (
            ("arn:aws:kms:us-east-1:444444444444:key/*",),
            {**via, "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team/chat"}},
        ),
    ]
    assert existing_key_scopes([], via) == []


def test_a_home_key_named_by_alias_beside_replica_keys_is_granted_in_a_statement_named_by_alias(
    tmp_path: Path,
) -> None:
    """Only the environment's own key may be named by alias (a replica's by key ARN): the replicas' keys get the
    plain statement, the alias its own, with a Sid of its own (two statements of one policy cannot share a Sid)."""
    keys = {
        "us-east-1": "arn:aws:kms:us-east-1:444444444444:alias/team/chat",
        "eu-west-1": GLOBAL_KEYS["eu-west-1"],
        "ap-southeast-2": GLOBAL_KEYS["ap-southeast-2"],
    }
    _, build = _synth_global(tmp_path, keys)
    via = {
        "StringEquals": {
            "kms:ViaService": [
                "dynamodb.us-east-1.amazonaws.com",
                "dynamodb.eu-west-1.amazonaws.com",
                "dynamodb.ap-southeast-2.amazonaws.com",
            ]
        }
    }
    read = ["kms:Decrypt", "kms:DescribeKey"]
    assert [s for s in _statements(read_json(build / "access.template.json"), "ReaderRole") if "kms" in str(s)] == [
        {
            "Sid": "TableKeyViaDynamoDB",
            "Effect": "Allow",
            "Action": read,
            "Resource": [
                "arn:aws:kms:eu-west-1:444444444444:key/mrk-0123456789abcdef0123456789abcdef",
                "arn:aws:kms:ap-southeast-2:444444444444:key/2234abcd-12ab-34cd-56ef-1234567890ab",
            ],
            "Condition": via,
        },
        {
            "Sid": "TableKeyViaDynamoDBByAlias",
            "Effect": "Allow",
            "Action": read,
            "Resource": ["arn:aws:kms:us-east-1:444444444444:key/*"],
            "Condition": {**via, "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team/chat"}},
        },
    ]


def test_a_global_table_under_existing_keys_prices_no_key_fee(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Replicas in Regions the price book has (a global table is priced in all its Regions or not at all)."""
    keys = {
        "us-east-1": GLOBAL_KEYS["us-east-1"],
        "us-east-2": "arn:aws:kms:us-east-2:444444444444:key/3234abcd-12ab-34cd-56ef-1234567890ab",
        "us-west-2": "arn:aws:kms:us-west-2:444444444444:key/4234abcd-12ab-34cd-56ef-1234567890ab",
    }
    environments, _ = _synth_global(tmp_path, keys)
    capsys.readouterr()
    dirs = ["--environments-dir", str(environments), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["cost", "--env", "global", *dirs, "--format", "json"]) == 0
    lines = json.loads(capsys.readouterr().out)["lines"]
    assert [line["quantity"] for line in lines if line["name"] == "KMS keys"] == [1], "the vault's key only"


def test_a_replica_key_of_another_region_is_bad_input_naming_the_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = {**GLOBAL_KEYS, "eu-west-1": GLOBAL_KEYS["ap-southeast-2"]}  # an ap-southeast-2 key for eu-west-1
    environments = tmp_path / "environments"
    shutil.copytree(FIXTURE_ENVIRONMENTS, environments)
    path = environments / "global.yaml"
    data = yaml.safe_load(path.read_text())
    data["encryption"] = {"kms_key_arn": keys["us-east-1"]}
    for replica in data["replicas"]:
        replica["kms_key_arn"] = keys[replica["region"]]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    capsys.readouterr()
    args = ["synth", "--environments-dir", str(environments), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main([*args, "--out", str(tmp_path / "build")]) == 2
    err = capsys.readouterr().err
    assert (
        "replicas[0].kms_key_arn: error: the key is in ap-southeast-2, the replica in eu-west-1: DynamoDB uses a key "
        "of the replica's own Region [N701]"
    ) in err
    assert "global.yaml:11: replicas[0].kms_key_arn: error:" in err, err
