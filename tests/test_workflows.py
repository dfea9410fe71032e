"""The pull-request loop: workflow files valid offline, the plan step's own command on a fixture change.

The test runs the `run:` script of the PR workflow's plan step as written
(pointed at the fixtures' designs, not yours), so renaming a command, an
option or a target breaks this test rather than the first real pull request.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.change import pr_comment
from templates_src.change.plan import StackPlan
from templates_src.change.pr_comment import MARKER, EnvironmentPlan, render_comment
from templates_src.cli import main as cli_main
from templates_src.diagnostics import Diagnostic

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENV_NAMES, FIXTURE_ENVIRONMENTS, ROOT, fixture_build, fixture_spec

WORKFLOWS = ROOT / ".github" / "workflows"
VENV_BIN = ROOT / ".venv" / "bin"


def _workflow(name: str) -> dict[str, Any]:
    # BaseLoader: `on:` stays a string key (YAML 1.1 would read it as True).
    loaded: dict[str, Any] = yaml.load((WORKFLOWS / name).read_text(), Loader=yaml.BaseLoader)
    return loaded


def _steps(name: str, job: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _workflow(name)["jobs"][job]["steps"]
    return steps


def _check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_workflow_files_validate_offline_and_a_broken_one_does_not(tmp_path: Path) -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"pr.yml", "deploy.yml", "deploy-environment.yml"}
    proc = _check_jsonschema(*files)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "pr.yml").read_text().replace("runs-on:", "run-on:"))
    assert _check_jsonschema(broken).returncode != 0


def test_every_make_target_the_workflows_and_hooks_call_exists() -> None:
    runs = [
        s["run"]
        for name, job in (("pr.yml", "plan"), ("deploy-environment.yml", "deploy"))
        for s in _steps(name, job)
        if "run" in s
    ]
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    commands = runs + [h["entry"] for h in hooks]
    targets = sorted({t for c in commands for t in re.findall(r"\bmake ([a-z][a-z-]*)", c)})
    assert {"test", "check-build", "deploy"} <= set(targets)
    for target in targets:
        proc = subprocess.run(["make", "-n", target, "ENV=dev"], cwd=ROOT, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"make {target}: {proc.stderr}"
    for entry in (h["entry"] for h in hooks):
        program = entry.split()[0]
        assert program == "make" or (ROOT / program).is_file(), f"pre-commit entry {entry!r}: {program} missing"


def test_the_deploy_workflow_is_generated_from_the_environments_in_their_order() -> None:
    """The fixtures: dev, global and prod have ci:; global and prod deploy after dev; staging has no ci:."""
    deploy = yaml.safe_load((fixture_build() / "ci" / "deploy.yml").read_text(encoding="utf-8"))
    assert deploy["permissions"]["id-token"] == "write"
    jobs = deploy["jobs"]
    assert list(jobs) == ["allowed", "dev", "global", "prod"]
    assert [jobs[j]["needs"] for j in ("dev", "global", "prod")] == [
        ["allowed"],
        ["allowed", "dev"],
        ["allowed", "dev"],
    ]
    # Each in its own account, by its deploy role's ARN and its Region; the merged PR's allow: labels reach it.
    assert jobs["prod"]["with"] == {
        "name": "prod",
        "environment": "prod",
        "role_arn": "arn:aws:iam::333333333333:role/conversations/conversations-prod-deploy",
        "region": "us-east-1",
        "allow": "${{ needs.allowed.outputs.allow }}",
    }
    assert jobs["dev"]["with"]["role_arn"] == "arn:aws:iam::111111111111:role/conversations/conversations-dev-deploy"


def test_the_committed_deploy_workflow_is_the_generated_one() -> None:
    """A freshness check (as test_snapshot.py for build/): make synth copies build/ci/deploy.yml there."""
    assert (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8") == (ROOT / "build" / "ci" / "deploy.yml").read_text(
        encoding="utf-8"
    ), "run make synth"


@pytest.mark.parametrize(
    ("after", "message"),
    [
        ("[nowhere]", "ci.deploy_after[0]: 'nowhere' is no environment; deploying: dev, global, prod"),
        ("[staging]", "ci.deploy_after[0]: 'staging' has no ci: (not deployed by the workflow)"),
        ("[prod]", "ci.deploy_after: the deploy order has a cycle among dev, global, prod"),
    ],
)
def test_a_deploy_order_naming_no_deploying_environment_or_a_cycle_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], after: str, message: str
) -> None:
    environments = tmp_path / "environments"
    shutil.copytree(FIXTURE_ENVIRONMENTS, environments)
    dev = environments / "dev.yaml"
    dev.write_text(dev.read_text().replace("ci:\n", f"ci:\n  deploy_after: {after}\n"))
    args = ["synth", "--environments-dir", str(environments), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main([*args, "--out", str(tmp_path / "build")]) == 2
    err = capsys.readouterr().err
    assert message in err and str(environments / "dev.yaml") in err and "Traceback" not in err
    assert not (tmp_path / "build").exists(), "nothing written"


def test_deploys_assume_the_role_through_oidc_with_no_stored_keys() -> None:
    job = _workflow("deploy-environment.yml")["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    (deploy_step,) = [s for s in job["steps"] if s.get("name") == "Deploy"]
    assert deploy_step["run"] == 'make deploy ENV="$ENVIRONMENT" ALLOW="$ALLOW"'
    (creds,) = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
    assert set(creds["with"]) == {"role-to-assume", "aws-region", "role-session-name"}
    text = "".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    assert "aws-access-key-id" not in text and "secrets.AWS" not in text


# -- the plan step on a fixture change -----------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A repo whose origin/main holds the fixtures and build, checked out on a PR branch."""
    repo = tmp_path / "repo"
    shutil.copytree(fixture_build(), repo / "build")
    shutil.copytree(FIXTURE_ENVIRONMENTS, repo / "environments")
    shutil.copytree(FIXTURE_DESIGNS, repo / "designs")
    (repo / ".venv").symlink_to(ROOT / ".venv")
    (repo / ".gitignore").write_text(".venv\npr-comment.md\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base")
    _git(tmp_path, "clone", "-q", "--bare", str(repo), "origin.git")
    _git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    _git(repo, "fetch", "-q", "origin")
    _git(repo, "checkout", "-q", "-b", "feature")
    return repo


