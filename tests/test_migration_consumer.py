"""The generated stream consumer: its role may do exactly its job (simulated), and its code, taken from
the built template, writes what `migrate` writes (run against the local endpoint).

moto runs a Lambda function only in Docker, so the local rehearsal (test_migrate.py) runs the catch-up
in-process; the function's code is run here instead, as Lambda would call it, with a stream event.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from templates_src.deploy import migrate
from templates_src.errors import AwsFailure, BadInput
from templates_src.spec.loader import load_spec

from .conftest import MotoServers, local_endpoint, read_json
from .iam_support import Arns, resolve, simulate
from .migration_designs import NEW_TABLE, OLD_TABLE, migration_project

ACCOUNT, REGION = "111111111111", "us-east-1"
BUCKET = "chat-platform-exports-dev"
EXPORT = "migrations/conversations-dev/v2/export"  # where migrate exports the old table (written out)
MACHINE = "conversations-dev-migration-v2-backfill"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return migration_project(tmp_path_factory.mktemp("consumer"))


def _consumer(project: tuple[Path, Path, Path]) -> dict[str, Any]:
    return read_json(project[2] / "dev" / "migration.template.json")


def test_the_consumer_role_reads_the_old_stream_and_writes_the_new_table_only(
    project: tuple[Path, Path, Path],
) -> None:
    environments, designs, _ = project
    spec = load_spec(environments / "dev.yaml", designs)
    template = _consumer(project)
    role = template["Resources"]["ConsumerRole"]["Properties"]
    (policy,) = role["Policies"]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dead-letters"
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:consumer:*"
    # dev's old table has no customer managed key: the key statement is left out (Fn::If HasSourceKey).
    (conditional,) = [s for s in policy["PolicyDocument"]["Statement"] if "Fn::If" in s]
    assert conditional["Fn::If"][0] == "HasSourceKey" and conditional["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert conditional["Fn::If"][1]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert conditional["Fn::If"][1]["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}}
    }
    unconditional = [s for s in policy["PolicyDocument"]["Statement"] if "Fn::If" not in s]
    document = resolve(
        {**policy["PolicyDocument"], "Statement": unconditional},
        spec,
        Arns.for_spec(spec),
        params={"SourceTableName": OLD_TABLE, "SourceKeyArn": "", "ExportBucket": BUCKET},
        attributes={"ConsumerDeadLetters.Arn": queue, "ConsumerLogs.Arn": logs},
    )
    old, new = (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{t}" for t in (OLD_TABLE, NEW_TABLE))
    cases = [
        ("dynamodb:GetRecords", f"{old}/stream/2026-01-01T00:00:00.000", "Allowed"),
        ("dynamodb:GetShardIterator", f"{old}/stream/2026-01-01T00:00:00.000", "Allowed"),
        ("dynamodb:ListStreams", "*", "Allowed"),
        ("dynamodb:PutItem", new, "Allowed"),
        ("dynamodb:DeleteItem", new, "Allowed"),
        ("sqs:SendMessage", queue, "Allowed"),
        ("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:consumer:log-stream:s", "Allowed"),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/{EXPORT}/AWSDynamoDB/0001-a/data/x.json.gz", "Allowed"),
        (
            "s3:GetObject",
            f"arn:aws:s3:::{BUCKET}/migrations/conversations-dev/v2/access-before.json",
            "ImplicitlyDenied",
        ),
        ("s3:GetObject", f"arn:aws:s3:::other-bucket/{EXPORT}/x.json.gz", "ImplicitlyDenied"),
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/{EXPORT}/x.json.gz", "ImplicitlyDenied"),
        ("dynamodb:PutItem", old, "ImplicitlyDenied"),
        ("dynamodb:GetRecords", f"{new}/stream/2026-01-01T00:00:00.000", "ImplicitlyDenied"),
        ("dynamodb:Scan", new, "ImplicitlyDenied"),
        ("dynamodb:UpdateItem", new, "ImplicitlyDenied"),
        ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:other", "ImplicitlyDenied"),
    ]
    requests = [
        {
            "policy": document,
            "principal": f"arn:aws:iam::{ACCOUNT}:role/conversations/consumer",
            "action": action,
            "resource": resource,
            "accountId": ACCOUNT,
            "context": {},
        }
        for action, resource, _ in cases
    ]
    assert [r["decision"] for r in simulate(requests)] == [want for *_, want in cases]
    # Only Lambda (of this account) assumes it; it carries the environment's boundary and path.
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert role["PermissionsBoundary"] == "arn:aws:iam::111111111111:policy/chat-platform-boundary"
    assert role["Path"] == "/conversations/"


def _alarms(template: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    return {
        k: (r["Properties"]["MetricName"], r["Properties"].get("AlarmActions"))
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def test_the_consumer_starts_off_and_sends_failed_batches_to_its_queue(project: tuple[Path, Path, Path]) -> None:
    template = _consumer(project)
    mapping = template["Resources"]["ConsumerEvents"]["Properties"]
    assert mapping["Enabled"] == {"Fn::If": ["ConsumerOn", True, False]}
    assert template["Parameters"]["ConsumerEnabled"]["Default"] == "false"
    assert mapping["EventSourceArn"] == {"Ref": "SourceStreamArn"}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["ConsumerDeadLetters", "Arn"]}
    # The queue takes requests over TLS only.
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SQS::QueuePolicy"]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    # dev has no alarm topic: no alarm that would alert nobody. prod's alert its on-call topic.
    assert _alarms(template) == {}
    topic = [{"Ref": "AlarmTopicArn"}]
    assert _alarms(read_json(project[2] / "prod" / "migration.template.json")) == {
        "ConsumerLagAlarm": ("IteratorAge", topic),
        "ConsumerErrorAlarm": ("Errors", topic),
        "ConsumerDeadLetterAlarm": ("ApproximateNumberOfMessagesVisible", topic),
    }


def test_the_backfill_maps_each_export_file_to_the_function_and_tolerates_no_failure(
    project: tuple[Path, Path, Path],
) -> None:
    machine = _consumer(project)["Resources"]["Backfill"]["Properties"]
    assert machine["StateMachineName"] == MACHINE and machine["StateMachineType"] == "STANDARD"
    assert machine["DefinitionSubstitutions"] == {
        "Consumer": {"Fn::GetAtt": ["Consumer", "Arn"]},
        "ExportBucket": {"Ref": "ExportBucket"},
    }
    (state,) = machine["Definition"]["States"].values()
    assert state["Type"] == "Map"
    assert state["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": "${ExportBucket}", "Prefix.$": "$.prefix"},
    }
    assert state["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    (task,) = state["ItemProcessor"]["States"].values()
    assert task["Resource"] == "arn:aws:states:::lambda:invoke"
    assert task["Parameters"] == {
        "FunctionName": "${Consumer}",
        "Payload": {"backfill": {"bucket": "${ExportBucket}", "key.$": "$.Key"}},
    }
    assert state["ToleratedFailurePercentage"] == 0
    assert state["MaxConcurrency"] == 10
    assert state["ResultWriter"]["Parameters"] == {
        "Bucket": "${ExportBucket}",
        "Prefix": "migrations/conversations-dev/v2/backfill-results",
    }


def test_the_backfill_role_runs_the_map_and_nothing_else(project: tuple[Path, Path, Path]) -> None:
    environments, designs, _ = project
    spec = load_spec(environments / "dev.yaml", designs)
    role = _consumer(project)["Resources"]["BackfillRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (policy,) = role["Policies"]
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:conversations-dev-migration-v2-Consumer-X"
    document = resolve(
        policy["PolicyDocument"],
        spec,
        Arns.for_spec(spec),
        params={"ExportBucket": BUCKET},
        attributes={"Consumer.Arn": function},
    )
    states = f"arn:aws:states:{REGION}:{ACCOUNT}"
    results = f"arn:aws:s3:::{BUCKET}/migrations/conversations-dev/v2/backfill-results"
    cases = [
        ("lambda:InvokeFunction", function, {}, "Allowed"),
        ("lambda:InvokeFunction", f"{function}:1", {}, "Allowed"),
        ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other", {}, "ImplicitlyDenied"),
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": f"{EXPORT}/AWSDynamoDB/0001-a/data/"}, "Allowed"),
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": "migrations/other/"}, "ImplicitlyDenied"),
        ("s3:PutObject", f"{results}/0001/manifest.json", {}, "Allowed"),
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/{EXPORT}/x.json.gz", {}, "ImplicitlyDenied"),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/{EXPORT}/x.json.gz", {}, "ImplicitlyDenied"),
        ("states:StartExecution", f"{states}:stateMachine:{MACHINE}", {}, "Allowed"),
        ("states:StartExecution", f"{states}:stateMachine:other", {}, "ImplicitlyDenied"),
        ("states:DescribeExecution", f"{states}:execution:{MACHINE}/map:0001", {}, "Allowed"),
        ("states:StopExecution", f"{states}:execution:{MACHINE}:backfill-1", {}, "Allowed"),
        ("states:DescribeExecution", f"{states}:execution:other:x", {}, "ImplicitlyDenied"),
        ("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{NEW_TABLE}", {}, "ImplicitlyDenied"),
    ]
    requests = [
        {
            "policy": document,
            "principal": f"arn:aws:iam::{ACCOUNT}:role/conversations/backfill",
            "action": action,
            "resource": resource,
            "accountId": ACCOUNT,
            "context": context,
        }
        for action, resource, context, _ in cases
    ]
    assert [r["decision"] for r in simulate(requests)] == [want for *_, want in cases]
    assert role["PermissionsBoundary"] == "arn:aws:iam::111111111111:policy/chat-platform-boundary"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers) -> Iterator[str]:
    with local_endpoint(monkeypatch, moto_servers, ACCOUNT) as url:
        yield url


def _new_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=NEW_TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _handler_from_template(
    project: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch, queue: str
) -> dict[str, Any]:
    """The function's index.py, taken from the built template, with the environment Lambda would give it."""
    function = _consumer(project)["Resources"]["Consumer"]["Properties"]
    variables = function["Environment"]["Variables"]
    monkeypatch.setenv("TABLE", NEW_TABLE)
    monkeypatch.setenv("TRANSFORM", variables["TRANSFORM"])
    monkeypatch.setenv("DEAD_LETTERS", queue)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    assert function["Handler"] == "index.handler" and function["Runtime"] == "python3.12"
    assert (function["Timeout"], function["MemorySize"]) == (900, 512)
    index: dict[str, Any] = {"__name__": "index"}
    exec(compile(function["Code"]["ZipFile"], "index.py", "exec"), index)  # noqa: S102 - the template's own code
    return index


