"""Render environments into build/ trees: every stack, the access reports, taskcat.

Rendering is pure (inputs -> {subdir: {file: content}}); `artifacts.write_tree`
then writes it all or nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..diagnostics import Diagnostic
from ..errors import SpecError
from ..spec.loader import DESIGN_EXAMPLES_SUBDIR, DESIGNS_DIR, Spec, load_spec
from ..spec.multi_account import account_specs
from .access_stack import build_access_stack
from .artifacts import ACCESS_REPORT_FILE, Stack
from .data_stack import build_data_stack
from .deploy_role import build_deploy_role_stack
from .names import account_kind
from .replica_key_stack import build_replica_key_stacks
from .report import render_access_report
from .taskcat import TASKCAT_DIR, taskcat_files
from .workflow import CI_DIR, WORKFLOW_FILE, deploy_workflow


class Target(NamedTuple):
    env_file: Path
    subdir: str  # under build/: "<env>" or "designs/<design>"

    @property
    def is_environment(self) -> bool:
        """A real environment (taskcat tests it), not a design's example deployment."""
        return "/" not in self.subdir


class Rendered:
    """Every target's files (subdir -> file -> text) and the warnings found (a plain class: see Stack)."""

    def __init__(self) -> None:
        self.tree: dict[str, dict[str, str]] = {}
        self.warnings: list[Diagnostic] = []

    @property
    def file_count(self) -> int:
        return sum(len(files) for files in self.tree.values())


def all_targets(environments_dir: Path) -> list[Target]:
    """Every environment, then one example deployment per design."""
    targets = [Target(f, f.stem) for f in sorted(environments_dir.glob("*.yaml"))]
    examples = environments_dir / DESIGN_EXAMPLES_SUBDIR
    targets += [Target(f, f"{DESIGN_EXAMPLES_SUBDIR}/{f.stem}") for f in sorted(examples.glob("*.yaml"))]
    return targets


def build_stacks(spec: Spec) -> list[Stack]:
    """Data stack first: the replica key stacks take its key, the access stack imports its exports;
    the deploy role (with `ci:`) last. A multi-account global table: the source account's stacks,
    then each other account's data and access stacks (kind account-<account>-<kind>)."""
    views = account_specs(spec)
    stacks = _account_stacks(views[0])
    for view in views[1:]:
        assert view.multi_account is not None
        account = view.multi_account.own.account
        stacks += [s.with_kind(account_kind(account, s.kind)) for s in _account_stacks(view)]
    return stacks


def _account_stacks(spec: Spec) -> list[Stack]:
    stacks = [build_data_stack(spec), *build_replica_key_stacks(spec)]
    access = build_access_stack(spec)
    if access is not None:
        stacks.append(access)
    deploy_role = build_deploy_role_stack(spec, stacks)
    if spec.design.migration is not None:  # not the deploy role's: migrate deploys it
        # Imported only then: the consumer's stack (and its code) is no other synth's.
        from .migration_stack import build_migration_stack

        migration = build_migration_stack(spec)
        if migration is not None:
            stacks.append(migration)
    if deploy_role is not None:
        stacks.append(deploy_role)
    return stacks


def render_environment(spec: Spec, stacks: list[Stack]) -> dict[str, str]:
    files: dict[str, str] = {}
    for stack in stacks:
        files.update(stack.files())
    if spec.env.access is not None:  # a multi-account table's: the source account's roles
        files[ACCESS_REPORT_FILE] = render_access_report(spec)
    return files


def check_current(target: Target, build_root: Path, designs_dir: Path = DESIGNS_DIR) -> None:
    """BadInput when build/<subdir>/ is not what synth renders now (a design or environment was edited)."""
    from ..errors import BadInput
    from .artifacts import is_current

    rendered = render_all([target], designs_dir, with_taskcat=False)
    if not is_current(build_root, rendered.tree, replace_all=False):
        raise BadInput(
            f"{build_root / target.subdir}/ is stale: {target.env_file} or its design changed since the last "
            "synth; run make synth (and review the diff) first"
        )


def render_all(targets: list[Target], designs_dir: Path = DESIGNS_DIR, with_taskcat: bool = True) -> Rendered:
    """Render every target; raise SpecError with every target's problems.

    with_taskcat: also render build/taskcat/ from every environment (a full
    synth only: one environment alone must not replace the others' tests).
    """
    rendered = Rendered()
    problems: list[Diagnostic] = []
    for_taskcat = []
    environments: dict[str, Spec] = {}
    for target in targets:
        try:
            spec = load_spec(target.env_file, designs_dir)
            stacks = build_stacks(spec)
        except SpecError as exc:
            # A broken design is shared by several environments: report it once.
            problems.extend(p for p in exc.problems if p not in problems)
            continue
        rendered.tree[target.subdir] = render_environment(spec, stacks)
        if target.is_environment:
            environments[target.subdir] = spec
            data = stacks[0]
            # A multi-account table's source names its replicas' accounts (joining, replication): a taskcat
            # test in one account cannot hold them, so none (docs/global-tables.md: Multi-account global tables).
            if spec.multi_account is None:
                for_taskcat.append((spec, data.template_dict, data.parameters))
        rendered.warnings.extend(w for w in spec.warnings if w not in rendered.warnings)
    if problems:
        raise SpecError(problems)
    if with_taskcat and for_taskcat:
        rendered.tree[TASKCAT_DIR] = taskcat_files(for_taskcat)
    workflow = deploy_workflow(environments) if with_taskcat else None  # a full synth only, as taskcat
    if workflow is not None:
        rendered.tree[CI_DIR] = {WORKFLOW_FILE: workflow}
    return rendered
