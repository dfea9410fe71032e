"""Cost and capacity: the monthly price of a design under an environment's traffic profile.

prices.py       the dated price book (price_book.json)
units.py        request units per access pattern, GSI writes included
model.py        the estimate: requests, storage, backups, capacity, warnings
render.py       text, Markdown, JSON; a change's cost for the plan
"""

from __future__ import annotations

from typing import Any

from ...spec.loader import Spec
from .model import Estimate, estimate
from .prices import prices_for


def estimate_spec(spec: Spec, data_template: dict[str, Any]) -> Estimate | None:
    """The environment's estimate for this data template, or None without a traffic profile."""
    if spec.env.traffic is None:
        return None
    return estimate(data_template, spec.design, spec.env.traffic, prices_for(spec.env.region))
