"""Y: the YAML itself. Strict where PyYAML is lax (see spec/source.py)."""

from __future__ import annotations

from ...diagnostics import Rule
from . import RuleModule

YAML_SOURCE = "https://yaml.org/spec/1.2.2/#mapping (keys are unique); YAML 1.2 core schema booleans"

SYNTAX = Rule("Y001", "The file is valid YAML", "error", "https://yaml.org/spec/1.2.2/")
NOT_A_MAPPING = Rule(
    "Y002", "The file holds a mapping of settings", "error", "docs/environments.md: Environment config reference"
)
DUPLICATE_KEY = Rule("Y003", "No key appears twice in one mapping", "error", YAML_SOURCE)
YAML11_BOOLEAN = Rule("Y004", "Booleans are written true or false (not yes/no/on/off)", "error", YAML_SOURCE)
UNREADABLE = Rule("Y005", "The file can be read", "error", "")

RULES = (SYNTAX, NOT_A_MAPPING, DUPLICATE_KEY, YAML11_BOOLEAN, UNREADABLE)
RULE_MODULE = RuleModule(RULES)
