"""The CloudFormation registry schemas cfn-lint ships: one place that reads them.

What replaces a resource (createOnlyProperties) and what its handlers call
(handlers.<action>.permissions) are facts of the resource provider, so they
come from its schema, never from a list of ours.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import orjson

from .actions import action_name

# The schemas are per region; the resource types we build behave alike in all.
SCHEMA_REGION = "us-east-1"
HANDLER_ACTIONS = ("create", "read", "update", "delete")


@functools.cache
def _schemas_dir() -> Path:
    # Found, not imported: importing cfnlint costs ~0.6 s, four times all of synth.
    spec = importlib.util.find_spec("cfnlint")
    assert spec is not None and spec.origin is not None, "cfn-lint is a runtime dependency"
    return Path(spec.origin).parent / "data" / "schemas"


# orjson: the provider list and a dozen schemas (~0.3 MB) each synth reads, in two thirds of json's time.
@functools.cache
def _provider() -> dict[str, str]:
    path = _schemas_dir() / "providers" / f"{SCHEMA_REGION}.json"
    provider: dict[str, str] = orjson.loads(path.read_bytes())
    return provider


@functools.cache
def schema(resource_type: str) -> dict[str, Any]:
    """The registry schema of a resource type ({} when cfn-lint has none)."""
    digest = _provider().get(resource_type)
    if digest is None:
        return {}
    found: dict[str, Any] = orjson.loads((_schemas_dir() / "resources" / f"{digest}.json").read_bytes())
    return found


@functools.cache
def create_only_properties(resource_type: str) -> frozenset[str]:
    """Top-level property names whose change replaces a resource of this type.

    Properties that replace only under conditions (e.g. a DynamoDB KeySchema)
    count as replacing: the safe reading.
    """
    found = schema(resource_type)
    pointers = found.get("createOnlyProperties", []) + found.get("conditionalCreateOnlyProperties", [])
    return frozenset(p.split("/")[2] for p in pointers if p.startswith("/properties/"))


@functools.cache
def handler_permissions(resource_type: str) -> frozenset[str]:
    """The IAM actions CloudFormation's handlers call to create, read, update and delete a resource,
    as action names (stacks/actions.py: a prefix in lower case; what is no action name left out)."""
    handlers = schema(resource_type).get("handlers", {})
    listed = (a for h in HANDLER_ACTIONS for a in handlers.get(h, {}).get("permissions", []))
    return frozenset(name for a in listed if (name := action_name(a)) is not None)
