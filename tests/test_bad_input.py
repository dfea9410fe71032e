"""Bad configs exit 2 naming the file and the field path; nothing is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from templates_src.synth import main as synth_main

from .conftest import ROOT

GOOD = """\
design: conversations
account_id: "123456789012"
region: us-east-1
protected: false
retention: Delete
billing:
  mode: PAY_PER_REQUEST
tags:
  Team: chat
"""

# name -> (config text, substrings stderr must contain)
CASES: dict[str, tuple[str, list[str]]] = {
    "yaml-syntax": ("design: [conversations\nregion: x\n", ["qa.yaml: line 2", "YAML syntax error"]),
    "empty-file": ("", ["qa.yaml: (top level)", "file is empty"]),
    "not-a-mapping": ("- a\n- b\n", ["qa.yaml: (top level)", "expected a mapping"]),
    "unknown-top-level-key": (GOOD + "tabel_class: STANDARD\n", ["qa.yaml: tabel_class", "unknown key", "table_class"]),
    "unknown-nested-key": (
        GOOD.replace("mode: PAY_PER_REQUEST", "mode: PAY_PER_REQUEST\n  burst: 3"),
        ["qa.yaml: billing.burst", "unknown key; allowed keys: mode, read, write"],
    ),
    "unknown-deep-key": (
        GOOD.replace("billing:\n  mode: PAY_PER_REQUEST",
                     "billing:\n  mode: PROVISIONED\n  read: {min: 1, max: 2, maxx: 3}\n  write: {min: 1, max: 2}"),
        ["qa.yaml: billing.read.maxx", "allowed keys: min, max, target_utilization"],
    ),
    "wrong-type": (GOOD + "deletion_protection: 'yes'\n", ["qa.yaml: deletion_protection", "valid boolean"]),
    "unquoted-account": (GOOD.replace('"123456789012"', "123456789012"), ["qa.yaml: account_id", "quote it"]),
    "out-of-range": (
        GOOD + "point_in_time_recovery: {enabled: true, recovery_period_days: 36}\n",
        ["qa.yaml: point_in_time_recovery.recovery_period_days", "less than or equal to 35", "(got 36)"],
    ),
    "bad-enum": (GOOD + "encryption: rot13\n", ["qa.yaml: encryption", "'aws_owned', 'aws_managed' or 'customer_managed'"]),
    "bad-table-name": (GOOD + "table_name: 'chat table!'\n", ["qa.yaml: table_name", "pattern"]),
    "unknown-design": (GOOD.replace("design: conversations", "design: conversatons"), ["qa.yaml: design", "unknown design 'conversatons'; allowed: cg-chatbot-conversations, cmz-conversations, conversations,"]),
    "provisioned-without-capacity": (
        GOOD.replace("mode: PAY_PER_REQUEST", "mode: PROVISIONED"),
        ["qa.yaml: billing.read", "qa.yaml: billing.write"],
    ),
    "protected-but-deletable": (
        GOOD.replace("protected: false\n", "encryption: aws_owned\n"),
        ["qa.yaml: retention: error: a protected environment needs Retain",
         "qa.yaml: encryption: error: a protected environment needs customer_managed"],
    ),
    "reserved-tag": (GOOD + "  aws:owner: me\n", ["qa.yaml: tags.aws:owner", "reserved"]),
    "long-tag-value": (GOOD + "  Note: " + "x" * 257 + "\n", ["qa.yaml: tags.Note", "0..256"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_exits_2_with_file_and_path(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = CASES[case]
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(text)
    out = tmp_path / "out"
    code = synth_main(["--env-file", str(env_file), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    for fragment in expected:
        assert fragment in err, f"{fragment!r} not in:\n{err}"
    assert "Traceback" not in err
    assert not out.exists(), "nothing may be written on bad input"


def test_all_errors_are_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(GOOD + "encryption: rot13\nttl_days: 0\nfoo: 1\n")
    assert synth_main(["--env-file", str(env_file), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    for path in ("qa.yaml: encryption:", "qa.yaml: ttl_days:", "qa.yaml: foo:"):
        assert path in err
    assert "3 error(s)" in err


def test_good_config_passes(tmp_path: Path) -> None:
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(GOOD)
    assert synth_main(["--env-file", str(env_file), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "qa" / "data.template.json").is_file()


def test_failure_leaves_existing_build_untouched(tmp_path: Path) -> None:
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "good.yaml").write_text(GOOD)
    out = tmp_path / "build"
    assert synth_main(["--environments-dir", str(envs), "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (envs / "broken.yaml").write_text(GOOD + "region: mars\n")
    assert synth_main(["--environments-dir", str(envs), "--out", str(out)]) == 2
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "environments"]


def test_cli_script_reports_without_traceback(tmp_path: Path) -> None:
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(GOOD + "billing: {mode: FREE}\n")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "synth.py"), "--env-file", str(env_file), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "qa.yaml: billing.mode: error: Input should be 'PAY_PER_REQUEST' or 'PROVISIONED'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth_main(["--env-file", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml: (file): error: cannot read" in err
