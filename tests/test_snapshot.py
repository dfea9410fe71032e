"""The committed build/ is exactly what `make synth` produces."""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path

import pytest

from templates_src.cli import main as cli_main
from templates_src.spec.loader import load_spec

from .conftest import USER

BUILD, ENVIRONMENTS = USER.build, USER.environments


def synth_main(args: list[str]) -> int:
    return cli_main(["synth", *args])


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file()}


def test_committed_build_equals_fresh_synth(tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert synth_main(["--environments-dir", str(ENVIRONMENTS), "--out", str(out)]) == 0
    fresh, committed = _tree(out), _tree(BUILD)
    problems = []
    for name in sorted(set(fresh) | set(committed)):
        if name not in committed:
            problems.append(f"missing from build/: {name}")
        elif name not in fresh:
            problems.append(f"stale file in build/ (no stack produces it): {name}")
        elif fresh[name] != committed[name]:
            diff = difflib.unified_diff(
                committed[name].splitlines(),
                fresh[name].splitlines(),
                f"build/{name} (committed)",
                f"build/{name} (synth)",
                lineterm="",
                n=2,
            )
            problems.append("\n".join(list(diff)[:60]))
    assert not problems, "build/ is out of date; run `make synth` and commit:\n" + "\n".join(problems)


def test_synth_is_byte_identical_across_runs(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert synth_main(["--environments-dir", str(ENVIRONMENTS), "--out", str(out)]) == 0
    assert _tree(first) == _tree(second)
    template = _tree(first)["dev/data.template.json"]
    assert template.endswith("}\n")
    assert template.startswith('{\n  "')  # two-space indent


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_synth_writes_the_permissions_a_checkout_has(tmp_path: Path, umask: int) -> None:
    """Directories 0777 and files 0666 less the umask, as git checkout writes them, build/ itself included."""
    full, one_env = tmp_path / "full" / "build", tmp_path / "one" / "build"
    previous = os.umask(umask)
    try:
        assert synth_main(["--environments-dir", str(ENVIRONMENTS), "--out", str(full)]) == 0
        assert synth_main(["--env-file", str(ENVIRONMENTS / "dev.yaml"), "--out", str(one_env)]) == 0
        # Again over the existing trees: the swap of a changed build.
        (full / "dev" / "data.template.json").write_text("{}\n")
        assert synth_main(["--environments-dir", str(ENVIRONMENTS), "--out", str(full)]) == 0
    finally:
        os.umask(previous)
    for out in (full, one_env):
        paths = [out, *out.rglob("*")]
        assert len(paths) > 10
        wrong = {
            str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode))
            for p in paths
            if stat.S_IMODE(p.stat().st_mode) != (0o777 if p.is_dir() else 0o666) & ~umask
        }
        assert not wrong, f"umask {umask:03o}: {wrong}"


def test_full_synth_removes_stacks_of_deleted_environments(tmp_path: Path) -> None:
    out = tmp_path / "build"
    (out / "retired-env").mkdir(parents=True)
    (out / "retired-env" / "data.template.json").write_text("{}\n")
    assert synth_main(["--environments-dir", str(ENVIRONMENTS), "--out", str(out)]) == 0
    assert not (out / "retired-env").exists()
    assert (out / "dev" / "data.template.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp dirs left behind"


def test_single_env_file_only_replaces_that_environment(tmp_path: Path) -> None:
    out = tmp_path / "build"
    (out / "other").mkdir(parents=True)
    (out / "other" / "keep.json").write_text("{}\n")
    assert synth_main(["--env-file", str(ENVIRONMENTS / "dev.yaml"), "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "dev").iterdir()) == [
        "access-report.md",
        "access.parameters.json",
        "access.tags.json",
        "access.template.json",
        "data.parameters.json",
        "data.tags.json",
        "data.template.json",
        "deploy-role.parameters.json",
        "deploy-role.tags.json",
        "deploy-role.template.json",
    ]
    assert (out / "other" / "keep.json").read_text() == "{}\n"
    assert not (out / "taskcat").exists(), "one environment must not rewrite the taskcat tests"


def test_render_json_writes_what_the_standard_library_writes() -> None:
    """build/ is rendered with orjson for speed; its bytes must be json.dumps's, unicode and numbers included."""
    import json

    from templates_src.stacks.artifacts import render_json

    sample = {"b": [1, 2.5, 70.0, None, True], "a": {"ü": "Zürich – “quoted” \u2028", "z": {}}, "k": []}
    assert render_json(sample) == json.dumps(sample, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("project", ["user", "fixture"])
def test_templates_are_what_troposphere_renders(project: str) -> None:
    """Stacks render through stacks/encode.py (one pass); the result must be Template.to_dict()'s, for every stack."""
    from templates_src.stacks.artifacts import render_json
    from templates_src.stacks.encode import plain
    from templates_src.stacks.synth import all_targets, build_stacks

    from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, USER

    environments, designs = (
        (USER.environments, USER.designs) if project == "user" else (FIXTURE_ENVIRONMENTS, FIXTURE_DESIGNS)
    )
    compared = 0
    for target in all_targets(environments):
        for stack in build_stacks(load_spec(target.env_file, designs)):
            expected = stack.template.to_dict()
            assert stack.template_json == render_json(expected), f"{target.subdir}/{stack.kind}"
            assert stack.template_dict == expected, f"{target.subdir}/{stack.kind}"
            # And in Python (policies are rendered so): rendering validates, never changes, the objects.
            assert plain(stack.template.resources) == expected["Resources"]
            compared += 1
    assert compared >= 10
