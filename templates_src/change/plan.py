"""Offline plan: what a deploy would do to each resource, and what it must not.

A plan diffs two templates (diff.py) and runs every guard (guards/) on each
resource change. It reads templates from files, from a git ref, or (deploy)
from CloudFormation; input it cannot read is BadInput.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic
from ..errors import BadInput, Refused
from ..stacks.artifacts import template_file
from ..stacks.names import (
    ACCESS,
    ACCOUNT_KIND_PREFIX,
    DATA,
    GLOBAL_TABLE_TYPE,
    REPLICA_KEY_KIND_PREFIX,
    REVIEWED_KINDS,
    account_of_kind,
    generation_of,
)
from .cost.migration import phase_costs
from .diff import ResourceChange, diff_templates
from .guards import EnvironmentChange, guard_rules, run_environment_guards, run_guards
from .migration import PHASES, ROLLBACK_PHASES, Phase
from .review import describe
from .steps import Step, account_steps, index_changes, plan_steps

if TYPE_CHECKING:
    from ..spec.loader import Spec
    from .cost.render import CostChange

_SYMBOL = {"Add": "+", "Modify": "~", "Replace": "!", "Remove": "-"}
EMPTY_TEMPLATE: dict[str, Any] = {"Resources": {}}


@dataclass
class StackPlan:
    label: str
    changes: list[ResourceChange]
    findings: list[Diagnostic]
    # The data stack's change priced under the environment's traffic profile,
    # or why it is not (cost_note).
    cost: CostChange | None = None
    cost_note: str = ""
    kind: str = ""  # the stack kind (stacks/names.py) when planned from build/<env>/
    # The data stack's staged deploy (change/steps.py) when it takes more than one update.
    steps: list[Step] = field(default_factory=list)
    # Per step (by position): its backfill's estimated writes, price or time (cost/backfill.py).
    step_notes: dict[int, str] = field(default_factory=dict)
    old: dict[str, Any] | None = None  # the templates planned
    new: dict[str, Any] | None = None
    # A new key schema generation: migrate's phases (change/migration.py), each with its estimate.
    migration: list[tuple[Phase, str]] = field(default_factory=list)


def environment_plan(env_file: str, findings: list[Diagnostic]) -> StackPlan:
    """Environment-level findings (run_environment_guards) shown like a stack's."""
    return StackPlan(f"{env_file} (environment)", [], findings)


def parse_allow(text: str, option: str = "--allow") -> frozenset[str]:
    """ "G002, g004" -> {"G002", "G004"}; unknown guard IDs are BadInput naming the option.

    A warning's ID is accepted (allowing it changes nothing): a label written when it blocked stays valid.
    """
    allowed = frozenset(a.strip().upper() for a in text.split(",") if a.strip())
    unknown = allowed - {r.id for r in guard_rules()}
    if unknown:
        known = [r.id for r in guard_rules() if r.severity == "error"]
        raise BadInput(f"{option}: unknown guard id(s) {', '.join(sorted(unknown))}; allowed: {', '.join(known)}")
    return allowed


def read_template(path: Path, label: str | None = None) -> dict[str, Any]:
    label = label or str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"{label}: cannot read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno}: " if isinstance(exc, json.JSONDecodeError) else ""
        raise BadInput(f"{label}: {where}not JSON: {getattr(exc, 'msg', exc)}") from None
    return validated(data, label)


def validated(data: Any, label: str) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise BadInput(f"{label}: Resources: not a CloudFormation template (no Resources mapping)")
    for logical_id, resource in data["Resources"].items():
        if not isinstance(resource, dict) or "Type" not in resource:
            raise BadInput(f"{label}: Resources.{logical_id}.Type: missing")
    return data


def plan_stack(label: str, old: dict[str, Any], new: dict[str, Any]) -> StackPlan:
    changes = diff_templates(old, new)
    return StackPlan(label, changes, run_guards(changes), old=old, new=new)


