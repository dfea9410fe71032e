"""Spec rules: one module per concern, each rule with a stable ID (cfn-lint style).

Each rule module holds its `Rule`s (ID, title, severity, the documentation it
encodes) and its `RULE_MODULE`: those rules with the checks the loader runs,
on a design, on an environment, or on an environment with its design. A
check returns diagnostics rather than raising, so a user sees every problem
at once. A module without checks is run where its input is read: yaml_input
by spec/source.py, schema and files by spec/loader.py, access_limits while
the access stack is built. RULE_MODULES is the one list of them; an ID's
letter names its concern (rules_doc.GROUPS titles them).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from ...diagnostics import Diagnostic, Rule, registered

if TYPE_CHECKING:
    from ..design import Design
    from ..environment import Environment
    from ..source import Source

    DesignCheck = Callable[[Design, Source], list[Diagnostic]]
    EnvironmentCheck = Callable[[Environment, Source], list[Diagnostic]]
    EnvironmentDesignCheck = Callable[[Environment, Design, Source], list[Diagnostic]]


class RuleModule(NamedTuple):
    """A concern's rules and the checks the loader runs for it (none: run where its input is read)."""

    rules: tuple[Rule, ...]
    design: DesignCheck | None = None
    environment: EnvironmentCheck | None = None
    # Run only when the environment's design loaded.
    environment_design: EnvironmentDesignCheck | None = None


# One module per concern, in the order rules are listed and checks run.
RULE_MODULES = (
    "yaml_input",
    "schema",
    "files",
    "design_keys",
    "design_indexes",
    "design_patterns",
    "design_storage",
    "design_migration",
    "environment_billing",
    "environment_protection",
    "environment_tags",
    "environment_design",
    "environment_traffic",
    "environment_global",
    "environment_multiaccount",
    "environment_encryption",
    "access_limits",
)


@cache
def rule_modules() -> tuple[RuleModule, ...]:
    # Imported on first use, not at module level: spec/source.py imports
    # yaml_input while this package initialises.
    return registered(__name__, RULE_MODULES, "RULE_MODULE", RuleModule)


def spec_rules() -> list[Rule]:
    rules = [rule for module in rule_modules() for rule in module.rules]
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)), "rule IDs must be unique"
    return rules


def check_design(design: Design, src: Source) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for module in rule_modules():
        if module.design is not None:
            found.extend(module.design(design, src))
    return found


def check_environment(env: Environment, design: Design | None, src: Source) -> list[Diagnostic]:
    """The environment's own checks, then (when its design loaded) those against the design."""
    found: list[Diagnostic] = []
    for module in rule_modules():
        if module.environment is not None:
            found.extend(module.environment(env, src))
    if design is not None:
        for module in rule_modules():
            if module.environment_design is not None:
                found.extend(module.environment_design(env, design, src))
    return found
