"""A design change that CloudFormation cannot take in one update: three GSIs added, one removed.

ByUserUpdated is renamed ByUserRecent (its pattern follows it), and ByUserTitle and ByTitle are
new, each with a pattern granting it (the prod fixture's traffic profile follows the rename).
Shared by the planner's tests and the local staged deploy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, synth_with_designs


def design_with_three_new_indexes_and_one_gone(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(environments, designs, their build): the fixtures with the change above, synthesised apart."""
    environments = tmp_path / "environments-staged"
    shutil.copytree(FIXTURE_ENVIRONMENTS, environments)
    prod = environments / "prod.yaml"
    prod.write_text(prod.read_text().replace("ByUserUpdated", "ByUserRecent"))
    designs = tmp_path / "designs-staged"
    shutil.copytree(FIXTURE_DESIGNS, designs)
    path = designs / "conversations.yaml"
    design = yaml.safe_load(path.read_text())
    (old,) = design["global_secondary_indexes"]
    design["global_secondary_indexes"] = [
        {**old, "name": "ByUserRecent"},
        {
            "name": "ByUserTitle",
            "projection": "KEYS_ONLY",
            "partition_key": {"name": "userId", "type": "S"},
            "sort_key": {"name": "title", "type": "S"},
        },
        {"name": "ByTitle", "projection": "KEYS_ONLY", "partition_key": {"name": "title", "type": "S"}},
    ]
    for pattern in design["access_patterns"]:
        if pattern.get("index") == "ByUserUpdated":
            pattern["index"] = "ByUserRecent"
    design["access_patterns"] += [
        {
            "name": "find-by-title",
            "operation": "Query",
            "index": "ByUserTitle",
            "roles": ["app", "reader"],
            "key_condition": "userId = :userId AND begins_with(title, :prefix)",
            "example": {
                "values": {":userId": "u-1", ":prefix": "Trip"},
                "expect": [{"userId": "u-1", "sk": "CONV#c-1"}],
            },
        },
        {
            "name": "find-title",
            "operation": "Query",
            "index": "ByTitle",
            "roles": ["app"],
            "key_condition": "title = :title",
            "example": {"values": {":title": "Recipes"}, "expect": [{"userId": "u-1", "sk": "CONV#c-2"}]},
        },
    ]
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    return environments, designs, synth_with_designs(designs, tmp_path / "build-staged", environments)
