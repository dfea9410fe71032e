"""troposphere objects to JSON: what `Template.to_dict()` returns, and its text, at a fraction of the cost.

troposphere's encode_to_dict walks each object's result again after its
to_dict (so a tree `d` deep is walked `d` times) and evaluates a typing cast
on every list. Here each object is rendered once, one level at a time, as
encode_to_dict renders it: a resource, property or output validated (required
properties, its validate()) and its fields taken; anything else with a
to_dict or an awacs JSONrepr asked for it. `plain` walks the data in Python;
`template_json` lets orjson walk it and write the file's text (sorted keys,
2-space indent), calling back only for those objects. tests/test_snapshot.py
checks both against troposphere for every built stack.
"""

from __future__ import annotations

from typing import Any

import orjson
from troposphere import AWSHelperFn, BaseAWSObject, Template

_PLAIN = frozenset((str, int, float, bool, type(None)))
_OBJECT_TO_DICT = BaseAWSObject.to_dict
_HELPER_TO_DICT = AWSHelperFn.to_dict
# What artifacts.render_json writes: json.dumps(indent=2, sort_keys=True, ensure_ascii=False)'s bytes.
JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


# How _one_level renders an object of each class, found once per class (a template holds
# thousands of objects of a few dozen classes).
_OBJECT, _HELPER, _TO_DICT, _DATA, _JSONREPR = range(5)
_KINDS: dict[type, int] = {}


def _kind(cls: type) -> int:
    to_dict = getattr(cls, "to_dict", None)
    if to_dict is _OBJECT_TO_DICT:
        return _OBJECT
    if to_dict is _HELPER_TO_DICT:
        return _HELPER
    if to_dict is not None:
        return _TO_DICT
    if issubclass(cls, (list, tuple, dict)):
        return _DATA
    if hasattr(cls, "JSONrepr"):  # awacs policies
        return _JSONREPR
    return _DATA


def _one_level(obj: Any) -> Any:
    """An object as encode_to_dict renders it, what it holds left as it is; `obj` when it is data."""
    cls = type(obj)
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _KINDS[cls] = _kind(cls)
    if kind == _OBJECT:  # a resource, property or output: BaseAWSObject.to_dict, inlined
        if obj.do_validation:
            obj._validate_props()
            obj.validate()
        if obj.properties:
            return obj.resource
        if hasattr(obj, "resource_type"):
            return {k: v for k, v in obj.resource.items() if k != "Properties"}
        return {}
    if kind == _HELPER:  # Ref, Sub, GetAtt...: AWSHelperFn.to_dict, inlined
        return obj.data
    if kind == _TO_DICT:
        return obj.to_dict()
    if kind == _JSONREPR:
        return obj.JSONrepr()
    return obj


def plain(obj: Any) -> Any:
    """encode_to_dict(obj): JSON data with every troposphere and awacs object rendered."""
    cls = type(obj)
    if cls in _PLAIN:
        return obj
    if cls is dict:
        return {name: plain(value) for name, value in obj.items()}
    if cls is list or cls is tuple:
        return [plain(item) for item in obj]
    rendered = _one_level(obj)
    if rendered is obj:  # data: a list, tuple or dict of another class, or a value encode_to_dict keeps
        if isinstance(obj, (list, tuple)):
            return [plain(item) for item in obj]
        if isinstance(obj, dict):
            return {name: plain(value) for name, value in obj.items()}
        return obj
    return plain(rendered)


def _for_orjson(obj: Any) -> Any:
    """orjson's `default`: called for what orjson cannot write itself (troposphere and awacs objects)."""
    rendered = _one_level(obj)
    if rendered is obj:
        raise TypeError(f"{type(obj).__name__} is not JSON")
    return rendered


def _sections(template: Template) -> dict[str, Any]:
    """Template.to_dict()'s sections, in its order, objects still in them."""
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
    return t


def template_json(template: Template) -> str:
    """render_json(Template.to_dict()): the template file's text, written by orjson in one pass."""
    return orjson.dumps(_sections(template), default=_for_orjson, option=JSON_OPTIONS).decode("utf-8") + "\n"
