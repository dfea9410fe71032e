"""What a template value refers to: the logical IDs its intrinsic functions name, and a resource's
DependsOn. One reader for the staged deploy's planner (steps.py) and the release (deploy/release.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# ${Name} or ${Name.Attribute} in Fn::Sub; ${!Literal} is no reference.
SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(value: Any) -> Iterator[str]:
    """Logical IDs named by Ref, Fn::GetAtt and Fn::Sub inside a template value (pseudo parameters excluded)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str) and not inner.startswith("AWS::"):
                yield inner
            elif key == "Fn::GetAtt":
                yield str(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text, own = (inner[0], inner[1]) if isinstance(inner, list) else (inner, {})
                yield from (name for name in SUB_NAME.findall(str(text)) if name not in own)
                yield from references(own)
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


def depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)
