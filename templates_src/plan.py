"""Offline plan: what a deploy would do to each resource, and what it must not.

    python -m templates_src.plan OLD.json NEW.json [--format markdown] [--allow G001,...]
    python -m templates_src.plan --env prod [--base HEAD]    # build/ against a git ref

Exit codes: 0 safe (or every blocking guard allowed), 3 a guard blocks,
2 bad input (unreadable file, not a template, unknown ref).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .changes import ResourceChange, diff_templates
from .guards import Finding, all_guards

EXIT_OK, EXIT_BAD_INPUT, EXIT_BLOCKED = 0, 2, 3
STACK_KINDS = ("data", "access")
_SYMBOL = {"Add": "+", "Modify": "~", "Replace": "!", "Remove": "-"}


class PlanInputError(Exception):
    pass


@dataclass
class StackPlan:
    label: str
    changes: list[ResourceChange]
    findings: list[Finding]


def read_template(path: Path, label: str | None = None) -> dict[str, Any]:
    label = label or str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanInputError(f"{label}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise PlanInputError(f"{label}: line {exc.lineno}: not JSON: {exc.msg}") from None
    return _validated(data, label)


def _validated(data: Any, label: str) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise PlanInputError(f"{label}: Resources: not a CloudFormation template (no Resources mapping)")
    for logical_id, resource in data["Resources"].items():
        if not isinstance(resource, dict) or "Type" not in resource:
            raise PlanInputError(f"{label}: Resources.{logical_id}.Type: missing")
    return data


def plan_stack(label: str, old: dict[str, Any], new: dict[str, Any]) -> StackPlan:
    changes = diff_templates(old, new)
    guards = all_guards()
    findings = [f for change in changes for check in guards.values() for f in check(change)]
    return StackPlan(label, changes, findings)


def git_template(base: str, path: str) -> dict[str, Any] | None:
    """The template at a git ref, or None when it did not exist there."""
    proc = subprocess.run(["git", "show", f"{base}:{path}"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        if "exists on disk, but not in" in proc.stderr or "does not exist in" in proc.stderr:
            return None
        raise PlanInputError(f"git ref {base!r}: {proc.stderr.strip().splitlines()[-1] if proc.stderr else 'failed'}")
    try:
        return _validated(json.loads(proc.stdout), f"{base}:{path}")
    except json.JSONDecodeError as exc:
        raise PlanInputError(f"{base}:{path}: not JSON: {exc.msg}") from None


def render_text(plans: list[StackPlan], allowed: set[str]) -> str:
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
        for f in plan.findings:
            state = "allowed" if f.guard_id in allowed else "BLOCKED"
            lines.append(f"   {state} {f.guard_id} {f.logical_id}.{f.property}: {f.message}")
            lines.append(f"      safe way forward: {f.way_forward}")
    return "\n".join(lines)


def render_markdown(plans: list[StackPlan], allowed: set[str]) -> str:
    lines = ["### Deploy plan", ""]
    for plan in plans:
        lines += [f"**{plan.label}**", ""]
        if not plan.changes:
            lines += ["No changes.", ""]
            continue
        lines += ["| action | resource | type | changed properties |", "|---|---|---|---|"]
        for c in plan.changes:
            paths = "<br>".join(f"`{p}`" for p in c.paths) or "—"
            lines.append(f"| {c.action} | `{c.logical_id}` | `{c.resource_type}` | {paths} |")
        lines.append("")
        for f in plan.findings:
            state = "allowed" if f.guard_id in allowed else ":no_entry: **blocked**"
            lines.append(f"- {state} `{f.guard_id}` `{f.logical_id}.{f.property}`: {f.message}. "
                         f"Safe way forward: {f.way_forward}.")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plan", description=__doc__.split("\n")[0])
    parser.add_argument("old", nargs="?", type=Path, help="old template JSON")
    parser.add_argument("new", nargs="?", type=Path, help="new template JSON")
    parser.add_argument("--env", help="plan build/<env>/ against --base")
    parser.add_argument("--base", default="HEAD", help="git ref for --env (default HEAD)")
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--allow", default=os.environ.get("ALLOW", ""), help="guard IDs to allow, comma-separated")
    args = parser.parse_args(argv)
    allowed = {a.strip().upper() for a in args.allow.split(",") if a.strip()}
    unknown = allowed - set(all_guards())
    try:
        if unknown:
            raise PlanInputError(f"--allow: unknown guard id(s) {', '.join(sorted(unknown))}; "
                                 f"allowed: {', '.join(all_guards())}")
        if args.env:
            plans = []
            env_dir = args.build / args.env
            if not env_dir.is_dir():
                raise PlanInputError(f"{env_dir}: no such environment build; run make synth")
            for kind in STACK_KINDS:
                path = env_dir / f"{kind}.template.json"
                if not path.exists():
                    continue
                old = git_template(args.base, path.as_posix()) or {"Resources": {}}
                plans.append(plan_stack(f"{args.env}/{kind} ({args.base} -> working tree)", old, read_template(path)))
        elif args.old and args.new:
            plans = [plan_stack(f"{args.old} -> {args.new}", read_template(args.old), read_template(args.new))]
        else:
            raise PlanInputError("give OLD.json NEW.json, or --env ENV")
    except PlanInputError as exc:
        print(f"plan: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(render_markdown(plans, allowed) if args.format == "markdown" else render_text(plans, allowed))
    blocked = [f for p in plans for f in p.findings if f.guard_id not in allowed]
    if blocked:
        ids = ",".join(sorted({f.guard_id for f in blocked}))
        print(f"plan: blocked by {ids}; fix the change, or allow it explicitly with ALLOW={ids}", file=sys.stderr)
        return EXIT_BLOCKED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
