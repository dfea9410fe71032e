"""The committed build files of one environment's stacks, as deploy tools read them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .access_stack import access_stack_name
from .data_stack import data_stack_name
from .loader import Spec


@dataclass(frozen=True)
class StackFiles:
    kind: str
    name: str
    template: str
    parameters: list[dict[str, str]]
    tags: list[dict[str, str]]

    @property
    def capabilities(self) -> list[str]:
        # Only the access stack creates named IAM roles.
        return ["CAPABILITY_NAMED_IAM"] if self.kind == "access" else []


def stack_files(spec: Spec, build_dir: Path) -> list[StackFiles]:
    """Data stack first, then access (it imports the data stack's exports)."""
    names = {"data": data_stack_name(spec), "access": access_stack_name(spec)}
    out = []
    for kind in ("data", "access"):
        template = build_dir / f"{kind}.template.json"
        if not template.exists():
            continue
        parameters = json.loads((build_dir / f"{kind}.parameters.json").read_text())
        tags = json.loads((build_dir / f"{kind}.tags.json").read_text())
        out.append(StackFiles(kind, names[kind], template.read_text(), parameters, tags))
    return out
