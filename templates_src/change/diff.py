"""Offline diff of two CloudFormation templates: Add, Modify, Replace, Remove.

Whether a property change replaces a resource comes from the CloudFormation
registry schemas cfn-lint ships (createOnlyProperties and
conditionalCreateOnlyProperties), plus the DynamoDB rules the schema does
not carry (table_shape.extra_replacing: LSIs, key attribute types).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..stacks.registry import create_only_properties
from .table_shape import extra_replacing

RESOURCE_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy", "Condition", "DependsOn", "Metadata")


@dataclass
class ResourceChange:
    logical_id: str
    resource_type: str
    action: str  # Add, Modify, Replace, Remove
    paths: list[str] = field(default_factory=list)  # changed property paths
    replacing: list[str] = field(default_factory=list)  # the create-only ones among them
    old: dict[str, Any] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)


def _by_region(value: Any) -> dict[str, Any] | None:
    """A GlobalTable's Replicas (or witnesses) by Region, or None for any other value."""
    if isinstance(value, list) and all(isinstance(v, dict) and isinstance(v.get("Region"), str) for v in value):
        return {v["Region"]: v for v in value}
    return None


def changed_paths(old: Any, new: Any, prefix: str) -> list[str]:
    if prefix.endswith(".Replicas") and (before := _by_region(old)) is not None:
        after = _by_region(new)
        if after is not None:  # one path per replica: Properties.Replicas[eu-west-1].TableClass
            paths = []
            for region in [*before, *(r for r in after if r not in before)]:
                paths.extend(changed_paths(before.get(region), after.get(region), f"{prefix}[{region}]"))
            return paths
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                out.extend(changed_paths(old.get(key), new.get(key), f"{prefix}.{key}"))
        return out
    return [prefix] if old != new else []


def diff_templates(old: dict[str, Any], new: dict[str, Any]) -> list[ResourceChange]:
    old_res, new_res = old.get("Resources", {}), new.get("Resources", {})
    changes = []
    for logical_id in sorted(set(old_res) | set(new_res)):
        before, after = old_res.get(logical_id), new_res.get(logical_id)
        if before == after:
            continue
        if before is None:
            changes.append(ResourceChange(logical_id, after["Type"], "Add", new=after))
            continue
        if after is None:
            changes.append(ResourceChange(logical_id, before["Type"], "Remove", old=before))
            continue
        if before["Type"] != after["Type"]:
            changes.append(ResourceChange(logical_id, after["Type"], "Replace", ["Type"], ["Type"], before, after))
            continue
        paths = changed_paths(
            {k: before.get(k) for k in ("Properties",) + RESOURCE_ATTRIBUTES if k in before},
            {k: after.get(k) for k in ("Properties",) + RESOURCE_ATTRIBUTES if k in after},
            "",
        )
        paths = [p.lstrip(".") for p in paths]
        create_only = create_only_properties(after["Type"])
        replacing = sorted(
            {p.split(".")[1] for p in paths if p.startswith("Properties.") and p.split(".")[1] in create_only}
            | set(extra_replacing(before, after))
        )
        action = "Replace" if replacing else "Modify"
        changes.append(ResourceChange(logical_id, after["Type"], action, paths, replacing, before, after))
    return changes