def _image(user: str, sk: str, title: str) -> dict[str, Any]:
    return {"userId": {"S": user}, "sk": {"S": sk}, "title": {"S": title}}


def test_the_consumers_code_from_the_template_applies_a_stream_batch(
    project: tuple[Path, Path, Path], endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    _new_table(dynamodb)
    queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="dead-letters")["QueueUrl"]
    index = _handler_from_template(project, monkeypatch, queue)
    event = {
        "Records": [
            {"eventName": "INSERT", "dynamodb": {"NewImage": _image("u-1", "CONV#a", "one")}},
            {"eventName": "INSERT", "dynamodb": {"NewImage": _image("u-1", "CONV#b", "two")}},
            {
                "eventName": "MODIFY",
                "dynamodb": {"OldImage": _image("u-1", "CONV#a", "one"), "NewImage": _image("u-1", "CONV#a", "uno")},
            },
            {"eventName": "REMOVE", "dynamodb": {"OldImage": _image("u-1", "CONV#b", "two")}},
            # No userId: the key template "USER#{userId}" cannot be filled; to the dead-letter queue, named.
            {"eventName": "INSERT", "dynamodb": {"NewImage": {"sk": {"S": "CONV#c"}}}},
        ]
    }
    assert index["handler"](event, None) == {"records": 5}
    items = dynamodb.scan(TableName=NEW_TABLE)["Items"]
    assert items == [{"pk": {"S": "USER#u-1"}, "userId": {"S": "u-1"}, "sk": {"S": "CONV#a"}, "title": {"S": "uno"}}]
    (message,) = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=queue)["Messages"]
    body = json.loads(message["Body"])
    assert body["reason"] == "INSERT: attribute 'userId' (in the key template of 'pk') is missing"
    assert body["item"]["NewImage"] == {"sk": {"S": "CONV#c"}}