def _add_gsis(repo: Path, *keys: str) -> None:
    """A KEYS_ONLY GSI By<Key> on each attribute."""
    design = repo / "designs" / "conversations.yaml"
    extra = "".join(
        f"  - name: By{k.capitalize()}\n    partition_key: {{name: {k}, type: S}}\n    projection: KEYS_ONLY\n"
        for k in keys
    )
    design.write_text(design.read_text().replace("ttl_attribute: expiresAt", extra + "ttl_attribute: expiresAt", 1))
    synth = [str(VENV_BIN / "python"), "-m", "templates_src", "synth", "--designs-dir", "designs"]
    subprocess.run(synth, cwd=repo, check=True, capture_output=True)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "change")


def _run_plan_step(repo: Path, labels: str = "") -> tuple[int, str]:
    (step,) = [s for s in _steps("pr.yml", "plan") if s.get("id") == "plan"]
    script = step["run"]
    pointed = script.replace("templates_src pr-comment", "templates_src pr-comment --designs-dir designs")
    assert pointed != script, "the plan step no longer runs `templates_src pr-comment`"
    env = {
        **os.environ,
        "BASE_REF": "main",
        "LABELS": labels,
        "LOG_URL": "https://github.example/run/1",
    }
    # GitHub runs `shell: bash` as bash --noprofile --norc -eo pipefail.
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", pointed],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    comment = (repo / "pr-comment.md").read_text()
    assert comment == proc.stdout
    return proc.returncode, comment


def test_one_gsi_added_is_named_in_the_comment(pull_request: Path) -> None:
    _add_gsis(pull_request, "role")
    code, comment = _run_plan_step(pull_request)
    assert code == 0, comment
    assert comment.startswith(MARKER + "\n## Deploy plan: no guard blocks this change")
    assert re.search(r"\| `prod` \| \d+ changes? \| \$407\.50 → \$416\.19 \(\+\$8\.69\) \|", comment), comment[:600]
    assert "+ GSI ByRole: role (S, HASH); projection KEYS_ONLY" in comment
    assert "append-message: $7.50 -> $8.75 (+$1.25)" in comment  # the cost, with the fixtures' traffic


