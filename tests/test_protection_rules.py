"""Each protection a protected environment must keep, and each a plan must not weaken, on its own.

N201 (spec) and G004 (plan) each guard several settings; a rule that stopped
checking one of them would still pass a test that flips only another. Each
case here flips exactly one and expects exactly that finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .test_rule_fixtures import Env, env_case, guard_case

N201_CASES: list[tuple[str, Any, str]] = [
    ("retention", lambda e: e.update(retention="Delete"), "retention"),
    ("deletion_protection", lambda e: e.update(deletion_protection=False), "deletion_protection"),
    (
        "point_in_time_recovery",
        lambda e: e.update(point_in_time_recovery={"enabled": False}),
        "point_in_time_recovery.enabled",
    ),
    ("encryption", lambda e: e.update(encryption="aws_managed"), "encryption"),
]


@pytest.mark.parametrize(("name", "mutate", "path"), N201_CASES, ids=[c[0] for c in N201_CASES])
def test_a_protected_environment_keeps_each_protection(name: str, mutate: Any, path: str, tmp_path: Path) -> None:
    found = [(d.rule_id, d.path) for d in env_case(tmp_path, mutate) if d.rule_id == "N201"]
    assert found == [("N201", path)]


def test_an_unprotected_environment_may_turn_them_off(tmp_path: Path) -> None:
    def unprotected(e: Env) -> None:
        e.update(protected=False, retention="Delete", deletion_protection=False)
        e["point_in_time_recovery"] = {"enabled": False}

    assert [d for d in env_case(tmp_path, unprotected) if d.rule_id == "N201"] == []


def _table(t: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = t["Resources"]["Table"]
    return table


G004_CASES: list[tuple[str, Any, str]] = [
    ("DeletionPolicy", lambda t: _table(t).update(DeletionPolicy="Delete"), "DeletionPolicy"),
    ("UpdateReplacePolicy", lambda t: _table(t).update(UpdateReplacePolicy="Delete"), "UpdateReplacePolicy"),
    (
        "deletion protection",
        lambda t: _table(t)["Properties"].update(DeletionProtectionEnabled=False),
        "DeletionProtectionEnabled",
    ),
    (
        "PITR",
        lambda t: _table(t)["Properties"].update(
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
        ),
        "PointInTimeRecoverySpecification",
    ),
    (
        "PITR window",
        lambda t: _table(t)["Properties"]["PointInTimeRecoverySpecification"].update(RecoveryPeriodInDays=7),
        "PointInTimeRecoverySpecification.RecoveryPeriodInDays",
    ),
    (
        "the key's retention",
        lambda t: t["Resources"]["TableKey"].update(UpdateReplacePolicy="Delete"),
        "UpdateReplacePolicy",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "path"), G004_CASES, ids=[c[0] for c in G004_CASES])
def test_a_plan_that_weakens_one_protection_is_blocked(name: str, mutate: Any, path: str) -> None:
    found = [(d.rule_id, d.path) for d in guard_case(mutate) if d.rule_id == "G004"]
    assert found == [("G004", path)]
