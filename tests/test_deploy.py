"""Change-set deploy: create path end to end on a local moto server; update,
no-change, rollback and refusal paths with botocore's Stubber (which checks
every request and response against the real CloudFormation model)."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber

from templates_src.cli import main as cli_main
from templates_src.deploy.deployer import Deployer, check_caller, protection_policy
from templates_src.errors import AwsFailure, BadInput, ExitCode, Refused
from templates_src.local import moto_server
from templates_src.stacks.artifacts import read_stack_files

from .conftest import (
    EVENT_BEFORE,
    FIXTURE_DESIGNS,
    FIXTURE_ENVIRONMENTS,
    MotoServers,
    fixture_build,
    fixture_cli_args,
    local_endpoint,
    synth_with_designs,
)
from .conftest import fixture_spec as spec_for


def deploy_main(args: list[str]) -> int:
    """The CLI on the engine's fixtures (never the user's environments)."""
    env = args[args.index("--env") + 1]
    extra = [a for a in args if a not in ("--env", env, "--destroy")]
    return cli_main([*fixture_cli_args("destroy" if "--destroy" in args else "deploy", env), *extra])


def stack_files(spec: Any, build: Any) -> list[Any]:
    return read_stack_files(spec, build)


NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)  # fixed: deploy follows events by identity, not by time
EVENTS_AT = NOW + timedelta(hours=1)
CS_ARN = "arn:aws:cloudformation:us-east-1:333333333333:changeSet/data-1/abc"
STACK_ID = "arn:aws:cloudformation:us-east-1:333333333333:stack/conversations-prod-data/abc"


def test_create_path_end_to_end_on_local_moto(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], moto_servers: MotoServers
) -> None:
    for key in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    with moto_servers.fresh("111111111111") as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        for key, value in moto_server.DUMMY_CREDENTIALS.items():
            monkeypatch.setenv(key, value)
        assert deploy_main(["--env", "dev"]) == 0
        out = capsys.readouterr().out
        assert "conversations-dev-data: CREATE change set" in out
        assert "conversations-dev-access: CREATE change set, 5 resource change(s)" in out
        assert "output TableName = conversations-dev" in out
        cf = boto3.client("cloudformation", region_name="us-east-1")
        statuses = {s["StackName"]: s["StackStatus"] for s in cf.describe_stacks()["Stacks"]}
        assert statuses == {"conversations-dev-data": "CREATE_COMPLETE", "conversations-dev-access": "CREATE_COMPLETE"}
        assert (
            boto3.client("iam", region_name="us-east-1").get_role(RoleName="conversations-dev-app")["Role"]["Path"]
            == "/conversations/"
        )
        # Deploying again changes nothing, and the empty change sets are deleted.
        assert deploy_main(["--env", "dev"]) == 0
        assert capsys.readouterr().out.count(": no changes") == 2
        assert deploy_main(["--env", "dev", "--destroy"]) == 0
        assert "conversations-dev-data: deleted" in capsys.readouterr().out


def test_wrong_account_is_refused_before_any_change(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], moto_servers: MotoServers
) -> None:
    with moto_servers.fresh("999999999999") as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        for key, value in moto_server.DUMMY_CREDENTIALS.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
        monkeypatch.delenv("AWS_REGION", raising=False)
        assert deploy_main(["--env", "dev"]) == 2
        err = capsys.readouterr().err
        assert "environments/dev.yaml: account_id: credentials are for account 999999999999" in err
        assert "Traceback" not in err
        assert boto3.client("cloudformation", region_name="us-east-1").list_stacks()["StackSummaries"] == []


def _client(service: str = "cloudformation") -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _data_stack() -> Any:
    (data,) = [s for s in stack_files(spec_for("prod"), fixture_build() / "prod") if s.kind == "data"]
    return data


def _deployer(cf: Any, lines: list[str]) -> Deployer:
    return Deployer(spec_for("prod"), cf, out=lines.append, sleep=lambda _: None)


def _stack(status: str, outputs: bool = False) -> dict[str, Any]:
    stack: dict[str, Any] = {
        "StackName": "conversations-prod-data",
        "StackId": STACK_ID,
        "CreationTime": NOW,
        "StackStatus": status,
    }
    if outputs:
        stack["Outputs"] = [{"OutputKey": "TableName", "OutputValue": "conversations-prod"}]
    return {"Stacks": [stack]}


def _event(status: str, logical: str = "Table", reason: str | None = None, offset: int = 1) -> dict[str, Any]:
    event = {
        "StackId": STACK_ID,
        "EventId": f"{logical}-{status}",
        "StackName": "conversations-prod-data",
        "LogicalResourceId": logical,
        "ResourceType": "AWS::DynamoDB::Table",
        "Timestamp": EVENTS_AT + timedelta(minutes=offset),
        "ResourceStatus": status,
    }
    if reason:
        event["ResourceStatusReason"] = reason
    return event


def _change(action: str = "Modify", replacement: str = "False") -> dict[str, Any]:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": action,
            "LogicalResourceId": "Table",
            "ResourceType": "AWS::DynamoDB::Table",
            "Replacement": replacement,
        },
    }


def _deployed_with_old_tag() -> str:
    old = json.loads(_data_stack().template)
    old["Resources"]["Table"]["Properties"]["Tags"] = [
        t for t in old["Resources"]["Table"]["Properties"]["Tags"] if t["Key"] != "DataClassification"
    ]
    return json.dumps(old)


def _begin_update(stub: Stubber, deployed: str) -> None:
    stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "conversations-prod-data"})
    stub.add_response(
        "get_template",
        {"TemplateBody": deployed},
        {"StackName": "conversations-prod-data", "TemplateStage": "Original"},
    )
    stub.add_response(
        "create_change_set",
        {"Id": CS_ARN, "StackId": STACK_ID},
        {
            "StackName": "conversations-prod-data",
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "TemplateBody": ANY,
            "Parameters": ANY,
            "Tags": ANY,
            "Capabilities": ["CAPABILITY_IAM"],
        },
    )


def test_update_path_executes_and_protects_prod() -> None:
    cf, lines = _client(), []
    with Stubber(cf) as stub:
        _begin_update(stub, _deployed_with_old_tag())
        stub.add_response(
            "describe_change_set",
            {"Status": "CREATE_COMPLETE", "Changes": [_change()]},
            {"StackName": "conversations-prod-data", "ChangeSetName": CS_ARN},
        )
        stub.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
        stub.add_response("execute_change_set", {}, {"StackName": "conversations-prod-data", "ChangeSetName": CS_ARN})
        stub.add_response("describe_stack_events", {"StackEvents": [_event("UPDATE_IN_PROGRESS")]})
        stub.add_response("describe_stacks", _stack("UPDATE_IN_PROGRESS"))
        stub.add_response(
            "describe_stack_events",
            {"StackEvents": [_event("UPDATE_COMPLETE", offset=2), _event("UPDATE_IN_PROGRESS")]},
        )
        stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE"))
        stub.add_response(
            "set_stack_policy",
            {},
            {"StackName": "conversations-prod-data", "StackPolicyBody": json.dumps(protection_policy())},
        )
        stub.add_response(
            "update_termination_protection",
            {"StackId": STACK_ID},
            {"StackName": "conversations-prod-data", "EnableTerminationProtection": True},
        )
        stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE", outputs=True))
        outputs = _deployer(cf, lines).deploy(_data_stack())
        stub.assert_no_pending_responses()
    text = "\n".join(lines)
    assert outputs == {"TableName": "conversations-prod"}
    assert "~ Modify  Table (AWS::DynamoDB::Table)" in text and "Properties.Tags" in text
    assert "UPDATE change set, 1 resource change(s)" in text
    assert text.count("Table UPDATE_IN_PROGRESS") == 1  # each event printed once
    assert "stack policy denies Update:Replace/Update:Delete" in text


def test_no_changes_is_success_and_the_empty_change_set_is_deleted() -> None:
    cf, lines = _client(), []
    with Stubber(cf) as stub:
        _begin_update(stub, _data_stack().template)
        stub.add_response(
            "describe_change_set",
            {
                "Status": "FAILED",
                "StatusReason": "The submitted information didn't contain changes. Submit different information to create a change set.",
            },
        )
        stub.add_response("delete_change_set", {}, {"StackName": "conversations-prod-data", "ChangeSetName": CS_ARN})
        stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE", outputs=True))
        _deployer(cf, lines).deploy(_data_stack())
        stub.assert_no_pending_responses()
    assert "conversations-prod-data: no changes" in lines


def test_rollback_prints_the_failed_reasons() -> None:
    cf, lines = _client(), []
    with Stubber(cf) as stub:
        _begin_update(stub, _deployed_with_old_tag())
        stub.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": [_change()]})
        stub.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
        stub.add_response("execute_change_set", {})
        stub.add_response(
            "describe_stack_events",
            {
                "StackEvents": [
                    _event("UPDATE_ROLLBACK_COMPLETE", "conversations-prod-data", offset=3),
                    _event(
                        "UPDATE_FAILED",
                        reason="Subscriber limit exceeded: only 1 online index can be created",
                        offset=2,
                    ),
                ]
            },
        )
        stub.add_response("describe_stacks", _stack("UPDATE_ROLLBACK_COMPLETE"))
        with pytest.raises(AwsFailure, match="ended UPDATE_ROLLBACK_COMPLETE") as exc:
            _deployer(cf, lines).deploy(_data_stack())
        stub.assert_no_pending_responses()
    assert exc.value.exit_code == ExitCode.AWS_FAILURE == 1
    assert "  FAILED Table: Subscriber limit exceeded: only 1 online index can be created" in lines


def test_change_set_replacing_the_table_is_refused_and_deleted() -> None:
    cf, lines = _client(), []
    with Stubber(cf) as stub:
        _begin_update(stub, _deployed_with_old_tag())
        stub.add_response(
            "describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": [_change("Modify", "Conditional")]}
        )
        stub.add_response("delete_change_set", {}, {"StackName": "conversations-prod-data", "ChangeSetName": CS_ARN})
        with pytest.raises(Refused, match="replace Table") as exc:
            _deployer(cf, lines).deploy(_data_stack())
        stub.assert_no_pending_responses()  # never executed
    assert exc.value.exit_code == 3


def test_offline_guard_refuses_before_any_change_set() -> None:
    deployed = json.loads(_data_stack().template)
    renamed = copy.deepcopy(deployed)
    renamed["Resources"]["Table"]["Properties"]["TableName"] = "old-name"
    cf, lines = _client(), []
    with Stubber(cf) as stub:
        stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE"))
        stub.add_response("get_template", {"TemplateBody": json.dumps(renamed)})
        with pytest.raises(Refused, match="blocked by G001") as exc:
            _deployer(cf, lines).deploy(_data_stack())
        stub.assert_no_pending_responses()
    assert exc.value.exit_code == 3
    assert any("BLOCKED G001 Table.TableName" in line for line in lines)


def test_review_in_progress_counts_as_create_and_access_gets_named_iam() -> None:
    (access,) = [s for s in stack_files(spec_for("prod"), fixture_build() / "prod") if s.kind == "access"]
    cf, lines = _client(), []
    with Stubber(cf) as stub:
        stub.add_response("describe_stacks", _stack("REVIEW_IN_PROGRESS"))
        stub.add_response(
            "create_change_set",
            {"Id": CS_ARN},
            {
                "StackName": "conversations-prod-access",
                "ChangeSetName": ANY,
                "ChangeSetType": "CREATE",
                "TemplateBody": ANY,
                "Parameters": ANY,
                "Tags": ANY,
                "Capabilities": ["CAPABILITY_NAMED_IAM"],
            },
        )
        stub.add_client_error("describe_change_set", "Throttling", "stop here")
        with pytest.raises(cf.exceptions.ClientError):
            _deployer(cf, lines).deploy(access)
        stub.assert_no_pending_responses()


def test_stack_in_rollback_complete_must_be_recreated() -> None:
    cf = _client()
    with Stubber(cf) as stub:
        stub.add_response("describe_stacks", _stack("ROLLBACK_COMPLETE"))
        with pytest.raises(AwsFailure, match="delete it"):
            _deployer(cf, []).deploy(_data_stack())


def test_destroy_refuses_a_protected_environment_without_calling_aws() -> None:
    cf = _client()
    with Stubber(cf) as stub:
        with pytest.raises(Refused, match="prod is protected: destroy refused") as exc:
            _deployer(cf, []).destroy(stack_files(spec_for("prod"), fixture_build() / "prod"))
        stub.assert_no_pending_responses()
    assert exc.value.exit_code == 3


def test_region_mismatch_is_refused() -> None:
    sts = _client("sts")
    with Stubber(sts) as stub:
        stub.add_response(
            "get_caller_identity", {"Account": "333333333333", "Arn": "arn:aws:iam::333333333333:user/x", "UserId": "x"}
        )
        with pytest.raises(BadInput, match="region: the AWS region configured is eu-west-1") as exc:
            check_caller(spec_for("prod"), sts, "eu-west-1")
    assert exc.value.exit_code == 2


def test_protection_policy_denies_replace_and_delete_of_table_and_key() -> None:
    deny = [s for s in protection_policy()["Statement"] if s["Effect"] == "Deny"][0]
    assert deny["Action"] == ["Update:Replace", "Update:Delete"]
    assert deny["Resource"] == ["LogicalResourceId/Table", "LogicalResourceId/TableKey"]


def _design_with_one_more_gsi(tmp_path: Path) -> tuple[Path, Path]:
    """The fixture design plus a GSI and its pattern (as docs/designs.md: Adding a GSI), synthesised apart."""
    designs = tmp_path / "designs"
    shutil.copytree(FIXTURE_DESIGNS, designs)
    path = designs / "conversations.yaml"
    design = yaml.safe_load(path.read_text())
    design["global_secondary_indexes"].append(
        {
            "name": "ByUserTitle",
            "projection": "KEYS_ONLY",
            "partition_key": {"name": "userId", "type": "S"},
            "sort_key": {"name": "title", "type": "S"},
        }
    )
    design["access_patterns"].append(
        {
            "name": "find-by-title",
            "operation": "Query",
            "index": "ByUserTitle",
            "roles": ["app", "reader"],
            "key_condition": "userId = :userId AND begins_with(title, :prefix)",
            "example": {
                "values": {":userId": "u-1", ":prefix": "Trip"},
                "expect": [{"userId": "u-1", "sk": "CONV#c-1"}],
            },
        }
    )
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    return designs, synth_with_designs(designs, tmp_path / "build")


def _live(spec: Any) -> dict[str, Any]:
    """What really exists, listed from the services (never inferred from a stack status)."""
    ddb, iam = boto3.client("dynamodb", region_name=spec.env.region), boto3.client("iam", region_name=spec.env.region)
    cf = boto3.client("cloudformation", region_name=spec.env.region)
    tables = ddb.list_tables()["TableNames"]
    gsis = sorted(
        g["IndexName"]
        for g in (
            ddb.describe_table(TableName=spec.table_name)["Table"].get("GlobalSecondaryIndexes", [])
            if spec.table_name in tables
            else []
        )
    )
    roles = sorted(r["RoleName"] for r in iam.list_roles(PathPrefix="/conversations/")["Roles"])
    stacks = sorted(s["StackName"] for s in cf.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE")
    return {"tables": tables, "gsis": gsis, "roles": roles, "stacks": stacks}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_local_create_update_no_change_destroy_verified_by_listing(
    env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    moto_servers: MotoServers,
) -> None:
    spec = spec_for(env)
    designs, build_with_gsi = _design_with_one_more_gsi(tmp_path)
    for key in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    with moto_servers.fresh(spec.env.account_id) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        for key, value in moto_server.DUMMY_CREDENTIALS.items():
            monkeypatch.setenv(key, value)
        stacks = [f"conversations-{env}-access", f"conversations-{env}-data"]
        roles = sorted(f"conversations-{env}-{r}" for r in ("app", "ops", "per-user", "reader", "stream-consumer"))

        assert deploy_main(["--env", env]) == 0, capsys.readouterr().err
        assert _live(spec) == {"tables": [spec.table_name], "gsis": ["ByUserUpdated"], "roles": roles, "stacks": stacks}

        def with_gsi(command: str) -> list[str]:
            dirs = ["--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(designs)]
            return [command, "--env", env, *dirs, "--build", str(build_with_gsi)]

        update = with_gsi("deploy")
        capsys.readouterr()
        with monkeypatch.context() as outside_git:  # plan --deployed needs no git repository
            outside_git.chdir(tmp_path)
            assert cli_main(["plan", *update[1:], "--deployed"]) == 0, capsys.readouterr().err
        assert "+ GSI ByUserTitle" in capsys.readouterr().out, "plan --deployed reads the live template"
        assert cli_main(update) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert "+ GSI ByUserTitle: userId (S, HASH), title (S, RANGE); projection KEYS_ONLY" in out
        assert "+ grants: Allow dynamodb:Query on ${TableArn}/index/ByUserTitle" in out
        assert _live(spec)["gsis"] == ["ByUserTitle", "ByUserUpdated"]

        assert cli_main(update) == 0
        assert capsys.readouterr().out.count(": no changes") == 2
        assert _live(spec)["gsis"] == ["ByUserTitle", "ByUserUpdated"]

        destroy = with_gsi("destroy")
        if spec.env.protected:
            assert cli_main(destroy) == 3
            assert _live(spec)["tables"] == [spec.table_name], "a refused destroy leaves everything"
            cf = boto3.client("cloudformation", region_name=spec.env.region)
            described = cf.describe_stacks(StackName=f"conversations-{env}-data")["Stacks"][0]
            assert described["EnableTerminationProtection"] is True
        else:
            assert cli_main(destroy) == 0, capsys.readouterr().err
            assert "conversations-dev-data: deleted (verified)" in capsys.readouterr().out
            assert _live(spec) == {"tables": [], "gsis": [], "roles": [], "stacks": []}


def test_destroy_that_leaves_the_table_is_a_failure_not_deleted() -> None:
    """DELETE_COMPLETE is not proof: the table is looked up afterwards (moto once re-created it)."""
    spec = spec_for("dev")
    (data,) = [s for s in stack_files(spec, fixture_build() / "dev") if s.kind == "data"]
    cf, ddb, lines = _client(), _client("dynamodb"), []
    dev_id = STACK_ID.replace("prod", "dev").replace("333333333333", "111111111111")
    with Stubber(cf) as stub, Stubber(ddb) as ddb_stub:
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": data.name, "StackId": dev_id, "CreationTime": NOW, "StackStatus": "CREATE_COMPLETE"}
                ]
            },
        )
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": data.name, "StackId": dev_id, "CreationTime": NOW, "StackStatus": "CREATE_COMPLETE"}
                ]
            },
        )
        stub.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
        stub.add_response("delete_stack", {}, {"StackName": dev_id})
        stub.add_response("describe_stack_events", {"StackEvents": []})
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": data.name, "StackId": dev_id, "CreationTime": NOW, "StackStatus": "DELETE_COMPLETE"}
                ]
            },
        )
        stub.add_client_error("describe_stacks", "ValidationError", f"Stack with id {data.name} does not exist")
        ddb_stub.add_response(
            "describe_table", {"Table": {"TableName": spec.table_name}}, {"TableName": spec.table_name}
        )
        deployer = Deployer(spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb)
        with pytest.raises(AwsFailure, match=f"table {spec.table_name} still exist"):
            deployer.destroy([data])
        stub.assert_no_pending_responses()
    assert not any("deleted" in line for line in lines)


def test_a_global_table_is_refused_by_the_local_endpoint_up_front(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], moto_servers: MotoServers
) -> None:
    """moto has no AWS::DynamoDB::GlobalTable: said before any stack is created, not as a rollback."""
    with local_endpoint(monkeypatch, moto_servers, "444444444444"):
        assert deploy_main(["--env", "global"]) == 2
        err = capsys.readouterr().err
        assert "global.yaml: global_table: the local endpoint (http://127.0.0.1:" in err
        assert "has no AWS::DynamoDB::GlobalTable (moto 5.2.5): a global table deploys to AWS only" in err
        assert boto3.client("cloudformation", region_name="us-east-1").describe_stacks()["Stacks"] == []
