"""Adopting existing tables (seeds 001 and 002, created through the DynamoDB API) and detecting drift.

On the local moto server: the tables are created the way the seeds' teams
did (create-table, then TTL and PITR), adopted, synthesised, and compared
with the live table by `drift`; then changed out of band and compared again.
moto cannot describe contributor insights and does not report TableClass:
drift skips the first (and says so), and these tables are STANDARD.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber

from templates_src.cli import main as cli_main
from templates_src.deploy.adopt import adoption, write_adoption
from templates_src.deploy.deployer import Deployer
from templates_src.deploy.live import Facts
from templates_src.errors import BadInput, Refused
from templates_src.local import moto_server
from templates_src.spec.loader import load_spec
from templates_src.stacks.artifacts import read_stack_files, write_tree
from templates_src.stacks.synth import Target, render_all

from .conftest import EVENT_BEFORE, MotoServers

ACCOUNT = "123456789012"

SEED_001: dict[str, Any] = {
    "region": "us-east-1",
    "create": {
        "TableName": "cg-chatbot-conversations",
        "AttributeDefinitions": [
            {"AttributeName": "conversation_id", "AttributeType": "S"},
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "conversation_id", "KeyType": "HASH"},
            {"AttributeName": "user_id", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "user_id-created_at-index",
                "KeySchema": [
                    {"AttributeName": "user_id", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "Tags": [{"Key": "Project", "Value": "CG-Production-Assistant"}],
    },
    "pitr": True,
    "ttl": None,
}
SEED_002: dict[str, Any] = {
    "region": "us-west-2",
    "create": {
        "TableName": "cmz-conversations",
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"}
            for a in ("userId", "sessionIdTimestamp", "sessionId", "timestamp", "animalId", "parentUserId")
        ],
        "KeySchema": [
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "sessionIdTimestamp", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": "timestamp", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, pk in (
                ("SessionIndex", "sessionId"),
                ("AnimalIndex", "animalId"),
                ("ParentUserIndex", "parentUserId"),
            )
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
        "DeletionProtectionEnabled": True,
        "Tags": [{"Key": "Environment", "Value": "production"}],
    },
    "pitr": True,
    "ttl": "ttl",
}


@pytest.fixture(scope="module")
def aws(moto_servers: MotoServers) -> Iterator[str]:
    with moto_servers.fresh(ACCOUNT) as url:
        mp = pytest.MonkeyPatch()
        mp.setenv("AWS_ENDPOINT_URL", url)
        for key, value in moto_server.DUMMY_CREDENTIALS.items():
            mp.setenv(key, value)
        mp.delenv("AWS_DEFAULT_REGION", raising=False)
        mp.delenv("AWS_REGION", raising=False)
        try:
            yield url
        finally:
            mp.undo()


def _create(seed: dict[str, Any]) -> Any:
    """As the seed's team did: create-table, then TTL and PITR as separate calls."""
    client = boto3.client("dynamodb", region_name=seed["region"])
    client.create_table(**seed["create"])
    name = seed["create"]["TableName"]
    if seed["ttl"]:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": seed["ttl"]}
        )
    if seed["pitr"]:
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    return client


def _project(tmp_path: Path) -> list[str]:
    (tmp_path / "environments").mkdir()
    (tmp_path / "designs").mkdir()
    return ["--environments-dir", str(tmp_path / "environments"), "--designs-dir", str(tmp_path / "designs")]


