"""The plan of a key change: without a migration it is a replacement (G001); with one, migrate's phases and cost.

And the pieces migrate is built from, stated on their own: the transform (written-out items),
the old table's read-only template, and the design rules D501-D504.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from templates_src.change.migration import read_only, writable
from templates_src.cli import main as cli_main
from templates_src.errors import SpecError
from templates_src.spec import item_transform
from templates_src.spec.item_transform import (
    ItemWriter,
    TransformError,
    changes_for,
    digest,
    error_code,
    export_items,
    key_text,
    template_parts,
    transform,
    transform_digest,
)
from templates_src.spec.loader import load_design

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build
from .migration_designs import migrated_design

CONFIG: dict[str, Any] = {
    "keys": {"pk": "USER#{userId}", "sk": "{sk}", "n": "{count}"},
    "rename": {"title": "subject"},
    "convert": {"messageCount": "N"},
    "drop": ["legacy"],
    "key_types": {"pk": "S", "sk": "S", "n": "N"},
}


def test_transform_builds_keys_renames_converts_and_drops() -> None:
    old = {
        "userId": {"S": "u-1"},
        "sk": {"S": "CONV#c-1"},
        "count": {"S": "7"},
        "title": {"S": "Trip"},
        "messageCount": {"S": "3"},
        "legacy": {"BOOL": True},
    }
    assert transform(old, CONFIG) == {
        "userId": {"S": "u-1"},
        "sk": {"S": "CONV#c-1"},
        "count": {"S": "7"},
        "subject": {"S": "Trip"},
        "messageCount": {"N": "3"},
        "pk": {"S": "USER#u-1"},
        "n": {"N": "7"},
    }


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"sk": {"S": "x"}, "count": {"N": "1"}}, "'userId' (in the key template of 'pk') is missing"),
        ({"userId": {"S": "u"}, "sk": {"S": "x"}, "count": {"S": "seven"}}, "'count' is 'seven', not a number"),
        ({"userId": {"BOOL": True}, "sk": {"S": "x"}, "count": {"N": "1"}}, "'userId' is BOOL, not a string"),
    ],
)
def test_transform_names_what_it_cannot_take(item: dict[str, Any], reason: str) -> None:
    with pytest.raises(TransformError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        transform(item, CONFIG)


def test_a_modification_that_moves_the_new_key_deletes_the_old_one() -> None:
    config = {"keys": {"pk": "{userId}#{title}"}, "key_types": {"pk": "S"}}
    record = {
        "eventName": "MODIFY",
        "dynamodb": {
            "OldImage": {"userId": {"S": "u"}, "title": {"S": "a"}},
            "NewImage": {"userId": {"S": "u"}, "title": {"S": "b"}},
        },
    }
    assert changes_for(record, config) == [
        ("delete", {"pk": {"S": "u#a"}}),
        ("put", {"userId": {"S": "u"}, "title": {"S": "b"}, "pk": {"S": "u#b"}}),
    ]
    removed = {"eventName": "REMOVE", "dynamodb": {"OldImage": {"userId": {"S": "u"}, "title": {"S": "a"}}}}
    assert changes_for(removed, config) == [("delete", {"pk": {"S": "u#a"}})]


def test_checksums_equal_for_equal_items_however_numbers_and_sets_are_written() -> None:
    assert digest({"n": {"N": "1.50"}, "s": {"SS": ["b", "a"]}}) == digest({"s": {"SS": ["a", "b"]}, "n": {"N": "1.5"}})
    assert digest({"n": {"N": "100"}}) == digest({"n": {"N": "1E+2"}})
    assert digest({"n": {"N": "1"}}) != digest({"n": {"S": "1"}})


@pytest.mark.parametrize(
    ("template", "parts"),
    [
        ("USER#{userId}", [("text", "USER#"), ("attr", "userId")]),
        ("{userId}", [("attr", "userId")]),
        ("{a}#{b}!", [("attr", "a"), ("text", "#"), ("attr", "b"), ("text", "!")]),
    ],
)
def test_a_key_template_is_text_and_placeholders(template: str, parts: list[tuple[str, str]]) -> None:
    assert template_parts(template) == parts


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("USER#{}", "an empty placeholder {}"),
        ("USER}#{userId}", "a brace outside a {placeholder}"),
        ("USER#{userId", "a brace outside a {placeholder}"),
        ("USER#", "no {placeholder}: every item would get the same key"),
    ],
)
def test_a_bad_key_template_is_named(template: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        template_parts(template)
    assert str(raised.value) == reason


@pytest.mark.parametrize(
    ("item", "config", "reason"),
    [
        # A number read into a string key template, and a convert of what is neither string nor number.
        (
            {"count": {"N": "7"}, "flag": {"BOOL": True}},
            {"keys": {"pk": "C#{count}"}, "key_types": {"pk": "S"}, "convert": {"flag": "N"}},
            "attribute 'flag' is BOOL, not a string or number",
        ),
        (
            {"count": {}},
            {"keys": {"pk": "C#{count}"}, "key_types": {"pk": "S"}},
            "attribute 'count' is ?, not a string or number",
        ),
        (
            {"count": {"BOOL": False}},
            {"keys": {"pk": "{count}"}, "key_types": {"pk": "N"}},
            "attribute 'count' is BOOL, not a string or number",
        ),
    ],
)
def test_the_transform_error_names_the_attribute_and_its_type(
    item: dict[str, Any], config: dict[str, Any], reason: str
) -> None:
    with pytest.raises(TransformError) as raised:
        transform(item, config)
    assert str(raised.value) == reason


def test_a_number_read_into_a_string_key_is_written_as_its_digits() -> None:
    config = {"keys": {"pk": "C#{count}"}, "key_types": {"pk": "S"}}
    assert transform({"count": {"N": "7"}}, config) == {"count": {"N": "7"}, "pk": {"S": "C#7"}}


def test_an_insert_and_an_unmoved_modification_are_one_put() -> None:
    config = {"keys": {"pk": "{userId}"}, "key_types": {"pk": "S"}}
    inserted = {"eventName": "INSERT", "dynamodb": {"NewImage": {"userId": {"S": "u"}}}}
    assert changes_for(inserted, config) == [("put", {"userId": {"S": "u"}, "pk": {"S": "u"}})]
    modified = {
        "eventName": "MODIFY",
        "dynamodb": {
            "OldImage": {"userId": {"S": "u"}, "title": {"S": "a"}},
            "NewImage": {"userId": {"S": "u"}, "title": {"S": "b"}},
        },
    }
    assert changes_for(modified, config) == [("put", {"userId": {"S": "u"}, "title": {"S": "b"}, "pk": {"S": "u"}})]


def test_checksums_read_sets_lists_and_zeros_as_dynamodb_stores_them() -> None:
    assert digest({"ns": {"NS": ["10", "2.0"]}}) == digest({"ns": {"NS": ["2", "1E+1"]}})
    assert digest({"ns": {"NS": ["1"]}}) != digest({"ns": {"NS": ["2"]}})
    assert digest({"bs": {"BS": ["Yg==", "YQ=="]}}) == digest({"bs": {"BS": ["YQ==", "Yg=="]}})
    assert digest({"l": {"L": [{"N": "1.0"}]}}) == digest({"l": {"L": [{"N": "1"}]}})
    assert digest({"l": {"L": [{"N": "1"}]}}) != digest({"l": {"L": [{"N": "2"}]}})
    assert digest({"n": {"N": "0.00"}}) == digest({"n": {"N": "-0"}}) == digest({"n": {"N": "0"}})
    assert digest({"n": {"N": "1"}}) != digest({"n": {"N": "2"}})
    # The SHA-256 of the canonical text: compact, keys sorted.
    canonical = b'{"n":{"N":"100"},"s":{"SS":["a","b"]}}'
    assert digest({"s": {"SS": ["b", "a"]}, "n": {"N": "1E+2"}}) == hashlib.sha256(canonical).hexdigest()


def test_a_key_as_one_line_is_its_canonical_json() -> None:
    assert key_text({"sk": {"N": "1.50"}, "pk": {"S": "USER#u"}}) == '{"pk":{"S":"USER#u"},"sk":{"N":"1.5"}}'
    assert key_text({"pk": {"N": "0.0"}}) == '{"pk":{"N":"0"}}'
    assert key_text({"pk": {"N": "100"}}) == '{"pk":{"N":"100"}}'
    assert key_text({"pk": {"NS": ["3", "20"]}}) == '{"pk":{"NS":["20","3"]}}'


class _FakeTable:
    """A DynamoDB client's put_item and delete_item, recorded; put_item fails with `code` when given."""

    def __init__(self, code: str | None = None, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.code, self.error = code, error

    def put_item(self, **kwargs: Any) -> None:
        self.calls.append(("put_item", kwargs))
        if self.error is not None:
            raise self.error
        if self.code is not None:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "PutItem")

    def delete_item(self, **kwargs: Any) -> None:
        self.calls.append(("delete_item", kwargs))


