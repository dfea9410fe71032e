"""F: files and the names that join them (environment -> design)."""

from __future__ import annotations

from ...diagnostics import Rule
from . import RuleModule

DESIGN_NAME_IS_FILE_NAME = Rule("F001", "A design's name equals its file name", "error", "docs/designs.md: Designs")
ENVIRONMENT_FILE_NAME = Rule(
    "F002",
    "Environment file names are lowercase letters, digits and hyphens",
    "error",
    "docs/environments.md: Environment config reference",
)
UNKNOWN_DESIGN = Rule("F003", "An environment names an existing design", "error", "docs/designs.md: Designs")

RULES = (DESIGN_NAME_IS_FILE_NAME, ENVIRONMENT_FILE_NAME, UNKNOWN_DESIGN)
RULE_MODULE = RuleModule(RULES)


def valid_environment_name(name: str) -> bool:
    return bool(name) and name[0].isalpha() and all(c.islower() or c.isdigit() or c == "-" for c in name)
