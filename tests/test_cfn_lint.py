"""cfn-lint, informational checks included, over every template in one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, USER, fixture_build
from .migration_designs import migration_project

BAD_FIXTURE = ROOT / "tests" / "fixtures" / "table_without_policies.template.json"


def _cfn_lint(paths: list[Path]) -> list[dict]:
    exe = Path(sys.executable).with_name("cfn-lint")
    proc = subprocess.run(
        [str(exe), "--format", "json", "--include-checks", "I", "--", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 2, 4, 6, 8, 10, 12, 14), proc.stderr
    return json.loads(proc.stdout or "[]")


@pytest.mark.long
def test_every_template_is_clean_and_the_linter_can_fail(tmp_path: Path) -> None:
    # No shipped design migrates: the migration stacks come from the fixture moved to generation 2.
    migration = sorted(migration_project(tmp_path)[2].rglob("migration.template.json"))
    assert len(migration) == 3, migration
    templates = sorted(USER.build.rglob("*.template.json")) + sorted(fixture_build().rglob("*.template.json"))
    templates += migration
    assert templates, "no templates under build/; run make synth"
    findings = _cfn_lint(templates + [BAD_FIXTURE])
    by_file: dict[str, list[str]] = {}
    for f in findings:
        by_file.setdefault(f["Filename"], []).append(
            f"{f['Rule']['Id']} {'/'.join(map(str, f['Location']['Path']))}: {f['Message']}"
        )
    bad = by_file.pop(str(BAD_FIXTURE), [])
    # The known-bad fixture proves the run really checks I3011.
    assert any(line.startswith("I3011 Resources/Table") for line in bad), bad
    assert by_file == {}, "cfn-lint findings:\n" + json.dumps(by_file, indent=2)
