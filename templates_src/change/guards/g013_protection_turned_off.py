"""G013: a protected environment is turned unprotected.

`protected: true` is what makes an environment keep Retain, deletion
protection, PITR and a customer managed key, and what makes deploy add the
stack policy and termination protection. Turning it off is the first step
of every data loss the other guards block, so it is a change of its own.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from . import EnvironmentChange, Guard

RULE = Rule(
    "G013",
    "A protected environment stays protected (termination protection kept)",
    "error",
    "docs/environments.md: Environment config reference (protected)",
)


def check_environment(change: EnvironmentChange) -> list[Diagnostic]:
    if not (change.was_protected and not change.is_protected):
        return []
    return [
        RULE.at(
            change.env_file,
            "protected",
            "protected: true -> false: the environment would lose its required Retain, deletion protection, PITR "
            "and key, and deploy would stop protecting the stack",
            "keep protected: true; to retire an environment, back it up, then allow G013 in a deploy of its own",
            line=change.line,
        )
    ]


GUARD = Guard(RULE, environment=check_environment)
