"""One command line: subcommands, exit codes, and no traceback for an expected failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from templates_src.cli import main as cli_main
from templates_src.errors import ExitCode
from templates_src.local.moto_server import free_port
from templates_src.rules_doc import all_rules, render_rules

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, ROOT, fixture_build, fixture_cli_args

COMMANDS = ("synth", "plan", "deploy", "destroy", "local", "report", "rules")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "templates_src", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_help_lists_every_command_and_the_exit_codes() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in COMMANDS:
        assert f"    {command} " in proc.stdout, command
    assert "0 ok, 1 AWS failure, 2 bad input, 3 refused by a guard" in proc.stdout
    for command in COMMANDS:
        sub = run_cli(command, "--help")
        assert sub.returncode == 0 and "usage:" in sub.stdout, command


def test_exit_codes_are_the_documented_ones() -> None:
    assert [int(c) for c in (ExitCode.OK, ExitCode.AWS_FAILURE, ExitCode.BAD_INPUT, ExitCode.REFUSED)] == [0, 1, 2, 3]
    assert run_cli().returncode == 2  # no command: usage error
    assert run_cli("plan").returncode == 2


def _no_aws_environment(tmp_path: Path) -> dict[str, str]:
    """No credentials anywhere botocore looks; no instance metadata (it would leave loopback)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "HOME": str(tmp_path),
        }
    )
    return env


def _deploy_args(command: str = "deploy") -> list[str]:
    return fixture_cli_args(command, "dev")


def test_missing_credentials_is_one_line_exit_1(tmp_path: Path) -> None:
    proc = run_cli(*_deploy_args(), env=_no_aws_environment(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("deploy dev: no AWS credentials found; set AWS_PROFILE")  # the command said once


def test_unreachable_endpoint_is_one_line_exit_1(tmp_path: Path) -> None:
    env = _no_aws_environment(tmp_path)
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    for command in ("deploy", "destroy"):
        proc = run_cli(*_deploy_args(command), env=env)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert f"cannot reach AWS_ENDPOINT_URL={url}" in proc.stderr


def test_deploy_without_a_build_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _deploy_args()
    args[args.index("--build") + 1] = str(tmp_path / "empty")
    assert cli_main(args) == 2
    assert "no templates; run make synth" in capsys.readouterr().err


def test_unknown_allow_id_is_bad_input_before_any_aws_call(tmp_path: Path) -> None:
    proc = run_cli(*_deploy_args(), "--allow", "G999", env=_no_aws_environment(tmp_path))
    assert proc.returncode == 2 and "unknown guard id(s) G999" in proc.stderr


def test_rules_list_every_rule_once_and_the_doc_is_current() -> None:
    rules = all_rules()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    assert {i[0] for i in ids} == set("YSFDNAG")
    proc = run_cli("rules")
    assert proc.returncode == 0 and [line.split()[0] for line in proc.stdout.splitlines()] == ids
    doc = ROOT / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == render_rules(markdown=True), "docs/rules.md is stale: run make rules"


def test_report_prints_the_access_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["report", "--env", "prod", "--build", str(fixture_build())]) == 0
    assert "# Access report: prod (conversations)" in capsys.readouterr().out
    assert cli_main(["report", "--env", "nope", "--build", str(fixture_build())]) == 2


@pytest.mark.parametrize(
    "argv",
    [["plan", "--env", "prod"], ["deploy", "--env", "prod"], ["pr-comment", "--base", "HEAD"]],
    ids=["plan", "deploy", "pr-comment"],
)
def test_every_command_that_allows_a_guard_reads_allow_from_the_environment(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from templates_src.cli import build_parser

    monkeypatch.setenv("ALLOW", "G008")
    assert build_parser().parse_args(argv).allow == "G008"
    assert build_parser().parse_args([*argv, "--allow", "G002"]).allow == "G002"  # the option wins


@pytest.mark.parametrize("collecting", [True, False])
def test_synth_in_process_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path, collecting: bool) -> None:
    """synth pauses the cyclic garbage collector while it renders; a caller in the same process (a
    test, a script) gets it back as it was, not switched off for the rest of its life."""
    import gc

    was = gc.isenabled()
    try:
        (gc.enable if collecting else gc.disable)()
        args = ["synth", "--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(FIXTURE_DESIGNS)]
        assert cli_main([*args, "--out", str(tmp_path / "out")]) == 0
        assert gc.isenabled() is collecting
        assert (tmp_path / "out" / "dev" / "data.template.json").is_file()
    finally:
        (gc.enable if was else gc.disable)()
