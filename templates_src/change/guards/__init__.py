"""Data-loss guards for the offline plan: one guard per module, stable IDs.

Each guard module holds its `RULE` (ID, title, the documentation behind it)
and a `check` that looks at one resource change (or a `check_plan` over all
of a stack's changes, or, G013, a check of the environment file) and returns
diagnostics; an error blocks the deploy unless its ID is explicitly allowed
(ALLOW=<id>); a warning is printed and does not block.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ...diagnostics import Diagnostic, Rule
from ..diff import ResourceChange

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
)


def _modules() -> tuple[ModuleType, ...]:
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in GUARD_MODULES)


def guard_rules() -> list[Rule]:
    return [m.RULE for m in _modules()]


def run_guards(changes: list[ResourceChange]) -> list[Diagnostic]:
    """Every guard on a stack's changes: per change (`check`), then across changes (`check_plan`)."""
    found: list[Diagnostic] = []
    modules = _modules()
    for change in changes:
        for module in modules:
            if hasattr(module, "check"):
                found.extend(module.check(change))
    for module in modules:
        if hasattr(module, "check_plan"):
            found.extend(module.check_plan(changes))
    return found
