"""Data-loss guards for the offline plan: one guard per module, stable IDs.

Each guard module holds its `RULE` (ID, title, the documentation behind it)
and a `check` that looks at one resource change and returns diagnostics;
they block the deploy unless the guard's ID is explicitly allowed
(ALLOW=<id>).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from ...diagnostics import Diagnostic, Rule
from ..diff import ResourceChange

STATEFUL_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::KMS::Key")

Guard = Callable[[ResourceChange], list[Diagnostic]]


def _modules() -> tuple[ModuleType, ...]:
    from . import (
        g001_stateful_replacement,
        g002_one_gsi_per_update,
        g003_ttl_rename,
        g004_protection_weakened,
        g005_encryption_key_changed,
    )

    return (
        g001_stateful_replacement,
        g002_one_gsi_per_update,
        g003_ttl_rename,
        g004_protection_weakened,
        g005_encryption_key_changed,
    )


def guard_rules() -> list[Rule]:
    return [m.RULE for m in _modules()]


def all_guards() -> dict[str, Guard]:
    return {m.RULE.id: m.check for m in _modules()}