WRITER_CONFIG: dict[str, Any] = {"keys": {"pk": "USER#{userId}", "sk": "{sk}"}, "key_types": {"pk": "S", "sk": "S"}}
OLD_ITEM = {"userId": {"S": "u"}, "sk": {"S": "c"}}
NEW_ITEM = {"userId": {"S": "u"}, "sk": {"S": "c"}, "pk": {"S": "USER#u"}}


def _writer(
    client: _FakeTable, config: dict[str, Any] = WRITER_CONFIG
) -> tuple[ItemWriter, list[tuple[dict[str, Any], str]]]:
    letters: list[tuple[dict[str, Any], str]] = []
    writer = ItemWriter(client, "new-table", config, lambda item, reason: letters.append((item, reason)))
    return writer, letters


def test_backfill_writes_an_item_only_where_the_new_table_has_none() -> None:
    client = _FakeTable()
    writer, letters = _writer(client)
    writer.load(OLD_ITEM)
    assert client.calls == [
        (
            "put_item",
            {
                "TableName": "new-table",
                "Item": NEW_ITEM,
                "ConditionExpression": "attribute_not_exists(#k)",
                "ExpressionAttributeNames": {"#k": "pk"},
            },
        )
    ]
    assert (writer.written, writer.skipped, letters) == (1, 0, [])


