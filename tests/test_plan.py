"""The offline plan classifies a corpus of template mutations correctly."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from templates_src.cli import main as cli_main
from templates_src.stacks.registry import create_only_properties

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, read_json

DATA = fixture_build() / "prod" / "data.template.json"
STAGING_DATA = fixture_build() / "staging" / "data.template.json"
ACCESS = fixture_build() / "prod" / "access.template.json"


def plan_main(args: list[str]) -> int:
    if "--env" in args:  # the fixtures' environments and designs, relative to the test's git repo
        args = [*args, "--environments-dir", "environments", "--designs-dir", str(FIXTURE_DESIGNS)]
    return cli_main(["plan", *args])


def table(t: dict[str, Any]) -> dict[str, Any]:
    return t["Resources"]["Table"]


def gsi(name: str, pk: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }


def sort_key_change(t: dict[str, Any]) -> None:
    table(t)["Properties"]["KeySchema"][1]["AttributeName"] = "createdAt"


def rename_table(t: dict[str, Any]) -> None:
    table(t)["Properties"]["TableName"] = "conversations-prod-v2"


def add_two_gsis(t: dict[str, Any]) -> None:
    table(t)["Properties"]["GlobalSecondaryIndexes"] += [gsi("ByTitle", "title"), gsi("ByModel", "modelId")]


def swap_gsi(t: dict[str, Any]) -> None:
    table(t)["Properties"]["GlobalSecondaryIndexes"] = [gsi("ByTitle", "title")]


def add_one_gsi(t: dict[str, Any]) -> None:
    table(t)["Properties"]["GlobalSecondaryIndexes"].append(gsi("ByTitle", "title"))
    table(t)["Properties"]["AttributeDefinitions"].append({"AttributeName": "title", "AttributeType": "S"})


def rename_ttl(t: dict[str, Any]) -> None:
    table(t)["Properties"]["TimeToLiveSpecification"]["AttributeName"] = "ttl"


def retain_off(t: dict[str, Any]) -> None:
    table(t)["DeletionPolicy"] = "Delete"


def protection_off(t: dict[str, Any]) -> None:
    table(t)["Properties"]["DeletionProtectionEnabled"] = False
    table(t)["Properties"]["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": False}


def remove_table(t: dict[str, Any]) -> None:
    del t["Resources"]["Table"]


def remove_key(t: dict[str, Any]) -> None:
    del t["Resources"]["TableKey"]
    del t["Resources"]["TableKeyAlias"]
    table(t)["Properties"]["SSESpecification"] = {"SSEEnabled": True, "SSEType": "KMS"}


def change_key(t: dict[str, Any]) -> None:
    table(t)["Properties"]["SSESpecification"]["KMSMasterKeyId"] = "arn:aws:kms:us-east-1:333333333333:key/other"


def add_tag(t: dict[str, Any]) -> None:
    table(t)["Properties"]["Tags"].append({"Key": "Owner", "Value": "chat-team"})


def attribute(t: dict[str, Any], name: str, type_: str) -> None:
    defs = table(t)["Properties"]["AttributeDefinitions"]
    defs[:] = [d for d in defs if d["AttributeName"] != name] + [{"AttributeName": name, "AttributeType": type_}]


def add_lsi(t: dict[str, Any]) -> None:
    attribute(t, "createdAt", "S")
    table(t)["Properties"]["LocalSecondaryIndexes"] = [
        {
            "IndexName": "ByCreated",
            "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [
                {"AttributeName": "userId", "KeyType": "HASH"},
                {"AttributeName": "createdAt", "KeyType": "RANGE"},
            ],
        }
    ]


def sort_key_type_change(t: dict[str, Any]) -> None:
    attribute(t, "sk", "N")


def gsi_projection_change(t: dict[str, Any]) -> None:
    table(t)["Properties"]["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "ALL"}


def gsi_key_type_change(t: dict[str, Any]) -> None:
    attribute(t, "updatedAt", "N")


def stream_view_change(t: dict[str, Any]) -> None:
    table(t)["Properties"]["StreamSpecification"] = {"StreamViewType": "KEYS_ONLY"}


def to_on_demand(t: dict[str, Any]) -> None:
    props = table(t)["Properties"]
    props["BillingMode"] = "PAY_PER_REQUEST"
    props.pop("ProvisionedThroughput")
    for gsi in props["GlobalSecondaryIndexes"]:
        gsi.pop("ProvisionedThroughput")


def to_global_table(t: dict[str, Any]) -> None:
    table(t)["Type"] = "AWS::DynamoDB::GlobalTable"


def rename_logical_id(t: dict[str, Any]) -> None:
    t["Resources"]["ConversationsTable"] = t["Resources"].pop("Table")


def shrink_pitr(t: dict[str, Any]) -> None:
    table(t)["Properties"]["PointInTimeRecoverySpecification"]["RecoveryPeriodInDays"] = 7


def encryption_off(t: dict[str, Any]) -> None:
    table(t)["Properties"]["SSESpecification"] = {"SSEEnabled": False}


def grant_scan(t: dict[str, Any]) -> None:
    statement = t["Resources"]["AppRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    statement["Action"] = [*statement["Action"], "dynamodb:Scan"]


def widen_key_policy(t: dict[str, Any]) -> None:
    t["Resources"]["TableKey"]["Properties"]["KeyPolicy"]["Statement"].append(
        {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": ["*"]}
    )


def rename_role(t: dict[str, Any]) -> None:
    t["Resources"]["AppRole"]["Properties"]["RoleName"] = "conversations-prod-backend"


# name -> (template, mutation, exit code, guard ids, text that must appear)
CORPUS: dict[str, tuple[Path, Callable[[dict[str, Any]], None], int, set[str], list[str]]] = {
    "sort-key-change": (
        DATA,
        sort_key_change,
        3,
        {"G001"},
        ["! Replace Table", "Properties.KeySchema  (replaces)", "BLOCKED G001 Table.KeySchema"],
    ),
    "table-rename": (DATA, rename_table, 3, {"G001"}, ["BLOCKED G001 Table.TableName", "REPLACED"]),
    # Deploy stages a table's index changes itself: G002 says how, and blocks nothing.
    "two-gsis-added": (
        DATA,
        add_two_gsis,
        0,
        {"G002"},
        [
            "warning G002 Table.GlobalSecondaryIndexes",
            "one per table per update: deploy stages them, one per update",
            "the table's updates are 1. create GSI ByTitle; 2. create GSI ByModel (",  # the template's order
        ],
    ),
    # The new index exists before the old one goes.
    "gsi-swapped": (
        DATA,
        swap_gsi,
        0,
        {"G002"},
        ["the table's updates are 1. create GSI ByTitle; 2. delete GSI ByUserUpdated ("],
    ),
    "ttl-rename": (DATA, rename_ttl, 3, {"G003"}, ["BLOCKED G003 Table.TimeToLiveSpecification.AttributeName"]),
    "retain-off": (DATA, retain_off, 3, {"G004"}, ["BLOCKED G004 Table.DeletionPolicy"]),
    "protection-off": (
        DATA,
        protection_off,
        3,
        {"G004"},
        ["Table.DeletionProtectionEnabled", "Table.PointInTimeRecoverySpecification"],
    ),
    "table-removed": (DATA, remove_table, 3, {"G001"}, ["- Remove  Table", "BLOCKED G001 Table.(resource)"]),
    "key-removed": (
        DATA,
        remove_key,
        3,
        {"G001", "G004"},
        ["BLOCKED G001 TableKey", "BLOCKED G004 Table.SSESpecification.KMSMasterKeyId"],
    ),
    "key-changed": (DATA, change_key, 3, {"G005"}, ["BLOCKED G005 Table.SSESpecification.KMSMasterKeyId"]),
    "role-renamed": (
        ACCESS,
        rename_role,
        0,
        set(),
        ["! Replace AppRole (AWS::IAM::Role)", "Properties.RoleName  (replaces)"],
    ),
    "tag-added": (DATA, add_tag, 0, set(), ["~ Modify  Table", "Properties.Tags"]),
    "one-gsi-added": (
        DATA,
        add_one_gsi,
        0,
        set(),
        [
            "~ Modify  Table",
            "Properties.GlobalSecondaryIndexes",
            "+ GSI ByTitle: title (S, HASH); projection KEYS_ONLY",
        ],
    ),
    "lsi-added": (
        DATA,
        add_lsi,
        3,
        {"G006"},
        [
            "! Replace Table",
            "BLOCKED G006 Table.LocalSecondaryIndexes",
            "+ LSI ByCreated: userId (S, HASH), createdAt (S, RANGE)",
        ],
    ),
    "sort-key-type-change": (
        DATA,
        sort_key_type_change,
        3,
        {"G007"},
        ["BLOCKED G007 Table.AttributeDefinitions", "sk S -> N"],
    ),
    "gsi-projection-change": (
        DATA,
        gsi_projection_change,
        3,
        {"G002", "G008"},
        [
            "BLOCKED G008 Table.GlobalSecondaryIndexes[ByUserUpdated]",
            "~ GSI ByUserUpdated:",
            "projection INCLUDE [conversationId, messageCount, title] -> userId (S, HASH), updatedAt (S, RANGE); projection ALL",
        ],
    ),
    "gsi-key-type-change": (DATA, gsi_key_type_change, 3, {"G002", "G008"}, ["updatedAt (N, RANGE)"]),
    "stream-view-change": (
        DATA,
        stream_view_change,
        3,
        {"G009"},
        ["BLOCKED G009 Table.StreamSpecification.StreamViewType", "~ stream: NEW_AND_OLD_IMAGES -> KEYS_ONLY"],
    ),
    "billing-to-on-demand": (
        STAGING_DATA,
        to_on_demand,
        0,
        {"G010"},
        ["warning G010 Table.BillingMode", "~ billing: PROVISIONED (read 5, write 5) -> PAY_PER_REQUEST"],
    ),
    "table-to-global-table": (DATA, to_global_table, 3, {"G011"}, ["BLOCKED G011 Table.Type"]),
    "logical-id-renamed": (
        DATA,
        rename_logical_id,
        3,
        {"G001", "G012"},
        ["BLOCKED G012 ConversationsTable.(logical ID): Table is renamed ConversationsTable"],
    ),
    "pitr-window-shrinks": (
        DATA,
        shrink_pitr,
        3,
        {"G004"},
        [
            "BLOCKED G004 Table.PointInTimeRecoverySpecification.RecoveryPeriodInDays",
            "~ point-in-time recovery: on, 35 days -> on, 7 days",
        ],
    ),
    "encryption-off": (
        DATA,
        encryption_off,
        3,
        {"G004"},
        [
            "BLOCKED G004 Table.SSESpecification.SSEEnabled",
            "~ encryption: customer managed key TableKey.Arn -> AWS owned key",
        ],
    ),
    "role-gains-scan": (
        ACCESS,
        grant_scan,
        0,
        set(),
        ["+ grants: Allow dynamodb:Scan on import:conversations-prod-data-TableArn"],
    ),
    "key-policy-widened": (DATA, widen_key_policy, 0, set(), ['+ key policy: Allow kms:Decrypt to {"AWS": "*"} on *']),
}


def test_lsi_removal_is_the_reverse_of_an_addition() -> None:
    """Removing an LSI replaces the table as adding one does."""
    from templates_src.change.plan import plan_stack

    with_lsi = read_json(DATA)
    add_lsi(with_lsi)
    plan = plan_stack("x", with_lsi, read_json(DATA))
    assert [(c.action, c.replacing) for c in plan.changes] == [("Replace", ["LocalSecondaryIndexes"])]
    assert {f.rule_id for f in plan.findings} == {"G006"}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_mutation_is_classified(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, mutate, code, guards, texts = CORPUS[case]
    old = read_json(base)
    new = copy.deepcopy(old)
    mutate(new)
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    got = plan_main([str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--allow", ""])
    out, err = capsys.readouterr()
    assert got == code, out + err
    found = {line.split()[1] for line in out.splitlines() if line.strip().startswith(("BLOCKED", "allowed", "warning"))}
    assert found == guards, out
    for text in texts:
        assert text in out, f"{text!r} not in:\n{out}"


def test_allow_unblocks_only_the_named_guard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = read_json(DATA)
    new = copy.deepcopy(old)
    rename_table(new)
    retain_off(new)
    (tmp_path / "o.json").write_text(json.dumps(old))
    (tmp_path / "n.json").write_text(json.dumps(new))
    assert plan_main([str(tmp_path / "o.json"), str(tmp_path / "n.json"), "--allow", "G001"]) == 3
    out = capsys.readouterr().out
    assert "allowed G001" in out and "BLOCKED G004" in out
    assert plan_main([str(tmp_path / "o.json"), str(tmp_path / "n.json"), "--allow", "G001,G004"]) == 0


def test_markdown_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "o.json").write_text(DATA.read_text())
    new = read_json(DATA)
    rename_table(new)
    (tmp_path / "n.json").write_text(json.dumps(new))
    assert plan_main([str(tmp_path / "o.json"), str(tmp_path / "n.json"), "--format", "markdown"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("### Deploy plan")
    assert "| Replace | `Table` | `AWS::DynamoDB::Table` | `Properties.TableName` |" in out
    assert ":no_entry: **blocked** `G001`" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read"),
        ("{not json", "not JSON"),
        ('{"foo": 1}', "Resources: not a CloudFormation template"),
        ('{"Resources": {"X": {}}}', "Resources.X.Type: missing"),
    ],
)
def test_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    assert plan_main([str(bad), str(DATA)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}" in err and expected in err and "Traceback" not in err


def _git_repo_with_build(tmp_path: Path) -> Path:
    """A throwaway git repo whose HEAD holds the fixture environments and build (not the user's tree)."""
    repo = tmp_path / "repo"
    shutil.copytree(fixture_build(), repo / "build")
    shutil.copytree(FIXTURE_ENVIRONMENTS, repo / "environments")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "build"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def _edit_environment_and_synth(repo: Path, env: str, extra: str) -> None:
    path = repo / "environments" / f"{env}.yaml"
    path.write_text(path.read_text() + extra)
    args = ["synth", "--environments-dir", "environments", "--designs-dir", str(FIXTURE_DESIGNS), "--out", "build"]
    assert cli_main(args) == 0


def test_env_plan_against_a_git_ref(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _git_repo_with_build(tmp_path)
    monkeypatch.chdir(repo)
    assert plan_main(["--env", "prod", "--base", "HEAD"]) == 0
    assert capsys.readouterr().out.count("no changes") == 3  # data, access, deploy-role
    _edit_environment_and_synth(repo, "prod", "table_name: conversations-prod-v2\n")
    capsys.readouterr()
    assert plan_main(["--env", "prod", "--base", "HEAD"]) == 3
    out, err = capsys.readouterr()
    assert "BLOCKED G001 Table.TableName" in out and "plan: blocked by G001" in err
    assert "~ table name: conversations-prod -> conversations-prod-v2" in out


def test_a_stale_build_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _git_repo_with_build(tmp_path)
    monkeypatch.chdir(repo)
    path = repo / "environments" / "prod.yaml"
    path.write_text(path.read_text().replace("ttl_days: 365", "ttl_days: 30"))
    assert plan_main(["--env", "prod"]) == 2
    assert "build/prod/ is stale: environments/prod.yaml or its design changed" in capsys.readouterr().err


def test_protected_environment_turned_off_is_g013(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _git_repo_with_build(tmp_path)
    monkeypatch.chdir(repo)
    path = repo / "environments" / "prod.yaml"
    path.write_text(path.read_text().replace("protected: true", "protected: false"))
    _edit_environment_and_synth(repo, "prod", "")
    capsys.readouterr()
    assert plan_main(["--env", "prod"]) == 3
    out = capsys.readouterr().out
    assert "BLOCKED G013 environments/prod.yaml.protected: protected: true -> false" in out
    # Unprotected also drops the default backup plan: removing its vault is G001 on its own.
    assert plan_main(["--env", "prod", "--allow", "G013"]) == 3
    assert "BLOCKED G001 BackupVault.(resource)" in capsys.readouterr().out
    # ... and the plan, its selection and the change watch go with it: G023.
    assert plan_main(["--env", "prod", "--allow", "G013,G001"]) == 3
    out = capsys.readouterr().out
    assert "BLOCKED G023 BackupPlan" in out and "BLOCKED G023 TableChangeWatch" in out
    assert plan_main(["--env", "prod", "--allow", "G013,G001,G023"]) == 0


def test_unknown_guard_and_ref_are_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(_git_repo_with_build(tmp_path))
    assert plan_main(["--env", "prod", "--allow", "G999"]) == 2
    assert "unknown guard id(s) G999" in capsys.readouterr().err
    assert plan_main(["--env", "prod", "--base", "no-such-ref-xyz"]) == 2
    assert "git ref 'no-such-ref-xyz'" in capsys.readouterr().err
    assert plan_main(["--env", "nope"]) == 2
    assert "build/nope: no such environment build; run make synth" in capsys.readouterr().err


# Properties a GlobalTable keeps per replica (the rest stay on the table).
REPLICA_PROPERTIES = (
    "DeletionProtectionEnabled",
    "PointInTimeRecoverySpecification",
    "TableClass",
    "Tags",
    "ContributorInsightsSpecification",
)


def as_global_table(t: dict[str, Any]) -> None:
    """The prod Table rewritten as the GlobalTable it would become, with only its own Region's replica."""
    resource = table(t)
    props = resource["Properties"]
    home: dict[str, Any] = {"Region": "us-east-1"}
    for name in REPLICA_PROPERTIES:
        if name in props:
            home[name] = props.pop(name)
    home["SSESpecification"] = {"KMSMasterKeyId": props["SSESpecification"].pop("KMSMasterKeyId")}
    props["Replicas"] = [home]
    resource["Type"] = "AWS::DynamoDB::GlobalTable"


def test_a_table_changed_to_a_global_table_is_refused_with_the_safe_sequence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = read_json(DATA)
    as_global_table(new)
    (tmp_path / "old.json").write_text(DATA.read_text())
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert plan_main([str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 3
    out, err = capsys.readouterr()
    assert "! Replace Table (AWS::DynamoDB::GlobalTable)" in out
    assert "BLOCKED G011 Table.Type: Table changes type AWS::DynamoDB::Table -> AWS::DynamoDB::GlobalTable" in out
    # The protection moved into the stack Region's replica: the same settings, so no G004.
    found = {line.split()[1] for line in out.splitlines() if line.strip().startswith(("BLOCKED", "warning"))}
    assert found == {"G011"}, out
    (way,) = [line for line in out.splitlines() if "safe way forward" in line]
    steps = [
        "1) keep the table Retained (DeletionPolicy and UpdateReplacePolicy Retain)",
        "2) remove the table from the data stack and deploy its removal (the table stays, unmanaged)",
        "3) set global_table: true with no replicas yet and run `deploy --env <env> --import`: it imports the "
        "table as a GlobalTable with only its own Region",
        "4) add the replicas, one per deploy",
    ]
    positions = [way.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), way
    assert "plan: blocked by G011" in err


def test_replacement_rules_come_from_the_registry_schemas() -> None:
    assert {"TableName", "KeySchema"} <= create_only_properties("AWS::DynamoDB::Table")
    assert "BillingMode" not in create_only_properties("AWS::DynamoDB::Table")
    assert {"RoleName", "Path"} <= create_only_properties("AWS::IAM::Role")


@pytest.mark.parametrize(
    ("resource_type", "way_forward"),
    [
        (
            "AWS::DynamoDB::Table",
            "raise the design's generation and declare how items move (migration:); the plan then shows a new data "
            "stack beside this one, and make migrate fills it, freezes and retires the old (docs/migrations.md)",
        ),
        (
            "AWS::DynamoDB::GlobalTable",
            "migrate does not move a global table: create the new global table under a new logical ID, copy the "
            "items (export and load, then the stream), move the grants, then remove the old one (docs/migrations.md)",
        ),
        (
            "AWS::KMS::Key",
            "create a new one under a new logical ID, move what depends on it, then remove the old one",
        ),
    ],
    ids=["table", "global table", "key"],
)
def test_a_replaced_stateful_resource_is_blocked_with_the_way_forward_of_its_type(
    resource_type: str, way_forward: str
) -> None:
    from templates_src.change.diff import ResourceChange
    from templates_src.change.guards import g001_stateful_replacement

    change = ResourceChange("Thing", resource_type, "Replace", ["Properties.X"], ["X", "Type"])
    found = g001_stateful_replacement.check(change)
    assert [(d.rule_id, d.path, d.message, d.way_forward) for d in found] == [
        (
            "G001",
            "X",
            f"{resource_type} Thing would be REPLACED (a new, empty resource) because X changed; "
            "CloudFormation cannot change it in place",
            way_forward,
        )
    ]