def test_two_gsis_are_staged_by_the_deploy_and_the_comment_shows_the_steps(pull_request: Path) -> None:
    _add_gsis(pull_request, "role", "title")
    code, comment = _run_plan_step(pull_request)
    assert code == 0, comment
    sharing = [e for e in FIXTURE_ENV_NAMES if fixture_spec(e).design.name == "conversations"]
    assert "global" in sharing and "prod" in sharing
    assert "## Deploy plan: no guard blocks this change" in comment
    assert "| `global` | 1 change | — |" in comment  # a global table's indexes are staged too
    assert re.search(r"\| `prod` \| 1 change \|", comment), comment[:600]
    assert "Deploy stages this in 2 steps, each waited for and verified before the next" in comment
    assert "1. `data`: create GSI ByRole (backfill of ByRole: about " in comment  # prod: priced
    assert "2. `data`: create GSI ByTitle (backfill of ByTitle: about " in comment
    assert "```mermaid\nflowchart LR" in comment  # the steps, drawn
    # A label written when G002 blocked stays valid (allowing a warning changes nothing).
    code, comment = _run_plan_step(pull_request, labels="reviewed, allow:G002")
    assert code == 0, comment


def test_an_allow_label_naming_no_guard_is_bad_input(pull_request: Path) -> None:
    code, _ = _run_plan_step(pull_request, labels="allow:G999")
    assert code == 2


def test_the_workflow_finds_the_comment_by_the_marker_the_command_writes() -> None:
    (post,) = [s for s in _steps("pr.yml", "plan") if s.get("uses", "").startswith("actions/github-script")]
    assert post["env"]["MARKER"] == MARKER


def test_a_deploy_role_change_is_called_out(pull_request: Path) -> None:
    env = pull_request / "environments" / "prod.yaml"
    env.write_text(env.read_text().replace("example-org/chat-platform-infra", "example-org/another-repo"))
    synth = [str(VENV_BIN / "python"), "-m", "templates_src", "synth", "--designs-dir", "designs"]
    subprocess.run(synth, cwd=pull_request, check=True, capture_output=True)
    _git(pull_request, "add", "-A")
    _git(pull_request, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "repo moved")
    code, comment = _run_plan_step(pull_request)
    assert code == 0, comment
    assert ":warning: **The deploy role of `prod` changes.**" in comment
    assert "repo:example-org/another-repo:environment:prod" in comment
    assert "The deploy role of `dev`" not in comment
    assert "`dev/data`" in comment.split("Unchanged:")[1]  # unchanged stacks listed, not expanded


def test_a_comment_over_githubs_limit_keeps_the_summary_and_points_to_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    finding = Diagnostic("G002", "error", "Table", "GlobalSecondaryIndexes", "x" * 200, None, "one GSI per deploy")
    plans = [StackPlan(f"prod/stack{i}", [], [finding]) for i in range(50)]
    monkeypatch.setattr(pr_comment, "COMMENT_MAX_CHARS", 2000)
    comment = render_comment([EnvironmentPlan("prod", plans)], frozenset(), "see the job log")
    assert len(comment) <= 2000
    assert "| `prod` | :no_entry: BLOCKED by G002 |" in comment
    assert "left out" in comment and "see the job log" in comment


def test_the_deploy_role_trusts_the_workflows_that_deploy() -> None:
    """The trust's `sub` names deploy.yml (workflow_ref) and deploy-environment.yml (job_workflow_ref) on main:
    renaming either file, or moving the deploy job out of the reusable workflow, would lock CI out."""
    import yaml

    from .conftest import fixture_build, read_json

    deploy = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text(encoding="utf-8"))
    called = {job.get("uses") for job in deploy["jobs"].values() if "uses" in job}
    assert called == {"./.github/workflows/deploy-environment.yml"}
    job_workflow = yaml.safe_load((WORKFLOWS / "deploy-environment.yml").read_text(encoding="utf-8"))
    assert job_workflow["jobs"]["deploy"]["environment"] == "${{ inputs.environment }}"
    role = read_json(fixture_build() / "prod" / "deploy-role.template.json")["Resources"]["DeployRole"]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    sub = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert ":workflow_ref:example-org/chat-platform-infra/.github/workflows/deploy.yml@refs/heads/main:" in sub
    assert sub.endswith(
        ":job_workflow_ref:example-org/chat-platform-infra/.github/workflows/deploy-environment.yml@refs/heads/main"
    )


def test_synth_into_the_projects_build_writes_the_workflow_where_github_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["synth", "--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(args) == 0
    written = (tmp_path / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
    assert written == (tmp_path / "build" / "ci" / "deploy.yml").read_text(encoding="utf-8")
    assert "synth: wrote .github/workflows/deploy.yml (from build/ci/deploy.yml)" in capsys.readouterr().err
    assert cli_main([*args, "--out", str(tmp_path / "elsewhere")]) == 0  # another output: the workflow untouched
    assert "wrote .github/workflows/deploy.yml" not in capsys.readouterr().err
