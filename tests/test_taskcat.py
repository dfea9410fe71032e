"""The generated taskcat config and its disposable template variants."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from .conftest import FIXTURE_ENV_NAMES as ENV_NAMES
from .conftest import ROOT, fixture_build, read_json
from .conftest import fixture_spec as spec_for

CONFIG = fixture_build() / "taskcat" / ".taskcat.yml"
# A multi-account global table has no taskcat test: its source names its replicas' accounts, which a test
# stack in one account cannot hold (docs/global-tables.md: Multi-account global tables).
TESTED = [env for env in ENV_NAMES if env != "multiaccount"]


def config() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text())


def test_one_test_per_environment_data_stack_in_its_regions() -> None:
    c = config()
    assert set(c["tests"]) == {f"{env}-data" for env in TESTED}
    assert "multiaccount-data" not in c["tests"]
    all_regions: set[str] = set()
    for env in TESTED:
        test = c["tests"][f"{env}-data"]
        spec = spec_for(env)
        assert test["regions"][0] == spec.env.region
        assert set(test["regions"]) == {spec.env.region, *spec.env.test_regions}
        all_regions |= set(test["regions"])
        assert "$[taskcat_random-string]" in test["parameters"]["TableName"]
        deployed = {
            p["ParameterKey"]: p["ParameterValue"] for p in read_json(fixture_build() / env / "data.parameters.json")
        }
        assert {k: v for k, v in test["parameters"].items() if k != "TableName"} == deployed
        assert (fixture_build().parent / test["template"]).is_file()
    assert sorted(all_regions) == c["project"]["regions"]
    assert len(all_regions) > 1, "at least one multi-region test"


@pytest.mark.parametrize("env", TESTED)
def test_variant_differs_only_where_a_test_must(env: str) -> None:
    original = read_json(fixture_build() / env / "data.template.json")
    variant = read_json(fixture_build() / "taskcat" / f"{env}-data.template.json")
    table = variant["Resources"]["Table"]
    assert table["Properties"]["TableName"] == {"Ref": "TableName"}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Delete"
    if table["Type"] == "AWS::DynamoDB::GlobalTable":
        assert all(r["DeletionProtectionEnabled"] is False for r in table["Properties"]["Replicas"])
    else:
        assert table["Properties"]["DeletionProtectionEnabled"] is False
    # Everything else is the environment's own.
    for key in (
        "KeySchema",
        "AttributeDefinitions",
        "GlobalSecondaryIndexes",
        "SSESpecification",
        "PointInTimeRecoverySpecification",
        "StreamSpecification",
        "BillingMode",
    ):
        # (policies in them name the random test table)
        named = json.dumps(original["Resources"]["Table"]["Properties"].get(key))
        named = named.replace(f"table/{spec_for(env).table_name}", "table/${TableName}")
        assert table["Properties"].get(key) == json.loads(named), key
    assert set(variant["Resources"]) == set(original["Resources"])
    if "TableKeyAlias" in variant["Resources"]:
        assert variant["Resources"]["TableKeyAlias"]["Properties"]["AliasName"] == {"Fn::Sub": "alias/${TableName}"}


def test_global_variant_spans_every_replica_region_and_stays_deletable() -> None:
    original = read_json(fixture_build() / "global" / "data.template.json")["Resources"]["Table"]["Properties"]
    variant = read_json(fixture_build() / "taskcat" / "global-data.template.json")["Resources"]["Table"]["Properties"]
    assert [r["Region"] for r in variant["Replicas"]] == [r["Region"] for r in original["Replicas"]]
    # No replica key stacks in a test, and no mix of key kinds: every replica on its Region's AWS managed key.
    assert all("SSESpecification" not in r for r in variant["Replicas"])
    assert variant["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert original["Replicas"][1]["SSESpecification"]
    # Policies name the random test table, in each replica's Region.
    for replica in variant["Replicas"]:
        (resource, _) = replica["ResourcePolicy"]["PolicyDocument"]["Statement"][0]["Resource"]
        assert resource["Fn::Sub"].endswith(":table/${TableName}")


def _taskcat_lint_module() -> Any:
    """scripts/taskcat_lint.py (run by make taskcat-lint with taskcat's Python), loaded from its file."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("taskcat_lint", ROOT / "scripts" / "taskcat_lint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_taskcat_lint_runs_cfn_lint_once_per_template_and_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same file, template object, rules and Regions: the first findings again, cfn-lint not run;
    anything different (Regions, a template parsed again, other rules) is linted."""
    module = _taskcat_lint_module()
    runs: list[tuple[str, tuple[str, ...]]] = []

    def run_checks(filename: str, template: Any, rules: Any, regions: list[str]) -> list[str]:
        runs.append((filename, tuple(regions)))
        return [f"finding {len(runs)}"]

    monkeypatch.setattr(module, "_run_checks", run_checks)
    template, rules = {"Resources": {}}, object()
    first = module.run_checks_once("a.json", template, rules, ["us-east-1"])
    assert module.run_checks_once("a.json", template, rules, ["us-east-1"]) is first
    assert first == ["finding 1"]
    assert module.run_checks_once("a.json", template, rules, ["us-east-1", "us-west-2"]) == ["finding 2"]
    assert module.run_checks_once("b.json", template, rules, ["us-east-1"]) == ["finding 3"]
    assert module.run_checks_once("a.json", {"Resources": {}}, rules, ["us-east-1"]) == ["finding 4"]
    assert module.run_checks_once("a.json", template, object(), ["us-east-1"]) == ["finding 5"]
    assert len(runs) == 5
