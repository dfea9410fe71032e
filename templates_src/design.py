"""Table designs: key schema, indexes, TTL and access patterns, validated.

A design is what a team agrees on before any environment exists: the keys,
the indexes and the ways the application reads and writes. Access patterns
are the single source for which indexes must exist, which IAM actions each
role gets, and which queries the smoke tests run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from . import limits
from .errors import Problem, format_path
from .key_condition import KeyCondition, KeyConditionSyntaxError, parse_key_condition


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


TableName = Annotated[
    str,
    StringConstraints(
        min_length=limits.TABLE_NAME_MIN_LENGTH,
        max_length=limits.TABLE_NAME_MAX_LENGTH,
        pattern=limits.NAME_PATTERN,
    ),
]
IndexName = Annotated[
    str,
    StringConstraints(
        min_length=limits.INDEX_NAME_MIN_LENGTH,
        max_length=limits.INDEX_NAME_MAX_LENGTH,
        pattern=limits.NAME_PATTERN,
    ),
]
AttributeName = Annotated[
    str, StringConstraints(min_length=1, max_length=limits.ATTRIBUTE_NAME_MAX_LENGTH)
]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_\-]{0,62}$")]
AttributeType = Literal["S", "N", "B"]
ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]

READ_OPERATIONS = ("GetItem", "BatchGetItem", "Query", "TransactGetItems")
ITEM_WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem")
# Scan is deliberately absent: no access pattern may read the whole table.
Operation = Literal[
    "GetItem",
    "BatchGetItem",
    "Query",
    "TransactGetItems",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "ConditionCheckItem",
    "BatchWriteItem",
    "TransactWriteItems",
]
ItemWriteOperation = Literal["PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"]
# Operations whose key_condition must name one whole item key.
_SINGLE_ITEM_OPERATIONS = ("GetItem", "UpdateItem", "DeleteItem", "ConditionCheckItem")
PatternRole = Literal["app", "reader", "per_user"]


class KeyAttribute(StrictModel):
    name: AttributeName
    type: AttributeType


class GlobalSecondaryIndex(StrictModel):
    name: IndexName
    partition_key: KeyAttribute
    sort_key: Optional[KeyAttribute] = None
    projection: ProjectionType = "ALL"
    non_key_attributes: list[AttributeName] = Field(default_factory=list)


class LocalSecondaryIndex(StrictModel):
    name: IndexName
    sort_key: KeyAttribute
    projection: ProjectionType = "ALL"
    non_key_attributes: list[AttributeName] = Field(default_factory=list)


Item = dict[str, Any]


class UpdateStep(StrictModel):
    key: Item
    expression: str
    values: Item = Field(default_factory=dict)
    names: dict[str, str] = Field(default_factory=dict)  # "#st": "status" (reserved words)


class TransactStep(StrictModel):
    put: Optional[Item] = None
    update: Optional[UpdateStep] = None


class PatternExample(StrictModel):
    """Sample request and expected outcome, run by `make local` and the tests."""

    # Placeholder values for key_condition (and update expressions).
    values: Item = Field(default_factory=dict)
    # Reads: the keys of exactly the items returned, in DynamoDB's order.
    expect: Optional[list[Item]] = None
    scan_index_forward: bool = True
    # Writes.
    item: Optional[Item] = None  # PutItem
    update: Optional[str] = None  # UpdateItem: UpdateExpression
    names: dict[str, str] = Field(default_factory=dict)  # UpdateItem: "#st": "status"
    expect_item: Optional[Item] = None  # UpdateItem: attributes after the update
    transact: list[TransactStep] = Field(default_factory=list)  # TransactWriteItems
    delete: list[Item] = Field(default_factory=list)  # BatchWriteItem delete keys
    put: list[Item] = Field(default_factory=list)  # BatchWriteItem puts


class AccessPattern(StrictModel):
    name: Identifier
    description: str = ""
    operation: Operation
    index: Optional[IndexName] = None
    key_condition: Optional[str] = None
    # For TransactWriteItems: IAM authorises each item action, not the call.
    item_operations: list[ItemWriteOperation] = Field(default_factory=list)
    roles: list[PatternRole] = Field(min_length=1)
    example: Optional[PatternExample] = None

    def iam_actions(self) -> tuple[str, ...]:
        """The DynamoDB IAM actions this pattern needs (without the prefix)."""
        if self.operation == "TransactWriteItems":
            return tuple(sorted(set(self.item_operations)))
        if self.operation == "TransactGetItems":
            return ("GetItem",)
        return (self.operation,)

    def parsed_key_condition(self) -> KeyCondition | None:
        return parse_key_condition(self.key_condition) if self.key_condition else None


class Design(StrictModel):
    name: Identifier
    description: str = ""
    table_name: TableName
    partition_key: KeyAttribute
    sort_key: Optional[KeyAttribute] = None
    global_secondary_indexes: list[GlobalSecondaryIndex] = Field(default_factory=list)
    local_secondary_indexes: list[LocalSecondaryIndex] = Field(default_factory=list)
    ttl_attribute: Optional[AttributeName] = None
    # How messages are stored: one item each, or a list inside one item that
    # grows until it hits DynamoDB's 400 KB item limit.
    message_storage: Literal["item_per_message", "list_in_item"] = "item_per_message"
    # per_user patterns: the table partition key holds this prefix + the
    # caller's Cognito identity id, which IAM checks through dynamodb:LeadingKeys.
    per_user_key_prefix: str = ""
    # Items `make local` loads before running the access patterns' examples.
    sample_items: list[Item] = Field(default_factory=list)
    access_patterns: list[AccessPattern] = Field(min_length=1)

    # ---- derived views used by builders -------------------------------------------

    def table_key(self) -> tuple[KeyAttribute, ...]:
        return (self.partition_key,) + ((self.sort_key,) if self.sort_key else ())

    def index_key(self, index_name: str) -> tuple[KeyAttribute, ...]:
        for gsi in self.global_secondary_indexes:
            if gsi.name == index_name:
                return (gsi.partition_key,) + ((gsi.sort_key,) if gsi.sort_key else ())
        for lsi in self.local_secondary_indexes:
            if lsi.name == index_name:
                return (self.partition_key, lsi.sort_key)
        raise KeyError(index_name)

    def index_names(self) -> list[str]:
        return [i.name for i in self.global_secondary_indexes] + [
            i.name for i in self.local_secondary_indexes
        ]

    def key_attributes(self) -> dict[str, str]:
        """Every attribute any key uses, with its type, in first-use order."""
        out: dict[str, str] = {}
        for key in self._all_keys():
            out.setdefault(key[1].name, key[1].type)
        return out

    def patterns_for(self, role: str) -> list[AccessPattern]:
        return [p for p in self.access_patterns if role in p.roles]

    def _all_keys(self) -> list[tuple[tuple[str | int, ...], KeyAttribute]]:
        keys: list[tuple[tuple[str | int, ...], KeyAttribute]] = [
            (("partition_key",), self.partition_key)
        ]
        if self.sort_key:
            keys.append((("sort_key",), self.sort_key))
        for i, gsi in enumerate(self.global_secondary_indexes):
            keys.append((("global_secondary_indexes", i, "partition_key"), gsi.partition_key))
            if gsi.sort_key:
                keys.append((("global_secondary_indexes", i, "sort_key"), gsi.sort_key))
        for i, lsi in enumerate(self.local_secondary_indexes):
            keys.append((("local_secondary_indexes", i, "sort_key"), lsi.sort_key))
        return keys


# ---- validation per concern ------------------------------------------------------------
# Each check returns problems instead of raising so a user sees all of them at once.


def check_design(design: Design, file: str) -> list[Problem]:
    problems: list[Problem] = []
    for check in (
        _check_attribute_types,
        _check_index_limits,
        _check_projections,
        _check_ttl,
        _check_access_patterns,
        _warn_design_smells,
    ):
        problems.extend(check(design, file))
    return problems


def _check_attribute_types(design: Design, file: str) -> list[Problem]:
    seen: dict[str, tuple[str, str]] = {}
    problems = []
    for path, key in design._all_keys():
        first = seen.setdefault(key.name, (key.type, format_path(path)))
        if first[0] != key.type:
            problems.append(
                Problem(
                    file,
                    format_path(path + ("type",)),
                    f"attribute {key.name!r} is typed {key.type} here but {first[0]} at "
                    f"{first[1]}; an attribute has one type across the table and its indexes",
                )
            )
    return problems


def _check_index_limits(design: Design, file: str) -> list[Problem]:
    problems = []
    gsis, lsis = design.global_secondary_indexes, design.local_secondary_indexes
    if len(gsis) > limits.MAX_GLOBAL_SECONDARY_INDEXES:
        problems.append(
            Problem(
                file,
                "global_secondary_indexes",
                f"{len(gsis)} indexes; at most {limits.MAX_GLOBAL_SECONDARY_INDEXES} "
                "global secondary indexes per table (default quota)",
            )
        )
    if len(lsis) > limits.MAX_LOCAL_SECONDARY_INDEXES:
        problems.append(
            Problem(
                file,
                "local_secondary_indexes",
                f"{len(lsis)} indexes; at most {limits.MAX_LOCAL_SECONDARY_INDEXES} "
                "local secondary indexes per table",
            )
        )
    if lsis and design.sort_key is None:
        problems.append(
            Problem(
                file,
                "local_secondary_indexes",
                "local secondary indexes need a table sort_key (they share the partition key "
                "and add another sort key)",
            )
        )
    seen: dict[str, str] = {}
    for kind, indexes in (("global_secondary_indexes", gsis), ("local_secondary_indexes", lsis)):
        for i, index in enumerate(indexes):
            path = format_path((kind, i, "name"))
            if index.name in seen:
                problems.append(
                    Problem(file, path, f"index name {index.name!r} is already used at {seen[index.name]}")
                )
            seen.setdefault(index.name, path)
    return problems


def _check_projections(design: Design, file: str) -> list[Problem]:
    problems = []
    key_names = set(design.key_attributes())
    total = 0
    indexes: list[tuple[str, int, GlobalSecondaryIndex | LocalSecondaryIndex]] = [
        ("global_secondary_indexes", i, x) for i, x in enumerate(design.global_secondary_indexes)
    ] + [("local_secondary_indexes", i, x) for i, x in enumerate(design.local_secondary_indexes)]
    for kind, i, index in indexes:
        path = format_path((kind, i, "non_key_attributes"))
        if index.projection == "INCLUDE" and not index.non_key_attributes:
            problems.append(
                Problem(file, path, "projection INCLUDE needs at least one non_key_attributes entry")
            )
        if index.projection != "INCLUDE" and index.non_key_attributes:
            problems.append(
                Problem(
                    file,
                    path,
                    f"non_key_attributes is only allowed with projection INCLUDE "
                    f"(this index projects {index.projection})",
                )
            )
        for name in index.non_key_attributes:
            if name in key_names:
                problems.append(
                    Problem(
                        file,
                        path,
                        f"{name!r} is a key attribute; key attributes are always projected",
                    )
                )
        if len(set(index.non_key_attributes)) != len(index.non_key_attributes):
            problems.append(Problem(file, path, "lists an attribute more than once"))
        total += len(set(index.non_key_attributes))
    if total > limits.MAX_PROJECTED_NON_KEY_ATTRIBUTES:
        problems.append(
            Problem(
                file,
                "global_secondary_indexes",
                f"{total} projected non-key attributes across all indexes; at most "
                f"{limits.MAX_PROJECTED_NON_KEY_ATTRIBUTES} per table",
            )
        )
    return problems


def _check_ttl(design: Design, file: str) -> list[Problem]:
    if design.ttl_attribute and design.ttl_attribute in design.key_attributes():
        return [
            Problem(
                file,
                "ttl_attribute",
                f"{design.ttl_attribute!r} is a key attribute; the TTL attribute must be a "
                "non-key Number attribute holding epoch seconds",
            )
        ]
    return []


def _check_access_patterns(design: Design, file: str) -> list[Problem]:
    problems = []
    names: dict[str, int] = {}
    index_names = design.index_names()
    for i, pattern in enumerate(design.access_patterns):
        base = ("access_patterns", i)

        def add(field: str, message: str) -> None:
            problems.append(Problem(file, format_path(base + (field,)), message))

        if pattern.name in names:
            add("name", f"pattern name {pattern.name!r} is already used at access_patterns[{names[pattern.name]}]")
        names.setdefault(pattern.name, i)

        if pattern.index is not None:
            if pattern.operation != "Query":
                add("index", f"only Query reads an index; {pattern.operation} works on the base table")
                continue
            elif pattern.index not in index_names:
                allowed = ", ".join(index_names) or "(the design has no indexes)"
                add("index", f"unknown index {pattern.index!r}; allowed: {allowed}")
                continue

        if pattern.operation == "TransactWriteItems" and not pattern.item_operations:
            add(
                "item_operations",
                "TransactWriteItems needs item_operations (PutItem, UpdateItem, DeleteItem, "
                "ConditionCheckItem): IAM authorises each item action, not the transaction",
            )
        if pattern.operation != "TransactWriteItems" and pattern.item_operations:
            add("item_operations", "only TransactWriteItems takes item_operations")

        if "per_user" in pattern.roles and pattern.index is not None:
            add(
                "roles",
                "per_user patterns must use the base table: dynamodb:LeadingKeys constrains the "
                "table's partition key, which an index query does not carry",
            )

        write = pattern.operation not in READ_OPERATIONS
        if write and "reader" in pattern.roles:
            add("roles", f"the reader role is read-only; {pattern.operation} is a write")

        needs_key = pattern.operation in _SINGLE_ITEM_OPERATIONS + ("Query",)
        if pattern.key_condition is None:
            if needs_key:
                add("key_condition", f"{pattern.operation} needs a key_condition")
            continue
        try:
            condition = parse_key_condition(pattern.key_condition)
        except KeyConditionSyntaxError as exc:
            add("key_condition", str(exc))
            continue
        key = design.index_key(pattern.index) if pattern.index else design.table_key()
        where = f"index {pattern.index!r}" if pattern.index else "the table"
        if condition.partition_attribute != key[0].name:
            add(
                "key_condition",
                f"partition attribute {condition.partition_attribute!r} is not the partition key "
                f"of {where} ({key[0].name!r})",
            )
        if condition.sort is not None:
            if len(key) == 1:
                add("key_condition", f"{where} has no sort key; drop the sort-key part")
            elif condition.sort.attribute != key[1].name:
                add(
                    "key_condition",
                    f"sort attribute {condition.sort.attribute!r} is not the sort key of "
                    f"{where} ({key[1].name!r})",
                )
        if pattern.example is not None and pattern.operation in _SINGLE_ITEM_OPERATIONS + ("Query",):
            missing = [v for v in condition.placeholders if v not in pattern.example.values]
            if missing:
                add("example", f"values lacks {', '.join(missing)} used by key_condition")
        if pattern.operation in _SINGLE_ITEM_OPERATIONS:
            if not condition.is_full_key_equality() or len(condition.attributes) != len(key):
                wanted = " AND ".join(f"{k.name} = :{k.name}" for k in key)
                add(
                    "key_condition",
                    f"{pattern.operation} addresses one item: use equality on the whole key "
                    f"({wanted})",
                )
    return problems


def _warn_design_smells(design: Design, file: str) -> list[Problem]:
    """Legal but costly shapes, kept when a seed has them, reported as warnings."""
    warnings = []
    queried = {p.index for p in design.access_patterns if p.index}
    for kind, indexes in (
        ("global_secondary_indexes", design.global_secondary_indexes),
        ("local_secondary_indexes", design.local_secondary_indexes),
    ):
        for i, index in enumerate(indexes):
            if index.name not in queried:
                warnings.append(
                    Problem(
                        file,
                        format_path((kind, i, "name")),
                        f"index {index.name!r} is queried by no access pattern: it doubles "
                        "write cost and storage for nothing; add the pattern or drop the index",
                        severity="warning",
                    )
                )
    if design.message_storage == "list_in_item":
        warnings.append(
            Problem(
                file,
                "message_storage",
                "messages kept as a list inside one item: a long chat hits DynamoDB's 400 KB "
                "item limit and every append rewrites the whole item; store one item per message",
                severity="warning",
            )
        )
    return warnings

