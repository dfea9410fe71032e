"""S: the schema: keys, types and ranges that the pydantic models declare."""

from __future__ import annotations

import re
import types
import typing
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ...diagnostics import Diagnostic, Rule
from ..environment import UNION_TAGS
from . import RuleModule

if TYPE_CHECKING:
    from ..source import Source

_SOURCE = "docs/environments.md: Environment config reference; docs/designs.md: Designs"

UNKNOWN_KEY = Rule("S001", "Every key is a known setting (a typo is never ignored)", "error", _SOURCE)
MISSING_KEY = Rule("S002", "Required settings are present", "error", _SOURCE)
INVALID_VALUE = Rule("S003", "Values have the declared type, pattern and range", "error", _SOURCE)

RULES = (UNKNOWN_KEY, MISSING_KEY, INVALID_VALUE)
RULE_MODULE = RuleModule(RULES)


# (section, key) -> where the setting lives instead: keys users put in the wrong place.
_MOVED = {
    ("replicas", "write"): "a global table's write capacity is global: set billing.write",
    ("replicas", "stream_view_type"): "a global table has one stream for every replica: set stream_view_type",
    (
        "replicas",
        "encryption",
    ): "a global table has one encryption choice: set encryption (each replica gets its own Region's key)",
}
_SCIENTIFIC = re.compile(r"^[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+$")


def schema_diagnostics(model: type[BaseModel], exc: ValidationError, src: Source) -> list[Diagnostic]:
    return [_diagnostic(model, err, src) for err in exc.errors()]


def _diagnostic(model: type[BaseModel], err: Any, src: Source) -> Diagnostic:
    loc = tuple(part for part in err["loc"] if part not in UNION_TAGS)
    kind = err["type"]
    if kind == "extra_forbidden":
        import difflib  # here, not at the top: a synth without errors never needs it (~0.6 ms)

        allowed = _allowed_keys(model, loc[:-1])
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if close:
            hint = f"; did you mean {close[0]!r}?" + hint
        moved = _MOVED.get((str(loc[0]), str(loc[-1]))) if len(loc) > 1 else None
        if moved:
            hint = f"; {moved}" + hint
        return src.report(UNKNOWN_KEY, loc, f"unknown key{hint}")
    if kind == "missing":
        return src.report(MISSING_KEY, loc, "required key is missing")
    message = err["msg"]
    if "input" in err:
        value = err["input"]
        shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
        message += f" (got {shown})"
        if kind == "string_type" and isinstance(value, (int, float)):
            message += "; quote it in YAML to make it a string"
        if kind in ("int_type", "float_type") and isinstance(value, str) and _SCIENTIFIC.match(value):
            # YAML 1.1 reads 1e7 as a string (a float needs a dot: 1.0e7).
            message += f"; write it out ({float(value):.0f}): YAML reads {value} as a string"
    return src.report(INVALID_VALUE, loc, message)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Follow loc through the model's fields to list the keys valid at that level."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]  # a dict key: on to the value type
            continue
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue  # a list index: stays on the element type
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = field.annotation
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Optional[X], list[X] -> X; anything else (dict[str, X] too: its keys are a step of loc) unchanged."""
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (typing.Union, types.UnionType) and len(args) == 1 or origin in (list, tuple) and args:
            annotation = args[0]
        else:
            return annotation