def test_the_consumers_code_from_the_template_loads_an_export_file(
    project: tuple[Path, Path, Path], endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The managed backfill's call: {"backfill": {"bucket", "key"}}, one export data file (DYNAMODB_JSON, gzip)."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    _new_table(dynamodb)
    # Already in the new table (the catch-up wrote it, newer): the backfill must not replace it.
    dynamodb.put_item(
        TableName=NEW_TABLE,
        Item={"pk": {"S": "USER#u-1"}, "userId": {"S": "u-1"}, "sk": {"S": "CONV#a"}, "title": {"S": "newer"}},
    )
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    key = f"{EXPORT}/AWSDynamoDB/0001-a/data/part-0.json.gz"
    lines = [_image("u-1", "CONV#a", "older"), *(_image(f"u-{i}", f"CONV#{i}", f"t{i}") for i in range(2, 40))]
    lines.append({"sk": {"S": "CONV#x"}})  # no userId: to the dead-letter queue, named
    body = "".join(json.dumps({"Item": item}) + "\n" for item in lines)
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(body.encode()))
    queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="dead-letters")["QueueUrl"]
    index = _handler_from_template(project, monkeypatch, queue)

    result = index["handler"]({"backfill": {"bucket": BUCKET, "key": key}}, None)

    assert result == {"key": key, "written": 38, "skipped": 1}
    # A pooled connection for each of the 16 writes in flight (botocore's default pool keeps 10).
    assert index["_writer"].client.meta.config.max_pool_connections == 16
    items = {i["pk"]["S"] + " " + i["sk"]["S"]: i for i in dynamodb.scan(TableName=NEW_TABLE)["Items"]}
    assert len(items) == 39
    assert items["USER#u-1 CONV#a"]["title"] == {"S": "newer"}
    assert items["USER#u-7 CONV#7"] == {
        "pk": {"S": "USER#u-7"},
        "userId": {"S": "u-7"},
        "sk": {"S": "CONV#7"},
        "title": {"S": "t7"},
    }
    (message,) = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=queue)["Messages"]
    assert json.loads(message["Body"]) == {
        "reason": "attribute 'userId' (in the key template of 'pk') is missing",
        "item": {"sk": {"S": "CONV#x"}},
    }


