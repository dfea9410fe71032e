"""Spec rules: one module per concern, each rule with a stable ID (cfn-lint style).

    Y  the YAML itself            yaml_input.py
    S  the schema (pydantic)      schema.py
    F  files and cross-file names files.py
    D  designs                    design_keys.py, design_indexes.py, design_patterns.py, design_storage.py
    N  environments               environment_billing.py, environment_protection.py,
                                  environment_tags.py, environment_design.py,
                                  environment_traffic.py, environment_global.py
    A  IAM limits of the roles    access_limits.py (checked while the access stack is built)

A rule module holds its `Rule`s (ID, title, severity, the documentation it
encodes) and a `check` function that returns diagnostics rather than raising,
so a user sees every problem at once.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule

if TYPE_CHECKING:
    from ..design import Design
    from ..environment import Environment
    from ..source import Source


# One module per concern, in the order rules are listed.
RULE_MODULES = (
    "yaml_input",
    "schema",
    "files",
    "design_keys",
    "design_indexes",
    "design_patterns",
    "design_storage",
    "environment_billing",
    "environment_protection",
    "environment_tags",
    "environment_design",
    "environment_traffic",
    "environment_global",
    "access_limits",
)


def _modules() -> tuple[ModuleType, ...]:
    # Imported on demand, not at module level: spec/source.py imports
    # yaml_input while this package initialises.
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in RULE_MODULES)


def spec_rules() -> list[Rule]:
    rules = [rule for module in _modules() for rule in module.RULES]
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)), "rule IDs must be unique"
    return rules


def check_design(design: Design, src: Source) -> list[Diagnostic]:
    from . import design_indexes, design_keys, design_patterns, design_storage

    found: list[Diagnostic] = []
    for module in (design_keys, design_indexes, design_patterns, design_storage):
        found.extend(module.check(design, src))
    return found


def check_environment(env: Environment, design: Design | None, src: Source) -> list[Diagnostic]:
    from . import (
        environment_billing,
        environment_design,
        environment_global,
        environment_protection,
        environment_tags,
        environment_traffic,
    )

    found: list[Diagnostic] = []
    for module in (environment_billing, environment_protection, environment_tags, environment_global):
        found.extend(module.check(env, src))
    if design is not None:
        found.extend(environment_design.check(env, design, src))
        found.extend(environment_traffic.check(env, design, src))
        found.extend(environment_global.check_design(env, design, src))
    return found
