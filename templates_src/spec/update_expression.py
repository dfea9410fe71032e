"""Which top-level attributes an UpdateExpression writes and which it removes.

The cost model needs it to tell which index entries an update touches
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html):

    SET a = :v, #n = if_not_exists(#n, :z), l = list_append(l, :m)
    REMOVE b.c, d[0]
    ADD counter :one
    DELETE tags :old

A nested path (b.c, d[0]) changes its top-level attribute; only removing the
whole attribute removes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)
_PATH_HEAD = re.compile(r"^\s*([#A-Za-z_][A-Za-z0-9_\-]*)\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class UpdateTargets:
    written: frozenset[str]  # set, added to or partly removed (a nested path)
    removed: frozenset[str]  # removed whole


def _top_level(parts: str) -> list[str]:
    """Split on commas outside parentheses (function arguments)."""
    out, depth, current = [], 0, ""
    for ch in parts:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        out.append(current)
    return out


def update_targets(expression: str, names: dict[str, str] | None = None) -> UpdateTargets:
    """names: ExpressionAttributeNames, "#st" -> "status"."""
    names = names or {}
    written: set[str] = set()
    removed: set[str] = set()
    pieces = _CLAUSE.split(expression)
    for keyword, body in zip(pieces[1::2], pieces[2::2], strict=True):
        for action in _top_level(body):
            head = _PATH_HEAD.match(action)
            if head is None:
                continue
            attribute = names.get(head.group(1), head.group(1))
            whole = not head.group(2).startswith((".", "["))
            if keyword.upper() == "REMOVE" and whole:
                removed.add(attribute)
            else:
                written.add(attribute)
    return UpdateTargets(frozenset(written), frozenset(removed))
