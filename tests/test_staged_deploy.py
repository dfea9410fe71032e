"""A staged deploy on the local endpoint, checked by listing the real resources (boto3, as the AWS CLI).

The design change adds three GSIs and removes one (tests/staged_designs.py): CloudFormation takes
one per update, so one `deploy` runs it in five verified steps; interrupted after its second
step and run again, it carries on from what is live without redoing the first two.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from templates_src.cli import main as cli_main
from templates_src.deploy import steps as executor

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, MotoServers, fixture_build, local_endpoint
from .staged_designs import design_with_three_new_indexes_and_one_gone

ACCOUNT = "111111111111"  # the dev fixture's
REGION = "us-east-1"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers) -> Iterator[str]:
    monkeypatch.setattr(executor, "POLL_S", 0.0)
    with local_endpoint(monkeypatch, moto_servers, ACCOUNT) as url:
        yield url


def _deploy(environments: Path, designs: Path, build: Path) -> int:
    dirs = ["--environments-dir", str(environments), "--designs-dir", str(designs), "--build", str(build)]
    return cli_main(["deploy", "--env", "dev", *dirs])


def _live_indexes() -> list[str]:
    table = boto3.client("dynamodb", region_name=REGION).describe_table(TableName="conversations-dev")["Table"]
    return sorted(g["IndexName"] for g in table.get("GlobalSecondaryIndexes", []))


def _granted_indexes(role: str) -> list[str]:
    """The index names a role's inline policies name, read from IAM."""
    iam = boto3.client("iam", region_name=REGION)
    text = ""
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        text += json.dumps(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
    return sorted({part.split('"')[0] for part in text.split("/index/")[1:]})


def _updates_of_the_data_stack() -> int:
    cf = boto3.client("cloudformation", region_name=REGION)
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StackName": "conversations-dev-data"}
    while True:
        page = cf.describe_stack_events(**kwargs)
        events += page["StackEvents"]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return sum(
        1
        for e in events
        if e["LogicalResourceId"] == "conversations-dev-data" and e["ResourceStatus"] == "UPDATE_COMPLETE"
    )


def test_three_indexes_added_one_removed_deploy_in_verified_steps(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _deploy(FIXTURE_ENVIRONMENTS, FIXTURE_DESIGNS, fixture_build()) == 0
    assert _live_indexes() == ["ByUserUpdated"]
    environments, designs, build = design_with_three_new_indexes_and_one_gone(tmp_path)
    capsys.readouterr()
    assert _deploy(environments, designs, build) == 0
    out = capsys.readouterr().out
    assert "dev: 5 steps from what is deployed now to the build:" in out
    assert "conversations-dev-data: step 5 of 5: delete GSI ByUserRecent" not in out
    assert "conversations-dev-data: step 5 of 5: delete GSI ByUserUpdated" in out
    assert out.count("verified: the live table, its resource policy and key match the template") == 4
    assert out.rstrip().endswith("dev: all 5 steps done, each verified against what is live")
    assert "conversations-dev-access: verified: every role's policies, trust and boundary in IAM match" in out
    # What is live, read from DynamoDB and IAM: exactly the new indexes, and the grants on them.
    assert _live_indexes() == ["ByTitle", "ByUserRecent", "ByUserTitle"]
    assert _granted_indexes("conversations-dev-app") == ["ByTitle", "ByUserRecent", "ByUserTitle"]
    assert _granted_indexes("conversations-dev-reader") == ["ByUserRecent", "ByUserTitle"]
    assert _updates_of_the_data_stack() == 4
    # Drift right after: in sync.
    dirs = ["--environments-dir", str(environments), "--designs-dir", str(designs), "--build", str(build)]
    assert cli_main(["drift", "--env", "dev", *dirs]) == 0
    assert "in sync" in capsys.readouterr().out


def test_interrupted_after_two_steps_a_second_deploy_finishes_without_redoing_them(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _deploy(FIXTURE_ENVIRONMENTS, FIXTURE_DESIGNS, fixture_build()) == 0
    environments, designs, build = design_with_three_new_indexes_and_one_gone(tmp_path)
    verify = executor.StepRunner.verify_table
    verified: list[str] = []

    def ctrl_c_after_the_second(runner: executor.StepRunner, stack: Any, template: dict[str, Any]) -> None:
        verify(runner, stack, template)
        verified.append(stack.name)
        if len(verified) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(executor.StepRunner, "verify_table", ctrl_c_after_the_second)
    capsys.readouterr()
    assert _deploy(environments, designs, build) == 130
    out = capsys.readouterr().out
    assert (
        "dev: interrupted in step 2 of 5 (step 1 finished; step 2 may be live in part); `make deploy ENV=dev` reads what is live"
        in out
    )
    assert _live_indexes() == ["ByUserRecent", "ByUserTitle", "ByUserUpdated"]
    assert _updates_of_the_data_stack() == 2

    monkeypatch.setattr(executor.StepRunner, "verify_table", verify)
    assert _deploy(environments, designs, build) == 0
    out = capsys.readouterr().out
    assert (
        "conversations-dev-data: an earlier run of this build stopped after 'create GSI ByUserTitle': "
        "what is live is not redone"
    ) in out
    assert "dev: 3 steps from what is deployed now to the build:" in out
    assert "  1. conversations-dev-data: create GSI ByTitle\n" in out, "the remaining steps only"
    assert "step 1 of 3: create GSI ByTitle" in out
    assert ": create GSI ByUserRecent\n" not in out and ": create GSI ByUserTitle\n" not in out
    assert _live_indexes() == ["ByTitle", "ByUserRecent", "ByUserTitle"]
    assert _granted_indexes("conversations-dev-reader") == ["ByUserRecent", "ByUserTitle"]
    assert _updates_of_the_data_stack() == 4


def test_a_deploy_with_no_changes_still_reads_back_and_names_what_differs(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Changed out of band (a grant added in IAM, TTL turned off): the deploy exits 1 naming both."""
    assert _deploy(FIXTURE_ENVIRONMENTS, FIXTURE_DESIGNS, fixture_build()) == 0
    assert _deploy(FIXTURE_ENVIRONMENTS, FIXTURE_DESIGNS, fixture_build()) == 0, "in sync: no changes, verified"
    iam = boto3.client("iam", region_name=REGION)
    (policy,) = iam.list_role_policies(RoleName="conversations-dev-reader")["PolicyNames"]
    document = iam.get_role_policy(RoleName="conversations-dev-reader", PolicyName=policy)["PolicyDocument"]
    document["Statement"].append({"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"})
    iam.put_role_policy(RoleName="conversations-dev-reader", PolicyName=policy, PolicyDocument=json.dumps(document))
    capsys.readouterr()
    assert _deploy(FIXTURE_ENVIRONMENTS, FIXTURE_DESIGNS, fixture_build()) == 1
    err = capsys.readouterr().err
    assert "conversations-dev-access: IAM differs from the deployed template (read back after the deploy)" in err
    assert f"role conversations-dev-reader: inline policy {policy} differs from the template's: IAM also has " in err
    assert '{"Action": "dynamodb:Scan", "Effect": "Allow", "Resource": "*"}' in err, "what differs, named"
    assert "changed outside CloudFormation: put it back in IAM" in err
    # A standard tag removed out of band is drift too (only a stack that never applied them is exempt).
    ddb = boto3.client("dynamodb", region_name=REGION)
    arn = ddb.describe_table(TableName="conversations-dev")["Table"]["TableArn"]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["Environment"])
    dirs = ["--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["drift", "--env", "dev", *dirs, "--build", str(fixture_build())]) == 4
    assert '~ Tags[Environment]: template "dev", live absent' in capsys.readouterr().out
    boto3.client("dynamodb", region_name=REGION).update_time_to_live(
        TableName="conversations-dev", TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"}
    )
    assert _deploy(FIXTURE_ENVIRONMENTS, FIXTURE_DESIGNS, fixture_build()) == 1
    assert 'TimeToLiveAttribute: template "expiresAt", live absent' in capsys.readouterr().err
