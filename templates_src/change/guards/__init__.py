"""Data-loss guards for the offline plan: one guard per module, stable IDs.

Each guard module holds its `RULE` (ID, title, the documentation behind it)
and its `GUARD`: the rule with what it checks, one resource change (`change`),
all of a stack's changes together (`plan`) or the environment file before and
after (`environment`). Each check returns diagnostics; an error blocks the
deploy unless its ID is explicitly allowed (ALLOW=<id>); a warning is printed
and does not block. GUARD_MODULES is the one list of guards; the plan and the
deploy run them through run_guards and run_environment_guards alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from ...diagnostics import Diagnostic, Rule, registered
from ..diff import ResourceChange


@dataclass(frozen=True)
class EnvironmentChange:
    """An environment file as the base had it and as it is now: what environment guards check."""

    env_file: str
    was_protected: bool
    is_protected: bool
    line: int | None = None  # of `protected:` in the environment file, when known


ChangeCheck = Callable[[ResourceChange], list[Diagnostic]]
PlanCheck = Callable[[list[ResourceChange]], list[Diagnostic]]
EnvironmentCheck = Callable[[EnvironmentChange], list[Diagnostic]]


@dataclass(frozen=True)
class Guard:
    """A guard's rule and its checks: per resource change, across a stack's changes, of the environment."""

    rule: Rule
    change: ChangeCheck | None = None
    plan: PlanCheck | None = None
    environment: EnvironmentCheck | None = None

    def __post_init__(self) -> None:
        if self.change is None and self.plan is None and self.environment is None:
            raise TypeError(f"guard {self.rule.id} checks nothing")


# One module per guard, in ID order.
GUARD_MODULES = (
    "g001_stateful_replacement",
    "g002_one_gsi_per_update",
    "g003_ttl_rename",
    "g004_protection_weakened",
    "g005_encryption_key_changed",
    "g006_lsi_change",
    "g007_key_type_change",
    "g008_gsi_recreated",
    "g009_stream_view_type",
    "g010_billing_mode_switch",
    "g011_resource_type_change",
    "g012_logical_id_changed",
    "g013_protection_turned_off",
    "g014_one_replica_per_update",
    "g015_replica_removed",
    "g016_consistency_mode",
    "g017_one_witness_per_update",
    "g018_global_stream_change",
    "g019_warm_throughput_decrease",
    "g020_key_multi_region",
    "g021_replicas_added_together",
    "g022_key_policy_lockout",
    "g023_recovery_weakened",
    "g024_multi_account_replica_fixed",
)


@cache
def guards() -> tuple[Guard, ...]:
    """Every guard, in ID order (imported on first use)."""
    return registered(__name__, GUARD_MODULES, "GUARD", Guard)


def guard_rules() -> list[Rule]:
    return [g.rule for g in guards()]


def run_guards(changes: list[ResourceChange]) -> list[Diagnostic]:
    """Every guard on a stack's changes: per change, then across changes."""
    found: list[Diagnostic] = []
    for change in changes:
        for guard in guards():
            if guard.change is not None:
                found.extend(guard.change(change))
    for guard in guards():
        if guard.plan is not None:
            found.extend(guard.plan(changes))
    return found


def run_environment_guards(change: EnvironmentChange) -> list[Diagnostic]:
    """Every guard on the environment file's change (the plan: against the base; deploy: against the stack)."""
    found: list[Diagnostic] = []
    for guard in guards():
        if guard.environment is not None:
            found.extend(guard.environment(change))
    return found
