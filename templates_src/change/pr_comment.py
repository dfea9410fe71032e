"""One Markdown comment per pull request: every environment's plan, cost and guards.

A summary line per environment (no change / N changes / BLOCKED by G00x),
then a collapsible section per stack that changes, with the reviewer's diff.
The first line is a marker the workflow finds to update the same comment on
every run. GitHub refuses comments over 65,536 characters: sections that do
not fit are left out, with a pointer to the job log that has them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Refused
from ..stacks.names import DEPLOY_ROLE
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


def allowed_by_labels(labels: str) -> frozenset[str]:
    """PR labels "allow:G004, reviewed" -> {"G004"}; an allow: label naming no guard is BadInput."""
    ids = [m.group(1) for label in labels.split(",") if (m := ALLOW_LABEL.match(label.strip()))]
    return parse_allow(",".join(ids), "--labels (allow:)")


def refuse_if_blocked(environments: list[EnvironmentPlan], allowed: frozenset[str]) -> None:
    found = blocked([p for e in environments for p in e.plans], allowed)
    if found:
        ids = sorted({f.rule_id for f in found})
        labels = ", ".join(f"allow:{i}" for i in ids)
        raise Refused(
            f"blocked by {', '.join(ids)}; fix the change, or label the pull request {labels} "
            f"(locally: --labels {','.join(f'allow:{i}' for i in ids)})"
        )


def cost_cell(plans: list[StackPlan]) -> str:
    for plan in plans:
        if plan.cost is not None:
            c = plan.cost
            if round(c.delta, 2) == 0:
                return f"{usd(c.after.monthly_usd)} (unchanged)"
            sign = "+" if c.delta >= 0 else "-"
            return f"{usd(c.before.monthly_usd)} → {usd(c.after.monthly_usd)} ({sign}{usd(abs(c.delta))})"
        if plan.cost_note:
            return "not priced"
    return "—"


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


def _worth_a_section(plan: StackPlan) -> bool:
    moved = plan.cost is not None and bool(plan.cost.changed_lines())
    return bool(plan.changes or plan.findings or moved or plan.cost_note)


def render_comment(environments: list[EnvironmentPlan], allowed: frozenset[str], log_hint: str) -> str:
    blocked_envs = [e.env for e in environments if _blocked_ids(e.plans, allowed)]
    title = f"blocked in {', '.join(blocked_envs)}" if blocked_envs else "no guard blocks this change"
    head = [MARKER, f"## Deploy plan: {title}", "", "| environment | plan | monthly cost |", "|---|---|---|"]
    for e in environments:
        head.append(f"| `{e.env}` | {_status(e.plans, allowed)} | {cost_cell(e.plans)} |")
    head.append("")
    for e in environments:
        for plan in e.plans:
            if plan.kind == DEPLOY_ROLE and plan.changes:
                head.append(
                    f"> :warning: **The deploy role of `{e.env}` changes.** The pipeline never deploys its own "
                    "identity: an administrator updates its stack (docs/pull-requests.md: The deploy role). "
                    "Permissions it gains (new resources): before this merges, or the deploy fails with "
                    "AccessDenied. Permissions it loses (resources removed): after the deploy, which still needs "
                    "them to delete those resources. Both: split the change, additions in one pull request and "
                    "removals in the next."
                )
                head.append("")
    head += [
        "To allow a guard deliberately, label the pull request `allow:<guard id>` "
        "(docs/pull-requests.md: Working in pull requests).",
        "",
    ]
    sections, unchanged = [], []
    for e in environments:
        for plan in e.plans:
            name = plan.label.split(" ", 1)[0]
            if not _worth_a_section(plan):
                unchanged.append(f"`{name}`")
                continue
            body = markdown_stack(plan, allowed)
            summary = f"{name}: {_status([plan], allowed)}"
            sections.append("\n".join([f"<details><summary>{summary}</summary>", "", *body, "</details>", ""]))
    text = "\n".join(head)
    dropped = 0
    # A section that does not fit is left out; the smaller ones after it still go in.
    for section in sections:
        if len(text) + len(section) + 1 > COMMENT_MAX_CHARS - TRUNCATION_MARGIN:
            dropped += 1
            continue
        text += "\n" + section
    if dropped:
        text += f"\n_{dropped} section(s) left out to stay under GitHub's comment limit; {log_hint}._\n"
    if unchanged:
        text += f"\nUnchanged: {', '.join(unchanged)}.\n"
    return text