def _stubbed(service: str) -> Any:
    return boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


def _resource_response(logical_id: str, physical_id: str) -> dict[str, Any]:
    return {
        "StackResourceDetail": {
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical_id,
            "ResourceType": "AWS::StepFunctions::StateMachine",
            "LastUpdatedTimestamp": datetime(2026, 12, 7, tzinfo=timezone.utc),
            "ResourceStatus": "CREATE_COMPLETE",
        }
    }


EXPORT_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{OLD_TABLE}/export/01733-abc"
MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{MACHINE}"


def _exported(times: int) -> Any:
    """A DynamoDB client whose export (EXPORT_ARN) is COMPLETED, asked that many times."""
    dynamodb = _stubbed("dynamodb")
    stub = Stubber(dynamodb)
    for _ in range(times):
        stub.add_response(
            "describe_export",
            {"ExportDescription": {"ExportArn": EXPORT_ARN, "ExportStatus": "COMPLETED"}},
            {"ExportArn": EXPORT_ARN},
        )
    stub.activate()
    return dynamodb


QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/conversations-dev-migration-v2-ConsumerDeadLetters"


def _queue(cf_stub: Stubber, messages: int) -> Any:
    """The dead-letter queue holding that many messages, found through the stack (cf_stub answers where)."""
    cf_stub.add_response(
        "describe_stack_resource",
        _resource_response("ConsumerDeadLetters", QUEUE_URL),
        {"StackName": "conversations-dev-migration-v2", "LogicalResourceId": "ConsumerDeadLetters"},
    )
    sqs = _stubbed("sqs")
    stub = Stubber(sqs)
    stub.add_response(
        "get_queue_attributes",
        {"Attributes": {"ApproximateNumberOfMessages": str(messages)}},
        {"QueueUrl": QUEUE_URL, "AttributeNames": ["ApproximateNumberOfMessages"]},
    )
    stub.activate()
    return sqs


def _backfilling_migration(cf: Any, states: Any, dynamodb: Any, sqs: Any = None) -> tuple[migrate.Migration, list[str]]:
    """A Migration on AWS with its export done: the parts the managed backfill uses; what it saves."""
    migration = object.__new__(migrate.Migration)
    migration.dynamodb = dynamodb
    said: list[str] = []
    migration.cf, migration.out, migration.sleep = cf, said.append, lambda seconds: None
    migration.clients = lambda service: {"stepfunctions": states, "sqs": sqs}[service]  # type: ignore[assignment]
    migration.spec = type("S", (), {"env_name": "dev", "design": type("D", (), {"name": "conversations"})()})()
    migration.consumer = type("C", (), {"name": "conversations-dev-migration-v2"})()  # type: ignore[assignment]
    migration.state = migrate.State(export_arn=EXPORT_ARN, export_prefix=EXPORT, phase="capture")
    migration.config = {"keys": {"pk": "USER#{userId}", "sk": "{sk}"}}
    migration.dead = migrate.DeadLetters(Path("unused.jsonl"))
    saved: list[str] = []
    migration.save = lambda: saved.append(json.dumps(dataclasses.asdict(migration.state)))  # type: ignore[method-assign]
    return migration, saved


