"""G012: a stateful resource's logical ID changes (a remove plus an add of the same table).

CloudFormation identifies resources by logical ID: a renamed ID is a delete
of the old resource and a create of a new one, and the create fails (the name
is taken) or makes an empty table (a new name).
"""

from __future__ import annotations

from typing import Any

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import STATEFUL_TYPES
from ..diff import ResourceChange
from ..table_shape import props
from . import Guard

RULE = Rule(
    "G012",
    "A table or key keeps its logical ID",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resources-section-structure.html",
)


def _identity(resource: dict[str, Any]) -> Any:
    """What says two resources are the same thing: the table name, or the key's description and kind.

    A multi-Region key is never a renamed single-Region one (MultiRegion cannot change, G020): a
    table moving to a global table gets GlobalTableKey beside TableKey, a new key on purpose."""
    p = props(resource)
    return (resource.get("Type"), p.get("TableName") or p.get("Description"), bool(p.get("MultiRegion")))


def check_plan(changes: list[ResourceChange]) -> list[Diagnostic]:
    removed = {c.logical_id: c for c in changes if c.action == "Remove" and c.resource_type in STATEFUL_TYPES}
    added = [c for c in changes if c.action == "Add" and c.resource_type in STATEFUL_TYPES]
    found = []
    for new in added:
        for old in removed.values():
            if _identity(old.old) == _identity(new.new):
                found.append(
                    RULE.at(
                        new.logical_id,
                        "(logical ID)",
                        f"{old.logical_id} is renamed {new.logical_id}: CloudFormation deletes {old.logical_id} and "
                        f"creates {new.logical_id} (a new, empty resource)",
                        f"keep the logical ID {old.logical_id} (it is a fact in stacks/names.py)",
                    )
                )
    return found


GUARD = Guard(RULE, plan=check_plan)
