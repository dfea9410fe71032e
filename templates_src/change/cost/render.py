"""The estimate as text, Markdown or JSON, and a change's cost for the plan."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from .model import Estimate, Line, per_second
from .prices import global_table_rule


def usd(amount: float) -> str:
    """$1,234.56; under a dollar, two significant digits (at least four decimals) so $0.00002 is not $0.00."""
    if abs(amount) >= 1 or amount == 0:
        return f"${amount:,.2f}"
    decimals = min(8, max(4, 1 - math.floor(math.log10(abs(amount)))))
    return f"${amount:,.{decimals}f}"


def _signed(amount: float) -> str:
    return ("+" if amount >= 0 else "-") + usd(abs(amount))


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:,.4g}" if value < 1000 else f"{value:,.0f}"


def _regions(est: Estimate) -> str:
    """The home Region, and a global table's other replicas after it."""
    return f"{est.region} + replicas {', '.join(est.replicas)}" if est.replicas else est.region


def _header(title: str, est: Estimate) -> str:
    return f"{title}: {usd(est.monthly_usd)} per month ({_regions(est)}, {est.table_class}, {est.billing_mode})"


def _sources(est: Estimate) -> str:
    assert est.prices is not None
    out = f"prices: {est.prices.source}, read {est.prices.retrieved}; free tier not subtracted"
    if est.replicas:
        rule = global_table_rule()
        out += f"; global tables: {rule.source}, read {rule.retrieved}"
    return out


def _capacity_lines(est: Estimate) -> list[str]:
    c = est.capacity
    if c is None:
        return []
    return [
        f"on-demand requests {usd(c.on_demand_usd)}/month; provisioned at {c.target_utilization}% of the average "
        f"{usd(c.provisioned_average_usd)}, holding the stated peak all month {usd(c.provisioned_peak_usd)}",
        f"average {per_second(c.read_units_per_second)} read and {per_second(c.write_units_per_second)} write "
        f"units/s; peak {per_second(c.peak_read_units_per_second)} and {per_second(c.peak_write_units_per_second)}",
        f"provisioned capacity pays off above {c.break_even_utilization:.1%} average utilisation",
    ]


def render_text(title: str, est: Estimate) -> str:
    out = [_header(title, est), _sources(est), ""]
    rows = [("line", "detail", "quantity", "units/request", "units/month", "$/month")]
    for line in est.lines:
        quantity = f"{_number(line.quantity)} {'requests' if line.kind == 'requests' else line.unit}"
        rows.append(
            (
                line.name,
                line.detail,
                quantity,
                _number(line.units_per_request),
                _number(line.units_per_month),
                usd(line.usd),
            )
        )
    rows.append(("total", "", "", "", "", usd(est.monthly_usd)))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for row in rows:
        cells = [row[i].ljust(widths[i]) if i < 2 else row[i].rjust(widths[i]) for i in range(6)]
        out.append("  ".join(cells).rstrip())
    out += ["", "capacity:"] + [f"  {c}" for c in _capacity_lines(est)]
    if est.warnings:
        out += ["", "warnings:"] + [f"  - {w}" for w in est.warnings]
    if est.notes:
        out += ["", "notes:"] + [f"  - {n}" for n in est.notes]
    return "\n".join(out)


def render_markdown(title: str, est: Estimate) -> str:
    out = [f"### {_header(title, est)}", "", f"_{_sources(est)}_", ""]
    out += ["| line | detail | quantity | units/request | units/month | $/month |", "|---|---|--:|--:|--:|--:|"]
    for line in est.lines:
        quantity = f"{_number(line.quantity)} {'requests' if line.kind == 'requests' else line.unit}"
        out.append(
            f"| {line.name} | {line.detail} | {quantity} | {_number(line.units_per_request)} | "
            f"{_number(line.units_per_month)} | {usd(line.usd)} |"
        )
    out += [f"| **total** | | | | | **{usd(est.monthly_usd)}** |", ""]
    out += [f"- {c}" for c in _capacity_lines(est)]
    out += [f"- :warning: {w}" for w in est.warnings]
    out += [f"- {n}" for n in est.notes]
    return "\n".join(out) + "\n"


def to_json(title: str, est: Estimate) -> str:
    assert est.prices is not None
    data: dict[str, Any] = {
        "environment": title,
        "region": est.region,
        "table_class": est.table_class,
        "billing_mode": est.billing_mode,
        "monthly_usd": round(est.monthly_usd, 6),
        "lines": [{**asdict(line), "usd": round(line.usd, 6)} for line in est.lines],
        "capacity": asdict(est.capacity) if est.capacity else None,
        "warnings": est.warnings,
        "notes": est.notes,
        "price_book": {"source": est.prices.source, "retrieved": est.prices.retrieved, "free_tier": "not subtracted"},
        "replica_regions": est.replicas,
        "witness_region": est.witness,
    }
    if est.replicas:
        rule = global_table_rule()
        data["price_book"]["global_tables"] = {"source": rule.source, "retrieved": rule.retrieved}
    return json.dumps(data, indent=2, sort_keys=True)


@dataclass(frozen=True)
class CostChange:
    """A change's effect on the monthly estimate (the plan shows it beside the diff)."""

    label: str  # where the profile comes from
    before: Estimate
    after: Estimate

    @property
    def delta(self) -> float:
        return self.after.monthly_usd - self.before.monthly_usd

    def estimated(self, name: str) -> str:
        """What the after estimate's line guessed, or ""."""
        return next((line.estimated for line in self.after.lines if line.name == name), "")

    def changed_lines(self) -> list[tuple[str, float, float]]:
        """(line, before, after) for each line whose cost changed, in the after estimate's order."""
        old = {line.name: line for line in self.before.lines}
        new = {line.name: line for line in self.after.lines}
        names = [n for n in new] + [n for n in old if n not in new]
        out = []
        for name in names:
            was, now = _usd_of(old.get(name)), _usd_of(new.get(name))
            if abs(now - was) >= 0.005 or (name in old) != (name in new):
                out.append((name, was, now))
        return out

    def summary(self) -> str:
        return (
            f"monthly cost ({self.label}): {usd(self.before.monthly_usd)} -> {usd(self.after.monthly_usd)} "
            f"({_signed(self.delta)})"
        )

    def detail_lines(self) -> list[str]:
        return [
            f"{name}: {usd(was)} -> {usd(now)} ({_signed(now - was)})"
            + (f" ({self.estimated(name)})" if self.estimated(name) else "")
            for name, was, now in self.changed_lines()
        ]


def _usd_of(line: Line | None) -> float:
    return 0.0 if line is None else line.usd
