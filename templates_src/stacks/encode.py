"""troposphere objects to plain JSON data: what `Template.to_dict()` returns, in a fifth of the time.

troposphere's encode_to_dict walks each object's result again after its
to_dict (so a tree `d` deep is walked `d` times) and evaluates a typing cast
on every list. This walks it once: each resource is validated (required
properties, its validate()) when reached, parent before children, as
to_dict does; anything else with a to_dict or an awacs JSONrepr is asked
for it, exactly as encode_to_dict asks. tests/test_snapshot.py checks that
the result equals troposphere's for every built stack.
"""

from __future__ import annotations

from typing import Any

from troposphere import AWSHelperFn, BaseAWSObject, Template

_PLAIN = frozenset((str, int, float, bool, type(None)))
_OBJECT_TO_DICT = BaseAWSObject.to_dict
_HELPER_TO_DICT = AWSHelperFn.to_dict


def plain(obj: Any) -> Any:
    """encode_to_dict(obj): JSON data with every troposphere and awacs object rendered."""
    cls = type(obj)
    if cls in _PLAIN:
        return obj
    if cls is dict:
        return {name: plain(value) for name, value in obj.items()}
    if cls is list or cls is tuple:
        return [plain(item) for item in obj]
    to_dict = getattr(cls, "to_dict", None)
    if to_dict is _OBJECT_TO_DICT:  # a resource, property or output: BaseAWSObject.to_dict, inlined
        if obj.do_validation:
            obj._validate_props()
            obj.validate()
        if obj.properties:
            return plain(obj.resource)
        if hasattr(obj, "resource_type"):
            return plain({k: v for k, v in obj.resource.items() if k != "Properties"})
        return {}
    if to_dict is _HELPER_TO_DICT:  # Ref, Sub, GetAtt...: AWSHelperFn.to_dict, inlined
        return plain(obj.data)
    if to_dict is not None:
        return plain(obj.to_dict())
    if isinstance(obj, (list, tuple)):
        return [plain(item) for item in obj]
    if isinstance(obj, dict):
        return {name: plain(value) for name, value in obj.items()}
    if hasattr(obj, "JSONrepr"):  # awacs policies
        return plain(obj.JSONrepr())
    return obj


def template_dict(template: Template) -> dict[str, Any]:
    """Template.to_dict(): the same sections, in the same order, encoded by `plain`."""
    t: dict[str, Any] = {}
    if template.description:
        t["Description"] = template.description
    if template.metadata:
        t["Metadata"] = template.metadata
    if template.conditions:
        t["Conditions"] = template.conditions
    if template.mappings:
        t["Mappings"] = template.mappings
    if template.outputs:
        t["Outputs"] = template.outputs
    if template.parameters:
        t["Parameters"] = template.parameters
    if template.version:
        t["AWSTemplateFormatVersion"] = template.version
    if template.transform:
        t["Transform"] = template.transform
    if template.rules:
        t["Rules"] = template.rules
    if template.globals:
        t["Globals"] = template.globals
    t["Resources"] = template.resources
    result: dict[str, Any] = plain(t)
    return result
