"""One registry each: every guard module and every spec rule module is listed once, and found only there."""

from __future__ import annotations

from templates_src.change.guards import GUARD_MODULES, guards

from .conftest import ROOT

PACKAGE = ROOT / "templates_src"


def test_every_guard_module_is_registered_once_in_id_order() -> None:
    on_disk = sorted(p.stem for p in (PACKAGE / "change" / "guards").glob("g[0-9][0-9][0-9]_*.py"))
    assert list(GUARD_MODULES) == on_disk
    assert [g.rule.id for g in guards()] == [f"G{n:03d}" for n in range(1, 23)]


def test_each_guard_checks_one_way() -> None:
    kinds = {g.rule.id: [k for k in ("change", "plan", "environment") if getattr(g, k) is not None] for g in guards()}
    assert kinds["G012"] == ["plan"] and kinds["G013"] == ["environment"]
    assert all(k == ["change"] for rule_id, k in kinds.items() if rule_id not in ("G012", "G013"))
