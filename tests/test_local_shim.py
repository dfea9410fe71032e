"""The local endpoint does what it reports: each shim fix checked by listing the real resources.

A deploy that says UPDATE_COMPLETE must have changed what it says (the
roles' inline policies, TTL, PITR); an update CloudFormation refuses must
fail here too and leave the live table as it was. Every check reads the
services (IAM, DynamoDB), never the tool's output.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from templates_src.cli import main as cli_main
from templates_src.local import moto_server

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, MotoServers, fixture_build, synth_with_designs
from .conftest import fixture_spec as spec_for
from .test_deploy import _design_with_one_more_gsi

ACCOUNT = "111111111111"  # the dev fixture's


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers) -> Iterator[str]:
    for key in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    with moto_servers.fresh(ACCOUNT) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        for key, value in moto_server.DUMMY_CREDENTIALS.items():
            monkeypatch.setenv(key, value)
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
    assert _deploy(FIXTURE_DESIGNS, fixture_build()) == 0
    before = _indexes()

    def projection_all(design: dict[str, Any]) -> None:
        design["global_secondary_indexes"][0]["projection"] = "ALL"
        design["global_secondary_indexes"][0].pop("non_key_attributes", None)

    designs = _design_with(tmp_path, "projection", projection_all)
    assert _deploy(designs, _synth(tmp_path, "build-projection", designs), "G008", "G002") == 1
    assert _indexes() == before, "the projection is unchanged, as CloudFormation leaves it"

    def two_more(design: dict[str, Any]) -> None:
        for name in ("ByTitleA", "ByTitleB"):
            design["global_secondary_indexes"].append(
                {"name": name, "projection": "KEYS_ONLY", "partition_key": {"name": "title", "type": "S"}}
            )

    designs = _design_with(tmp_path, "two", two_more)
    assert _deploy(designs, _synth(tmp_path, "build-two", designs), "G002") == 1
    assert _indexes() == before, "no index was created"
    cf = boto3.client("cloudformation", region_name="us-east-1")
    assert (
        cf.describe_stacks(StackName="conversations-dev-data")["Stacks"][0]["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    )
    assert spec_for("dev").table_name == "conversations-dev"


def test_import_says_up_front_that_the_local_endpoint_cannot(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = ["--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["deploy", "--env", "dev", *dirs, "--build", str(fixture_build()), "--import"]) == 2
    err = capsys.readouterr().err
    assert "the local endpoint" in err and "has no IMPORT change sets" in err and "Traceback" not in err
    cf = boto3.client("cloudformation", region_name="us-east-1")
    assert cf.list_stacks()["StackSummaries"] == [], "nothing was created"
