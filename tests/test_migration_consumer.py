"""The generated stream consumer: its role may do exactly its job (simulated), and its code, taken from
the built template, writes what `migrate` writes (run against the local endpoint).

moto runs a Lambda function only in Docker, so the local rehearsal (test_migrate.py) runs the catch-up
in-process; the function's code is run here instead, as Lambda would call it, with a stream event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from templates_src.deploy import migrate
from templates_src.spec.loader import load_spec

from .conftest import MotoServers, local_endpoint, read_json
from .iam_support import Arns, resolve, simulate
from .migration_designs import NEW_TABLE, OLD_TABLE, migration_project

ACCOUNT, REGION = "111111111111", "us-east-1"


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
        params={"SourceTableName": OLD_TABLE, "SourceKeyArn": ""},
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


def test_the_consumer_starts_off_and_sends_failed_batches_to_its_queue(project: tuple[Path, Path, Path]) -> None:
    template = _consumer(project)
    mapping = template["Resources"]["ConsumerEvents"]["Properties"]
    assert mapping["Enabled"] == {"Fn::If": ["ConsumerOn", True, False]}
    assert template["Parameters"]["ConsumerEnabled"]["Default"] == "false"
    assert mapping["EventSourceArn"] == {"Ref": "SourceStreamArn"}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["ConsumerDeadLetters", "Arn"]}
    alarms = {
        k: r["Properties"]["MetricName"]
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert alarms == {
        "ConsumerLagAlarm": "IteratorAge",
        "ConsumerErrorAlarm": "Errors",
        "ConsumerDeadLetterAlarm": "ApproximateNumberOfMessagesVisible",
    }


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers) -> Iterator[str]:
    with local_endpoint(monkeypatch, moto_servers, ACCOUNT) as url:
        yield url


def _image(user: str, sk: str, title: str) -> dict[str, Any]:
    return {"userId": {"S": user}, "sk": {"S": sk}, "title": {"S": title}}


def test_the_consumers_code_from_the_template_applies_a_stream_batch(
    project: tuple[Path, Path, Path], endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=NEW_TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="dead-letters")["QueueUrl"]
    function = _consumer(project)["Resources"]["Consumer"]["Properties"]
    variables = function["Environment"]["Variables"]
    monkeypatch.setenv("TABLE", NEW_TABLE)
    monkeypatch.setenv("TRANSFORM", variables["TRANSFORM"])
    monkeypatch.setenv("DEAD_LETTERS", queue)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    assert function["Handler"] == "index.handler" and function["Runtime"] == "python3.12"
    index: dict[str, Any] = {"__name__": "index"}
    exec(compile(function["Code"]["ZipFile"], "index.py", "exec"), index)  # noqa: S102 - the template's own code
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
