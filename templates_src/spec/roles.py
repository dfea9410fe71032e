"""The access roles, each named once: the environment's `access.roles`, the design's pattern
roles, the grants, the access stack and its report all use these names.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# The roles an access pattern names: what they may do comes from the patterns alone.
PatternRole = Literal["app", "reader", "per_user"]
PATTERN_ROLES: tuple[PatternRole, ...] = get_args(PatternRole)

# Typed by PatternRole where they are one, so mypy holds these names to the Literal.
APP: Final[PatternRole] = "app"
READER: Final[PatternRole] = "reader"
STREAM_CONSUMER: Final = "stream_consumer"
OPS: Final = "ops"
PER_USER: Final[PatternRole] = "per_user"

# Every role, in the order the templates list them (build/ depends on it).
ROLES: tuple[str, ...] = (APP, READER, STREAM_CONSUMER, OPS, PER_USER)
# Roles named principals assume (`trusted:`); per_user is assumed by Cognito identities.
TRUSTED_ROLES: tuple[str, ...] = (APP, READER, STREAM_CONSUMER, OPS)
