"""N4xx: an environment's settings against the design it deploys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule

if TYPE_CHECKING:
    from ..design import Design
    from ..environment import Environment
    from ..source import Source

TTL_NEEDS_ATTRIBUTE = Rule(
    "N401",
    "ttl_days needs the design's ttl_attribute",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html",
)
ROLE_HAS_PATTERNS = Rule(
    "N402",
    "An app, reader or per_user role exists only with access patterns for it",
    "error",
    "README: Least-privilege roles",
)
STREAM_CONSUMER_NEEDS_STREAM = Rule(
    "N403",
    "A stream_consumer role needs a stream (stream_view_type)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html",
)

RULES = (TTL_NEEDS_ATTRIBUTE, ROLE_HAS_PATTERNS, STREAM_CONSUMER_NEEDS_STREAM)


def check(env: Environment, design: Design, src: Source) -> list[Diagnostic]:
    found = []
    if env.ttl_days is not None and design.ttl_attribute is None:
        found.append(
            src.report(
                TTL_NEEDS_ATTRIBUTE,
                ("ttl_days",),
                f"design {design.name!r} declares no ttl_attribute to expire items by",
            )
        )
    if env.access is None:
        return found
    roles = env.access.roles
    for role in ("app", "reader", "per_user"):
        if getattr(roles, role) is not None and not design.patterns_for(role):
            found.append(
                src.report(
                    ROLE_HAS_PATTERNS,
                    ("access", "roles", role),
                    f"design {design.name!r} has no access pattern for role {role!r}; a role with nothing to do "
                    "must not exist",
                )
            )
    if roles.stream_consumer is not None and env.stream_view_type is None:
        found.append(
            src.report(
                STREAM_CONSUMER_NEEDS_STREAM,
                ("access", "roles", "stream_consumer"),
                "needs a stream: set stream_view_type",
            )
        )
    return found