def test_the_backfill_runs_on_aws_and_a_failed_one_is_started_again() -> None:
    cf, states = _stubbed("cloudformation"), _stubbed("stepfunctions")
    first = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:backfill-01733-abc-1"
    second = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:backfill-01733-abc-2"
    started = datetime(2026, 12, 7, tzinfo=timezone.utc)
    with Stubber(cf) as stacks, Stubber(states) as machine:
        for name, arn, ends in (
            ("backfill-01733-abc-1", first, "FAILED"),
            ("backfill-01733-abc-2", second, "SUCCEEDED"),
        ):
            stacks.add_response(
                "describe_stack_resource",
                _resource_response("Backfill", MACHINE_ARN),
                {"StackName": "conversations-dev-migration-v2", "LogicalResourceId": "Backfill"},
            )
            machine.add_response(
                "start_execution",
                {"executionArn": arn, "startDate": started},
                {
                    "stateMachineArn": MACHINE_ARN,
                    "name": name,
                    "input": json.dumps({"prefix": f"{EXPORT}/AWSDynamoDB/01733-abc/data/"}),
                },
            )
            for status in ("RUNNING", ends):
                described = {
                    "executionArn": arn,
                    "stateMachineArn": MACHINE_ARN,
                    "status": status,
                    "startDate": started,
                }
                if status == "FAILED":
                    described |= {"error": "States.ExceedToleratedFailureThreshold", "cause": "1 file failed"}
                machine.add_response("describe_execution", described, {"executionArn": arn})
        migration, saved = _backfilling_migration(cf, states, _exported(2), _queue(stacks, 0))

        with pytest.raises(AwsFailure) as failed:
            migration.backfill()
        assert str(failed.value) == (
            f"migrate: backfill: {first} ended FAILED: States.ExceedToleratedFailureThreshold 1 file failed; fix the "
            "cause (the function's log group, its dead-letter queue) and run migrate again"
        )
        assert json.loads(saved[-1])["backfill_execution"] == "" and migration.state.phase == "capture"

        migration.backfill()  # the next run: a second attempt, waited for
        machine.assert_no_pending_responses()
    assert migration.state.phase == "backfill"
    assert json.loads(saved[-1])["backfill_execution"] == second
    assert json.loads(saved[-1])["backfill_attempts"] == 2


def test_a_backfill_started_by_a_killed_run_is_waited_for_not_started_twice() -> None:
    cf, states = _stubbed("cloudformation"), _stubbed("stepfunctions")
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:backfill-01733-abc-1"
    started = datetime(2026, 12, 7, tzinfo=timezone.utc)
    with Stubber(cf) as stacks, Stubber(states) as machine:
        stacks.add_response("describe_stack_resource", _resource_response("Backfill", MACHINE_ARN))
        # The killed run started it and it has ended since: its name is taken.
        machine.add_client_error("start_execution", "ExecutionAlreadyExists", http_status_code=400)
        machine.add_response(
            "describe_execution",
            {"executionArn": arn, "stateMachineArn": MACHINE_ARN, "status": "SUCCEEDED", "startDate": started},
            {"executionArn": arn},
        )
        migration, saved = _backfilling_migration(cf, states, _exported(1), _queue(stacks, 0))
        migration.backfill()
        machine.assert_no_pending_responses()
    assert migration.state.phase == "backfill"
    assert json.loads(saved[-1])["backfill_execution"] == arn


def test_items_the_managed_backfill_dead_lettered_stop_it_before_the_catch_up() -> None:
    cf, states = _stubbed("cloudformation"), _stubbed("stepfunctions")
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:backfill-01733-abc-1"
    started = datetime(2026, 12, 7, tzinfo=timezone.utc)
    with Stubber(cf) as stacks, Stubber(states) as machine:
        stacks.add_response("describe_stack_resource", _resource_response("Backfill", MACHINE_ARN))
        machine.add_response("start_execution", {"executionArn": arn, "startDate": started})
        machine.add_response(
            "describe_execution",
            {"executionArn": arn, "stateMachineArn": MACHINE_ARN, "status": "SUCCEEDED", "startDate": started},
        )
        migration, saved = _backfilling_migration(cf, states, _exported(1), _queue(stacks, 7))
        migration.state.old_table = OLD_TABLE
        with pytest.raises(BadInput) as stopped:
            migration.backfill()
    assert str(stopped.value) == (
        f"design conversations: migration: 7 item(s) of {OLD_TABLE} could not be transformed or written; they are "
        "in the migration stack's dead-letter queue. Fix the design's migration: (or the items) and run `make "
        "migrate ENV=dev` again: nothing was frozen"
    )
    assert migration.state.phase == "capture"
    assert json.loads(saved[-1])["backfill_execution"] == ""  # the next run loads every file again
    # The queue keeps them for inspection: the next run's check counts only new ones.
    assert json.loads(saved[-1])["queue_reported"] == 7
    cf = _stubbed("cloudformation")
    with Stubber(cf) as stacks:
        migration.cf = cf
        sqs = _queue(stacks, 9)
        migration.clients = lambda service: {"sqs": sqs}[service]  # type: ignore[assignment]
        assert migration._queued_dead_letters() == 2


