"""A built stack and its deterministic rendering into build/ files."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from troposphere import Template


@dataclass(frozen=True)
class Stack:
    kind: str  # "data" or "access": the file name stem under build/<env>/
    name: str  # CloudFormation stack name
    template: Template
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # Capabilities create-stack needs (CAPABILITY_NAMED_IAM for named roles).
    capabilities: tuple[str, ...] = ()

    @functools.cached_property
    def template_dict(self) -> dict[str, Any]:
        """The rendered template, computed once (troposphere validates on each to_dict)."""
        return self.template.to_dict()

    def files(self) -> dict[str, str]:
        """File name -> content for build/<env>/."""
        return {
            f"{self.kind}.template.json": render_json(self.template_dict),
            # The list `aws cloudformation create-stack --parameters file://` reads.
            f"{self.kind}.parameters.json": render_json(
                [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(self.parameters.items())]
            ),
            # The list `--tags file://` reads.
            f"{self.kind}.tags.json": render_json(
                [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())]
            ),
        }


def render_json(data: Any) -> str:
    """Sorted keys, 2-space indent, trailing newline: byte-stable across runs."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
