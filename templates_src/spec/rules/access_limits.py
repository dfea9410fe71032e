"""A: IAM limits of the generated roles, checked while the access stack is built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from .. import limits
from . import RuleModule

if TYPE_CHECKING:
    from ..source import Source

_QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"

ROLE_NAME_LENGTH = Rule(
    "A001", f"Role names are at most {limits.IAM_ROLE_NAME_MAX_LENGTH} characters", "error", _QUOTAS
)
INLINE_POLICY_SIZE = Rule(
    "A002", f"A role's inline policies total at most {limits.IAM_ROLE_POLICY_MAX_CHARS} characters", "error", _QUOTAS
)

RULES = (ROLE_NAME_LENGTH, INLINE_POLICY_SIZE)
RULE_MODULE = RuleModule(RULES)


def check_role(src: Source, role: str, role_name: str, policy_chars: int) -> list[Diagnostic]:
    """policy_chars: the policy's length without whitespace, as IAM counts it."""
    found = []
    if len(role_name) > limits.IAM_ROLE_NAME_MAX_LENGTH:
        found.append(
            src.report(
                ROLE_NAME_LENGTH,
                ("stack_prefix",),
                f"role name {role_name!r} is {len(role_name)} characters; IAM allows "
                f"{limits.IAM_ROLE_NAME_MAX_LENGTH}: shorten stack_prefix",
            )
        )
    if policy_chars > limits.IAM_ROLE_POLICY_MAX_CHARS:
        found.append(
            src.report(
                INLINE_POLICY_SIZE,
                ("access", "roles", role),
                f"inline policy is {policy_chars} characters; IAM allows {limits.IAM_ROLE_POLICY_MAX_CHARS} per role",
            )
        )
    return found