def test_catch_up_puts_unconditionally_and_deletes_a_moved_key() -> None:
    client = _FakeTable()
    writer, letters = _writer(client)
    moved = {
        "eventName": "MODIFY",
        "dynamodb": {"OldImage": {"userId": {"S": "u"}, "sk": {"S": "a"}}, "NewImage": OLD_ITEM},
    }
    writer.apply(moved)
    assert client.calls == [
        ("delete_item", {"TableName": "new-table", "Key": {"pk": {"S": "USER#u"}, "sk": {"S": "a"}}}),
        ("put_item", {"TableName": "new-table", "Item": NEW_ITEM}),
    ]
    assert (writer.written, writer.skipped, letters) == (2, 0, [])
    writer.apply(moved)  # each write counted
    assert (writer.written, writer.skipped, letters) == (4, 0, [])


@pytest.mark.parametrize(
    ("newer_only", "condition"),
    [(True, "attribute_not_exists(#k) OR #v < :v"), (False, "attribute_not_exists(#k) OR #v <= :v")],
)
def test_a_versioned_item_replaces_only_an_older_one(newer_only: bool, condition: str) -> None:
    client = _FakeTable()
    writer, _ = _writer(client, {**WRITER_CONFIG, "version_attribute": "ver"})
    writer.put({**NEW_ITEM, "ver": {"N": "3"}}, newer_only=newer_only)
    writer.put(NEW_ITEM, newer_only=newer_only)  # an item without the version: as unversioned
    assert [kwargs for _, kwargs in client.calls] == [
        {
            "TableName": "new-table",
            "Item": {**NEW_ITEM, "ver": {"N": "3"}},
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#k": "pk", "#v": "ver"},
            "ExpressionAttributeValues": {":v": {"N": "3"}},
        },
        {
            "TableName": "new-table",
            "Item": NEW_ITEM,
            **(
                {"ConditionExpression": "attribute_not_exists(#k)", "ExpressionAttributeNames": {"#k": "pk"}}
                if newer_only
                else {}
            ),
        },
    ]
    assert writer.written == 2


