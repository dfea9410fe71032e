"""Render every environment's stacks into build/, all or nothing.

Usage:
    python -m templates_src.synth [--out build]                 # every environment
    python -m templates_src.synth --env-file environments/dev.yaml --out DIR

Exit codes: 0 written, 2 bad input (nothing written).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .access_report import render_access_report
from .access_stack import build_access_stack
from .data_stack import build_data_stack
from .errors import Problem, SpecError
from .loader import DESIGNS_DIR, Spec, load_spec
from .stack import Stack
from .taskcat_config import TASKCAT_DIR, taskcat_files

EXIT_BAD_INPUT = 2
ENVIRONMENTS_DIR = Path("environments")
DESIGNS_SUBDIR = "designs"  # environments/designs/*.yaml -> build/designs/<design>/


def build_stacks(spec: Spec) -> list[Stack]:
    """Data stack first: the access stack imports its exports."""
    stacks = [build_data_stack(spec)]
    access = build_access_stack(spec)
    if access is not None:
        stacks.append(access)
    return stacks


def render_environment(spec: Spec, stacks: list[Stack]) -> dict[str, str]:
    files: dict[str, str] = {}
    for stack in stacks:
        files.update(stack.files())
    if spec.env.access is not None:
        files["access-report.md"] = render_access_report(spec)
    return files


def render_all(
    targets: list[tuple[Path, str]], designs_dir: Path, with_taskcat: bool = True
) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """(env file, output subdir) -> {subdir: {file name: content}}.

    with_taskcat: also render build/taskcat/ from every environment (a full
    synth only: one environment alone must not replace the others' tests).
    Raises SpecError with every environment's problems.
    """
    rendered: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for_taskcat = []
    for env_file, subdir in targets:
        try:
            spec = load_spec(env_file, designs_dir)
            stacks = build_stacks(spec)
            rendered[subdir] = render_environment(spec, stacks)
            if "/" not in subdir:  # real environments, not the design examples
                data = stacks[0]
                for_taskcat.append((spec, data.template_dict, data.parameters))
        except SpecError as exc:
            # A broken design is shared by several environments: report it once.
            problems.extend(p for p in exc.problems if p not in problems)
            continue
        warnings.extend(w for w in spec.warnings if w not in warnings)
    if problems:
        raise SpecError(problems)
    if with_taskcat and for_taskcat:
        rendered[TASKCAT_DIR] = taskcat_files(for_taskcat)
    return rendered, warnings


def write_tree(out: Path, tree: dict[str, dict[str, str]], replace_all: bool) -> None:
    """Write into a sibling temp dir, then swap directories in.

    With replace_all the whole out dir is swapped (stale stacks vanish);
    otherwise only the named subdirectories are.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for subdir, files in tree.items():
            (staging / subdir).mkdir(parents=True)
            for name, content in files.items():
                (staging / subdir / name).write_text(content, encoding="utf-8")
        if replace_all:
            _swap(staging, out)
            staging = None  # type: ignore[assignment]
        else:
            out.mkdir(exist_ok=True)
            for subdir in tree:
                _swap(staging / subdir, out / subdir)
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging)


def _swap(new: Path, target: Path) -> None:
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    if old.exists():
        shutil.rmtree(old)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="synth", description=__doc__.split("\n")[0])
    parser.add_argument("--env-file", action="append", type=Path, help="one environment config (repeatable)")
    parser.add_argument("--environments-dir", type=Path, default=ENVIRONMENTS_DIR)
    parser.add_argument("--designs-dir", type=Path, default=DESIGNS_DIR)
    parser.add_argument("--out", type=Path, default=Path("build"))
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.env_file:
        targets = [(f, f.stem) for f in args.env_file]
    else:
        targets = [(f, f.stem) for f in sorted(args.environments_dir.glob("*.yaml"))]
        if not targets:
            print(f"synth: {args.environments_dir}: no *.yaml environment configs found", file=sys.stderr)
            return EXIT_BAD_INPUT
        # One example deployment per design, so reviewers can read any design.
        targets += [
            (f, f"{DESIGNS_SUBDIR}/{f.stem}")
            for f in sorted((args.environments_dir / DESIGNS_SUBDIR).glob("*.yaml"))
        ]
    try:
        tree, warnings = render_all(targets, args.designs_dir, with_taskcat=not args.env_file)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = sum(1 for p in exc.problems if p.severity == "error")
        print(f"synth: {count} error(s); nothing written to {args.out}/", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in warnings:
        print(warning, file=sys.stderr)
    write_tree(args.out, tree, replace_all=not args.env_file)
    files = sum(len(f) for f in tree.values())
    elapsed = time.perf_counter() - started
    print(f"synth: wrote {files} files for {', '.join(tree)} into {args.out}/ in {elapsed * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
