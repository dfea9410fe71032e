"""The plan of a key change: without a migration it is a replacement (G001); with one, migrate's phases and cost.

And the pieces migrate is built from, stated on their own: the transform (written-out items),
the old table's read-only template, and the design rules D501-D504.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.change.migration import read_only, writable
from templates_src.cli import main as cli_main
from templates_src.spec.item_transform import TransformError, changes_for, digest, transform

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
