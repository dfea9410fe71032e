"""The staged deploy's planner (change/steps.py), offline: each step one index apart, in the order
that keeps every query working, the access stack between, and the build as the last step.

Expected steps are written out here from the design change in tests/staged_designs.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from templates_src.change.steps import STAGED_METADATA, plan_steps, staged_marker

from .conftest import fixture_build, read_json
from .staged_designs import design_with_three_new_indexes_and_one_gone


def _gsis(template: dict[str, Any]) -> list[str]:
    return sorted(
        g["IndexName"] for g in template["Resources"]["Table"]["Properties"].get("GlobalSecondaryIndexes", [])
    )


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(environments, designs, build) of the staged design change."""
    return design_with_three_new_indexes_and_one_gone(tmp_path_factory.mktemp("staged"))


@pytest.fixture(scope="module")
def staged_build(staged: tuple[Path, Path, Path]) -> Path:
    return staged[2]


def _templates(build: Path, env: str) -> tuple[dict[str, Any], ...]:
    old, new = fixture_build() / env, build / env
    return tuple(read_json(d / f"{kind}.template.json") for d in (old, new) for kind in ("data", "access"))


def test_three_new_indexes_and_one_gone_run_as_five_steps_new_ones_first(staged_build: Path) -> None:
    old_data, old_access, new_data, new_access = _templates(staged_build, "dev")
    steps = plan_steps(old_data, new_data, old_access, new_access)
    assert [(s.kind, s.summary) for s in steps] == [
        ("data", "create GSI ByUserRecent"),
        ("data", "create GSI ByUserTitle"),
        ("data", "create GSI ByTitle"),
        ("access", "the access stack as built"),
        ("data", "delete GSI ByUserUpdated"),
    ]
    data = [s.template for s in steps if s.kind == "data"]
    assert [_gsis(t) for t in data] == [
        ["ByUserRecent", "ByUserUpdated"],
        ["ByUserRecent", "ByUserTitle", "ByUserUpdated"],
        ["ByTitle", "ByUserRecent", "ByUserTitle", "ByUserUpdated"],
        ["ByTitle", "ByUserRecent", "ByUserTitle"],
    ]
    assert [s.created for s in steps] == ["ByUserRecent", "ByUserTitle", "ByTitle", None, None]
    assert [s.deleted for s in steps] == [None, None, None, None, "ByUserUpdated"]
    # The last step is the build itself; the access step is the built access template.
    assert steps[-1].template == new_data and steps[3].template == new_access
    # Each intermediate step defines exactly the attributes its keys use (CloudFormation rejects others).
    definitions = [
        sorted(a["AttributeName"] for a in t["Resources"]["Table"]["Properties"]["AttributeDefinitions"]) for t in data
    ]
    assert definitions == [
        ["sk", "updatedAt", "userId"],
        ["sk", "title", "updatedAt", "userId"],
        ["sk", "title", "updatedAt", "userId"],
        ["sk", "title", "updatedAt", "userId"],
    ]
    # An intermediate step names the build it leads to and its place; the build carries no marker.
    markers = [staged_marker(t) for t in data]
    assert [m["Step"] if m else None for m in markers] == [1, 2, 3, None]
    assert len({m["Build"] for m in markers if m}) == 1
    assert STAGED_METADATA not in (new_data.get("Metadata") or {})


def test_each_step_is_one_index_apart_from_the_one_before(staged_build: Path) -> None:
    old_data, old_access, new_data, new_access = _templates(staged_build, "prod")
    previous = set(_gsis(old_data))
    for step in plan_steps(old_data, new_data, old_access, new_access):
        if step.kind == "data":
            now = set(_gsis(step.template))
            assert len(previous ^ now) == 1, (step.summary, previous, now)
            previous = now
    assert previous == {"ByUserRecent", "ByUserTitle", "ByTitle"}