def _adopt_and_synth(tmp_path: Path, seed: dict[str, Any], env: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    dirs = _project(tmp_path)
    name = seed["create"]["TableName"]
    assert cli_main(["adopt", "--table", name, "--region", seed["region"], "--env", env, *dirs]) == 0
    out = capsys.readouterr().out
    assert "access patterns: a table cannot tell" in out
    assert cli_main(["synth", *dirs, "--out", str(tmp_path / "build")]) == 0
    return [*dirs, "--build", str(tmp_path / "build")]


@pytest.mark.parametrize(("seed", "env"), [(SEED_001, "chatbot"), (SEED_002, "cmz")])
def test_an_adopted_table_renders_into_a_matching_template(
    aws: str, tmp_path: Path, seed: dict[str, Any], env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(seed)
    args = _adopt_and_synth(tmp_path, seed, env, capsys)
    assert cli_main(["drift", "--env", env, *args]) == 0, capsys.readouterr().out
    assert "in sync" in capsys.readouterr().out
    adopted = yaml.safe_load((tmp_path / "environments" / f"{env}.yaml").read_text())
    assert adopted["table_name"] == seed["create"]["TableName"] and adopted["retention"] == "Retain"
    assert adopted["account_id"] == ACCOUNT and adopted["protected"] is False


def test_drift_names_each_out_of_band_change(aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = {**SEED_001, "create": {**SEED_001["create"], "TableName": "chatbot-drift"}}
    client = _create(seed)
    args = _adopt_and_synth(tmp_path, seed, "drifty", capsys)
    arn = client.describe_table(TableName="chatbot-drift")["Table"]["TableArn"]
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "Project", "Value": "renamed"}])
    client.update_time_to_live(
        TableName="chatbot-drift", TimeToLiveSpecification={"Enabled": False, "AttributeName": "x"}
    )
    client.update_continuous_backups(
        TableName="chatbot-drift", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    client.update_table(
        TableName="chatbot-drift",
        AttributeDefinitions=[{"AttributeName": "title", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "ByTitle",
                    "KeySchema": [{"AttributeName": "title", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    assert cli_main(["drift", "--env", "drifty", *args]) == 4
    out = capsys.readouterr().out
    for changed in ("Tags[Project]", "PointInTimeRecovery", "GlobalSecondaryIndexes[ByTitle]", "AttributeDefinitions"):
        assert f"~ {changed}:" in out, out
    assert cli_main(["drift", "--env", "drifty", *args, "--format", "markdown"]) == 4
    assert '| `Tags[Project]` | `"CG-Production-Assistant"` | `"renamed"` |' in capsys.readouterr().out


def test_adopt_refuses_to_overwrite_and_a_missing_table_is_bad_input(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = {**SEED_001, "create": {**SEED_001["create"], "TableName": "chatbot-twice"}}
    _create(seed)
    dirs = _project(tmp_path)
    adopt = ["adopt", "--table", "chatbot-twice", "--region", "us-east-1", "--env", "twice", *dirs]
    assert cli_main(adopt) == 0
    before = (tmp_path / "environments" / "twice.yaml").read_text()
    capsys.readouterr()
    assert cli_main(adopt) == 2
    assert (
        "twice.yaml: exist(s); adopting would overwrite: choose other names (--design, --env; make adopt DESIGN=… ENV=…) or give --force (make adopt FORCE=1) to replace them"
        in capsys.readouterr().err
    )
    assert (tmp_path / "environments" / "twice.yaml").read_text() == before
    assert cli_main([*adopt, "--force"]) == 0
    capsys.readouterr()
    assert cli_main(["adopt", "--table", "no-such-table", "--region", "us-east-1", "--env", "none", *dirs]) == 2
    assert capsys.readouterr().err.startswith("adopt: --table: no table no-such-table in us-east-1")


# -- deploy --import, with botocore's Stubber (moto has no IMPORT change sets) -------------------------

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
EVENTS_AT = NOW + timedelta(hours=1)  # any fixed time: deploy follows events by identity
TABLE = "cg-chatbot-conversations"
STACK = "cg-chatbot-conversations-chatbot-data"
STACK_ID = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{STACK}/abc"
CS_ARN = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:changeSet/import-1/abc"
DESCRIBED: dict[str, Any] = {
    "TableName": TABLE,
    "TableArn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}",
    "TableStatus": "ACTIVE",
    "AttributeDefinitions": SEED_001["create"]["AttributeDefinitions"],
    "KeySchema": SEED_001["create"]["KeySchema"],
    "GlobalSecondaryIndexes": [{**SEED_001["create"]["GlobalSecondaryIndexes"][0], "IndexStatus": "ACTIVE"}],
    "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
}
LIVE = Facts(
    {
        "TableName": TABLE,
        "KeySchema": [["conversation_id", "HASH"], ["user_id", "RANGE"]],
        "AttributeDefinitions": [["conversation_id", "S"], ["created_at", "S"], ["user_id", "S"]],
        "BillingMode": "PAY_PER_REQUEST",
        "ProvisionedThroughput": None,
        "GlobalSecondaryIndexes": {
            "user_id-created_at-index": {
                "KeySchema": [["user_id", "HASH"], ["created_at", "RANGE"]],
                "ProjectionType": "ALL",
                "NonKeyAttributes": [],
            }
        },
        "LocalSecondaryIndexes": {},
        "StreamViewType": None,
        "TimeToLiveAttribute": None,
        "PointInTimeRecovery": [True, 35],
        "Encryption": "aws_owned",
        "DeletionProtectionEnabled": False,
        "TableClass": "STANDARD",
        "ContributorInsights": False,
        "Tags": {"Project": "CG-Production-Assistant"},
    }
)


def _adopted_stack(tmp_path: Path, facts: Facts = LIVE) -> tuple[Any, Any]:
    """The data stack of an environment adopted from `facts` (no AWS), synthesised into tmp_path."""
    result = adoption(facts, "us-east-1", ACCOUNT, None)
    env_path = tmp_path / "environments" / "chatbot.yaml"
    write_adoption(result, tmp_path / "designs" / f"{result.design_name}.yaml", env_path, TABLE, force=False)
    build = tmp_path / "build"
    write_tree(build, render_all([Target(env_path, "chatbot")], tmp_path / "designs", with_taskcat=False).tree, True)
    spec = load_spec(env_path, tmp_path / "designs")
    (data,) = [s for s in read_stack_files(spec, build / "chatbot") if s.kind == "data"]
    return spec, data


def _clients() -> tuple[Any, Any, Any]:
    def client(service: str) -> Any:
        return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")

    return client("cloudformation"), client("dynamodb"), client("kms")


def _live_responses(ddb: Stubber, described: dict[str, Any] = DESCRIBED) -> None:
    ddb.add_response("describe_table", {"Table": described}, {"TableName": TABLE})
    ddb.add_response("describe_time_to_live", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})
    ddb.add_response(
        "describe_continuous_backups",
        {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 35},
            }
        },
    )
    ddb.add_response("list_tags_of_resource", {"Tags": [{"Key": "Project", "Value": "CG-Production-Assistant"}]})
    ddb.add_response("describe_contributor_insights", {"TableName": TABLE, "ContributorInsightsStatus": "DISABLED"})


def test_import_takes_the_table_into_the_data_stack(tmp_path: Path) -> None:
    spec, data = _adopted_stack(tmp_path)
    cf, ddb, kms = _clients()
    lines: list[str] = []
    sent: list[dict[str, Any]] = []
    cf.meta.events.register(
        "provide-client-params.cloudformation.CreateChangeSet", lambda params, **_: sent.append(params)
    )
    with Stubber(cf) as cfs, Stubber(ddb) as ddbs:
        cfs.add_client_error(
            "describe_stacks",
            "ValidationError",
            f"Stack with id {STACK} does not exist",
            expected_params={"StackName": STACK},
        )
        _live_responses(ddbs)
        ddbs.add_client_error("get_resource_policy", "PolicyNotFoundException", "no policy")
        cfs.add_response(
            "create_change_set",
            {"Id": CS_ARN, "StackId": STACK_ID},
            {
                "StackName": STACK,
                "ChangeSetName": ANY,
                "ChangeSetType": "IMPORT",
                "ResourcesToImport": [
                    {
                        "ResourceType": "AWS::DynamoDB::Table",
                        "LogicalResourceId": "Table",
                        "ResourceIdentifier": {"TableName": TABLE},
                    }
                ],
                "TemplateBody": ANY,
                "Tags": ANY,
            },
        )
        cfs.add_response(
            "describe_change_set", {"Status": "CREATE_COMPLETE"}, {"StackName": STACK, "ChangeSetName": CS_ARN}
        )
        cfs.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
        cfs.add_response("execute_change_set", {}, {"StackName": STACK, "ChangeSetName": CS_ARN})
        event = {
            "StackId": STACK_ID,
            "EventId": "e1",
            "StackName": STACK,
            "LogicalResourceId": "Table",
            "ResourceType": "AWS::DynamoDB::Table",
            "Timestamp": EVENTS_AT,
            "ResourceStatus": "IMPORT_COMPLETE",
        }
        cfs.add_response("describe_stack_events", {"StackEvents": [event]})
        cfs.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": STACK, "StackId": STACK_ID, "CreationTime": NOW, "StackStatus": "IMPORT_COMPLETE"}
                ]
            },
        )
        Deployer(spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb).import_table(data, kms)
        cfs.assert_no_pending_responses()
        ddbs.assert_no_pending_responses()
    text = "\n".join(lines)
    assert f"{STACK}: imported table {TABLE}" in text
    # Imported as it is live (an import changes nothing, and a later update applies only what its template
    # changes): the tags as live, no resource policy; the next deploy adds both, in its change set.
    (body,) = [json.loads(p["TemplateBody"]) for p in sent]
    table = body["Resources"]["Table"]["Properties"]
    assert "ResourcePolicy" not in table
    assert table["Tags"] == [{"Key": "Project", "Value": "CG-Production-Assistant"}]
    assert "the next deploy changes Tags: the project's standard tags added" in text
    assert "the next deploy changes ResourcePolicy: none -> the template's" in text


def test_import_template_holds_the_table_only_and_retains_it(tmp_path: Path) -> None:
    spec, data = _adopted_stack(tmp_path)
    table = data.template_dict["Resources"]["Table"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_import_is_refused_when_the_key_schema_differs(tmp_path: Path) -> None:
    spec, data = _adopted_stack(tmp_path)
    cf, ddb, kms = _clients()
    swapped = {
        **DESCRIBED,
        "KeySchema": [
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "conversation_id", "KeyType": "RANGE"},
        ],
    }
    lines: list[str] = []
    with Stubber(cf) as cfs, Stubber(ddb) as ddbs:
        cfs.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist")
        _live_responses(ddbs, swapped)
        with pytest.raises(Refused, match="KeySchema"):
            Deployer(spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb).import_table(data, kms)
        cfs.assert_no_pending_responses()  # no change set was created


def test_import_is_refused_for_a_stack_that_exists(tmp_path: Path) -> None:
    spec, data = _adopted_stack(tmp_path)
    cf, ddb, kms = _clients()
    for status, holds, expected in (
        ("UPDATE_COMPLETE", True, "holds the table: it is already managed"),
        ("IMPORT_ROLLBACK_COMPLETE", False, "does not hold the table: delete the stack (make destroy ENV=chatbot"),
    ):
        with Stubber(cf) as cfs:
            stack = {"StackName": STACK, "StackId": STACK_ID, "CreationTime": NOW, "StackStatus": status}
            cfs.add_response("describe_stacks", {"Stacks": [stack]})
            held = {"Table": {"Type": "AWS::DynamoDB::Table"}}
            other = {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}
            cfs.add_response("get_template", {"TemplateBody": json.dumps({"Resources": held if holds else other})})
            with pytest.raises(BadInput, match=re.escape(expected)):
                Deployer(spec, cf, out=lambda _: None, dynamodb=ddb).import_table(data, kms)


def test_deploying_over_an_unmanaged_table_is_refused(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CREATE would fail on the existing table and leave a stack in the way: import it instead."""
    seed = {**SEED_001, "create": {**SEED_001["create"], "TableName": "chatbot-unmanaged"}}
    _create(seed)
    args = _adopt_and_synth(tmp_path, seed, "unmanaged", capsys)
    assert cli_main(["deploy", "--env", "unmanaged", *args]) == 3
    assert "table chatbot-unmanaged exists and no stack manages it" in capsys.readouterr().err
    assert boto3.client("cloudformation", region_name="us-east-1").list_stacks()["StackSummaries"] == []


def test_a_changed_index_names_the_field_that_changed() -> None:
    from templates_src.deploy.live import differences

    index = LIVE.values["GlobalSecondaryIndexes"]["user_id-created_at-index"]
    live = Facts(
        {
            **LIVE.values,
            "GlobalSecondaryIndexes": {"user_id-created_at-index": {**index, "ProjectionType": "KEYS_ONLY"}},
        }
    )
    (found,) = differences(LIVE, live)
    assert found.property == "GlobalSecondaryIndexes[user_id-created_at-index].ProjectionType"
    assert (found.template, found.live) == ("ALL", "KEYS_ONLY")


def test_an_import_says_each_differing_setting_as_live_and_refuses_what_it_cannot_say(tmp_path: Path) -> None:
    """A later update applies only what its template changes against the imported one, so the import
    template says what is live, and the next deploy's change set carries each difference."""
    from templates_src.deploy.change_sets import ChangeSets
    from templates_src.deploy.live import Difference
    from templates_src.deploy.takeover import Takeover

    spec, data = _adopted_stack(tmp_path)
    table = data.template_dict["Resources"]["Table"]
    table["Properties"]["TimeToLiveSpecification"] = {"AttributeName": "expiresAt", "Enabled": True}
    table["Properties"]["DeletionProtectionEnabled"] = True
    cf, ddb, _ = _clients()
    takeover = Takeover(spec, ChangeSets(cf, print, lambda _: None), ddb, print)
    found = [
        Difference("PointInTimeRecovery", [True, 35], [False, None]),
        Difference("DeletionProtectionEnabled", True, False),
        Difference("TimeToLiveAttribute", "expiresAt", None),
    ]
    with Stubber(ddb) as stub:
        stub.add_response("get_resource_policy", {"Policy": '{"Version": "2012-10-17", "Statement": []}'})
        imported, later = takeover._as_live("chatbot-data", table, {"TableArn": "arn:t"}, LIVE, found)
    p = imported["Properties"]
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert p["DeletionProtectionEnabled"] is False
    assert "TimeToLiveSpecification" not in p
    assert "ResourcePolicy" in p, "the live table has one: kept"
    assert later[:3] == [
        "PointInTimeRecovery: [False, None] -> [True, 35]",
        "DeletionProtectionEnabled: False -> True",
        "TimeToLiveAttribute: None -> 'expiresAt'",
    ]
    assert table["Properties"]["DeletionProtectionEnabled"] is True, "the built template itself is unchanged"
    with pytest.raises(Refused, match=r"BillingMode differs \(template 'PROVISIONED', live 'PAY_PER_REQUEST'\)"):
        takeover._as_live(
            "chatbot-data",
            table,
            {"TableArn": "arn:t"},
            LIVE,
            [Difference("BillingMode", "PROVISIONED", "PAY_PER_REQUEST")],
        )


@pytest.mark.parametrize(
    ("table", "design"),
    [
        ("PoppAIChatConversations", "popp-ai-chat-conversations"),
        ("cg-chatbot-conversations", "cg-chatbot-conversations"),
        ("ThinkTank_ChatHistory", "think-tank_chat-history"),
        ("chat.history.v2", "chat-history-v2"),
        ("2024-chats", "t-2024-chats"),
    ],
)
def test_a_design_is_named_after_its_table_in_lower_case_words(table: str, design: str) -> None:
    from templates_src.deploy.adopt import design_name_for

    assert design_name_for(table) == design


def test_adopt_writes_what_the_team_created_read_against_the_create_call(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Independent of the reader: every setting seed 002's team gave create-table, update-time-to-live and
    update-continuous-backups, compared with the adopted files (a reader that drops one fails here)."""
    seed = copy.deepcopy(SEED_002)
    seed["create"]["TableName"] = "cmz-conversations-raw"
    _create(seed)
    dirs = _project(tmp_path)
    assert (
        cli_main(["adopt", "--table", "cmz-conversations-raw", "--region", seed["region"], "--env", "raw", *dirs]) == 0
    )
    env = yaml.safe_load((tmp_path / "environments" / "raw.yaml").read_text())
    (design_file,) = (tmp_path / "designs").glob("*.yaml")
    design = yaml.safe_load(design_file.read_text())
    create = seed["create"]
    types = {a["AttributeName"]: a["AttributeType"] for a in create["AttributeDefinitions"]}

    def key(schema: list[dict[str, str]], kind: str) -> dict[str, str] | None:
        names = [k["AttributeName"] for k in schema if k["KeyType"] == kind]
        return {"name": names[0], "type": types[names[0]]} if names else None

    assert design["partition_key"] == key(create["KeySchema"], "HASH")
    assert design["sort_key"] == key(create["KeySchema"], "RANGE")
    assert design["ttl_attribute"] == seed["ttl"]
    adopted = {g["name"]: g for g in design["global_secondary_indexes"]}
    assert sorted(adopted) == sorted(g["IndexName"] for g in create["GlobalSecondaryIndexes"])
    for index in create["GlobalSecondaryIndexes"]:
        got = adopted[index["IndexName"]]
        assert got["partition_key"] == key(index["KeySchema"], "HASH")
        assert got.get("sort_key") == key(index["KeySchema"], "RANGE")
        assert got.get("projection", "ALL") == index["Projection"]["ProjectionType"]
    assert env["table_name"] == create["TableName"]
    assert env["billing"] == {"mode": create["BillingMode"]}
    assert env["stream_view_type"] == create["StreamSpecification"]["StreamViewType"]
    assert env["deletion_protection"] is create["DeletionProtectionEnabled"]
    assert env["encryption"] == "aws_managed"  # SSEType KMS without a key: DynamoDB's AWS managed key
    assert env["point_in_time_recovery"]["enabled"] is seed["pitr"]
    assert env["tags"] == {t["Key"]: t["Value"] for t in create["Tags"]}
    assert env["region"] == seed["region"] and env["account_id"] == ACCOUNT


def test_a_table_this_project_already_manages_is_adopted_with_a_warning_naming_its_environment() -> None:
    tags = {"Design": "cg", "Environment": "chatbot", "ManagedBy": "conversation-table-iac", "Project": "CG"}
    facts = Facts({**LIVE.values, "Tags": tags})
    report = "\n".join(adoption(facts, "us-east-1", ACCOUNT, None).report)
    assert (
        "tags: the table is tagged ManagedBy=conversation-table-iac, Environment=chatbot: if it is still in that "
        "environment's data stack, an import here fails (a resource belongs to one stack); release it there first "
        "(deploy --env chatbot --release-table)"
    ) in report
    # A table of no environment of the project: no such warning.
    assert "ManagedBy=conversation-table-iac" not in "\n".join(adoption(LIVE, "us-east-1", ACCOUNT, None).report)
