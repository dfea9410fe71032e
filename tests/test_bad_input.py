"""Bad configs exit 2 naming the file, the line and the field path; nothing is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from templates_src.cli import main as cli_main

from .conftest import FIXTURE_DESIGNS, ROOT

GOOD = """\
design: conversations
account_id: "123456789012"
region: us-east-1
protected: false
retention: Delete
billing:
  mode: PAY_PER_REQUEST
key_admins: [arn:aws:iam::123456789012:role/key-admin]
tags:
  Team: chat
"""
# Line numbers of GOOD, for the expectations below.
LAST_LINE = GOOD.count("\n")

# name -> (config text, substrings stderr must contain)
CASES: dict[str, tuple[str, list[str]]] = {
    "yaml-syntax": ("design: [conversations\nregion: x\n", ["qa.yaml:2: (file): error: YAML syntax error", "[Y001]"]),
    "empty-file": ("", ["qa.yaml:1: (top level): error: file is empty", "[Y002]"]),
    "not-a-mapping": ("- a\n- b\n", ["qa.yaml:1: (top level): error: expected a mapping", "[Y002]"]),
    "duplicate-top-level-key": (
        GOOD + "region: eu-west-1\n",
        [f"qa.yaml:{LAST_LINE + 1}: region: error: key 'region' appears twice (lines 3 and {LAST_LINE + 1})", "[Y003]"],
    ),
    "duplicate-tag-key": (
        GOOD + "  Team: other\n",
        [f"qa.yaml:{LAST_LINE + 1}: tags.Team: error: key 'Team' appears twice (lines 10 and {LAST_LINE + 1})"],
    ),
    "yaml11-boolean-no": (
        GOOD.replace("protected: false", "protected: no"),
        ["qa.yaml:4: protected: error: 'no' is a boolean in YAML 1.1", "write true or false", "[Y004]"],
    ),
    "yaml11-boolean-on": (
        GOOD + "deletion_protection: On\n",
        [f"qa.yaml:{LAST_LINE + 1}: deletion_protection: error: 'On'"],
    ),
    "scientific-notation-integer": (
        GOOD + "ttl_days: 1e3\n",
        [
            "ttl_days: error: Input should be a valid integer",
            "write it out (1000): YAML reads 1e3 as a string",
            "[S003]",
        ],
    ),
    "unknown-top-level-key": (
        GOOD + "tabel_class: STANDARD\n",
        [f"qa.yaml:{LAST_LINE + 1}: tabel_class: error: unknown key", "table_class", "[S001]"],
    ),
    "unknown-nested-key": (
        GOOD.replace("mode: PAY_PER_REQUEST", "mode: PAY_PER_REQUEST\n  burst: 3"),
        ["qa.yaml:8: billing.burst: error: unknown key; allowed keys: mode, read, write"],
    ),
    "unknown-deep-key": (
        GOOD.replace(
            "billing:\n  mode: PAY_PER_REQUEST",
            "billing:\n  mode: PROVISIONED\n  read: {min: 1, max: 2, maxx: 3}\n  write: {min: 1, max: 2}",
        ),
        ["qa.yaml:8: billing.read.maxx: error:", "allowed keys: min, max, target_utilization"],
    ),
    "quoted-boolean": (
        GOOD + "deletion_protection: 'yes'\n",
        ["deletion_protection: error:", "valid boolean", "[S003]"],
    ),
    "unquoted-account": (GOOD.replace('"123456789012"', "123456789012"), ["qa.yaml:2: account_id: error:", "quote it"]),
    # IAM names are ASCII (IAM's [\w+=,.@-] is a Java regex): a non-ASCII letter is no IAM name.
    "non-ascii-iam-name": (GOOD.replace("role/key-admin", "role/kéy-admin"), ["qa.yaml:8: key_admins[0]: error:"]),
    "out-of-range": (
        GOOD + "point_in_time_recovery: {enabled: true, recovery_period_days: 36}\n",
        ["point_in_time_recovery.recovery_period_days", "less than or equal to 35", "(got 36)"],
    ),
    "bad-enum": (
        GOOD + "encryption: rot13\n",
        ["encryption: error:", "'aws_owned', 'aws_managed' or 'customer_managed'"],
    ),
    "bad-table-name": (GOOD + "table_name: 'chat table!'\n", ["table_name: error:", "pattern"]),
    "unknown-design": (
        GOOD.replace("design: conversations", "design: conversatons"),
        ["qa.yaml:1: design: error: unknown design 'conversatons'; allowed: conversations", "[F003]"],
    ),
    "provisioned-without-capacity": (
        GOOD.replace("mode: PAY_PER_REQUEST", "mode: PROVISIONED"),
        ["billing.read: error: PROVISIONED billing needs", "billing.write: error:", "[N101]"],
    ),
    "protected-but-deletable": (
        GOOD.replace("protected: false\n", "encryption: aws_owned\n").replace(
            "key_admins: [arn:aws:iam::123456789012:role/key-admin]\n", ""
        ),
        [
            "qa.yaml:5: retention: error: a protected environment needs Retain",
            "encryption: error: a protected environment needs customer_managed",
            "[N201]",
        ],
    ),
    "reserved-tag": (
        GOOD + "  aws:owner: me\n",
        [f"qa.yaml:{LAST_LINE + 1}: tags.aws:owner: error:", "reserved", "[N302]"],
    ),
    "long-tag-value": (GOOD + "  Note: " + "x" * 257 + "\n", ["tags.Note: error:", "0..256", "[N303]"]),
    "tab-in-tag-value": (
        GOOD + '  Note: "a\\tb"\n',
        [f"qa.yaml:{LAST_LINE + 1}: tags.Note: error: tag value has '\\t'", "[N304]"],
    ),
    "emoji-in-tag-value": (GOOD + "  Mood: happy 😀\n", ["tags.Mood: error: tag value has '😀' (U+1F600)", "[N304]"]),
    "protected-exports-without-a-key": (
        GOOD.replace("protected: false\n", "").replace("retention: Delete\n", "")
        + "access:\n  roles:\n    ops:\n      trusted: ['arn:aws:iam::123456789012:role/ops']\n"
        + "      export_bucket: chat-exports\n",
        ["qa.yaml:", "access.roles.ops.export_kms_key_arn: error: a protected environment's table exports", "[N205]"],
    ),
    "vault-lock-cooling-off-too-short": (
        GOOD + "backup:\n  vault_lock: {mode: compliance, min_retention_days: 7, changeable_for_days: 2}\n",
        [
            f"qa.yaml:{LAST_LINE + 2}: backup.vault_lock.changeable_for_days: error:",
            "greater than or equal to 3",
            "(got 2)",
        ],
    ),
    "vault-lock-retention-over-a-century": (
        GOOD + "backup:\n  vault_lock: {mode: governance, min_retention_days: 7, max_retention_days: 36501}\n",
        ["backup.vault_lock.max_retention_days: error:", "less than or equal to 36500", "(got 36501)"],
    ),
    "vault-lock-compliance-without-cooling-off": (
        GOOD + "backup:\n  vault_lock: {mode: compliance, min_retention_days: 7}\n",
        ["backup.vault_lock.changeable_for_days: error: compliance mode makes the lock immutable", "[N207]"],
    ),
    "plan-retention-outside-the-vault-lock": (
        GOOD + "backup:\n  retention_days: 35\n  vault_lock: {mode: governance, min_retention_days: 60}\n",
        [
            f"qa.yaml:{LAST_LINE + 2}: backup.retention_days: error: 35 days is outside the vault lock's retention "
            "(60..any days)",
            "[N208]",
        ],
    ),
}


def synth(env_file: Path, out: Path) -> int:
    return cli_main(["synth", "--env-file", str(env_file), "--designs-dir", str(FIXTURE_DESIGNS), "--out", str(out)])


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_exits_2_with_file_line_and_path(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = CASES[case]
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = synth(env_file, out)
    err = capsys.readouterr().err
    assert code == 2, err
    for fragment in expected:
        assert fragment in err, f"{fragment!r} not in:\n{err}"
    assert "Traceback" not in err
    assert not out.exists(), "nothing may be written on bad input"


def test_all_errors_are_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(GOOD + "encryption: rot13\nttl_days: 0\nfoo: 1\n")
    assert synth(env_file, tmp_path / "o") == 2
    err = capsys.readouterr().err
    for path in ("qa.yaml:11: encryption:", "qa.yaml:12: ttl_days:", "qa.yaml:13: foo:"):
        assert path in err
    assert "synth: 3 error(s); nothing written to" in err


def test_every_duplicate_is_reported_with_both_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(GOOD + "region: eu-west-1\nprotected: on\n")
    assert synth(env_file, tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "qa.yaml:11: region: error: key 'region' appears twice (lines 3 and 11)" in err
    assert "qa.yaml:12: protected:" in err  # the duplicate and its YAML 1.1 boolean, both
    assert "key 'protected' appears twice (lines 4 and 12)" in err


def test_good_config_passes(tmp_path: Path) -> None:
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(GOOD + '  Place: "Zürich / HQ-1 @ floor=2 + 3.5_a:b"\n', encoding="utf-8")
    assert synth(env_file, tmp_path / "out") == 0
    assert (tmp_path / "out" / "qa" / "data.template.json").is_file()


def test_failure_leaves_existing_build_untouched(tmp_path: Path) -> None:
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "good.yaml").write_text(GOOD)
    out = tmp_path / "build"
    args = ["synth", "--environments-dir", str(envs), "--designs-dir", str(FIXTURE_DESIGNS), "--out", str(out)]
    assert cli_main(args) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (envs / "broken.yaml").write_text(GOOD + "region: mars\n")
    assert cli_main(args) == 2
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "environments"]


@pytest.mark.parametrize("script", ["synth.py", "plan.py"])
def test_scripts_run_under_the_project_virtualenv_from_the_system_python(script: str, tmp_path: Path) -> None:
    """scripts/*.py re-execute under .venv whatever interpreter starts them."""
    system_python = Path(sys.base_prefix) / "bin" / "python3"
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(GOOD + "billing: {mode: FREE}\n")
    args = (
        ["--env-file", str(env_file), "--out", str(tmp_path / "o")]
        if script == "synth.py"
        else [str(tmp_path / "missing.json"), str(tmp_path / "other.json")]
    )
    proc = subprocess.run(
        [str(system_python), str(ROOT / "scripts" / script), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "ModuleNotFoundError" not in proc.stderr
    if script == "synth.py":
        assert "qa.yaml:" in proc.stderr and "billing" in proc.stderr
        assert not (tmp_path / "o").exists()
    else:
        assert "missing.json: cannot read" in proc.stderr


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth(tmp_path / "nope.yaml", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "nope.yaml: (file): error: cannot read" in err and "[Y005]" in err


def _parse_the_pyyaml_way(text: str, label: str) -> tuple[Any, dict[Any, int], list[str]]:
    """parse_source as it was before its one-walk builder: _walk for lines and problems, then PyYAML's
    SafeConstructor (data, lines, the problems as messages)."""
    import yaml

    from templates_src.spec.source import _StrictLoader, _walk

    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Any, int] = {}
        problems: list[Any] = []
        if node is not None:
            _walk(node, (), label, lines, problems)
        if problems:
            return None, {}, [str(p) for p in problems]
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError:
        return None, {}, ["syntax error"]
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        return None, {}, ["not a mapping"]
    return data, lines, []


def _parse(text: str, label: str) -> tuple[Any, dict[Any, int], list[str]]:
    from templates_src.errors import SpecError
    from templates_src.spec.source import parse_source

    try:
        src = parse_source(text, label)
    except SpecError as exc:
        found = [str(p) for p in exc.problems]
        if len(found) == 1 and "[Y001]" in found[0]:
            return None, {}, ["syntax error"]
        if len(found) == 1 and "[Y002]" in found[0]:
            return None, {}, ["not a mapping"]
        return None, {}, found
    return src.data, src.lines, []


UNUSUAL_YAML = {
    "numbers": "a: 0x1F\nb: 0o17\nc: 1_000\nd: -.inf\ne: 1.5\nf: 1e3\ng: +12\nh: 190:20:30\ni: 0b101\n",
    "nulls-and-bools": "a: ~\nb: null\nc:\nd: true\ne: FALSE\nf: 'yes'\ng: [true, false]\n",
    "explicit-tags": "a: !!str 12\nb: !!int '7'\nc: !!float '1'\nd: !!bool 'true'\ne: !!null ''\n",
    "anchors": "base: &b {x: 1, y: [1, 2]}\nother: *b\nlist: &l [a, b]\nagain: *l\nscalar: &s hello\ncopy: *s\n",
    "merge-key": "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",
    "non-string-keys": "1: one\n2.5: two\ntrue: three\n~: four\n0x10: sixteen\n",
    "binary-set-omap": "a: !!binary aGVsbG8=\nb: !!set {x, y}\nc: !!omap [{a: 1}, {b: 2}]\n",
    "complex-key": "? [a, b]\n: value\n",
    "timestamps-stay-strings": "when: 2026-01-02\nat: 2026-01-02T03:04:05Z\n",
    "yaml11-words": "a: yes\nb:\n  c: [on, Off]\nno: key-words-are-strings\n",
    "duplicates-deep": "a:\n  b: 1\n  b: 2\nc: [{d: 1, d: 2}]\na: 3\n",
    "duplicate-and-merge": "x: 1\nx: 2\nbase: &b {k: 1}\nd:\n  <<: *b\n",
    "scalar-root": "just a string\n",
    "list-root": "- a\n- b: c\n",
    "empty": "# nothing\n",
}


@pytest.mark.parametrize("name", sorted(UNUSUAL_YAML))
def test_one_walk_yaml_builder_reads_what_pyyaml_reads(name: str) -> None:
    """parse_source builds data and lines in one walk for plain YAML and leaves the rest to PyYAML: the same result."""
    expected = _parse_the_pyyaml_way(UNUSUAL_YAML[name], "qa.yaml")
    got = _parse(UNUSUAL_YAML[name], "qa.yaml")
    assert got == expected
    if name == "anchors":  # an alias is the anchored object itself, as PyYAML makes it
        assert got[0]["other"] is got[0]["base"] and got[0]["again"] is got[0]["list"]


def test_one_walk_yaml_builder_reads_every_committed_file_as_pyyaml_does() -> None:
    files = sorted(
        {
            *ROOT.glob("environments/**/*.yaml"),
            *ROOT.glob("templates_src/designs/*.yaml"),
            *ROOT.glob("tests/fixtures/**/*.yaml"),
        }
    )
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        expected = _parse_the_pyyaml_way(text, path.name)
        assert expected[0], path
        assert _parse(text, path.name) == expected, path
