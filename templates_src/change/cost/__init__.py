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
from .model import Estimate, UnpricedRegions, estimate, replica_regions
from .prices import price_book_label, priced_regions, prices_for


def estimate_spec(spec: Spec, data_template: dict[str, Any]) -> Estimate | None:
    """The environment's estimate for this data template, or None without a traffic profile.

    BadInput, naming the environment's region field, when the price book has no prices for it; for a
    global table, naming the replicas the book has no prices for (every replica Region is priced, or none).
    """
    if spec.env.traffic is None:
        return None
    prices = prices_for(spec.env.region)
    if prices is None:
        line = spec.source.line_of(("region",))
        where = f"{spec.env_file}:{line}" if line else spec.env_file
        raise BadInput(
            f"{where}: region: no prices for {spec.env.region!r} in {price_book_label()}; "
            f"priced: {', '.join(priced_regions())} (add the region from the pricing pages, with the date read)"
        )
    replica_prices = {}
    missing = []
    for region in replica_regions(data_template):
        found = prices_for(region)
        if found is None:
            missing.append(region)
        else:
            replica_prices[region] = found
    if missing:
        raise BadInput(_unpriced_replicas(spec, missing))
    try:
        return estimate(data_template, spec.design, spec.env.traffic, prices, replica_prices)
    except UnpricedRegions as exc:  # not reached: every replica Region was looked up above
        raise BadInput(_unpriced_replicas(spec, exc.regions)) from exc


def _unpriced_replicas(spec: Spec, regions: list[str]) -> str:
    """A global table is priced in every replica Region or not at all: a partial total would understate."""
    listed = [r.region for r in spec.env.replicas]
    path: tuple[str | int, ...] = (
        ("replicas", listed.index(regions[0]), "region") if regions[0] in listed else ("replicas",)
    )
    line = spec.source.line_of(path)
    where = f"{spec.env_file}:{line}" if line else spec.env_file
    names = ", ".join(repr(r) for r in regions)
    return (
        f"{where}: replicas: no prices for {names} in {price_book_label()}; "
        f"priced: {', '.join(priced_regions())}. A global table is billed in every replica Region, so it is priced "
        "in all of them or not at all (add the regions from the pricing pages, with the date read)"
    )