def git_template(base: str, path: Path) -> dict[str, Any] | None:
    """The template at a git ref, or None when it did not exist there."""
    text = git_file(base, path)
    if text is None:
        return None
    try:
        return validated(json.loads(text), f"{base}:{path.as_posix()}")
    except json.JSONDecodeError as exc:
        raise BadInput(f"{base}:{path.as_posix()}: not JSON: {exc.msg}") from None


def git_file(base: str, path: Path) -> str | None:
    """A file's text at a git ref, or None when it did not exist there."""
    spec = f"{base}:{path.as_posix()}"
    try:
        proc = subprocess.run(["git", "show", spec], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BadInput("git is not installed; plan two files instead: plan OLD.json NEW.json") from None
    if proc.returncode != 0:
        if "exists on disk, but not in" in proc.stderr or "does not exist in" in proc.stderr:
            return None
        reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
        raise BadInput(f"git ref {base!r}: {reason}")
    return proc.stdout


def plan_environment(
    env: str, build_dir: Path, base: str, env_file: Path | None = None, designs_dir: Path | None = None
) -> tuple[list[StackPlan], list[Diagnostic]]:
    """build/<env>/ against the same files at a git ref, and the environment file against its base.

    With env_file, a stale build/<env>/ is refused (BadInput) rather than planned.
    Returns the stack plans and the environment-level findings (G013).
    """
    env_dir = build_dir / env
    if not env_dir.is_dir():
        raise BadInput(f"{env_dir}: no such environment build; run make synth")
    env_findings: list[Diagnostic] = []
    now: Spec | None = None
    if env_file is not None:
        from ..spec.loader import DESIGNS_DIR, load_spec
        from ..spec.source import parse_source
        from ..stacks.synth import Target, check_current

        check_current(Target(env_file, env), build_dir, designs_dir or DESIGNS_DIR)
        now = load_spec(env_file, designs_dir or DESIGNS_DIR)
        before = git_file(base, env_file)
        if before is not None:
            was = parse_source(before, f"{base}:{env_file.as_posix()}").data.get("protected", True)
            env_findings = run_environment_guards(
                EnvironmentChange(now.env_file, was is True, now.env.protected, now.source.line_of(("protected",)))
            )
    plans = []
    for kind in planned_kinds(env_dir, base):
        path = env_dir / template_file(kind)
        if path.exists() or kind.startswith((REPLICA_KEY_KIND_PREFIX, ACCOUNT_KIND_PREFIX)):
            old = git_template(base, path) or EMPTY_TEMPLATE
            new = read_template(path) if path.exists() else EMPTY_TEMPLATE  # a key stack no longer built
            # A new generation of a single-Region table is a migration; a global table's stays G001 (by hand).
            if kind == DATA and old["Resources"] and generation_of(new) > generation_of(old) and not _global(new):
                plan = migration_plan(env, base, old, new, now)
                plans.append(plan)
                continue
            plan = plan_stack(f"{env}/{kind} ({base} -> working tree)", old, new)
            plan.kind = kind
            if kind == DATA and now is not None:
                try:
                    plan.cost = cost_change(now, old, new)
                except BadInput as exc:  # no prices for the region: plan without cost, and say so
                    plan.cost_note = f"cost not shown: {exc}"
            plans.append(plan)
    attach_steps(plans, now)
    return plans, env_findings


def _global(template: dict[str, Any]) -> bool:
    return any(r.get("Type") == GLOBAL_TABLE_TYPE for r in template.get("Resources", {}).values())


def migration_plan(env: str, base: str, old: dict[str, Any], new: dict[str, Any], spec: Spec | None) -> StackPlan:
    """A new generation: a new data stack created beside the deployed one, which migrate fills and freezes."""
    plan = plan_stack(
        f"{env}/{DATA} ({base} -> working tree): key schema generation {generation_of(old)} -> "
        f"{generation_of(new)}, a new data stack beside the deployed one (make migrate ENV={env})",
        EMPTY_TEMPLATE,
        new,
    )
    plan.kind = DATA
    costs = phase_costs(spec) if spec is not None else {}
    plan.migration = [(phase, costs.get(phase.name, "")) for phase in PHASES]
    return plan


def attach_steps(plans: list[StackPlan], spec: Spec | None = None) -> None:
    """The data plan gets the staged deploy's steps (data and access) when its indexes need more than one update."""
    by_kind = {p.kind: p for p in plans}
    data, access = by_kind.get(DATA), by_kind.get(ACCESS)
    if data is None or data.old is None or data.new is None or data.migration:
        return
    accounts = {
        p.kind: (p.old, p.new)
        for p in plans
        if p.new is not None and (found := account_of_kind(p.kind)) is not None and found[1] == DATA
    }
    ordered = account_steps(data.old, data.new, accounts) if accounts else []
    if ordered:  # a multi-account global table with a new replica: the accounts in order
        data.steps = ordered
        return
    if index_changes(data.old, data.new) <= 1:
        return
    data.steps = plan_steps(data.old, data.new, access.old if access else None, access.new if access else None)
    if spec is not None:
        from .cost.backfill import backfill_note

        for number, step in enumerate(data.steps):
            if step.created:
                try:
                    data.step_notes[number] = backfill_note(spec, step.template, step.created)
                except BadInput as exc:  # no prices for the Region: the steps without an estimate
                    data.step_notes[number] = f"backfill of {step.created}: not estimated ({exc})"


def planned_kinds(env_dir: Path, base: str) -> list[str]:
    """REVIEWED_KINDS, then every replica key stack (key-<region>) built now or at base, by Region, then
    every other account's stacks of a multi-account global table (account-<account>-<kind>), by account.

    Both are named by what they are for, so they are found in build/<env>/ rather than listed; one
    present at base and gone now is planned too (its key, or that account's replica, would be removed).
    """
    suffix = template_file("")
    found = []
    for prefix in (REPLICA_KEY_KIND_PREFIX, ACCOUNT_KIND_PREFIX):
        pattern = f"{prefix}*{suffix}"
        names = {p.name for p in env_dir.glob(pattern)} | set(git_names(base, env_dir, pattern))
        kinds = sorted(n.removesuffix(suffix) for n in names)
        if prefix == ACCOUNT_KIND_PREFIX:  # each account's data stack before its access stack
            kinds.sort(key=lambda kind: _account_order(kind))
        found += kinds
    return [*REVIEWED_KINDS, *found]


def _account_order(kind: str) -> tuple[str, int]:
    account, rest = account_of_kind(kind) or ("", kind)
    return account, REVIEWED_KINDS.index(rest) if rest in REVIEWED_KINDS else len(REVIEWED_KINDS)


def git_names(base: str, directory: Path, pattern: str) -> list[str]:
    """The names of the files in directory at a git ref that match a glob pattern ([] when none)."""
    try:
        proc = subprocess.run(
            ["git", "ls-tree", "--name-only", f"{base}:{directory.as_posix()}"],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise BadInput("git is not installed; plan two files instead: plan OLD.json NEW.json") from None
    if proc.returncode != 0:  # the directory is new since base (or the ref is bad: git_file says so)
        return []
    return [name for name in proc.stdout.splitlines() if fnmatch.fnmatchcase(name, pattern)]


def cost_change(spec: Spec, old: dict[str, Any], new: dict[str, Any]) -> CostChange | None:
    """Both templates priced with today's patterns and traffic: the difference is the change's."""
    from .cost import estimate_spec
    from .cost.render import CostChange

    before, after = estimate_spec(spec, old), estimate_spec(spec, new)
    if before is None or after is None:
        return None
    return CostChange(f"traffic profile in {spec.env_file}", before, after)


def blocked(plans: list[StackPlan], allowed: frozenset[str]) -> list[Diagnostic]:
    """Errors not explicitly allowed; warnings never block."""
    return [f for p in plans for f in p.findings if f.is_error and f.rule_id not in allowed]


def refuse_if_blocked(plans: list[StackPlan], allowed: frozenset[str], what: str = "") -> None:
    found = blocked(plans, allowed)
    if found:
        ids = ",".join(sorted({f.rule_id for f in found}))
        raise Refused(
            f"{what}blocked by {ids}; fix the change, or allow it explicitly: --allow {ids} (make: ALLOW={ids})"
        )


def render_text(plans: list[StackPlan], allowed: frozenset[str]) -> str:
    lines = []
    for plan in plans:
        lines.append(f"== {plan.label}")
        if not plan.changes:
            lines.append("   no changes")
        for c in plan.changes:
            lines.append(f" {_SYMBOL[c.action]} {c.action:<7} {c.logical_id} ({c.resource_type})")
            for p in c.paths:
                mark = "  (replaces)" if p.split(".")[1:2] and p.split(".")[1] in c.replacing else ""
                lines.append(f"       {p}{mark}")
            for line in describe(c):
                lines.append(f"       {line}")
        if plan.cost is not None:
            lines.append(f"   {plan.cost.summary()}")
            lines += [f"       {line}" for line in plan.cost.detail_lines()]
        if plan.cost_note:
            lines.append(f"   {plan.cost_note}")
        if plan.steps:
            lines.append(f"   deploy stages this in {len(plan.steps)} steps, each verified before the next:")
            for n, step in enumerate(plan.steps):
                lines.append(f"     {n + 1}. {step.kind}: {step.summary}")
                lines += [f"        {plan.step_notes[n]}"] if n in plan.step_notes else []
        if plan.migration:
            lines.append(f"   migrate moves the data in {len(plan.migration)} phases, each resumable:")
            for n, (phase, cost) in enumerate(plan.migration, 1):
                lines.append(f"     {n}. {phase.name}: {phase.does} [approval: {phase.approval}]")
                lines += [f"        cost: {cost}"] if cost else []
        for f in plan.findings:
            state = "warning" if not f.is_error else "allowed" if f.rule_id in allowed else "BLOCKED"
            lines.append(f"   {state} {f.rule_id} {f.where}.{f.path}: {f.message}")
            lines.append(f"      safe way forward: {f.way_forward}")
    return "\n".join(lines)


def render_json(plans: list[StackPlan], allowed: frozenset[str]) -> str:
    """For machines: every change with its reviewer's lines, every finding with its state."""
    out = []
    for plan in plans:
        out.append(
            {
                "stack": plan.label,
                "cost_note": plan.cost_note,
                "migration": [
                    {"phase": p.name, "does": p.does, "approval": p.approval, "cost": cost}
                    for p, cost in plan.migration
                ],
                "steps": [
                    {"stack": s.kind, "summary": s.summary, "backfill": plan.step_notes.get(n, "")}
                    for n, s in enumerate(plan.steps)
                ],
                "cost": None
                if plan.cost is None
                else {
                    "before_monthly_usd": round(plan.cost.before.monthly_usd, 6),
                    "after_monthly_usd": round(plan.cost.after.monthly_usd, 6),
                    "lines": [
                        {"line": name, "before_usd": round(was, 6), "after_usd": round(now, 6)}
                        for name, was, now in plan.cost.changed_lines()
                    ],
                },
                "changes": [
                    {
                        "logical_id": c.logical_id,
                        "type": c.resource_type,
                        "action": c.action,
                        "paths": c.paths,
                        "replacing": c.replacing,
                        "details": describe(c),
                    }
                    for c in plan.changes
                ],
                "findings": [
                    {
                        "rule_id": f.rule_id,
                        "severity": f.severity,
                        "resource": f.where,
                        "property": f.path,
                        "message": f.message,
                        "way_forward": f.way_forward,
                        "state": "warning" if not f.is_error else "allowed" if f.rule_id in allowed else "blocked",
                    }
                    for f in plan.findings
                ],
            }
        )
    return json.dumps(out, indent=2, sort_keys=True)


def render_markdown(plans: list[StackPlan], allowed: frozenset[str]) -> str:
    lines = ["### Deploy plan", ""]
    for plan in plans:
        lines += [f"**{plan.label}**", ""]
        lines += markdown_stack(plan, allowed)
    return "\n".join(lines)


def markdown_steps(steps: list[Step], notes: dict[int, str]) -> list[str]:
    """The staged deploy as a numbered list and a Mermaid flowchart (GitHub renders it in the comment)."""
    lines = [f"Deploy stages this in {len(steps)} steps, each waited for and verified before the next:", ""]
    for n, step in enumerate(steps):
        lines.append(f"{n + 1}. `{step.kind}`: {step.summary}" + (f" ({notes[n]})" if n in notes else ""))
    lines += ["", "```mermaid", "flowchart LR"]
    for n, s in enumerate(steps, 1):
        lines.append(f'  s{n}["{n}. {s.kind}: {s.summary}"]')
    lines += [f"  s{n} --> s{n + 1}" for n in range(1, len(steps))]
    return lines + ["```", ""]


def markdown_migration(phases: list[tuple[Phase, str]]) -> list[str]:
    """migrate's phases as a table (what, who approves, cost) and a Mermaid flowchart with the rollback."""
    lines = [
        f"`make migrate` moves the data in {len(phases)} phases; each is resumable (state in SSM):",
        "",
        "| phase | does | approval | estimated cost |",
        "|---|---|---|---|",
    ]
    lines += [f"| {p.name} | {p.does} | {p.approval} | {cost or '—'} |" for p, cost in phases]
    lines += ["", "```mermaid", "flowchart LR"]
    lines += [f'  p{n}["{n}. {p.name}"]' for n, (p, _) in enumerate(phases, 1)]
    lines += [f"  p{n} --> p{n + 1}" for n in range(1, len(phases))]
    names = [p.name for p, _ in phases]
    first, last = (names.index(ROLLBACK_PHASES[0]) + 1, names.index(ROLLBACK_PHASES[-1]) + 1)
    lines.append(f"  p{last} -. rollback .-> p{first - 1}")
    return lines + ["```", ""]


def finding_state(finding: Diagnostic, allowed: frozenset[str]) -> str:
    return "warning" if not finding.is_error else "allowed" if finding.rule_id in allowed else "blocked"


def markdown_stack(plan: StackPlan, allowed: frozenset[str]) -> list[str]:
    """One stack's plan in Markdown: its cost, changes, what changes, and findings."""
    lines: list[str] = []
    if plan.cost is not None:
        lines += [f"Cost: {plan.cost.summary()}", ""]
        lines += [f"- {line}" for line in plan.cost.detail_lines()]
        lines += [""] if plan.cost.detail_lines() else []
    if plan.cost_note:
        lines += [f"_{plan.cost_note}_", ""]
    if not plan.changes and not plan.findings:
        return lines + ["No changes.", ""]
    if plan.changes:
        lines += ["| action | resource | type | changed properties |", "|---|---|---|---|"]
        for c in plan.changes:
            paths = "<br>".join(f"`{p}`" for p in c.paths) or "—"
            lines.append(f"| {c.action} | `{c.logical_id}` | `{c.resource_type}` | {paths} |")
        lines.append("")
    for c in plan.changes:
        details = describe(c)
        if details:
            lines += [f"<details open><summary><code>{c.logical_id}</code>: what changes</summary>", "", "```diff"]
            lines += details
            lines += ["```", "", "</details>", ""]
    if plan.steps:
        lines += markdown_steps(plan.steps, plan.step_notes)
    if plan.migration:
        lines += markdown_migration(plan.migration)
    for f in plan.findings:
        state = finding_state(f, allowed)
        shown = ":no_entry: **blocked**" if state == "blocked" else state
        lines.append(f"- {shown} `{f.rule_id}` `{f.where}.{f.path}`: {f.message}. Safe way forward: {f.way_forward}.")
    lines.append("")
    return lines
