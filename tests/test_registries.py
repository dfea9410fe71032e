"""One registry each: every guard module and every spec rule module is listed once, and found only there."""

from __future__ import annotations

from templates_src.change.guards import GUARD_MODULES, guards
from templates_src.spec.rules import RULE_MODULES, rule_modules

from .conftest import ROOT

PACKAGE = ROOT / "templates_src"


def test_every_guard_module_is_registered_once_in_id_order() -> None:
    on_disk = sorted(p.stem for p in (PACKAGE / "change" / "guards").glob("g[0-9][0-9][0-9]_*.py"))
    assert list(GUARD_MODULES) == on_disk
    assert [g.rule.id for g in guards()] == [f"G{n:03d}" for n in range(1, 25)]


def test_each_guard_checks_one_way() -> None:
    kinds = {g.rule.id: [k for k in ("change", "plan", "environment") if getattr(g, k) is not None] for g in guards()}
    assert kinds["G012"] == ["plan"] and kinds["G013"] == ["environment"]
    assert all(k == ["change"] for rule_id, k in kinds.items() if rule_id not in ("G012", "G013"))


def test_every_spec_rule_module_is_registered_once() -> None:
    on_disk = {p.stem for p in (PACKAGE / "spec" / "rules").glob("*.py")} - {"__init__"}
    assert sorted(RULE_MODULES) == sorted(on_disk)
    assert len(rule_modules()) == len(RULE_MODULES)


def test_the_loader_runs_each_concern_where_it_belongs() -> None:
    """Design checks, environment checks, environment-with-design checks; the rest run where the input is read."""
    kinds = {
        name: [k for k in ("design", "environment", "environment_design") if getattr(module, k) is not None]
        for name, module in zip(RULE_MODULES, rule_modules(), strict=True)
    }
    assert kinds == {
        "yaml_input": [],
        "schema": [],
        "files": [],
        "design_keys": ["design"],
        "design_indexes": ["design"],
        "design_patterns": ["design"],
        "design_storage": ["design"],
        "design_migration": ["design"],
        "environment_billing": ["environment"],
        "environment_protection": ["environment"],
        "environment_tags": ["environment"],
        "environment_design": ["environment_design"],
        "environment_traffic": ["environment_design"],
        "environment_global": ["environment", "environment_design"],
        "environment_multiaccount": ["environment"],
        "environment_encryption": ["environment"],
        "access_limits": [],
    }
