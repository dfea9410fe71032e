"""D4xx: how items are stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from . import RuleModule

if TYPE_CHECKING:
    from ..design import Design
    from ..source import Source

LIST_IN_ITEM = Rule(
    "D401",
    "Messages are stored one item each, not as a growing list in one item",
    "warning",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items",
)

RULES = (LIST_IN_ITEM,)


def check(design: Design, src: Source) -> list[Diagnostic]:
    if design.message_storage != "list_in_item":
        return []
    return [
        src.report(
            LIST_IN_ITEM,
            ("message_storage",),
            "messages kept as a list inside one item: a long chat hits DynamoDB's 400 KB item limit and "
            "every append rewrites the whole item; store one item per message",
        )
    ]


RULE_MODULE = RuleModule(RULES, design=check)
