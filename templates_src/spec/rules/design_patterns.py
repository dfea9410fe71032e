"""D3xx: access patterns: the single source of indexes, grants and smoke queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from ..key_condition import KeyConditionSyntaxError, parse_key_condition
from ..operations import ITEM_WRITE_OPERATIONS, READ_OPERATIONS, SINGLE_ITEM_OPERATIONS
from ..roles import PER_USER, READER
from . import RuleModule

if TYPE_CHECKING:
    from ..design import AccessPattern, Design
    from ..source import Source

_KEY_CONDITIONS = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html#DDB-Query-request-KeyConditionExpression"
_IAM = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html"

UNIQUE_NAMES = Rule("D301", "Access pattern names are unique", "error", "docs/designs.md: Designs")
INDEX_ONLY_FOR_QUERY = Rule(
    "D302",
    "Only Query reads an index",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/SecondaryIndexes.html",
)
KNOWN_INDEX = Rule("D303", "A pattern's index exists in the design", "error", "docs/designs.md: Designs")
TRANSACTION_ITEMS = Rule(
    "D304",
    "TransactWriteItems names its item operations (and only it does)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html",
)
PER_USER_BASE_TABLE = Rule(
    "D305", "per_user patterns use the table or an index keyed by the tenant key (dynamodb:LeadingKeys)", "error", _IAM
)
READER_READS = Rule("D306", "The reader role only reads", "error", "docs/security-model.md: Least-privilege roles")
KEY_CONDITION_REQUIRED = Rule("D307", "Item and Query patterns have a key_condition", "error", _KEY_CONDITIONS)
KEY_CONDITION_SYNTAX = Rule("D308", "A key_condition is a valid key condition expression", "error", _KEY_CONDITIONS)
KEY_CONDITION_MATCHES_KEYS = Rule(
    "D309", "A key_condition uses the key schema of its table or index", "error", _KEY_CONDITIONS
)
EXAMPLE_VALUES = Rule(
    "D310", "An example gives every placeholder of its key_condition", "error", "docs/designs.md: Designs"
)
WHOLE_KEY = Rule(
    "D311",
    "Single-item operations give the whole key with equality",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html#DDB-GetItem-request-Key",
)

HAS_EXAMPLE = Rule(
    "D312",
    "Every access pattern has an example that make local runs",
    "warning",
    "docs/deploying.md: Trying a design locally",
)

PER_USER_ATTRIBUTES = Rule("D313", "per_user patterns name the attributes the client may read or write", "error", _IAM)
PER_USER_NO_PROTECTED_WRITES = Rule("D314", "per_user writes name no protected attribute", "error", _IAM)
PER_USER_NO_PUT = Rule(
    "D315",
    "per_user never replaces whole items (PutItem) when attributes are protected",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html",
)

INDEX_WRITES = Rule(
    "D316",
    "index_writes names the design's GSIs, 0 to 2 writes each, on a write pattern",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes",
)

NO_PATTERNS = Rule(
    "D317",
    "A design declares its access patterns (roles, grants and smoke tests come from them)",
    "warning",
    "docs/adopting-and-drift.md: Adopting an existing table",
)

RULES = (
    UNIQUE_NAMES,
    INDEX_ONLY_FOR_QUERY,
    KNOWN_INDEX,
    TRANSACTION_ITEMS,
    PER_USER_BASE_TABLE,
    READER_READS,
    KEY_CONDITION_REQUIRED,
    KEY_CONDITION_SYNTAX,
    KEY_CONDITION_MATCHES_KEYS,
    EXAMPLE_VALUES,
    WHOLE_KEY,
    HAS_EXAMPLE,
    PER_USER_ATTRIBUTES,
    PER_USER_NO_PROTECTED_WRITES,
    PER_USER_NO_PUT,
    INDEX_WRITES,
    NO_PATTERNS,
)


def check(design: Design, src: Source) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if not design.access_patterns:
        found.append(
            src.report(
                NO_PATTERNS,
                ("access_patterns",),
                "no access patterns: no role, grant or smoke test is generated until you declare how the "
                "application reads and writes",
            )
        )
    first: dict[str, int] = {}
    for i, pattern in enumerate(design.access_patterns):
        if pattern.name in first:
            found.append(
                src.report(
                    UNIQUE_NAMES,
                    ("access_patterns", i, "name"),
                    f"pattern name {pattern.name!r} is already used (line {src.line_of(('access_patterns', first[pattern.name]))})",
                )
            )
        first.setdefault(pattern.name, i)
        found.extend(_check_pattern(design, src, i, pattern))
    return found


# A write puts (1), moves (2: delete and put) or leaves (0) an item's index entry.
INDEX_WRITES_PER_ITEM_MAX = 2


def _check_index_writes(design: Design, src: Source, i: int, pattern: AccessPattern) -> list[Diagnostic]:
    found = []
    gsis = [g.name for g in design.global_secondary_indexes]
    if pattern.index_writes and pattern.operation in READ_OPERATIONS:
        found.append(
            src.report(INDEX_WRITES, ("access_patterns", i, "index_writes"), f"{pattern.operation} writes no index")
        )
        return found
    for name, writes in pattern.index_writes.items():
        where = ("access_patterns", i, "index_writes", name)
        if name not in gsis:
            allowed = ", ".join(gsis) or "(the design has no GSIs)"
            found.append(src.report(INDEX_WRITES, where, f"unknown GSI {name!r}; allowed: {allowed}"))
        elif not 0 <= writes <= INDEX_WRITES_PER_ITEM_MAX:
            found.append(
                src.report(INDEX_WRITES, where, f"{writes} writes per item; allowed 0 to {INDEX_WRITES_PER_ITEM_MAX}")
            )
    return found


def _check_pattern(design: Design, src: Source, i: int, pattern: AccessPattern) -> list[Diagnostic]:
    found: list[Diagnostic] = []

    def add(rule: Rule, field: str, message: str) -> None:
        found.append(src.report(rule, ("access_patterns", i, field), message))

    if pattern.index is not None:
        if pattern.operation != "Query":
            add(
                INDEX_ONLY_FOR_QUERY, "index", f"only Query reads an index; {pattern.operation} works on the base table"
            )
            return found
        if pattern.index not in design.index_names():
            allowed = ", ".join(design.index_names()) or "(the design has no indexes)"
            add(KNOWN_INDEX, "index", f"unknown index {pattern.index!r}; allowed: {allowed}")
            return found
    if pattern.operation == "TransactWriteItems" and not pattern.item_operations:
        add(
            TRANSACTION_ITEMS,
            "item_operations",
            f"TransactWriteItems needs item_operations ({', '.join(ITEM_WRITE_OPERATIONS)}): "
            "IAM authorises each item action, not the transaction",
        )
    if pattern.operation != "TransactWriteItems" and pattern.item_operations:
        add(TRANSACTION_ITEMS, "item_operations", "only TransactWriteItems takes item_operations")
    found.extend(_check_index_writes(design, src, i, pattern))
    if PER_USER in pattern.roles:
        found.extend(_check_per_user(design, src, i, pattern))
    if pattern.operation not in READ_OPERATIONS and READER in pattern.roles:
        add(READER_READS, "roles", f"the reader role is read-only; {pattern.operation} is a write")
    if pattern.example is None:
        add(
            HAS_EXAMPLE,
            "example",
            "no example: make local and the smoke tests cannot run this pattern (add values and expect)",
        )

    needs_key = pattern.operation in SINGLE_ITEM_OPERATIONS + ("Query",)
    if pattern.key_condition is None:
        if needs_key:
            add(KEY_CONDITION_REQUIRED, "key_condition", f"{pattern.operation} needs a key_condition")
        return found
    try:
        condition = parse_key_condition(pattern.key_condition)
    except KeyConditionSyntaxError as exc:
        add(KEY_CONDITION_SYNTAX, "key_condition", str(exc))
        return found
    key = design.index_key(pattern.index) if pattern.index else design.table_key()
    where = f"index {pattern.index!r}" if pattern.index else "the table"
    if condition.partition_attribute != key[0].name:
        add(
            KEY_CONDITION_MATCHES_KEYS,
            "key_condition",
            f"partition attribute {condition.partition_attribute!r} is not the partition key of {where} "
            f"({key[0].name!r})",
        )
    if condition.sort is not None:
        if len(key) == 1:
            add(KEY_CONDITION_MATCHES_KEYS, "key_condition", f"{where} has no sort key; drop the sort-key part")
        elif condition.sort.attribute != key[1].name:
            add(
                KEY_CONDITION_MATCHES_KEYS,
                "key_condition",
                f"sort attribute {condition.sort.attribute!r} is not the sort key of {where} ({key[1].name!r})",
            )
    if pattern.example is not None and needs_key:
        missing = [v for v in condition.placeholders if v not in pattern.example.values]
        if missing:
            add(EXAMPLE_VALUES, "example", f"values lacks {', '.join(missing)} used by key_condition")
    whole_key = condition.is_full_key_equality() and len(condition.attributes) == len(key)
    if pattern.operation in SINGLE_ITEM_OPERATIONS and not whole_key:
        wanted = " AND ".join(f"{k.name} = :{k.name}" for k in key)
        add(
            WHOLE_KEY,
            "key_condition",
            f"{pattern.operation} addresses one item: use equality on the whole key ({wanted})",
        )
    return found


def _check_per_user(design: Design, src: Source, i: int, pattern: AccessPattern) -> list[Diagnostic]:
    """Fine-grained access (specifying-conditions.html): LeadingKeys, Attributes, no whole-item replace."""
    found = []

    def add(rule: Rule, field: str, message: str) -> None:
        found.append(src.report(rule, ("access_patterns", i, field), message))

    tenant_key = design.partition_key.name
    if pattern.index is not None and pattern.index in design.index_names():
        index_partition = design.index_key(pattern.index)[0].name
        if index_partition != tenant_key:
            add(
                PER_USER_BASE_TABLE,
                "roles",
                f"per_user patterns need dynamodb:LeadingKeys to be the caller's own key: index {pattern.index!r} is "
                f"partitioned by {index_partition!r}, not the tenant key {tenant_key!r}",
            )
    if not pattern.attributes:
        add(
            PER_USER_ATTRIBUTES,
            "attributes",
            "a per_user pattern lists the non-key attributes the client may read or write (dynamodb:Attributes); "
            "keys are always allowed",
        )
    writes = pattern.operation not in READ_OPERATIONS
    protected = sorted(set(pattern.attributes) & set(design.protected_attributes))
    if writes and protected:
        add(
            PER_USER_NO_PROTECTED_WRITES,
            "attributes",
            f"{', '.join(protected)}: protected (protected_attributes); a per_user client must never write it",
        )
    puts = pattern.operation == "PutItem" or "PutItem" in pattern.item_operations
    if puts and design.protected_attributes:
        add(
            PER_USER_NO_PUT,
            "operation",
            "a PutItem replaces the whole item and would drop protected attributes "
            f"({', '.join(design.protected_attributes)}); give per_user an UpdateItem (SET) pattern instead",
        )
    return found


RULE_MODULE = RuleModule(RULES, design=check)
