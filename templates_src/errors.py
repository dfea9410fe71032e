"""Problems found in user input, reported all at once with file and field path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, Union

PathPart = Union[str, int]


def format_path(parts: Sequence[PathPart]) -> str:
    """Render ("billing", "read", "min") as billing.read.min and list indexes as [i]."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str
    severity: str = "error"  # "error" stops synth; "warning" is printed only

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.severity}: {self.message}"


class SpecError(Exception):
    """Raised with every problem found, so users fix them in one round."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