def test_an_index_s_auto_scaling_waits_for_the_index(staged_build: Path) -> None:
    """staging scales each index: a step has the scaling resources of exactly the indexes it has."""
    old_data, old_access, new_data, new_access = _templates(staged_build, "staging")
    steps = [s for s in plan_steps(old_data, new_data, old_access, new_access) if s.kind == "data"]
    scaled = [
        sorted(k for k in s.template["Resources"] if k.startswith("Index") and k.endswith("ScalableTarget"))
        for s in steps
    ]
    # The removed ByUserUpdated is not scaled from the first step (the build has no scaling for it):
    # it keeps its capacity until it goes.
    assert scaled == [
        ["IndexByUserRecentReadScalableTarget", "IndexByUserRecentWriteScalableTarget"],
        [
            "IndexByUserRecentReadScalableTarget",
            "IndexByUserRecentWriteScalableTarget",
            "IndexByUserTitleReadScalableTarget",
            "IndexByUserTitleWriteScalableTarget",
        ],
        [
            "IndexByTitleReadScalableTarget",
            "IndexByTitleWriteScalableTarget",
            "IndexByUserRecentReadScalableTarget",
            "IndexByUserRecentWriteScalableTarget",
            "IndexByUserTitleReadScalableTarget",
            "IndexByUserTitleWriteScalableTarget",
        ],
        [
            "IndexByTitleReadScalableTarget",
            "IndexByTitleWriteScalableTarget",
            "IndexByUserRecentReadScalableTarget",
            "IndexByUserRecentWriteScalableTarget",
            "IndexByUserTitleReadScalableTarget",
            "IndexByUserTitleWriteScalableTarget",
        ],
    ]
    # A scaling policy goes with its target.
    first = steps[0].template["Resources"]
    assert "IndexByUserTitleReadScalingPolicy" not in first and "IndexByUserRecentReadScalingPolicy" in first


def _table(names: list[str], key: str = "k") -> dict[str, Any]:
    return {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": key, "AttributeType": "S"},
                    ],
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": n,
                            "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
                            "Projection": {"ProjectionType": "KEYS_ONLY"},
                        }
                        for n in names
                    ],
                },
            }
        }
    }


