"""Rules with stable IDs and the diagnostic each finding is reported as.

Spec rules (templates_src/spec/rules/) and plan guards
(templates_src/change/guards/) are both `Rule`s, cfn-lint style: an ID that
never changes meaning, a title, a severity and the documentation it encodes.
`python -m templates_src rules` lists them all.
"""

import importlib
from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple, TypeVar, Union

PathPart = Union[str, int]
Severity = Literal["error", "warning"]
T = TypeVar("T")


class Diagnostic(NamedTuple):
    """One finding of a spec rule or a plan guard.

    where: the file (spec rules) or the logical resource ID (plan guards).
    path: the field path in that file, or the property of that resource.
    """

    rule_id: str
    severity: Severity
    where: str
    path: str
    message: str
    line: int | None = None
    way_forward: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        location = f"{self.where}:{self.line}" if self.line else self.where
        return f"{location}: {self.path}: {self.severity}: {self.message} [{self.rule_id}]"


class Rule(NamedTuple):
    id: str
    title: str
    severity: Severity
    source: str  # the documentation the rule encodes (URL or reference)

    def at(self, where: str, path: str, message: str, way_forward: str = "", line: int | None = None) -> Diagnostic:
        return Diagnostic(self.id, self.severity, where, path, message, line, way_forward)


def format_path(parts: Sequence[PathPart]) -> str:
    """("billing", "read", "min") -> billing.read.min; ints and "[name]" parts -> [i], [name]."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("["):
            out += part
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def errors_only(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.is_error]


def registered(package: str, modules: Sequence[str], attribute: str, kind: type[T]) -> tuple[T, ...]:
    """Each listed module's `attribute`, in list order: how the spec rules' and the guards' one
    registry (a tuple of module names) is read; a module without a `kind` there is a TypeError."""
    found = []
    for name in modules:
        entry = getattr(importlib.import_module(f"{package}.{name}"), attribute, None)
        if not isinstance(entry, kind):
            raise TypeError(f"{package}.{name}.{attribute} is not a {kind.__name__}")
        found.append(entry)
    return tuple(found)