def _waiting_migration(cloudwatch: Any, cf: Any) -> migrate.Migration:
    """A Migration on AWS past its set-up: the parts the consumer's waits use."""
    migration = object.__new__(migrate.Migration)
    migration.cloudwatch, migration.cf, migration.out = cloudwatch, cf, lambda line: None
    migration.sleep = lambda seconds: None
    migration.consumer = type("C", (), {"name": "conversations-dev-migration-v2"})()  # type: ignore[assignment]
    return migration


def test_catch_up_waits_until_the_consumer_is_less_than_a_minute_behind() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    cf = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    now = datetime(2026, 12, 7, tzinfo=timezone.utc)
    with Stubber(cloudwatch) as watch, Stubber(cf) as stacks:
        for ages in ([], [900_000.0, 400_000.0], [120_000.0, 45_000.0]):
            stacks.add_response(
                "describe_stack_resource",
                {
                    "StackResourceDetail": {
                        "LogicalResourceId": "Consumer",
                        "PhysicalResourceId": "consumer-fn",
                        "ResourceType": "AWS::Lambda::Function",
                        "LastUpdatedTimestamp": now,
                        "ResourceStatus": "UPDATE_COMPLETE",
                    }
                },
                {"StackName": "conversations-dev-migration-v2", "LogicalResourceId": "Consumer"},
            )
            watch.add_response(
                "get_metric_statistics",
                {"Datapoints": [{"Timestamp": now.replace(minute=i), "Maximum": a} for i, a in enumerate(ages)]},
            )
        assert _waiting_migration(cloudwatch, cf)._consumer_lag(until_below_ms=60_000) == 45_000.0
        watch.assert_no_pending_responses()


def test_once_the_consumer_reads_the_stream_a_later_run_checks_no_age() -> None:
    """On AWS the consumer reads from its trim horizon once enabled: the stream's last read by this machine
    (capture) stops mattering, and a catch-up run again a day later is not refused for it."""
    saved: list[dict[str, Any]] = []
    events: list[str] = []
    migration = _waiting_migration(cloudwatch=None, cf=None)
    migration.state = migrate.State(phase="backfill", old_table=OLD_TABLE, stream_read_at="2026-12-07T08:00:00+00:00")
    migration.now = lambda: datetime(2026, 12, 7, 10, tzinfo=timezone.utc)
    migration.save = lambda: saved.append(dataclasses.asdict(migration.state))  # type: ignore[method-assign]
    migration.dynamodb = type(
        "D", (), {"describe_table": lambda self, TableName: {"Table": {"TableName": TableName}}}
    )()
    migration._deploy_consumer = lambda described, enabled: events.append(f"consumer enabled={enabled}")  # type: ignore[method-assign]
    migration._consumer_lag = lambda until_below_ms: events.append("lag") or 1000.0  # type: ignore[method-assign]
    migration.catch_up()
    assert events == ["consumer enabled=True", "lag"]
    assert [s["stream_read_at"] for s in saved] == ["", ""] and saved[-1]["phase"] == "catch-up"
    migration.now = lambda: datetime(2026, 12, 9, tzinfo=timezone.utc)
    migration.catch_up()  # run again later: the consumer has been reading since
    assert events[-2:] == ["consumer enabled=True", "lag"]


def test_the_backfills_integrations_are_named_in_the_stacks_partition() -> None:
    from templates_src.stacks.migration_stack import backfill_definition

    text = json.dumps(backfill_definition("bucket", "results/", "aws-cn"))
    assert sorted(set(re.findall(r"arn:[a-z-]+:states:::[A-Za-z0-9:]+", text))) == [
        "arn:aws-cn:states:::lambda:invoke",
        "arn:aws-cn:states:::s3:listObjectsV2",
        "arn:aws-cn:states:::s3:putObject",
    ]
