"""Adopt → import → drift → deploy → release → import again, on the local endpoint, with data in the table.

Seed 002's table (stream, deletion protection, TTL, PITR, the AWS managed key) is created through
the DynamoDB API as its team did, filled, adopted, imported into a data stack by an IMPORT change
set, and then deployed in full. After each step the stack's resources and the table's items are
listed with boto3: the table is the same table (its ARN and creation time), no row is lost, and
drift reports in sync.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from templates_src.aws_calls import ADMINISTRATOR_CALLS, PIPELINE_CALLS
from templates_src.cli import main as cli_main

from . import record_calls
from .conftest import MotoServers, local_endpoint
from .test_adopt import ACCOUNT, SEED_002, _create, _project

ITEMS = 120
REGION = SEED_002["region"]
TABLE = SEED_002["create"]["TableName"]


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers) -> Iterator[str]:
    with local_endpoint(monkeypatch, moto_servers, ACCOUNT) as url:
        yield url


def _fill(client: Any) -> None:
    for i in range(ITEMS):
        client.put_item(
            TableName=TABLE,
            Item={
                "userId": {"S": f"u-{i % 7}"},
                "sessionIdTimestamp": {"S": f"s-{i}#2026-01-01T00:00:{i % 60:02}Z"},
                "content": {"S": f"message {i}"},
            },
        )


def _count() -> int:
    client = boto3.client("dynamodb", region_name=REGION)
    return sum(page["Count"] for page in client.get_paginator("scan").paginate(TableName=TABLE))


def _stack_resources(name: str) -> dict[str, str]:
    cf = boto3.client("cloudformation", region_name=REGION)
    found = cf.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in found}


def _drift_in_sync(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["drift", "--env", "cmz", *args]) == 0
    assert "in sync" in capsys.readouterr().out


def test_an_adopted_table_is_imported_then_deployed_without_losing_a_row(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _create(SEED_002)
    _fill(client)
    before = client.describe_table(TableName=TABLE)["Table"]
    dirs = _project(tmp_path)
    assert cli_main(["adopt", "--table", TABLE, "--region", REGION, "--env", "cmz", *dirs]) == 0
    # The next steps are make targets with the real environment name, in the output and the file.
    assert "then make import ENV=cmz, make plan ENV=cmz DEPLOYED=1 and make deploy ENV=cmz" in capsys.readouterr().out
    assert (
        "# Import it before any other deploy: make import ENV=cmz\n"
        in (tmp_path / "environments" / "cmz.yaml").read_text()
    )
    args = [*dirs, "--build", str(tmp_path / "build")]
    assert cli_main(["synth", *dirs, "--out", str(tmp_path / "build")]) == 0
    capsys.readouterr()

    assert cli_main(["deploy", "--env", "cmz", *args, "--import"]) == 0, capsys.readouterr().err
    assert "imported table cmz-conversations" in capsys.readouterr().out
    cf = boto3.client("cloudformation", region_name=REGION)
    stack = cf.describe_stacks(StackName="cmz-conversations-cmz-data")["Stacks"][0]
    assert stack["StackStatus"] == "IMPORT_COMPLETE"
    events = cf.describe_stack_events(StackName="cmz-conversations-cmz-data")["StackEvents"]
    assert [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "cmz-conversations-cmz-data"][:2] == [
        "IMPORT_COMPLETE",
        "IMPORT_IN_PROGRESS",
    ]
    assert _stack_resources("cmz-conversations-cmz-data") == {"Table": TABLE}
    after = client.describe_table(TableName=TABLE)["Table"]
    assert (after["TableArn"], after["CreationDateTime"]) == (before["TableArn"], before["CreationDateTime"])
    assert _count() == ITEMS
    _drift_in_sync(args, capsys)
    # Every call the import made is listed (aws_calls.py: the pipeline's, or the administrator's), and the
    # docs name the administrator's: the CI deploy role denies IMPORT change sets.
    made = {
        f"{r['prefix']}:{r['operation']}"
        for r in record_calls.RECORDS
        if r["test"].endswith("::test_an_adopted_table_is_imported_then_deployed_without_losing_a_row")
        and r["module"] == "templates_src.deploy.takeover"
    }
    assert "cloudformation:CreateChangeSet" in made, sorted(made)
    assert made <= {c.action for c in (*PIPELINE_CALLS, *ADMINISTRATOR_CALLS)}, sorted(made)

    # The rest of the stack, by an ordinary (verified) deploy; the table stays the same table.
    assert cli_main(["deploy", "--env", "cmz", *args]) == 0, capsys.readouterr().err
    tags = {t["Key"] for t in client.list_tags_of_resource(ResourceArn=before["TableArn"])["Tags"]}
    assert {"Design", "Environment", "ManagedBy"} <= tags, "the deploy after the import adds the standard tags"
    assert "verified: the live table, its resource policy and key match the template" in capsys.readouterr().out
    assert _stack_resources("cmz-conversations-cmz-data")["Table"] == TABLE
    assert client.describe_table(TableName=TABLE)["Table"]["CreationDateTime"] == before["CreationDateTime"]
    assert _count() == ITEMS
    _drift_in_sync(args, capsys)
    # A deploy with nothing to change changes nothing (and is read back).
    assert cli_main(["deploy", "--env", "cmz", *args]) == 0
    assert "no changes" in capsys.readouterr().out
    # Destroy (adopt writes an unprotected environment): the stacks go, the table stays (Retain), every row in it.
    assert cli_main(["destroy", "--env", "cmz", *args]) == 0, capsys.readouterr().err
    assert "table cmz-conversations kept, as its DeletionPolicy Retain says" in capsys.readouterr().out
    names = {s["StackName"] for s in cf.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"}
    assert names == set()
    assert client.describe_table(TableName=TABLE)["Table"]["CreationDateTime"] == before["CreationDateTime"]
    assert _count() == ITEMS


def test_an_import_of_something_that_is_not_a_table_fails_locally_and_rolls_back(endpoint: str) -> None:
    cf = boto3.client("cloudformation", region_name=REGION)
    body = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}}}'
    cf.create_change_set(
        StackName="not-a-table",
        ChangeSetName="import-1",
        ChangeSetType="IMPORT",
        TemplateBody=body,
        ResourcesToImport=[
            {
                "ResourceType": "AWS::SNS::Topic",
                "LogicalResourceId": "Topic",
                "ResourceIdentifier": {"TopicArn": "arn:aws:sns:us-west-2:123456789012:t"},
            }
        ],
    )
    cf.execute_change_set(StackName="not-a-table", ChangeSetName="import-1")
    assert cf.describe_stacks(StackName="not-a-table")["Stacks"][0]["StackStatus"] == "IMPORT_ROLLBACK_COMPLETE"


def test_a_table_under_the_teams_own_key_is_adopted_naming_it_imported_and_in_sync(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regulated teams encrypt with their own key: adopt names it (encryption: {kms_key_arn}), the project
    creates no key, and import, deploy and drift keep the table on that key."""
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(Description="the team's own key")["KeyMetadata"]["Arn"]
    seed = {**SEED_002, "create": {**SEED_002["create"], "TableName": "cmz-own-key"}}
    seed["create"]["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
    client = _create(seed)
    dirs = _project(tmp_path)
    assert cli_main(["adopt", "--table", "cmz-own-key", "--region", REGION, "--env", "own", *dirs]) == 0
    env = yaml.safe_load((tmp_path / "environments" / "own.yaml").read_text())
    assert env["encryption"] == {"kms_key_arn": key}
    args = [*dirs, "--build", str(tmp_path / "build")]
    assert cli_main(["synth", *dirs, "--out", str(tmp_path / "build")]) == 0
    data = json.loads((tmp_path / "build" / "own" / "data.template.json").read_text())
    assert [r["Type"] for r in data["Resources"].values() if r["Type"].startswith("AWS::KMS::")] == []
    capsys.readouterr()
    assert cli_main(["deploy", "--env", "own", *args, "--import"]) == 0, capsys.readouterr().err
    assert cli_main(["drift", "--env", "own", *args]) == 0, capsys.readouterr().out
    assert cli_main(["deploy", "--env", "own", *args]) == 0, capsys.readouterr().err
    assert cli_main(["drift", "--env", "own", *args]) == 0, capsys.readouterr().out
    sse = client.describe_table(TableName="cmz-own-key")["Table"]["SSEDescription"]
    assert (sse["Status"], sse["KMSMasterKeyArn"]) == ("ENABLED", key)


def test_a_table_that_is_not_there_is_bad_input_naming_it(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dirs = _project(tmp_path)
    assert cli_main(["adopt", "--table", "nope", "--region", REGION, "--env", "nope", *dirs]) == 2
    assert capsys.readouterr().err.strip() == (
        f"adopt: --table: no table nope in {REGION} (account {ACCOUNT}); check the name and --region"
    )
    assert list((tmp_path / "environments").iterdir()) == []  # nothing written


def test_the_docs_name_every_call_an_import_makes_as_an_administrator() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "adopting-and-drift.md").read_text()
    section = text.split("**deploy --import**", 1)[1].split("\n\n", 1)[0]
    missing = [c.action for c in ADMINISTRATOR_CALLS if c.action.split(":")[1] not in section]
    assert not missing, missing
