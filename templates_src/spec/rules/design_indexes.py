"""D2xx: secondary indexes: counts, names, projections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from ...diagnostics import Diagnostic, Rule
from .. import limits
from . import RuleModule

if TYPE_CHECKING:
    from ..design import Design, GlobalSecondaryIndex, LocalSecondaryIndex
    from ..source import Source

_QUOTAS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-secondary-indexes"
_PROJECTIONS = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Projection.html"

GSI_COUNT = Rule(
    "D201", f"At most {limits.MAX_GLOBAL_SECONDARY_INDEXES} GSIs per table (default quota)", "error", _QUOTAS
)
LSI_COUNT = Rule("D202", f"At most {limits.MAX_LOCAL_SECONDARY_INDEXES} LSIs per table", "error", _QUOTAS)
LSI_NEEDS_SORT_KEY = Rule(
    "D203",
    "LSIs need a table sort key",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LSI.html",
)
UNIQUE_INDEX_NAMES = Rule("D204", "Index names are unique within a table", "error", _QUOTAS)
INCLUDE_LISTS_ATTRIBUTES = Rule(
    "D205", "non_key_attributes goes with projection INCLUDE, and INCLUDE needs it", "error", _PROJECTIONS
)
PROJECTED_NOT_A_KEY = Rule(
    "D206", "An index does not list its own or the table's keys as projected attributes", "error", _PROJECTIONS
)
PROJECTED_ONCE = Rule("D207", "A projected attribute is listed once", "error", _PROJECTIONS)
PROJECTED_TOTAL = Rule(
    "D208",
    f"At most {limits.MAX_PROJECTED_NON_KEY_ATTRIBUTES} projected non-key attributes per table",
    "error",
    _QUOTAS,
)
UNQUERIED_INDEX = Rule(
    "D209",
    "Every index is queried by an access pattern",
    "warning",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-indexes-general.html",
)

RULES = (
    GSI_COUNT,
    LSI_COUNT,
    LSI_NEEDS_SORT_KEY,
    UNIQUE_INDEX_NAMES,
    INCLUDE_LISTS_ATTRIBUTES,
    PROJECTED_NOT_A_KEY,
    PROJECTED_ONCE,
    PROJECTED_TOTAL,
    UNQUERIED_INDEX,
)

Index = Union["GlobalSecondaryIndex", "LocalSecondaryIndex"]


def _indexes(design: Design) -> list[tuple[str, int, Index]]:
    return [("global_secondary_indexes", i, x) for i, x in enumerate(design.global_secondary_indexes)] + [
        ("local_secondary_indexes", i, x) for i, x in enumerate(design.local_secondary_indexes)
    ]


def check(design: Design, src: Source) -> list[Diagnostic]:
    found = []
    gsis, lsis = design.global_secondary_indexes, design.local_secondary_indexes
    if len(gsis) > limits.MAX_GLOBAL_SECONDARY_INDEXES:
        found.append(
            src.report(
                GSI_COUNT,
                ("global_secondary_indexes",),
                f"{len(gsis)} indexes; at most {limits.MAX_GLOBAL_SECONDARY_INDEXES} global secondary "
                "indexes per table (default quota)",
            )
        )
    if len(lsis) > limits.MAX_LOCAL_SECONDARY_INDEXES:
        found.append(
            src.report(
                LSI_COUNT,
                ("local_secondary_indexes",),
                f"{len(lsis)} indexes; at most {limits.MAX_LOCAL_SECONDARY_INDEXES} local secondary indexes per table",
            )
        )
    if lsis and design.sort_key is None:
        found.append(
            src.report(
                LSI_NEEDS_SORT_KEY,
                ("local_secondary_indexes",),
                "local secondary indexes need a table sort_key (they share the partition key and add another sort key)",
            )
        )
    first: dict[str, tuple[str | int, ...]] = {}
    for kind, i, index in _indexes(design):
        path = (kind, i, "name")
        if index.name in first:
            found.append(
                src.report(
                    UNIQUE_INDEX_NAMES,
                    path,
                    f"index name {index.name!r} is already used at {src.display_path(first[index.name])} "
                    f"(line {src.line_of(first[index.name])})",
                )
            )
        first.setdefault(index.name, path)
    found.extend(_check_projections(design, src))
    queried = {p.index for p in design.access_patterns if p.index}
    for kind, i, index in _indexes(design):
        if index.name not in queried:
            found.append(
                src.report(
                    UNQUERIED_INDEX,
                    (kind, i, "name"),
                    f"index {index.name!r} is queried by no access pattern: it doubles write cost and "
                    "storage for nothing; add the pattern or drop the index",
                )
            )
    return found


def _check_projections(design: Design, src: Source) -> list[Diagnostic]:
    found = []
    total = 0
    table_keys = {k.name for k in design.table_key()}
    for kind, i, index in _indexes(design):
        path = (kind, i, "non_key_attributes")
        if index.projection == "INCLUDE" and not index.non_key_attributes:
            found.append(
                src.report(
                    INCLUDE_LISTS_ATTRIBUTES, path, "projection INCLUDE needs at least one non_key_attributes entry"
                )
            )
        if index.projection != "INCLUDE" and index.non_key_attributes:
            found.append(
                src.report(
                    INCLUDE_LISTS_ATTRIBUTES,
                    path,
                    f"non_key_attributes is only allowed with projection INCLUDE (this index projects {index.projection})",
                )
            )
        # An index always projects the table's keys and its own keys; another
        # index's key attributes are ordinary attributes here (API_Projection).
        own = table_keys | {k.name for k in design.index_key(index.name)}
        for name in index.non_key_attributes:
            if name in own:
                found.append(
                    src.report(
                        PROJECTED_NOT_A_KEY,
                        path,
                        f"{name!r} is a key of the table or of index {index.name!r}, which every index projects "
                        "already; remove it from non_key_attributes",
                    )
                )
        if len(set(index.non_key_attributes)) != len(index.non_key_attributes):
            found.append(src.report(PROJECTED_ONCE, path, "lists an attribute more than once"))
        total += len(set(index.non_key_attributes))
    if total > limits.MAX_PROJECTED_NON_KEY_ATTRIBUTES:
        found.append(
            src.report(
                PROJECTED_TOTAL,
                ("global_secondary_indexes",),
                f"{total} projected non-key attributes across all indexes; at most "
                f"{limits.MAX_PROJECTED_NON_KEY_ATTRIBUTES} per table",
            )
        )
    return found


RULE_MODULE = RuleModule(RULES, design=check)
