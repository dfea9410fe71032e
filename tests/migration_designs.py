"""The fixture design moved to a new key schema: generation 2, partition key pk = "USER#<userId>".

Shared by the migration's rule, plan and local tests. Written out here (not derived from
templates_src): the new table's name, keys and the transform a reviewer would commit.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, synth_with_designs

NEW_TABLE = "conversations-v2-dev"  # design table_name "conversations-v2", environment dev
OLD_TABLE = "conversations-dev"


def migrated_design() -> dict[str, Any]:
    design: dict[str, Any] = yaml.safe_load((FIXTURE_DESIGNS / "conversations.yaml").read_text())
    design["table_name"] = "conversations-v2"
    design["partition_key"] = {"name": "pk", "type": "S"}
    design["per_user_key_prefix"] = "USER#"
    design["generation"] = 2
    design["migration"] = {"keys": {"pk": "USER#{userId}", "sk": "{sk}"}}
    design.pop("sample_items", None)
    for pattern in design["access_patterns"]:
        pattern.pop("example", None)
        if pattern.get("key_condition") and "index" not in pattern:
            pattern["key_condition"] = pattern["key_condition"].replace("userId = :userId", "pk = :pk")
    return design


def expected_new_item(old: dict[str, Any]) -> dict[str, Any]:
    """What the test expects the new table to hold for an old item (DynamoDB JSON), written out."""
    return {**old, "pk": {"S": "USER#" + old["userId"]["S"]}}


def migration_project(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(environments, designs, build): the fixtures with the migrated design, synthesised apart."""
    environments = tmp_path / "environments-migrated"
    shutil.copytree(FIXTURE_ENVIRONMENTS, environments)
    designs = tmp_path / "designs-migrated"
    shutil.copytree(FIXTURE_DESIGNS, designs)
    (designs / "conversations.yaml").write_text(yaml.safe_dump(migrated_design(), sort_keys=False))
    return environments, designs, synth_with_designs(designs, tmp_path / "build-migrated", environments)


if __name__ == "__main__":  # make security: the migration stacks scanned beside build/ (no design in build/ migrates)
    import sys

    out = Path(sys.argv[1])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    built = migration_project(out / "project")[2]
    (out / "scan").mkdir()
    for template in sorted(built.glob("*/migration.template.json")):  # out/scan/<env>-migration.template.json
        shutil.copy(template, out / "scan" / f"{template.parent.name}-{template.name}")
