"""N3xx: tags, checked as AWS checks them, at synth rather than at deploy."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from .. import limits
from ..environment import STANDARD_TAG_KEYS
from . import RuleModule

if TYPE_CHECKING:
    from ..environment import Environment
    from ..source import Source

# Pattern, lengths and the aws: prefix: the DynamoDB API's Tag type.
_SOURCE = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Tag.html"

KEY_LENGTH = Rule("N301", f"Tag keys are 1..{limits.TAG_KEY_MAX_LENGTH} characters", "error", _SOURCE)
RESERVED_PREFIX = Rule("N302", f"Tag keys do not start with {limits.RESERVED_TAG_PREFIX!r}", "error", _SOURCE)
VALUE_LENGTH = Rule("N303", f"Tag values are at most {limits.TAG_VALUE_MAX_LENGTH} characters", "error", _SOURCE)
ALLOWED_CHARACTERS = Rule(
    "N304", "Tag keys and values use letters, digits, spaces and _ . : / = + - @ only", "error", _SOURCE
)
TAG_COUNT = Rule(
    "N305",
    f"At most {limits.MAX_TAGS_PER_RESOURCE} tags per resource",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Tagging.html",
)

RULES = (KEY_LENGTH, RESERVED_PREFIX, VALUE_LENGTH, ALLOWED_CHARACTERS, TAG_COUNT)


def disallowed_characters(text: str) -> list[str]:
    """Characters outside ^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$, in order, once each."""
    bad: list[str] = []
    for char in text:
        allowed = unicodedata.category(char)[0] in limits.TAG_UNICODE_CATEGORIES or char in limits.TAG_PUNCTUATION
        if not allowed and char not in bad:
            bad.append(char)
    return bad


def _shown(chars: list[str]) -> str:
    return ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)


def check(env: Environment, src: Source) -> list[Diagnostic]:
    found = _check_tags(env.tags, ("tags",), src)
    # A replica's tags are added to the environment's on that replica.
    for i, replica in enumerate(env.replicas):
        found.extend(_check_tags({**env.tags, **replica.tags}, ("replicas", i, "tags"), src, replica.tags))
    return found


def _check_tags(
    tags: dict[str, str], at: tuple[str | int, ...], src: Source, own: dict[str, str] | None = None
) -> list[Diagnostic]:
    """Every tag of `own` (default: all of `tags`), and the count of `tags`."""
    found = []
    for key, value in (tags if own is None else own).items():
        path = (*at, key)
        if not 1 <= len(key) <= limits.TAG_KEY_MAX_LENGTH:
            found.append(
                src.report(KEY_LENGTH, path, f"tag key length must be 1..{limits.TAG_KEY_MAX_LENGTH} (got {len(key)})")
            )
        if key.lower().startswith(limits.RESERVED_TAG_PREFIX):
            found.append(
                src.report(
                    RESERVED_PREFIX, path, f"tag keys starting with {limits.RESERVED_TAG_PREFIX!r} are reserved by AWS"
                )
            )
        if len(value) > limits.TAG_VALUE_MAX_LENGTH:
            found.append(
                src.report(
                    VALUE_LENGTH, path, f"tag value length must be 0..{limits.TAG_VALUE_MAX_LENGTH} (got {len(value)})"
                )
            )
        for what, text in (("key", key), ("value", value)):
            bad = disallowed_characters(text)
            if bad:
                found.append(
                    src.report(
                        ALLOWED_CHARACTERS,
                        path,
                        f"tag {what} has {_shown(bad)}; AWS allows only letters, digits, spaces and _ . : / = + - @",
                    )
                )
    extra = len(set(tags) - set(STANDARD_TAG_KEYS))
    over = extra + len(STANDARD_TAG_KEYS) - limits.MAX_TAGS_PER_RESOURCE
    if over > 0:
        whose = "" if own is None else "the environment's and the replica's own together: "
        found.append(
            src.report(
                TAG_COUNT,
                at,
                f"{whose}{extra} tags plus {len(STANDARD_TAG_KEYS)} standard ones; at most "
                f"{limits.MAX_TAGS_PER_RESOURCE} per resource: remove {over}",
            )
        )
    return found


RULE_MODULE = RuleModule(RULES, environment=check)
