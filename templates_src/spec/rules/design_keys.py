"""D1xx: key attributes and the TTL attribute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from . import RuleModule

if TYPE_CHECKING:
    from ..design import Design
    from ..source import Source

ONE_TYPE_PER_ATTRIBUTE = Rule(
    "D101",
    "An attribute has one type across the table and its indexes",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-table-attributedefinition.html",
)
TTL_NOT_A_KEY = Rule(
    "D102",
    "The TTL attribute is not a key attribute",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html",
)

RULES = (ONE_TYPE_PER_ATTRIBUTE, TTL_NOT_A_KEY)


def check(design: Design, src: Source) -> list[Diagnostic]:
    found = []
    seen: dict[str, tuple[str, tuple[str | int, ...]]] = {}
    for path, key in design.all_keys():
        first_type, first_path = seen.setdefault(key.name, (key.type, path))
        if first_type != key.type:
            found.append(
                src.report(
                    ONE_TYPE_PER_ATTRIBUTE,
                    path + ("type",),
                    f"attribute {key.name!r} is typed {key.type} here but {first_type} at "
                    f"{src.display_path(first_path)}; an attribute has one type across the table and its indexes",
                )
            )
    if design.ttl_attribute and design.ttl_attribute in design.key_attributes():
        found.append(
            src.report(
                TTL_NOT_A_KEY,
                ("ttl_attribute",),
                f"{design.ttl_attribute!r} is a key attribute; the TTL attribute must be a "
                "non-key Number attribute holding epoch seconds",
            )
        )
    return found


RULE_MODULE = RuleModule(RULES, design=check)
