"""A global table's replicas, deployed in the steps CloudFormation accepts.

CloudFormation creates a new AWS::DynamoDB::GlobalTable with any number of
replicas, but an update may add or remove only one replica, and the stack's
own Region's replica can never be removed
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-globaltable.html).
So deploy never sends the committed template at once when replicas are
missing: it sends a sequence of staged templates, each the committed one
restricted to a set of replica Regions, each adding one replica to the last.

Pure functions: replica_steps is the whole decision, unit-tested directly;
deployer.py only executes the steps.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Sequence
from typing import Any

from ..change.template_refs import references
from ..errors import Refused
from ..stacks.names import GLOBAL_KEY_ID, GLOBAL_TABLE_TYPE, KEY_ALIAS_ID, KEY_ID, TABLE_ID


def global_table(template: dict[str, Any]) -> dict[str, Any] | None:
    """The template's Table when it is a GlobalTable, else None."""
    table = template.get("Resources", {}).get(TABLE_ID)
    if isinstance(table, dict) and table.get("Type") == GLOBAL_TABLE_TYPE:
        return table
    return None


def table_regions(template: dict[str, Any]) -> list[str]:
    """The GlobalTable's replica Regions in template order (the stack's own first); [] for no GlobalTable."""
    table = global_table(template)
    if table is None:
        return []
    return [str(r["Region"]) for r in table.get("Properties", {}).get("Replicas", [])]


def is_strong(template: dict[str, Any]) -> bool:
    table = global_table(template) or {}
    return bool(table.get("Properties", {}).get("MultiRegionConsistency") == "STRONG")


def restricted(target: dict[str, Any], regions: Collection[str]) -> dict[str, Any]:
    """The target template with only the replicas in regions (target order kept): a staged template."""
    staged = copy.deepcopy(target)
    props = staged["Resources"][TABLE_ID]["Properties"]
    props["Replicas"] = [r for r in props["Replicas"] if r["Region"] in regions]
    return staged


# The plan's guard for a removed replica: allowing it lets deploy take one replica out.
REMOVAL_GUARD = "G015"


def removed_regions(target: dict[str, Any], live_regions: Sequence[str]) -> list[str]:
    wanted = set(table_regions(target))
    return [r for r in live_regions if r not in wanted]


def refuse_removals(
    target: dict[str, Any], live_regions: Sequence[str], stack: str, allowed: Collection[str] = ()
) -> None:
    """Deploy never removes a replica unprompted: that deletes the Region's copy of the data.

    With G015 allowed (a reviewed, deliberate retirement: docs/global-tables.md:
    Retiring a replica), one replica may go, in an update of its own.
    """
    removed = removed_regions(target, live_regions)
    if not removed:
        return
    if REMOVAL_GUARD in allowed and len(removed) == 1:
        return
    raise Refused(
        f"{stack}: refused: the committed template removes the replica in {', '.join(removed)}; deploy never "
        "removes a replica unless G015 is allowed, and then one per deploy (its copy of the data in that Region "
        "is deleted: back it up and turn off its deletion protection first; docs/global-tables.md: Retiring a replica)"
    )


def keys_only(target: dict[str, Any]) -> dict[str, Any]:
    """The data template reduced to its customer managed key: the first step of a new global table
    whose replica keys (key-<region> stacks) need the primary key before the table can name them.

    Parameters stay declared (the stack's parameters are passed unchanged); only the outputs
    naming the key are kept.
    """
    kept = {KEY_ID, GLOBAL_KEY_ID, KEY_ALIAS_ID}
    out = copy.deepcopy(target)
    out["Resources"] = {k: v for k, v in target["Resources"].items() if k in kept}
    out["Outputs"] = {k: v for k, v in target.get("Outputs", {}).items() if _names_only(v["Value"], kept)}
    return out


def _names_only(value: Any, kept: set[str]) -> bool:
    """The output names a kept resource and nothing else."""
    named = set(references(value))
    return bool(named) and named <= kept


def replica_steps(
    target: dict[str, Any],
    live_regions: Sequence[str],
    deferred: Collection[str] = (),
    new_stack: bool = False,
    allowed: Collection[str] = (),
) -> list[dict[str, Any]]:
    """The templates to deploy in order, the last equal to target.

    live_regions: the replica Regions of the deployed GlobalTable ([] when
    there is none yet: the stack or the table is being created). deferred:
    Regions that cannot be added in the first step (their key stack needs
    the data stack's key first). The first step keeps every live replica and
    the stack's own one (never removed); a new table also gets every replica
    not deferred at once. Each later step adds one replica, in target order.
    new_stack: the data stack does not exist yet: with deferred Regions,
    the key alone first (keys_only), then the whole template.
    Raises Refused when target removes a live replica, or when a
    multi-Region strongly consistent table would need more than one step.
    """
    regions = table_regions(target)
    if not regions:
        return [target]
    refuse_removals(target, live_regions, TABLE_ID, allowed)
    # An allowed removal (G015) goes first, in an update of its own.
    live_regions = [r for r in live_regions if r not in removed_regions(target, live_regions)]
    if new_stack and deferred and {KEY_ID, GLOBAL_KEY_ID} & set(target["Resources"]):
        # A new stack: its key first, then (after the key stacks) the table with every replica at
        # once, which CloudFormation allows when it creates a global table, and which a STRONG
        # table requires (its Regions are set at creation).
        return [keys_only(target), target]
    home = regions[0]
    if live_regions:
        first = {home, *live_regions}
    else:  # creating: many replicas at once is fine
        first = {home, *(r for r in regions if r not in deferred)}
    later = [r for r in regions if r not in first]
    if later and is_strong(target):
        # DynamoDB: "The witness must be added when creating the MRSC global table" - so its
        # replicas and witness are set together, on an empty table; staging cannot do that.
        raise Refused(
            f"{TABLE_ID}: refused: multi_region_consistency STRONG cannot add the replica in {', '.join(later)} "
            "after the table exists: AWS sets an MRSC table's replicas and witness together, on an empty "
            "table (create a new table, or deploy the Regions with the table's creation)"
        )
    steps = [restricted(target, first)]
    included = set(first)
    for region in later:
        included.add(region)
        steps.append(restricted(target, included))
    return steps


def template_text(template: dict[str, Any]) -> str:
    """A staged template as a change set's TemplateBody (sorted keys, as build/ writes them)."""
    return json.dumps(template, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
