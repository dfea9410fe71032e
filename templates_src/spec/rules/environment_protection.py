"""N2xx: what a protected environment must keep on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule

if TYPE_CHECKING:
    from ..environment import Environment
    from ..source import Source

PROTECTED_KEEPS_DATA = Rule(
    "N201",
    "A protected environment keeps Retain, deletion protection, PITR and a customer managed key",
    "error",
    "README: Environment config reference (protected)",
)

RULES = (PROTECTED_KEEPS_DATA,)


def check(env: Environment, src: Source) -> list[Diagnostic]:
    if not env.protected:
        return []
    required = {
        ("retention",): (env.retention == "Retain", "Retain"),
        ("deletion_protection",): (env.deletion_protection, "true"),
        ("point_in_time_recovery", "enabled"): (env.point_in_time_recovery.enabled, "true"),
        ("encryption",): (env.encryption == "customer_managed", "customer_managed"),
    }
    return [
        src.report(
            PROTECTED_KEEPS_DATA, path, f"a protected environment needs {wanted} (set protected: false to opt out)"
        )
        for path, (ok, wanted) in required.items()
        if not ok
    ]