def test_a_put_the_condition_refuses_is_skipped_and_one_the_table_refuses_is_a_dead_letter() -> None:
    writer, letters = _writer(_FakeTable("ConditionalCheckFailedException"))
    writer.put(NEW_ITEM, newer_only=True)
    writer.put(NEW_ITEM, newer_only=True)
    assert (writer.written, writer.skipped, letters) == (0, 2, [])
    writer, letters = _writer(_FakeTable("ValidationException"))
    writer.put(NEW_ITEM, newer_only=True)
    reason = "the new table refused it: An error occurred (ValidationException) when calling the PutItem operation: no"
    assert (writer.written, writer.skipped, letters) == (0, 0, [(NEW_ITEM, reason)])


@pytest.mark.parametrize(
    "error",
    [ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "PutItem"), RuntimeError("network")],
)
def test_any_other_failure_of_a_put_is_raised(error: Exception) -> None:
    writer, letters = _writer(_FakeTable(error=error))
    with pytest.raises(type(error)):
        writer.put(NEW_ITEM, newer_only=False)
    assert (writer.written, writer.skipped, letters) == (0, 0, [])


def test_an_error_code_is_the_responses_or_empty() -> None:
    assert error_code(ClientError({"Error": {"Code": "ValidationException"}}, "PutItem")) == "ValidationException"
    assert error_code(RuntimeError("network")) == ""


def test_an_item_or_record_the_transform_cannot_take_is_a_dead_letter_naming_why() -> None:
    client = _FakeTable()
    writer, letters = _writer(client)
    writer.load({"sk": {"S": "c"}})
    body = {"NewImage": {"sk": {"S": "c"}}}
    writer.apply({"eventName": "INSERT", "dynamodb": body})
    writer.apply({"dynamodb": body})
    missing = "attribute 'userId' (in the key template of 'pk') is missing"
    assert letters == [({"sk": {"S": "c"}}, missing), (body, f"INSERT: {missing}"), (body, f"record: {missing}")]
    assert (client.calls, writer.written, writer.skipped) == ([], 0, 0)


class _FakeS3:
    """get_object of one export data file (gzip, one {"Item": ...} a line), recorded."""

    def __init__(self, text: str) -> None:
        self.calls: list[dict[str, Any]] = []
        self.data = gzip.compress(text.encode())

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Body": io.BytesIO(self.data)}


def test_an_export_file_is_read_an_item_a_line_skipping_blank_lines() -> None:
    s3 = _FakeS3('{"Item": {"userId": {"S": "u-1"}}}\n\n{"Item": {"userId": {"S": "u-2"}, "n": {"N": "3"}}}\n')
    items = export_items(s3, "exports", "AWSDynamoDB/0001/data/abc.json.gz")
    assert s3.calls == []  # streamed: nothing is read before the first item is asked for
    assert list(items) == [{"userId": {"S": "u-1"}}, {"userId": {"S": "u-2"}, "n": {"N": "3"}}]
    assert s3.calls == [{"Bucket": "exports", "Key": "AWSDynamoDB/0001/data/abc.json.gz"}]


def test_a_transforms_identity_is_its_config_whatever_the_order_of_its_keys() -> None:
    shuffled = {"keys": {"sk": "{sk}", "pk": "USER#{userId}"}, "key_types": {"sk": "S", "pk": "S"}}
    # sha256 of {"key_types": {"pk": "S", "sk": "S"}, "keys": {"pk": "USER#{userId}", "sk": "{sk}"}}, 16 digits
    assert transform_digest(shuffled) == "db5565a612aaedfc"
    assert transform_digest(WRITER_CONFIG) == "db5565a612aaedfc"
    assert transform_digest({**WRITER_CONFIG, "drop": ["legacy"]}) != "db5565a612aaedfc"


