"""The role names are one fact: the environment's model, the pattern roles and the templates agree."""

from __future__ import annotations

from typing import get_args

from templates_src.spec.environment import AccessRoles
from templates_src.spec.roles import PATTERN_ROLES, ROLES, TRUSTED_ROLES, PatternRole

# The templates list the roles in this order (build/ depends on it).
EVERY_ROLE = ("app", "reader", "stream_consumer", "ops", "per_user")


def test_the_roles_model_has_exactly_the_roles_in_their_order() -> None:
    assert tuple(AccessRoles.model_fields) == EVERY_ROLE
    assert ROLES == EVERY_ROLE


def test_pattern_roles_and_trusted_roles_are_roles() -> None:
    assert PATTERN_ROLES == get_args(PatternRole) == ("app", "reader", "per_user")
    assert TRUSTED_ROLES == ("app", "reader", "stream_consumer", "ops")
