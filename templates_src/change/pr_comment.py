"""One Markdown comment per pull request: every environment's plan, cost and guards.

A summary line per environment (no change / N changes / BLOCKED by G00x),
then a collapsible section per stack with the reviewer's diff. The first
line is a marker the workflow finds to update the same comment on every
run. GitHub refuses comments over 65,536 characters: sections that do not
fit are dropped, with a pointer to the job log that has them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadInput
from .cost.render import usd
from .plan import StackPlan, blocked, markdown_stack, parse_allow

MARKER = "<!-- conversation-table-iac:pr-plan -->"
# https://docs.github.com/en/rest/issues/comments: a body is at most 65,536 characters.
COMMENT_MAX_CHARS = 65536
# Room kept for the truncation notice.
TRUNCATION_MARGIN = 512
ALLOW_LABEL = re.compile(r"^allow:(\S+)$", re.IGNORECASE)


@dataclass(frozen=True)
class EnvironmentPlan:
    env: str
    plans: list[StackPlan]


def cost_cell(plans: list[StackPlan]) -> str:
    for plan in plans:
        if plan.cost is not None:
            c = plan.cost
            sign = "+" if c.delta >= 0 else "-"
            return f"{usd(c.before.monthly_usd)} → {usd(c.after.monthly_usd)} ({sign}{usd(abs(c.delta))})"
    return "—"


def allowed_by_labels(labels: str) -> frozenset[str]:
    """PR labels "allow:G002, reviewed" -> {"G002"}; a label naming no guard is BadInput."""
    ids = [m.group(1) for label in labels.split(",") if (m := ALLOW_LABEL.match(label.strip()))]
    try:
        return parse_allow(",".join(ids))
    except BadInput as exc:
        raise BadInput(f"--labels: an allow: label {str(exc).split(': ', 1)[1]}") from None


def _blocked_ids(plans: list[StackPlan], allowed: frozenset[str]) -> list[str]:
    return sorted({f.rule_id for f in blocked(plans, allowed)})


def _status(plans: list[StackPlan], allowed: frozenset[str]) -> str:
    ids = _blocked_ids(plans, allowed)
    if ids:
        return f":no_entry: BLOCKED by {', '.join(ids)}"
    changes = sum(len(p.changes) for p in plans)
    allowed_here = sorted({f.rule_id for p in plans for f in p.findings if f.is_error})
    text = "no change" if changes == 0 else f"{changes} change{'s' * (changes != 1)}"
    return text + (f" (allowed: {', '.join(allowed_here)})" if allowed_here else "")


def render_comment(environments: list[EnvironmentPlan], allowed: frozenset[str], log_hint: str) -> str:
    blocked_envs = [e.env for e in environments if _blocked_ids(e.plans, allowed)]
    title = f"blocked in {', '.join(blocked_envs)}" if blocked_envs else "no guard blocks this change"
    head = [MARKER, f"## Deploy plan: {title}", "", "| environment | plan | monthly cost |", "|---|---|---|"]
    for e in environments:
        head.append(f"| `{e.env}` | {_status(e.plans, allowed)} | {cost_cell(e.plans)} |")
    head += [
        "",
        "A guard is allowed deliberately with a PR label `allow:<guard id>` (e.g. `allow:G002`); "
        "see README: Working in pull requests.",
        "",
    ]
    sections = []
    for e in environments:
        for plan in e.plans:
            summary = f"{plan.label}: {_status([plan], allowed)}"
            body = markdown_stack(plan, allowed)
            sections.append("\n".join([f"<details><summary>{summary}</summary>", "", *body, "</details>", ""]))
    text = "\n".join(head)
    dropped = 0
    for i, section in enumerate(sections):
        if len(text) + len(section) + 1 > COMMENT_MAX_CHARS - TRUNCATION_MARGIN:
            dropped = len(sections) - i
            break
        text += "\n" + section
    if dropped:
        text += f"\n_{dropped} section(s) left out to stay under GitHub's comment limit; {log_hint}._\n"
    return text