def test_load_all_writes_each_item_threads_at_a_time_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    pools: list[int | None] = []

    class Pool(item_transform.ThreadPoolExecutor):
        def __init__(self, max_workers: int | None = None) -> None:
            pools.append(max_workers)
            super().__init__(max_workers)

    monkeypatch.setattr(item_transform, "ThreadPoolExecutor", Pool)
    events: list[tuple[str, str]] = []

    class Table(_FakeTable):
        def put_item(self, **kwargs: Any) -> None:
            events.append(("put", kwargs["Item"]["userId"]["S"]))
            super().put_item(**kwargs)

    def old_items() -> Any:
        for user in "abcde":
            events.append(("read", user))
            yield {"userId": {"S": user}, "sk": {"S": "c"}}

    client = Table()
    writer, letters = _writer(client)
    writer.CHUNK = 2
    writer.load_all(old_items())
    assert pools == [16]
    # Each chunk is written (its puts in any order) before the next one is read.
    runs: list[tuple[str, list[str]]] = []
    for kind, user in events:
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(user)
        else:
            runs.append((kind, [user]))
    assert [(kind, sorted(users)) for kind, users in runs] == [
        ("read", ["a", "b"]),
        ("put", ["a", "b"]),
        ("read", ["c", "d"]),
        ("put", ["c", "d"]),
        ("read", ["e"]),
        ("put", ["e"]),
    ]
    assert sorted(kwargs["Item"]["pk"]["S"] for _, kwargs in client.calls) == [f"USER#{u}" for u in "abcde"]
    assert (writer.written, writer.skipped, letters) == (5, 0, [])


