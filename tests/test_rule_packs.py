"""cdk-nag's AwsSolutions, HIPAA.Security and NIST.800.53.R5 packs: every template passes, and they can fail.

`make test` runs the packs here only (`make security` runs the same script over
build/ and the migration stacks; this covers those and the fixtures' build).
Suppressions live in the resources' Metadata with their evidence
(templates_src/stacks/suppressions.py). One Node process scans everything, the
known-bad fixture included: loading aws-cdk-lib is most of a run's cost.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .conftest import FIXTURES, ROOT, fixture_build
from .migration_designs import migration_project

SCRIPT = ROOT / "security" / "cdk_nag.mjs"
BAD_FIXTURE = FIXTURES / "table_without_policies.template.json"


def test_every_template_passes_all_three_packs_and_a_table_without_protection_fails_them(tmp_path: Path) -> None:
    templates = sorted(str(p) for p in (ROOT / "build").rglob("*.template.json") if "taskcat" not in p.parts)
    templates += sorted(str(p) for p in fixture_build().rglob("*.template.json") if "taskcat" not in p.parts)
    # No shipped design migrates: the migration stacks come from the fixture moved to generation 2.
    migration = sorted(str(p) for p in migration_project(tmp_path)[2].rglob("migration.template.json"))
    assert len(migration) == 3, migration
    proc = subprocess.run(
        ["node", str(SCRIPT), "--json", *templates, *migration, str(BAD_FIXTURE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]  # the bad fixture's errors
    findings = json.loads(proc.stdout)
    unexpected = [
        f"{f['template']}: {f['logicalId']}: {f['rule']}" for f in findings if f["template"] != str(BAD_FIXTURE)
    ]
    assert unexpected == [], "cdk-nag findings:\n" + "\n".join(unexpected)
    rules = {f["rule"] for f in findings if f["level"] == "error"}
    assert {
        "HIPAA.Security-DynamoDBInBackupPlan",
        "NIST.800.53.R5-DynamoDBInBackupPlan",
        "NIST.800.53.R5-DynamoDBPITREnabled",
    } <= rules
