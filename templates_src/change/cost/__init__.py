"""Cost and capacity: the monthly price of a design under an environment's traffic profile.

prices.py       the dated price book (price_book.json)
units.py        request units per access pattern, GSI writes included
model.py        the estimate: requests, storage, backups, capacity, warnings
render.py       text, Markdown, JSON; a change's cost for the plan
"""

from __future__ import annotations

import copy
from typing import Any

from ...errors import BadInput
from ...spec.loader import Spec
from .model import Estimate, UnpricedRegions, estimate, replica_regions, table_resource
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
    data_template = with_other_accounts(spec, data_template)
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
        result = estimate(data_template, spec.design, spec.env.traffic, prices, replica_prices)
    except UnpricedRegions as exc:  # not reached: every replica Region was looked up above
        raise BadInput(_unpriced_replicas(spec, exc.regions)) from exc
    if spec.multi_account is not None:
        billed = ", ".join(f"{m.region} to account {m.account}" for m in spec.multi_account.members[1:])
        result.notes.append(f"replicas in other accounts are billed to those accounts: {billed}")
    return result


def with_other_accounts(spec: Spec, data_template: dict[str, Any]) -> dict[str, Any]:
    """A multi-account global table priced as one: the source's template with each other account's
    replica added to its Replicas, so each replica's replicated writes, storage, point-in-time
    recovery and key are priced in its own Region (as a same-account replica's are). Settings are
    unified across the accounts (read capacity, PITR): each copies the source's; the table class
    is the replica's own. Any other template: unchanged."""
    group = spec.multi_account
    table = table_resource(data_template)
    if group is None or table is None:
        return data_template
    properties = table.get("Properties", {})
    replicas = properties.get("Replicas", [])
    if not replicas:
        return data_template
    own = replicas[0]
    added = [
        {**own, "Region": replica.region, "TableClass": replica.table_class or own.get("TableClass", "STANDARD")}
        for replica in group.replicas
    ]
    priced = copy.deepcopy(data_template)
    priced_table = table_resource(priced)
    assert priced_table is not None
    priced_table["Properties"]["Replicas"] = [*replicas, *added]
    return priced


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
