"""adopt --traffic: access patterns, roles and a traffic profile from CloudTrail data-event logs.

The fixture logs follow CloudTrail's documented record format (the DynamoDB Developer Guide's
understanding-ddb-log-entries: eventSource, eventName, userIdentity with the assumed role's session
issuer, requestParameters with the key's attribute names and the expressions; non-key values not
logged), written here in two files, one gzipped: over ten days two roles call seed 002's table with
three distinct operations (PutItem and a Query on SessionIndex by the backend, GetItem by support),
support also Scans, another table's calls and a failed call are in the same files. Every expected
value is written out.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.cli import main as cli_main

from .conftest import MotoServers, local_endpoint
from .iam_support import simulate
from .test_adopt import ACCOUNT, SEED_002, _create, _project

REGION = SEED_002["region"]
TABLE = SEED_002["create"]["TableName"]
BACKEND = f"arn:aws:iam::{ACCOUNT}:role/chat-backend"
SUPPORT = f"arn:aws:iam::{ACCOUNT}:role/support-analytics"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers) -> Iterator[str]:
    with local_endpoint(monkeypatch, moto_servers, ACCOUNT) as url:
        yield url


def _record(role: str, event: str, day: int, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:session",
            "arn": role.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + "/session",
            "accountId": ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role, "accountId": ACCOUNT}},
        },
        "eventTime": f"2026-11-{day:02}T12:00:00Z",
        "eventSource": "dynamodb.amazonaws.com",
        "eventName": event,
        "awsRegion": REGION,
        "requestParameters": params,
        "readOnly": event in ("GetItem", "Query", "Scan"),
        "resources": [
            {
                "accountId": ACCOUNT,
                "type": "AWS::DynamoDB::Table",
                "ARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}",
            }
        ],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "eventCategory": "Data",
        **extra,
    }


def _logs(folder: Path) -> Path:
    key = {"userId": "student_001", "sessionIdTimestamp": "session_001#2026-11-01T12:00:00Z"}
    put = {"tableName": TABLE, "key": key, "item": ["userId", "sessionIdTimestamp", "content", "ttl"]}
    query = {
        "tableName": TABLE,
        "indexName": "SessionIndex",
        "keyConditionExpression": "#s = :s",
        "expressionAttributeNames": {"#s": "sessionId"},
        "projectionExpression": "content, #t",
        "limit": 20,
    }
    query["expressionAttributeNames"]["#t"] = "timestamp"
    get = {"tableName": TABLE, "key": key, "projectionExpression": "content"}
    first = [_record(BACKEND, "PutItem", 1 + i % 10, put) for i in range(20)]
    first += [_record(SUPPORT, "GetItem", 1, get), _record(SUPPORT, "Scan", 2, {"tableName": TABLE})]
    first += [_record(BACKEND, "PutItem", 3, {**put, "tableName": "other-table"})]
    first += [_record(BACKEND, "PutItem", 4, put, errorCode="ConditionalCheckFailedException")]
    second = [_record(BACKEND, "Query", 2 + i % 5, query) for i in range(10)]
    second += [_record(SUPPORT, "GetItem", 11, get) for _ in range(4)]
    folder.mkdir()
    (folder / "2026" / "11").mkdir(parents=True)
    (folder / "2026" / "11" / "a.json").write_text(json.dumps({"Records": first}))
    (folder / "2026" / "11" / "b.json.gz").write_bytes(gzip.compress(json.dumps({"Records": second}).encode()))
    (folder / "digest.txt").write_text("not a log")  # anything else is skipped
    return folder


def test_adopt_proposes_the_observed_patterns_roles_and_traffic(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(SEED_002)
    dirs = _project(tmp_path)
    logs = _logs(tmp_path / "trail")
    args = ["adopt", "--table", TABLE, "--region", REGION, "--env", "cmz", "--traffic", str(logs), *dirs]
    assert cli_main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "access patterns: 3 observed in 2 CloudTrail file(s), 2026-11-01 to 2026-11-11" in out
    assert f"not a pattern: Scan by {SUPPORT} (1 call(s))" in out
    design = yaml.safe_load((tmp_path / "designs" / "cmz-conversations.yaml").read_text())
    window = "observed in CloudTrail, 2026-11-01 to 2026-11-11"
    assert design["access_patterns"] == [
        {
            "name": "get-item",
            "description": f"{window}: 5 call(s) by {SUPPORT}",
            "operation": "GetItem",
            "key_condition": "userId = :userId AND sessionIdTimestamp = :sessionIdTimestamp",
            "roles": ["reader"],
            "attributes": ["content"],
        },
        {
            "name": "put-item",
            "description": f"{window}: 20 call(s) by {BACKEND}",
            "operation": "PutItem",
            "key_condition": "userId = :userId AND sessionIdTimestamp = :sessionIdTimestamp",
            "roles": ["app"],
            "attributes": ["content", "ttl"],
        },
        {
            "name": "query-sessionindex",
            "description": f"{window}: 10 call(s) by {BACKEND}",
            "operation": "Query",
            "index": "SessionIndex",
            "key_condition": "sessionId = :s",
            "roles": ["app"],
            "attributes": ["content", "timestamp"],
        },
    ]
    env = yaml.safe_load((tmp_path / "environments" / "cmz.yaml").read_text())
    assert env["access"] == {"roles": {"app": {"trusted": [BACKEND]}, "reader": {"trusted": [SUPPORT]}}}
    # 10 days observed: a month is 3 times that.
    assert {n: p["per_month"] for n, p in env["traffic"]["patterns"].items()} == {
        "get-item": 15,
        "put-item": 60,
        "query-sessionindex": 30,
    }

    # The roles grant exactly those calls (the IAM simulator), and make cost prices the volumes.
    assert cli_main(["synth", *dirs, "--out", str(tmp_path / "build")]) == 0
    # The access report draws them, each marked as observed: a dashed stadium with dashed edges.
    report = (tmp_path / "build" / "cmz" / "access-report.md").read_text()
    keyed = "userId = :userId AND sessionIdTimestamp = :sessionIdTimestamp"
    for line in [
        f'        p1(["get-item<br/>GetItem<br/>{keyed}<br/>observed in traffic"])',
        f'        p2(["put-item<br/>PutItem<br/>{keyed}<br/>observed in traffic"])',
        '        p3(["query-sessionindex<br/>Query on SessionIndex<br/>sessionId = :s<br/>observed in traffic"])',
        "    role_reader -.-> p1",
        "    p1 -.-> table",
        "    role_app -.-> p2",
        "    role_app -.-> p3",
        "    p3 -.-> gsi1",
        "    class p1,p2,p3 observed",
    ]:
        assert line in report.splitlines(), line
    access = json.loads((tmp_path / "build" / "cmz" / "access.template.json").read_text())
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
    cases = [
        ("AppRole", "dynamodb:PutItem", table, "Allowed"),
        ("AppRole", "dynamodb:Query", f"{table}/index/SessionIndex", "Allowed"),
        ("AppRole", "dynamodb:DeleteItem", table, "ImplicitlyDenied"),
        ("AppRole", "dynamodb:Scan", table, "ImplicitlyDenied"),
        ("ReaderRole", "dynamodb:GetItem", table, "Allowed"),
        ("ReaderRole", "dynamodb:PutItem", table, "ImplicitlyDenied"),
        ("ReaderRole", "dynamodb:Query", f"{table}/index/SessionIndex", "ImplicitlyDenied"),
    ]
    requests = []
    for role, action, resource, _ in cases:
        (policy,) = access["Resources"][role]["Properties"]["Policies"]
        document = _resolved(policy["PolicyDocument"], table)
        principal = f"arn:aws:iam::{ACCOUNT}:role/{role}"
        requests.append(
            {
                "policy": document,
                "principal": principal,
                "action": action,
                "resource": resource,
                "accountId": ACCOUNT,
                "context": {},
            }
        )
    assert [r["decision"] for r in simulate(requests)] == [want for *_, want in cases]
    capsys.readouterr()
    assert cli_main(["cost", "--env", "cmz", *dirs, "--format", "json"]) == 0
    lines = json.loads(capsys.readouterr().out)["lines"]
    requests_priced = {line["name"]: (line["quantity"], line["unit"]) for line in lines if line["kind"] == "requests"}
    assert requests_priced == {"get-item": (15, "RRU"), "put-item": (60, "WRU"), "query-sessionindex": (30, "RRU")}


def _resolved(node: Any, table: str) -> Any:
    """The access template's table ARN (an import of the data stack's export) as its value."""
    if isinstance(node, dict):
        if set(node) == {"Fn::ImportValue"}:
            return table
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], list):
            text, values = node["Fn::Sub"]
            return text.replace("${TableArn}", table) if "TableArn" in values else text
        return {k: _resolved(v, table) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolved(v, table) for v in node]
    return node


def test_an_update_expression_names_its_attributes_and_a_transaction_its_item_actions(tmp_path: Path) -> None:
    from templates_src.deploy.traffic_logs import Shape, read_logs

    update = {
        "tableName": TABLE,
        "key": {"userId": "u", "sessionIdTimestamp": "s"},
        "updateExpression": "SET #c = list_append(#c, :m), updatedAt = if_not_exists(updatedAt, :now) REMOVE draft",
        "conditionExpression": "attribute_exists(userId)",
        "expressionAttributeNames": {"#c": "content"},
    }
    transact = {
        "transactItems": [
            {"put": {"tableName": TABLE, "key": {"userId": "u", "sessionIdTimestamp": "s"}}},
            {"update": {"tableName": TABLE, "key": {"userId": "u", "sessionIdTimestamp": "t"}}},
        ]
    }
    folder = tmp_path / "trail"
    folder.mkdir()
    records = [_record(BACKEND, "UpdateItem", 1, update), _record(BACKEND, "TransactWriteItems", 2, transact)]
    (folder / "x.json").write_text(json.dumps({"Records": records}))
    observed = read_logs(str(folder), TABLE)
    keyed = "sessionIdTimestamp = :sessionIdTimestamp AND userId = :userId"
    assert observed.counts == {
        Shape(BACKEND, "UpdateItem", None, keyed): 1,
        Shape(BACKEND, "TransactWriteItems", None, None, ("PutItem", "UpdateItem")): 1,
    }
    assert observed.attributes[Shape(BACKEND, "UpdateItem", None, keyed)] == {"content", "updatedAt", "draft"}
    assert observed.days == 1.0  # a day apart: the window the volumes are scaled from


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file or folder"),
        ("{not json", "not a CloudTrail log file"),
        ("", "no CloudTrail log files"),
        ('{"Records": []}', f"1 CloudTrail file\\(s\\), no DynamoDB data event on table {TABLE}"),
    ],
)
def test_logs_that_are_not_there_or_not_cloudtrail_are_bad_input(
    tmp_path: Path, content: str | None, message: str
) -> None:
    from templates_src.deploy.traffic_logs import read_logs
    from templates_src.errors import BadInput

    folder = tmp_path / "trail"
    if content is not None:
        folder.mkdir()
        if content:
            (folder / "x.json").write_text(content)
    with pytest.raises(BadInput, match=message):
        read_logs(str(folder), TABLE)
