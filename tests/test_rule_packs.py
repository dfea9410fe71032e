"""cdk-nag's AwsSolutions, HIPAA.Security and NIST.800.53.R5 packs: the build passes, and they can fail.

`make security` runs the same script over build/; suppressions live in the
resources' Metadata with their evidence (templates_src/stacks/suppressions.py).
"""

from __future__ import annotations

import json
import subprocess

from .conftest import FIXTURES, ROOT, fixture_build

SCRIPT = ROOT / "security" / "cdk_nag.mjs"


def _nag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(SCRIPT), "--json", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_every_template_passes_all_three_packs() -> None:
    templates = sorted(str(p) for p in (ROOT / "build").rglob("*.template.json") if "taskcat" not in p.parts)
    templates += sorted(str(p) for p in fixture_build().rglob("*.template.json") if "taskcat" not in p.parts)
    proc = _nag(*templates)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert json.loads(proc.stdout) == []


def test_a_table_without_protection_fails_every_pack() -> None:
    proc = _nag(str(FIXTURES / "table_without_policies.template.json"))
    assert proc.returncode == 1, proc.stderr
    rules = {f["rule"] for f in json.loads(proc.stdout) if f["level"] == "error"}
    assert {
        "HIPAA.Security-DynamoDBInBackupPlan",
        "NIST.800.53.R5-DynamoDBInBackupPlan",
        "NIST.800.53.R5-DynamoDBPITREnabled",
    } <= rules