def _migration_findings(tmp_path: Path, change: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(rule, path, message) of the D501-D504 findings on the fixture design with change applied."""
    design = yaml.safe_load((FIXTURE_DESIGNS / "conversations.yaml").read_text())
    design.update(change)
    path = tmp_path / "designs" / "conversations.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    try:
        _, warnings = load_design(path)
    except SpecError as exc:
        return [(d.rule_id, d.path, d.message) for d in exc.problems if d.rule_id.startswith("D50")]
    return [(d.rule_id, d.path, d.message) for d in warnings if d.rule_id.startswith("D50")]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"userId": "{userId}", "bogus": "B#{x}"},
            "the table's key is userId, sk; no template for sk; bogus not a table key attribute",
        ),
        (
            {"userId": "{userId}", "sk": "{sk}", "bogus": "B#{x}"},
            "the table's key is userId, sk; bogus not a table key attribute",
        ),
        (
            {"bogus": "B#{x}", "other": "{y}"},
            "the table's key is userId, sk; no template for userId, sk; bogus, other not a table key attribute",
        ),
    ],
)
def test_migration_keys_name_exactly_the_table_key(tmp_path: Path, keys: dict[str, str], message: str) -> None:
    findings = _migration_findings(tmp_path, {"generation": 2, "migration": {"keys": keys}})
    assert findings == [("D502", "migration.keys", message)]


def test_each_bad_key_template_is_named_and_the_other_lists_leave_the_keys_alone(tmp_path: Path) -> None:
    change = {
        "generation": 2,
        "sort_key": {"name": "sk", "type": "N"},
        "migration": {
            "keys": {"userId": "USER#{userId", "sk": "N#{n}"},
            "convert": {"userId": "S", "messageCount": "N"},
            "drop": ["legacy", "sk"],
        },
    }
    assert _migration_findings(tmp_path, change) == [
        ("D503", "migration.keys.userId", "'USER#{userId': a brace outside a {placeholder}"),
        (
            "D503",
            "migration.keys.sk",
            "'N#{n}' builds a string, but sk is typed N; write one placeholder, e.g. \"{attribute}\"",
        ),
        (
            "D504",
            "migration.convert.userId",
            "userId is a key attribute of the new table; its value comes from migration.keys.userId",
        ),
        ("D504", "migration.drop[1]", "sk is a key attribute of the new table; its value comes from migration.keys.sk"),
    ]


def test_the_old_table_made_read_only_and_back() -> None:
    deployed = {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Delete",
                "Properties": {"TableName": "t"},
            }
        }
    }
    frozen = read_only(deployed, "t")
    table = frozen["Resources"]["Table"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    (statement,) = table["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert set(statement["Action"]) == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    }
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/t"
    }
    assert "Condition" not in statement
    reopened = writable(frozen)
    assert "ResourcePolicy" not in reopened["Resources"]["Table"]["Properties"]
    assert reopened["Resources"]["Table"]["DeletionPolicy"] == "Retain"  # a rollback keeps the table safe
    assert deployed["Resources"]["Table"]["DeletionPolicy"] == "Delete"  # the input is not changed


def _repo(tmp_path: Path, design: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A git repo of the fixtures at HEAD, the design changed and synthesised in the working tree (the cwd)."""
    repo = tmp_path / "repo"
    shutil.copytree(fixture_build(), repo / "build")
    shutil.copytree(FIXTURE_ENVIRONMENTS, repo / "environments")
    shutil.copytree(FIXTURE_DESIGNS, repo / "designs")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "build"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    (repo / "designs" / "conversations.yaml").write_text(yaml.safe_dump(design, sort_keys=False))
    monkeypatch.chdir(repo)
    args = ["synth", "--environments-dir", "environments", "--designs-dir", "designs", "--out", "build"]
    assert cli_main(args) == 0


def _plan(fmt: str) -> int:
    dirs = ["--environments-dir", "environments", "--designs-dir", "designs"]
    return cli_main(["plan", "--env", "prod", "--base", "HEAD", "--format", fmt, *dirs])


def test_a_key_change_without_a_migration_is_a_replacement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    design = migrated_design()
    del design["migration"], design["generation"]
    _repo(tmp_path, design, monkeypatch)
    capsys.readouterr()
    assert _plan("text") == 3
    assert "BLOCKED G001 Table." in capsys.readouterr().out


def test_a_key_change_with_a_migration_plans_its_phases_and_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _repo(tmp_path, migrated_design(), monkeypatch)
    capsys.readouterr()
    assert _plan("markdown") == 0
    out = capsys.readouterr().out
    assert "key schema generation 1 -> 2, a new data stack beside the deployed one (make migrate ENV=prod)" in out
    assert "blocked" not in out  # no G001: nothing is replaced
    lines = out.splitlines()
    header = lines.index("| phase | does | approval | estimated cost |")
    rows = lines[header + 2 : header + 10]
    phases = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    assert phases == ["create", "capture", "backfill", "catch-up", "freeze", "verify", "cutover", "retire"]
    retire = next(row for row in rows if row.startswith("| retire "))
    assert "--allow G001" in retire
    # prod's fixture traffic: 100 GB (items unknown), on-demand at $0.625 per million writes and
    # $0.125 per million reads: 100 * 10^9 / 1024 = 97,656,250 KB (GB as the cost model counts it), a
    # write unit per KB, a read unit per 4 KB (24,414,063) of each table.
    backfill = next(row for row in rows if row.startswith("| backfill "))
    assert "about 97,656,250 write units, ~$61.04 on-demand; export of 100 GB to S3" in backfill
    assert "Lambda duration and Step Functions transitions" in backfill
    verify = next(row for row in rows if row.startswith("| verify "))
    assert "about 48,828,126 read units (both tables), ~$6.10" in verify
    assert "p7 -. rollback .-> p4" in out  # cutover back to catch-up
    assert _plan("json") == 0
    data = json.loads(capsys.readouterr().out)[0]
    assert [p["phase"] for p in data["migration"]][0] == "create"
    assert {c["action"] for c in data["changes"]} == {"Add"}


def test_a_global_tables_new_generation_is_no_migration_but_g001_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """migrate moves a single-Region table only: the plan must not send a global table to it."""
    _repo(tmp_path, migrated_design(), monkeypatch)
    capsys.readouterr()
    dirs = ["--environments-dir", "environments", "--designs-dir", "designs"]
    assert cli_main(["plan", "--env", "global", "--base", "HEAD", "--format", "text", *dirs]) == 3
    out = capsys.readouterr().out
    assert "make migrate" not in out
    assert "BLOCKED G001 Table." in out
    assert "migrate does not move a global table" in out
    assert cli_main(["migrate", "--env", "global", *dirs]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "migrate: environments/global.yaml: global_table: migrate moves a single-Region table only (docs/migrations.md)"
    )
