"""The local endpoint does what it reports: each shim fix checked by listing the real resources.

A deploy that says UPDATE_COMPLETE must have changed what it says (the
roles' inline policies, TTL, PITR); an update CloudFormation refuses must
fail here too and leave the live table as it was. Every check reads the
services (IAM, DynamoDB), never the tool's output.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from templates_src.cli import main as cli_main
from templates_src.local.moto_server import ACCOUNT_PATH

from .conftest import (
    FIXTURE_DESIGNS,
    FIXTURE_ENVIRONMENTS,
    MotoServers,
    fixture_build,
    local_endpoint,
    synth_with_designs,
)
from .conftest import fixture_spec as spec_for
from .test_deploy import _design_with_one_more_gsi

ACCOUNT = "111111111111"  # the dev fixture's


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers) -> Iterator[str]:
    with local_endpoint(monkeypatch, moto_servers, ACCOUNT) as url:
        yield url


def _deploy(designs: Path, build: Path, *allow: str) -> int:
    dirs = ["--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(designs), "--build", str(build)]
    return cli_main(["deploy", "--env", "dev", *dirs, *(["--allow", ",".join(allow)] if allow else [])])


def _reader_policy() -> str:
    iam = boto3.client("iam", region_name="us-east-1")
    (name,) = iam.list_role_policies(RoleName="conversations-dev-reader")["PolicyNames"]
    document = iam.get_role_policy(RoleName="conversations-dev-reader", PolicyName=name)["PolicyDocument"]
    return json.dumps(document)


def _table() -> dict[str, Any]:
    table: dict[str, Any] = boto3.client("dynamodb", region_name="us-east-1").describe_table(
        TableName="conversations-dev"
    )["Table"]
    return table


def _indexes() -> dict[str, Any]:
    return {g["IndexName"]: g["Projection"] for g in _table().get("GlobalSecondaryIndexes", [])}


def _synth(tmp_path: Path, name: str, designs: Path) -> Path:
    return synth_with_designs(designs, tmp_path / name)


def test_role_policy_updates_reach_iam_and_ttl_and_pitr_reach_the_table(endpoint: str, tmp_path: Path) -> None:
    assert _deploy(FIXTURE_DESIGNS, fixture_build()) == 0
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    # dev: ttl_attribute expiresAt (the design), PITR off (the environment).
    assert ddb.describe_time_to_live(TableName="conversations-dev")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expiresAt",
    }
    assert "index/ByUserTitle" not in _reader_policy()
    # Right after a clean deploy, drift finds nothing (TTL included).
    dirs = ["--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["drift", "--env", "dev", *dirs, "--build", str(fixture_build())]) == 0
    designs, build = _design_with_one_more_gsi(tmp_path)
    assert _deploy(designs, build) == 0
    assert "table/conversations-dev/index/ByUserTitle" in _reader_policy(), "the new grant is in IAM"
    assert sorted(_indexes()) == ["ByUserTitle", "ByUserUpdated"]
    assert _deploy(FIXTURE_DESIGNS, fixture_build(), "G008") == 0  # the index and its grant go again
    assert "index/ByUserTitle" not in _reader_policy(), "the removed grant is gone from IAM"
    assert sorted(_indexes()) == ["ByUserUpdated"]


def _design_with(tmp_path: Path, name: str, change: Any) -> Path:
    designs = tmp_path / name
    shutil.copytree(FIXTURE_DESIGNS, designs)
    path = designs / "conversations.yaml"
    design = yaml.safe_load(path.read_text())
    change(design)
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    return designs


def test_updates_cloudformation_refuses_fail_locally_and_change_nothing(endpoint: str, tmp_path: Path) -> None:
    """Straight to CloudFormation (deploy stages these itself): the shim refuses what CloudFormation refuses."""
    assert _deploy(FIXTURE_DESIGNS, fixture_build()) == 0
    before = _indexes()
    cf = boto3.client("cloudformation", region_name="us-east-1")
    data = json.loads((fixture_build() / "dev" / "data.template.json").read_text())
    parameters = json.loads((fixture_build() / "dev" / "data.parameters.json").read_text())
    table = data["Resources"]["Table"]["Properties"]

    def update(template: dict[str, Any]) -> str:
        name = f"refused-{len(template['Resources']['Table']['Properties']['GlobalSecondaryIndexes'])}"
        cf.create_change_set(
            StackName="conversations-dev-data",
            ChangeSetName=name,
            ChangeSetType="UPDATE",
            TemplateBody=json.dumps(template),
            Parameters=parameters,
        )
        cf.execute_change_set(StackName="conversations-dev-data", ChangeSetName=name)
        return str(cf.describe_stacks(StackName="conversations-dev-data")["Stacks"][0]["StackStatus"])

    projection_all = json.loads(json.dumps(data))
    projection_all["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"][0]["Projection"] = {
        "ProjectionType": "ALL"
    }
    assert update(projection_all) == "UPDATE_ROLLBACK_COMPLETE"
    assert _indexes() == before, "the projection is unchanged, as CloudFormation leaves it"

    two_more = json.loads(json.dumps(data))
    two_more["Resources"]["Table"]["Properties"]["AttributeDefinitions"].append(
        {"AttributeName": "title", "AttributeType": "S"}
    )
    for name in ("ByTitleA", "ByTitleB"):
        two_more["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"].append(
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": "title", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        )
    assert update(two_more) == "UPDATE_ROLLBACK_COMPLETE"
    assert _indexes() == before, "no index was created"
    assert table["TableName"] == spec_for("dev").table_name


def test_a_projection_change_deploys_as_a_delete_then_a_create(endpoint: str, tmp_path: Path) -> None:
    assert _deploy(FIXTURE_DESIGNS, fixture_build()) == 0

    def projection_all(design: dict[str, Any]) -> None:
        design["global_secondary_indexes"][0]["projection"] = "ALL"
        design["global_secondary_indexes"][0].pop("non_key_attributes", None)

    designs = _design_with(tmp_path, "projection", projection_all)
    assert _deploy(designs, _synth(tmp_path, "build-projection", designs), "G008") == 0
    assert _indexes() == {"ByUserUpdated": {"ProjectionType": "ALL"}}


def test_a_global_tables_import_says_up_front_that_the_local_endpoint_cannot(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto has no AWS::DynamoDB::GlobalTable: said before any call, not as a rollback (a table's import
    runs locally: tests/test_local_import.py)."""
    dirs = ["--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["deploy", "--env", "global", *dirs, "--build", str(fixture_build()), "--import"]) == 2
    err = capsys.readouterr().err
    assert "the local endpoint" in err and "has no AWS::DynamoDB::GlobalTable" in err and "Traceback" not in err
    cf = boto3.client("cloudformation", region_name="us-east-1")
    assert cf.list_stacks()["StackSummaries"] == [], "nothing was created"


def _post(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(f"{url}{ACCOUNT_PATH}", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _account_and_tables() -> tuple[str, list[str]]:
    sts, dynamodb = boto3.client("sts", region_name="us-east-1"), boto3.client("dynamodb", region_name="us-east-1")
    return sts.get_caller_identity()["Account"], dynamodb.list_tables()["TableNames"]


def test_the_account_switches_without_a_restart_and_each_keeps_its_own_state(endpoint: str) -> None:
    """Fix 19: a POST of an account ID puts every later request in that account; each account's
    resources stay its own; anything but 12 digits is refused and changes nothing."""
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="only-in-111",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert _account_and_tables() == ("111111111111", ["only-in-111"])
    assert _post(endpoint, b"222222222222") == (200, "222222222222")
    assert _account_and_tables() == ("222222222222", [])
    for bad in ("2222", "22222222222a", "", "١١١١١١١١١١١١"):  # the last: twelve Arabic-Indic digits
        assert _post(endpoint, bad.encode()) == (400, f"an account ID is 12 digits, not {bad!r}\n")
    assert _account_and_tables() == ("222222222222", [])
    assert _post(endpoint, b"111111111111\n") == (200, "111111111111")  # one trailing newline taken off
    assert _account_and_tables() == ("111111111111", ["only-in-111"])
