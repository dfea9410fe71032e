"""Table designs: key schema, indexes, TTL and access patterns (the models).

A design is what a team agrees on before any environment exists: the keys,
the indexes and the ways the application reads and writes. Access patterns
are the single source for which indexes must exist, which IAM actions each
role gets, and which queries the smoke tests run. Field types and ranges
are checked here by pydantic; cross-field rules live in spec/rules/.

Kept cheap to define, since every synth does (docs/testing.md: Benchmark):
no `from __future__ import annotations` in the model modules (pydantic
would compile and evaluate each field's annotation string), and empty
list/dict defaults written as `[]`/`{}` (pydantic copies them per
instance; a `default_factory=list` costs an inspect.signature of a builtin).
"""

from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from . import limits
from .key_condition import KeyCondition, parse_key_condition
from .operations import ItemWriteOperation, Operation
from .roles import PatternRole


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored.

    defer_build: a model's validator is built when it first validates, not
    when its class is defined. Validating an Environment or a Design builds
    the one validator of the whole tree once, instead of one per nested
    model as well (and models never validated on their own never build).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


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
AttributeName = Annotated[str, StringConstraints(min_length=1, max_length=limits.ATTRIBUTE_NAME_MAX_LENGTH)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_\-]{0,62}$")]
AttributeType = Literal["S", "N", "B"]
ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]


class KeyAttribute(StrictModel):
    name: AttributeName
    type: AttributeType


# KeySchema's KeyType of a key's first and second attribute.
KEY_TYPES = ("HASH", "RANGE")


def with_key_types(keys: tuple[KeyAttribute, ...]) -> list[tuple[KeyAttribute, str]]:
    """(partition key, "HASH"), (sort key, "RANGE") for a table's or index's key."""
    return list(zip(keys, KEY_TYPES[: len(keys)], strict=True))


class GlobalSecondaryIndex(StrictModel):
    name: IndexName
    partition_key: KeyAttribute
    sort_key: Optional[KeyAttribute] = None
    projection: ProjectionType = "ALL"
    non_key_attributes: list[AttributeName] = []

    def key_schema(self) -> tuple[KeyAttribute, ...]:
        return (self.partition_key,) + ((self.sort_key,) if self.sort_key else ())


class LocalSecondaryIndex(StrictModel):
    name: IndexName
    sort_key: KeyAttribute
    projection: ProjectionType = "ALL"
    non_key_attributes: list[AttributeName] = []


Item = dict[str, Any]


class UpdateStep(StrictModel):
    key: Item
    expression: str
    values: Item = {}
    names: dict[str, str] = {}  # "#st": "status" (reserved words)


class TransactStep(StrictModel):
    put: Optional[Item] = None
    update: Optional[UpdateStep] = None


class PatternExample(StrictModel):
    """Sample request and expected outcome, run by `make local` and the tests."""

    # Placeholder values for key_condition (and update expressions).
    values: Item = {}
    # Reads: the keys of exactly the items returned, in DynamoDB's order.
    expect: Optional[list[Item]] = None
    scan_index_forward: bool = True
    # Writes.
    item: Optional[Item] = None  # PutItem
    update: Optional[str] = None  # UpdateItem: UpdateExpression
    names: dict[str, str] = {}  # UpdateItem: "#st": "status"
    expect_item: Optional[Item] = None  # UpdateItem: attributes after the update
    transact: list[TransactStep] = []  # TransactWriteItems
    delete: list[Item] = []  # BatchWriteItem delete keys
    put: list[Item] = []  # BatchWriteItem puts


# How `adopt --traffic` marks a pattern it proposed from CloudTrail data events (deploy/adopt.py:
# with_observed): its description starts so, followed by the window and the callers.
OBSERVED_MARKER = "observed in CloudTrail, "


class AccessPattern(StrictModel):
    name: Identifier
    description: str = ""
    operation: Operation
    index: Optional[IndexName] = None
    key_condition: Optional[str] = None
    # For TransactWriteItems: IAM authorises each item action, not the call.
    item_operations: list[ItemWriteOperation] = []
    roles: list[PatternRole] = Field(min_length=1)
    # Non-key attributes the pattern reads or writes. For per_user they become
    # the dynamodb:Attributes the client may touch (keys are always allowed).
    attributes: list[AttributeName] = []
    example: Optional[PatternExample] = None
    # Writes: GSI writes per item written, by index (0 untouched, 1 put, removal
    # or projected change, 2 key value change). Overrides what the example
    # implies; the cost model reads it (change/cost/units.py).
    index_writes: dict[IndexName, float] = {}

    @property
    def observed(self) -> bool:
        """Proposed from observed traffic (adopt --traffic), not declared by hand."""
        return self.description.startswith(OBSERVED_MARKER)

    def iam_actions(self) -> tuple[str, ...]:
        """The DynamoDB IAM actions this pattern needs (without the prefix)."""
        if self.operation == "TransactWriteItems":
            return tuple(sorted(set(self.item_operations)))
        if self.operation == "TransactGetItems":
            return ("GetItem",)
        return (self.operation,)

    def parsed_key_condition(self) -> KeyCondition | None:
        return parse_key_condition(self.key_condition) if self.key_condition else None


