"""Cost and capacity: the monthly price of a design under an environment's traffic profile.

prices.py       the dated price book (price_book.json)
units.py        request units per access pattern, GSI writes included
model.py        the estimate: requests, storage, backups, capacity, warnings
render.py       text, Markdown, JSON; a change's cost for the plan
"""

from __future__ import annotations

from typing import Any

from ...errors import BadInput
from ...spec.loader import Spec
from .model import Estimate, estimate
from .prices import PRICE_BOOK, priced_regions, prices_for


def estimate_spec(spec: Spec, data_template: dict[str, Any]) -> Estimate | None:
    """The environment's estimate for this data template, or None without a traffic profile.

    BadInput, naming the environment's region field, when the price book has no prices for it.
    """
    if spec.env.traffic is None:
        return None
    prices = prices_for(spec.env.region)
    if prices is None:
        line = spec.source.line_of(("region",))
        where = f"{spec.env_file}:{line}" if line else spec.env_file
        raise BadInput(
            f"{where}: region: no prices for {spec.env.region!r} in {PRICE_BOOK.relative_to(PRICE_BOOK.parents[3])}; "
            f"priced: {', '.join(priced_regions())} (add the region from the pricing pages, with the date read)"
        )
    return estimate(data_template, spec.design, spec.env.traffic, prices)
