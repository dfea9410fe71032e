"""Parse the small key-condition language access patterns are written in.

A pattern's key condition is a DynamoDB KeyConditionExpression written with
plain attribute names, for example::

    userId = :user AND begins_with(sk, :prefix)
    conversationId = :id AND sk BETWEEN :from AND :to

Parsing it lets the validators check it against the table or index key schema
and lets the smoke tests run it as written (names are swapped for #n
placeholders there, since words like ``timestamp`` are reserved).
"""

import re
from typing import NamedTuple

_NAME = r"[A-Za-z_][A-Za-z0-9_\-.]*"
_VALUE = r":[A-Za-z0-9_]+"
_PARTITION = re.compile(rf"^\s*(?P<attr>{_NAME})\s*=\s*(?P<value>{_VALUE})\s*$")
_SORT_COMPARE = re.compile(rf"^\s*(?P<attr>{_NAME})\s*(?P<op>=|<=|>=|<|>)\s*(?P<value>{_VALUE})\s*$")
_SORT_BETWEEN = re.compile(
    rf"^\s*(?P<attr>{_NAME})\s+BETWEEN\s+(?P<low>{_VALUE})\s+AND\s+(?P<high>{_VALUE})\s*$",
    re.IGNORECASE,
)
_SORT_BEGINS = re.compile(rf"^\s*begins_with\s*\(\s*(?P<attr>{_NAME})\s*,\s*(?P<value>{_VALUE})\s*\)\s*$")
# Split on the first top-level AND that is not part of BETWEEN x AND y.
_FIRST_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


class KeyConditionSyntaxError(ValueError):
    pass


class SortCondition(NamedTuple):
    attribute: str
    operator: str  # one of = < <= > >= BETWEEN begins_with
    values: tuple[str, ...]


class KeyCondition(NamedTuple):
    partition_attribute: str
    partition_value: str
    sort: SortCondition | None

    @property
    def attributes(self) -> tuple[str, ...]:
        if self.sort is None:
            return (self.partition_attribute,)
        return (self.partition_attribute, self.sort.attribute)

    @property
    def placeholders(self) -> tuple[str, ...]:
        return (self.partition_value,) + (self.sort.values if self.sort else ())

    def is_full_key_equality(self) -> bool:
        return self.sort is None or self.sort.operator == "="

    def expression(self, names: dict[str, str]) -> str:
        """The expression with attribute names replaced through `names`."""
        part = f"{names[self.partition_attribute]} = {self.partition_value}"
        if self.sort is None:
            return part
        attr = names[self.sort.attribute]
        if self.sort.operator == "BETWEEN":
            low, high = self.sort.values
            return f"{part} AND {attr} BETWEEN {low} AND {high}"
        if self.sort.operator == "begins_with":
            return f"{part} AND begins_with({attr}, {self.sort.values[0]})"
        return f"{part} AND {attr} {self.sort.operator} {self.sort.values[0]}"


def parse_key_condition(text: str) -> KeyCondition:
    pieces = _FIRST_AND.split(text, maxsplit=1)
    head = _PARTITION.match(pieces[0])
    if head is None:
        raise KeyConditionSyntaxError(
            f"{text!r} must start with '<partition key> = :value' (only equality is allowed on the partition key)"
        )
    sort: SortCondition | None = None
    if len(pieces) == 2:
        rest = pieces[1]
        if m := _SORT_BETWEEN.match(rest):
            sort = SortCondition(m["attr"], "BETWEEN", (m["low"], m["high"]))
        elif m := _SORT_BEGINS.match(rest):
            sort = SortCondition(m["attr"], "begins_with", (m["value"],))
        elif m := _SORT_COMPARE.match(rest):
            sort = SortCondition(m["attr"], m["op"], (m["value"],))
        else:
            raise KeyConditionSyntaxError(
                f"sort-key part {rest!r} must be one of: 'sk = :v', 'sk < :v', 'sk <= :v', "
                "'sk > :v', 'sk >= :v', 'sk BETWEEN :a AND :b', 'begins_with(sk, :p)'"
            )
    return KeyCondition(head["attr"], head["value"], sort)
