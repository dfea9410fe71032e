"""The offline plan on global tables: replicas, witnesses, consistency, warm throughput, replica keys.

Each case mutates a fixture build template (tests/fixtures: `global` is an
EVENTUAL table in us-east-1 with replicas in eu-west-1 and ap-southeast-2 on
replica keys; `strong` is a STRONG table in eu-west-1 with a replica in
eu-central-1 and a witness in eu-west-2) and checks the guards that fire,
where, and what the reviewer reads.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from templates_src.change.diff import diff_templates
from templates_src.change.plan import plan_environment, plan_stack, render_text
from templates_src.change.review import describe
from templates_src.change.table_shape import (
    TABLE_REPLICA,
    paired_replicas,
    replica_settings,
    stack_region,
)
from templates_src.cli import main as cli_main
from templates_src.diagnostics import Diagnostic

from .conftest import FIXTURE_DESIGNS, fixture_build, read_json
from .test_plan import _git_repo_with_build

Template = dict[str, Any]


def template(env: str = "global", kind: str = "data") -> Template:
    return read_json(fixture_build() / env / f"{kind}.template.json")


def table(t: Template) -> dict[str, Any]:
    props: dict[str, Any] = t["Resources"]["Table"]["Properties"]
    return props


def replica(t: Template, region: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in table(t)["Replicas"] if r["Region"] == region)
    return found


def findings(mutate: Callable[[Template], Any], env: str = "global", kind: str = "data") -> list[Diagnostic]:
    old = template(env, kind)
    new = copy.deepcopy(old)
    mutate(new)
    return plan_stack("x", old, new).findings


def found(mutate: Callable[[Template], Any], env: str = "global", kind: str = "data") -> set[tuple[str, str]]:
    return {(f.rule_id, f.path) for f in findings(mutate, env, kind)}


def review(mutate: Callable[[Template], Any], env: str = "global") -> list[str]:
    old = template(env)
    new = copy.deepcopy(old)
    mutate(new)
    (change,) = [c for c in diff_templates(old, new) if c.logical_id == "Table"]
    return describe(change)


def new_replica(region: str) -> dict[str, Any]:
    return {
        "Region": region,
        "DeletionProtectionEnabled": True,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "TableClass": "STANDARD",
    }


# -- table_shape: one view of a replica for both table types -----------------------------------


def test_a_plain_table_is_one_replica_and_a_global_table_one_per_region() -> None:
    plain = template("prod")["Resources"]["Table"]
    assert list(replica_settings(plain)) == [TABLE_REPLICA]
    assert replica_settings(plain)[TABLE_REPLICA]["DeletionProtectionEnabled"] is True
    global_table = template()["Resources"]["Table"]
    settings = replica_settings(global_table)
    assert list(settings) == ["us-east-1", "eu-west-1", "ap-southeast-2"]
    assert stack_region(global_table) == "us-east-1"
    # The table's SSEEnabled is merged into each replica's SSESpecification: a replica reads like a table.
    assert settings["eu-west-1"]["SSESpecification"]["SSEEnabled"] is True
    assert "Fn::Sub" in settings["eu-west-1"]["SSESpecification"]["KMSMasterKeyId"]
    assert settings["ap-southeast-2"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"


def test_a_table_becoming_global_is_paired_with_the_stack_regions_replica() -> None:
    plain = template("prod")["Resources"]["Table"]
    global_table = template()["Resources"]["Table"]
    assert [region for region, _, _ in paired_replicas(plain, global_table)] == ["us-east-1"]
    assert [region for region, _, _ in paired_replicas(global_table, global_table)] == [
        "us-east-1",
        "eu-west-1",
        "ap-southeast-2",
    ]


def test_the_good_global_fixtures_plan_clean() -> None:
    for env in ("global", "strong"):
        for kind in ("data", "key-eu-west-1") if env == "global" else ("data",):
            t = template(env, kind)
            assert plan_stack("same", t, copy.deepcopy(t)).findings == []


# -- G014: one replica added or removed per update -----------------------------------------------


def test_two_replicas_added_are_staged_by_deploy_not_blocked() -> None:
    def add_two(t: Template) -> None:
        table(t)["Replicas"] += [new_replica("eu-central-1"), new_replica("sa-east-1")]

    # Not blocked: a warning (G021) that says how, by deploy or by hand.
    hits = findings(add_two)
    assert [(f.rule_id, f.is_error) for f in hits] == [("G021", False)]
    assert "one update-stack per replica" in hits[0].way_forward
    lines = review(add_two)
    # No key of its own: the replica is on the table's SSE setting (KMS), the AWS managed key.
    assert (
        "+ replica eu-central-1: table class STANDARD; deletion protection on; point-in-time recovery on, 35 days; "
        "encryption AWS managed key (alias/aws/dynamodb)" in lines
    ), lines
    assert any(line.startswith("+ replica sa-east-1: ") for line in lines)


def test_a_replica_swapped_in_one_update_is_g014_with_the_staged_sequence() -> None:
    def swap(t: Template) -> None:
        replica(t, "ap-southeast-2")["Region"] = "eu-central-1"

    hits = findings(swap)
    assert {(f.rule_id, f.path) for f in hits} == {("G014", "Replicas"), ("G015", "Replicas[ap-southeast-2]")}
    (g014,) = [f for f in hits if f.rule_id == "G014"]
    assert "2 replicas added or removed in one update" in g014.message
    assert (
        "deploy 1: add replica eu-central-1 and wait until it is ACTIVE "
        "(replicas then: us-east-1, eu-west-1, ap-southeast-2, eu-central-1)" in g014.way_forward
    )
    assert "deploy 2: remove replica ap-southeast-2" in g014.way_forward
    assert "(replicas then: us-east-1, eu-west-1, eu-central-1)" in g014.way_forward


def test_two_replicas_removed_are_g014_and_g015_for_each() -> None:
    def keep_only_home(t: Template) -> None:
        table(t)["Replicas"] = table(t)["Replicas"][:1]

    assert found(keep_only_home) == {
        ("G014", "Replicas"),
        ("G015", "Replicas[eu-west-1]"),
        ("G015", "Replicas[ap-southeast-2]"),
    }


# -- G015: a replica removed -----------------------------------------------------------------------


def test_a_replica_removed_names_its_region_and_says_retain_does_not_keep_it() -> None:
    (hit,) = findings(lambda t: table(t)["Replicas"].pop())
    assert (hit.rule_id, hit.path, hit.is_error) == ("G015", "Replicas[ap-southeast-2]", True)
    assert "DynamoDB deletes the table's copy in ap-southeast-2" in hit.message
    assert "Retain does not keep a removed replica" in hit.message
    assert "its deletion protection is on, so the update fails" in hit.message
    assert "back its copy up" in hit.way_forward
    assert "- replica ap-southeast-2 (DynamoDB deletes the table's copy in ap-southeast-2)" in review(
        lambda t: table(t)["Replicas"].pop()
    )


def test_the_stacks_own_region_replica_can_never_be_removed() -> None:
    (hit,) = findings(lambda t: table(t)["Replicas"].pop(0))
    assert (hit.rule_id, hit.path) == ("G015", "Replicas[us-east-1]")
    assert "the stack's own Region us-east-1" in hit.message
    assert "keep the us-east-1 replica" in hit.way_forward


# -- G016, G017: consistency and witness -----------------------------------------------------------


def test_consistency_mode_change_is_g016() -> None:
    (hit,) = findings(lambda t: table(t).update(MultiRegionConsistency="STRONG"))
    assert (hit.rule_id, hit.path) == ("G016", "MultiRegionConsistency")
    assert "EVENTUAL -> STRONG" in hit.message
    assert "keep multi_region_consistency: EVENTUAL" in hit.way_forward
    # Unset is EVENTUAL: writing the default out is no change.
    assert found(lambda t: table(t).pop("MultiRegionConsistency")) == set()
    assert "~ consistency: STRONG -> EVENTUAL" in review(
        lambda t: table(t).update(MultiRegionConsistency="EVENTUAL"), env="strong"
    )


def test_a_witness_moved_in_one_update_is_g017_with_the_sequence() -> None:
    def move(t: Template) -> None:
        table(t)["GlobalTableWitnesses"] = [{"Region": "eu-north-1"}]

    (hit,) = findings(move, env="strong")
    assert (hit.rule_id, hit.path) == ("G017", "GlobalTableWitnesses")
    assert "eu-west-2 -> eu-north-1" in hit.message
    assert hit.way_forward == (
        "stage it: deploy 1: delete the witness in eu-west-2; deploy 2: create the witness in eu-north-1"
    )
    assert "~ witness: eu-west-2 -> eu-north-1" in review(move, env="strong")
    assert found(lambda t: table(t).pop("GlobalTableWitnesses"), env="strong") == set()


# -- G018: the stream of a multi-replica global table ---------------------------------------------


def test_stream_change_on_a_multi_replica_eventual_table_is_g018() -> None:
    # G018 alone: G009's way (remove the stream first) is not open to a replicated table.
    assert found(lambda t: table(t).update(StreamSpecification={"StreamViewType": "KEYS_ONLY"})) == {
        ("G018", "StreamSpecification"),
    }
    (hit,) = [f for f in findings(lambda t: table(t).pop("StreamSpecification")) if f.rule_id == "G018"]
    assert "stream NEW_AND_OLD_IMAGES -> none on a global table with 3 replicas" in hit.message


def test_stream_change_is_free_with_one_replica_and_staged_when_a_replica_comes_with_it() -> None:
    def one_replica(t: Template) -> None:
        table(t)["Replicas"] = table(t)["Replicas"][:1]

    old = template()
    one_replica(old)
    new = copy.deepcopy(old)
    new["Resources"]["Table"]["Properties"].pop("StreamSpecification")
    assert plan_stack("x", old, new).findings == []
    # One replica now, a second one in the same update: the stream first, then the replica.
    new = copy.deepcopy(old)
    new["Resources"]["Table"]["Properties"]["StreamSpecification"] = {"StreamViewType": "NEW_IMAGE"}
    new["Resources"]["Table"]["Properties"]["Replicas"].append(new_replica("eu-west-1"))
    hits = [f for f in plan_stack("x", old, new).findings if f.rule_id == "G018"]
    assert hits and hits[0].way_forward.startswith("deploy 1: change the stream while the table has its one replica")


def test_a_strong_table_may_change_its_stream() -> None:
    assert found(lambda t: table(t).update(StreamSpecification={"StreamViewType": "NEW_IMAGE"}), env="strong") == set()


# -- G019: warm throughput only rises --------------------------------------------------------------


def test_warm_throughput_decrease_is_g019_and_an_increase_is_not() -> None:
    (hit,) = findings(lambda t: table(t)["WarmThroughput"].update(WriteUnitsPerSecond=4000))
    assert (hit.rule_id, hit.path, hit.is_error) == ("G019", "WarmThroughput.WriteUnitsPerSecond", True)
    assert "warm write throughput 8000 -> 4000 units per second" in hit.message
    assert "DynamoDB refuses the update" in hit.message
    assert found(lambda t: table(t)["WarmThroughput"].update(ReadUnitsPerSecond=40000)) == set()
    assert "~ warm throughput: read 20000/s, write 8000/s -> read 40000/s, write 8000/s" in review(
        lambda t: table(t)["WarmThroughput"].update(ReadUnitsPerSecond=40000)
    )


def test_an_index_warm_throughput_decrease_is_g019_on_a_plain_table_too() -> None:
    def warm(value: int) -> Callable[[Template], None]:
        return lambda t: table(t)["GlobalSecondaryIndexes"][0].update(WarmThroughput={"ReadUnitsPerSecond": value})

    old = template("prod")
    warm(20000)(old)
    new = copy.deepcopy(old)
    warm(15000)(new)
    assert {(f.rule_id, f.path) for f in plan_stack("x", old, new).findings} == {
        ("G019", "GlobalSecondaryIndexes[ByUserUpdated].WarmThroughput.ReadUnitsPerSecond")
    }


# -- existing guards see replicas ------------------------------------------------------------------


def test_protection_weakened_on_one_replica_is_g004_at_that_replica() -> None:
    def weaken(t: Template) -> None:
        replica(t, "eu-west-1")["DeletionProtectionEnabled"] = False
        replica(t, "ap-southeast-2")["PointInTimeRecoverySpecification"]["RecoveryPeriodInDays"] = 7
        replica(t, "us-east-1")["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": False}

    hits = findings(weaken)
    assert {(f.rule_id, f.path) for f in hits} == {
        ("G004", "Replicas[eu-west-1].DeletionProtectionEnabled"),
        ("G004", "Replicas[ap-southeast-2].PointInTimeRecoverySpecification.RecoveryPeriodInDays"),
        ("G004", "Replicas[us-east-1].PointInTimeRecoverySpecification"),
    }
    assert any(f.message == "replica eu-west-1: deletion protection would be turned off" for f in hits)
    lines = review(weaken)
    assert "~ replica eu-west-1: deletion protection on -> off" in lines
    assert "~ replica ap-southeast-2: point-in-time recovery on, 35 days -> on, 7 days" in lines


def test_a_replicas_key_turned_off_or_changed_is_g004_or_g005_at_that_replica() -> None:
    assert found(lambda t: replica(t, "eu-west-1").pop("SSESpecification")) == {
        ("G004", "Replicas[eu-west-1].SSESpecification.KMSMasterKeyId")
    }
    other = "arn:aws:kms:ap-southeast-2:444444444444:key/mrk-0123456789abcdef0123456789abcdef"
    hits = findings(lambda t: replica(t, "ap-southeast-2")["SSESpecification"].update(KMSMasterKeyId=other))
    assert [(f.rule_id, f.path) for f in hits] == [("G005", "Replicas[ap-southeast-2].SSESpecification.KMSMasterKeyId")]
    assert hits[0].message.startswith("replica ap-southeast-2: the table's encryption key changes from arn:")
    # SSEEnabled is the table's: turning it off is one finding, not one per replica.
    assert ("G004", "SSESpecification.SSEEnabled") in found(lambda t: table(t).update(SSESpecification={}))


def test_ttl_rename_on_a_global_table_is_g003() -> None:
    assert found(lambda t: table(t)["TimeToLiveSpecification"].update(AttributeName="ttl")) == {
        ("G003", "TimeToLiveSpecification.AttributeName")
    }


# -- the reviewer's diff -----------------------------------------------------------------------------


def test_the_reviewer_reads_per_replica_changes() -> None:
    def change(t: Template) -> None:
        replica(t, "eu-west-1")["TableClass"] = "STANDARD_INFREQUENT_ACCESS"
        replica(t, "eu-west-1")["Tags"].append({"Key": "Owner", "Value": "eu-team"})
        replica(t, "us-east-1")["KinesisStreamSpecification"] = {
            "StreamArn": "arn:aws:kinesis:us-east-1:444444444444:stream/conversations"
        }
        replica(t, "ap-southeast-2")["ContributorInsightsSpecification"] = {"Enabled": False}

    lines = review(change)
    assert "~ replica eu-west-1: table class STANDARD -> STANDARD_INFREQUENT_ACCESS" in lines
    assert "+ replica eu-west-1: tag Owner=eu-team" in lines
    assert (
        "~ replica us-east-1: Kinesis stream none -> arn:aws:kinesis:us-east-1:444444444444:stream/conversations"
        in lines
    )
    assert "~ replica ap-southeast-2: contributor insights on -> off" in lines
    # The plan names the replica in each changed path.
    old = template()
    new = copy.deepcopy(old)
    change(new)
    text = render_text([plan_stack("global/data", old, new)], frozenset())
    assert "Properties.Replicas[eu-west-1].TableClass" in text
    assert "Properties.Replicas[us-east-1].KinesisStreamSpecification" in text


def test_the_reviewer_reads_global_capacity_settings() -> None:
    def scale(t: Template) -> None:
        settings = table(t)["WriteProvisionedThroughputSettings"]["WriteCapacityAutoScalingSettings"]
        settings["MaxCapacity"] = 80
        read = replica(t, "eu-central-1")["ReadProvisionedThroughputSettings"]["ReadCapacityAutoScalingSettings"]
        read["MaxCapacity"] = 300

    lines = review(scale, env="strong")
    assert any(line.startswith("~ billing: PROVISIONED (write auto scaling 5-50") for line in lines), lines
    assert any(
        line.startswith("~ replica eu-central-1: read capacity auto scaling 10-200") and "10-300" in line
        for line in lines
    ), lines


def test_a_plain_tables_review_reads_as_before() -> None:
    def change(t: Template) -> None:
        table(t)["TableClass"] = "STANDARD_INFREQUENT_ACCESS"
        table(t)["Tags"].append({"Key": "Owner", "Value": "chat-team"})

    assert review(change, env="prod") == [
        "~ table class: STANDARD -> STANDARD_INFREQUENT_ACCESS",
        "+ tag Owner=chat-team",
    ]


# -- replica key stacks ------------------------------------------------------------------------------


def test_replica_key_removed_replaced_weakened_or_disabled_is_blocked() -> None:
    key = "key-eu-west-1"
    assert found(lambda t: t["Resources"].pop("ReplicaKey"), kind=key) == {("G001", "(resource)")}
    assert ("G004", "DeletionPolicy") in found(
        lambda t: t["Resources"]["ReplicaKey"].update(DeletionPolicy="Delete"), kind=key
    )
    assert found(lambda t: t["Resources"]["ReplicaKey"]["Properties"].update(Enabled=False), kind=key) == {
        ("G004", "Enabled")
    }
    replaced = findings(
        lambda t: t["Resources"]["ReplicaKey"]["Properties"].update(PrimaryKeyArn="arn:aws:kms:us-east-1:1:key/x"),
        kind=key,
    )
    assert [(f.rule_id, f.path) for f in replaced] == [("G001", "PrimaryKeyArn")]


def test_the_environment_plan_covers_every_replica_key_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _git_repo_with_build(tmp_path)
    monkeypatch.chdir(repo)
    build = Path("build")
    plans, _ = plan_environment("global", build, "HEAD")
    assert [p.kind for p in plans] == ["data", "access", "deploy-role", "key-ap-southeast-2", "key-eu-west-1"]
    assert all(not p.changes for p in plans)
    # A key stack gone from the build is planned too: its key would be removed (G001).
    (build / "global" / "key-ap-southeast-2.template.json").unlink()
    plans, _ = plan_environment("global", build, "HEAD")
    (gone,) = [p for p in plans if p.kind == "key-ap-southeast-2"]
    assert ("Remove", "ReplicaKey", "AWS::KMS::ReplicaKey") in [
        (c.action, c.logical_id, c.resource_type) for c in gone.changes
    ]
    assert {f.rule_id for f in gone.findings} == {"G001"}
    # A new key stack (a new replica's) is an Add with nothing blocked.
    key = build / "global" / "key-ap-southeast-2.template.json"
    shutil.copy(build / "global" / "key-eu-west-1.template.json", build / "global" / "key-sa-east-1.template.json")
    subprocess.run(["git", "checkout", "-q", "--", str(key)], check=True)
    plans, _ = plan_environment("global", build, "HEAD")
    (new,) = [p for p in plans if p.kind == "key-sa-east-1"]
    assert new.changes and {c.action for c in new.changes} == {"Add"}
    assert new.findings == []
    # An environment without a global table plans its usual stacks only.
    assert [p.kind for p in plan_environment("prod", build, "HEAD")[0]] == ["data", "access", "deploy-role"]


def test_the_pr_comment_plans_a_new_replica_and_its_key_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _git_repo_with_build(tmp_path)
    monkeypatch.chdir(repo)
    dirs = ["--environments-dir", "environments", "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["pr-comment", "--base", "HEAD", *dirs]) == 0
    comment = capsys.readouterr().out
    assert "`global/key-ap-southeast-2`" in comment and "`global/key-eu-west-1`" in comment  # unchanged, planned
    env = repo / "environments" / "global.yaml"
    env.write_text(env.read_text().replace("replicas:\n", "replicas:\n  - region: sa-east-1\n", 1))
    assert cli_main(["synth", *dirs, "--out", "build"]) == 0
    capsys.readouterr()
    assert cli_main(["pr-comment", "--base", "HEAD", *dirs]) == 0
    comment = capsys.readouterr().out
    assert "<summary>global/key-sa-east-1: " in comment
    assert "| Add | `ReplicaKey` | `AWS::KMS::ReplicaKey` |" in comment
    assert "+ replica sa-east-1: table class STANDARD" in comment


# -- G011: Table -> GlobalTable in place, and the commands that do it safely ------------------------


def test_g011_names_the_release_import_and_replica_deploys_in_order() -> None:
    old = read_json(fixture_build() / "prod" / "data.template.json")
    new = copy.deepcopy(old)
    new["Resources"]["Table"]["Type"] = "AWS::DynamoDB::GlobalTable"
    (hit,) = [f for f in plan_stack("x", old, new).findings if f.rule_id == "G011"]
    assert (hit.where, hit.path, hit.is_error) == ("Table", "Type", True)
    steps = [
        "`deploy --env <env> --release-table`",
        "set global_table: true with no replicas yet",
        "`deploy --env <env> --import`",
        "`deploy --env <env>` once per added replica",
        "With a customer managed key",
        "GlobalTableKey",
        "`deploy --env <env> --allow G001,G005`",
        "Retained and enabled, still decrypting old backups",
        "until it reports the re-encryption done",
    ]
    positions = [hit.way_forward.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), hit.way_forward
    step_3 = hit.way_forward[hit.way_forward.find("3) ") : hit.way_forward.find("4) ")]
    assert "make synth first" in step_3, "the import reads the synthesised GlobalTable"


def test_g020_a_key_turned_multi_region_is_refused() -> None:
    old = read_json(fixture_build() / "prod" / "data.template.json")
    new = copy.deepcopy(old)
    new["Resources"]["TableKey"]["Properties"]["MultiRegion"] = True
    hits = [f for f in plan_stack("x", old, new).findings if f.rule_id == "G020"]
    assert [(h.where, h.path) for h in hits] == [("TableKey", "MultiRegion")]
    assert "the update fails" in hits[0].message or "refuses the update" in hits[0].message
    same = copy.deepcopy(old)
    assert [f for f in plan_stack("x", old, same).findings if f.rule_id == "G020"] == []