class Migration(StrictModel):
    """How each item of the table's previous generation becomes an item of this one (docs/migrations.md).

    The templates and the transform are spec/item_transform.py's; D501-D504 check them.
    """

    # New table key attribute -> template over the old item's attributes: "USER#{userId}".
    keys: dict[AttributeName, str]
    rename: dict[AttributeName, AttributeName] = {}  # old attribute name -> new name
    convert: dict[AttributeName, Literal["S", "N"]] = {}  # attribute (new name) -> type
    drop: list[AttributeName] = []  # attributes the new items leave out
    # A number or ISO-8601 string the application raises on every write: catch-up never
    # replaces an item with an older version of it.
    version_attribute: Optional[AttributeName] = None


class Design(StrictModel):
    name: Identifier
    description: str = ""
    table_name: TableName
    partition_key: KeyAttribute
    sort_key: Optional[KeyAttribute] = None
    global_secondary_indexes: list[GlobalSecondaryIndex] = []
    local_secondary_indexes: list[LocalSecondaryIndex] = []
    ttl_attribute: Optional[AttributeName] = None
    # How messages are stored: one item each, or a list inside one item that
    # grows until it hits DynamoDB's 400 KB item limit.
    message_storage: Literal["item_per_message", "list_in_item"] = "item_per_message"
    # per_user patterns: the table partition key holds this prefix + the
    # caller's Cognito identity id, which IAM checks through dynamodb:LeadingKeys.
    per_user_key_prefix: str = ""
    # Attributes a per_user client must never write (TTL, message role, counters):
    # its writes are limited by dynamodb:Attributes and may not use PutItem.
    protected_attributes: list[AttributeName] = []
    # Items `make local` loads before running the access patterns' examples.
    sample_items: list[Item] = []
    # Empty only while a table is being adopted (D317): no roles without patterns.
    access_patterns: list[AccessPattern] = []
    # The key schema's generation: a change of keys (or LSIs, or the table name) is a new
    # table in a new data stack, filled by `migrate` from the previous generation's.
    generation: int = Field(default=1, ge=1, le=limits.GENERATION_MAX)
    migration: Optional[Migration] = None

    # ---- derived views used by builders -------------------------------------------

    def table_key(self) -> tuple[KeyAttribute, ...]:
        return (self.partition_key,) + ((self.sort_key,) if self.sort_key else ())

    def index_key(self, index_name: str) -> tuple[KeyAttribute, ...]:
        for gsi in self.global_secondary_indexes:
            if gsi.name == index_name:
                return gsi.key_schema()
        for lsi in self.local_secondary_indexes:
            if lsi.name == index_name:
                return (self.partition_key, lsi.sort_key)
        raise KeyError(index_name)

    def index_names(self) -> list[str]:
        return [i.name for i in self.global_secondary_indexes] + [i.name for i in self.local_secondary_indexes]

    def key_attributes(self) -> dict[str, str]:
        """Every attribute any key uses, with its type, in first-use order."""
        out: dict[str, str] = {}
        for key in self.all_keys():
            out.setdefault(key[1].name, key[1].type)
        return out

    def transform_config(self) -> dict[str, Any]:
        """The migration as spec/item_transform.py reads it (plain data: the stream consumer gets it as JSON)."""
        assert self.migration is not None
        types = self.key_attributes()
        return {
            **self.migration.model_dump(exclude_none=True),
            "key_types": {name: types[name] for name in self.migration.keys if name in types},
        }

    def patterns_for(self, role: str) -> list[AccessPattern]:
        return [p for p in self.access_patterns if role in p.roles]

    def all_keys(self) -> list[tuple[tuple[str | int, ...], KeyAttribute]]:
        """(field path, key attribute) for the table's and every index's keys."""
        keys: list[tuple[tuple[str | int, ...], KeyAttribute]] = [(("partition_key",), self.partition_key)]
        if self.sort_key:
            keys.append((("sort_key",), self.sort_key))
        for i, gsi in enumerate(self.global_secondary_indexes):
            keys.append((("global_secondary_indexes", i, "partition_key"), gsi.partition_key))
            if gsi.sort_key:
                keys.append((("global_secondary_indexes", i, "sort_key"), gsi.sort_key))
        for i, lsi in enumerate(self.local_secondary_indexes):
            keys.append((("local_secondary_indexes", i, "sort_key"), lsi.sort_key))
        return keys
