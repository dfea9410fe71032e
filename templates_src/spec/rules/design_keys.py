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

SAMPLE_ITEMS_HOLD_THE_KEY = Rule(
    "D103",
    "A sample item holds the table's key attributes, each of its declared type",
    "error",
    # PutItem: "You must provide all of the attributes for the primary key" (a ValidationException otherwise).
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html",
)

RULES = (ONE_TYPE_PER_ATTRIBUTE, TTL_NOT_A_KEY, SAMPLE_ITEMS_HOLD_THE_KEY)
# A key's type as a sample item (plain YAML) holds it; B has no plain YAML form, so it is not checked.
_SAMPLE_TYPES: dict[str, tuple[type, ...]] = {"S": (str,), "N": (int, float)}


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
    return found + _sample_items(design, src)


def _sample_items(design: Design, src: Source) -> list[Diagnostic]:
    """Sample items are put by make local and the smoke tests: each must be an item DynamoDB accepts."""
    found = []
    for i, item in enumerate(design.sample_items):
        for key in design.table_key():
            value = item.get(key.name)
            if value is None:
                problem = "lacks it"
            elif key.type in _SAMPLE_TYPES and (
                isinstance(value, bool) or not isinstance(value, _SAMPLE_TYPES[key.type])
            ):
                problem = f"holds {value!r}, not of type {key.type}"
            else:
                continue
            found.append(
                src.report(
                    SAMPLE_ITEMS_HOLD_THE_KEY,
                    ("sample_items", i, key.name),
                    f"the key attribute {key.name!r} ({key.type}): the sample item {problem}; DynamoDB refuses "
                    "such a put (make local would stop on it)",
                )
            )
    return found


RULE_MODULE = RuleModule(RULES, design=check)