def test_a_changed_key_is_deleted_then_created_and_past_the_quota_deletions_go_first() -> None:
    old = _table(["A", "B"])
    new = copy.deepcopy(old)
    new["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "ALL"}
    new["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"].append(
        {
            "IndexName": "C",
            "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    )
    assert [s.summary for s in plan_steps(old, new)] == [
        "create GSI C",
        "delete GSI A (its key or projection changes)",
        "create GSI A again, with its new key or projection",
    ]
    # 19 live, one replaced by two new: 21 at once would pass the default quota of 20.
    live = [f"G{i:02}" for i in range(19)]
    steps = plan_steps(_table(live), _table(live[1:] + ["N1", "N2"]))
    assert [s.summary for s in steps] == ["delete GSI G00", "create GSI N1", "create GSI N2"]


def test_one_index_removed_the_access_stack_stops_granting_it_first(staged_build: Path) -> None:
    """Deployed: the staged build. Built: the fixture (ByUserRecent, ByUserTitle, ByTitle go; ByUserUpdated returns)."""
    new_data, new_access, old_data, old_access = _templates(staged_build, "dev")
    steps = plan_steps(old_data, new_data, old_access, new_access)
    assert [(s.kind, s.summary) for s in steps] == [
        ("data", "create GSI ByUserUpdated"),
        ("access", "the access stack as built"),
        ("data", "delete GSI ByUserRecent"),
        ("data", "delete GSI ByUserTitle"),
        ("data", "delete GSI ByTitle"),
    ]


def test_no_index_change_is_one_step_per_changed_stack() -> None:
    old = _table(["A"])
    new = copy.deepcopy(old)
    new["Resources"]["Table"]["Properties"]["TableClass"] = "STANDARD_INFREQUENT_ACCESS"
    access = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}}
    assert [(s.kind, s.summary) for s in plan_steps(old, new, access, access)] == [("data", "the data stack as built")]
    assert plan_steps(old, old, access, access) == []


class _Stacks:
    """What GlobalSteps reads of CloudFormation: each stack's status and deployed template, kept as deployed."""

    def __init__(self, deployed: dict[str, dict[str, Any]]) -> None:
        self.deployed = deployed
        self.cf = None

    def describe(self, name: str) -> dict[str, Any] | None:
        return {"StackStatus": "UPDATE_COMPLETE", "Outputs": []} if name in self.deployed else None

    def deployed_template(self, name: str) -> dict[str, Any]:
        return self.deployed[name]


def test_a_global_tables_index_steps_run_on_its_live_replicas_before_the_replica_steps(
    staged_build: Path,
) -> None:
    from templates_src.deploy.global_steps import GlobalSteps
    from templates_src.stacks.artifacts import read_stack_files

    from .conftest import fixture_spec

    spec = fixture_spec("global")
    stacks = {s.kind: s for s in read_stack_files(spec, staged_build / "global")}
    data, access = stacks.pop("data"), stacks.pop("access")
    keys = list(stacks.values())
    old = read_json(fixture_build() / "global" / "data.template.json")
    fake = _Stacks({data.name: old, access.name: read_json(fixture_build() / "global" / "access.template.json")})
    deployed: list[tuple[str, dict[str, Any]]] = []

    def deploy_one(stack: Any) -> dict[str, str]:
        deployed.append((stack.name, stack.template_dict))
        fake.deployed[stack.name] = stack.template_dict
        return {"KeyArn": "arn:aws:kms:us-east-1:222222222222:key/mrk-1"}

    class Regional:
        def deploy(self, stack: Any) -> dict[str, str]:
            return deploy_one(stack)

    waited: list[str] = []
    steps = GlobalSteps(spec, fake, deploy_one, print, frozenset(), lambda step: waited.append(step.summary))  # type: ignore[arg-type]
    steps.deploy(data, keys, lambda region: Regional(), [access])  # type: ignore[arg-type, return-value]

    def replica_indexes(template: dict[str, Any]) -> list[list[str]]:
        replicas = template["Resources"]["Table"]["Properties"]["Replicas"]
        return [sorted(g["IndexName"] for g in r.get("GlobalSecondaryIndexes", [])) for r in replicas]

    sequence = [(name, _gsis(t) if name == data.name else "access") for name, t in deployed[:5]]
    assert sequence == [
        (data.name, ["ByUserRecent", "ByUserUpdated"]),
        (data.name, ["ByUserRecent", "ByUserTitle", "ByUserUpdated"]),
        (data.name, ["ByTitle", "ByUserRecent", "ByUserTitle", "ByUserUpdated"]),
        (access.name, "access"),
        (data.name, ["ByTitle", "ByUserRecent", "ByUserTitle"]),
    ]
    # Every replica carries its settings for exactly the step's indexes.
    for _, template in deployed[:3] + deployed[4:5]:
        assert set(map(tuple, replica_indexes(template))) == {tuple(_gsis(template))}
    assert waited == [
        "create GSI ByUserRecent",
        "create GSI ByUserTitle",
        "create GSI ByTitle",
        "delete GSI ByUserUpdated",
    ]
    assert deployed[4][1] == data.template_dict, "the last index step is the build (every replica live)"


def test_the_plan_prices_each_new_index_s_backfill(staged: tuple[Path, Path, Path]) -> None:
    """prod: on-demand, traffic.index_gb.ByUserRecent 4 GB: 4e9 / 1024 = 3,906,250 write units (one per KB,
    items unknown) at the fixture book's $0.625 per million = $2.44."""
    from templates_src.change.plan import StackPlan, attach_steps, render_text
    from templates_src.spec.loader import load_spec

    environments, designs, build = staged
    spec = load_spec(environments / "prod.yaml", designs)
    old_data, old_access, new_data, new_access = _templates(build, "prod")
    plans = [
        StackPlan("prod/data", [], [], kind="data", old=old_data, new=new_data),
        StackPlan("prod/access", [], [], kind="access", old=old_access, new=new_access),
    ]
    attach_steps(plans, spec)
    notes = plans[0].step_notes
    assert sorted(notes) == [0, 1, 2], "one note per created index, by step"
    assert notes[0] == (
        "backfill of ByUserRecent: about 3,906,250 write units, ~$2.44 on-demand (100 GB; no published duration)"
    )
    assert notes[1].startswith("backfill of ByUserTitle: about ") and notes[2].startswith("backfill of ByTitle: about ")
    text = render_text(plans, frozenset())
    assert (
        "     1. data: create GSI ByUserRecent\n        backfill of ByUserRecent: about 3,906,250 write units" in text
    )


def test_backfill_writes_round_each_item_up_to_whole_kb() -> None:
    from templates_src.change.cost.backfill import backfill_writes
    from templates_src.change.cost.model import Estimate, Line

    line = Line("storage", "GSI ByX", "", 2.0, None, None, "GB-month", 0.5)
    estimate = Estimate("us-east-1", "STANDARD", "PAY_PER_REQUEST", [line], None)
    # 2 GB over 1,000,000 items: 1.95 KB each, 2 units each.
    assert backfill_writes(estimate, "ByX", 1_000_000) == 2_000_000
    # Items unknown: one unit per KB, 2e9 / 1024.
    assert backfill_writes(estimate, "ByX", None) == 1_953_125
    assert backfill_writes(estimate, "ByOther", None) is None
