"""Data-loss guards for the offline plan: one guard per module, stable IDs.

Each guard looks at one resource change and returns findings that block the
deploy unless the guard's ID is explicitly allowed (ALLOW=<id>).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..changes import ResourceChange

STATEFUL_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::KMS::Key")


@dataclass(frozen=True)
class Finding:
    guard_id: str
    logical_id: str
    property: str
    message: str
    way_forward: str


Guard = Callable[[ResourceChange], list[Finding]]


def all_guards() -> dict[str, Guard]:
    from . import (
        g001_stateful_replacement,
        g002_one_gsi_per_update,
        g003_ttl_rename,
        g004_protection_weakened,
        g005_encryption_key_changed,
    )

    modules = (
        g001_stateful_replacement,
        g002_one_gsi_per_update,
        g003_ttl_rename,
        g004_protection_weakened,
        g005_encryption_key_changed,
    )
    return {m.GUARD_ID: m.check for m in modules}
