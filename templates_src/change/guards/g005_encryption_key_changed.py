"""G005: a table's (or a replica's) encryption key changes to another customer managed key.

DynamoDB re-encrypts in the background; during that time the old key must
stay usable, and every role needs grants on both keys. A global table's key
is per replica (each Region's replica key), so each replica is checked.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_TYPES
from ..diff import ResourceChange
from ..review import show
from ..table_shape import paired_replicas, replica_label, replica_path
from . import Guard

RULE = Rule(
    "G005",
    "The table's encryption key is not switched in one step",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or change.action != "Modify":
        return []
    found = []
    for region, before, after in paired_replicas(change.old, change.new):
        old = (before.get("SSESpecification") or {}).get("KMSMasterKeyId")
        new = (after.get("SSESpecification") or {}).get("KMSMasterKeyId")
        if old and new and old != new:
            found.append(
                RULE.at(
                    change.logical_id,
                    replica_path(region, "SSESpecification.KMSMasterKeyId"),
                    f"{replica_label(region)}the table's encryption key changes from {show(old)} to {show(new)}",
                    "add the new key and grant it to every role first, switch the table in its own deploy, "
                    "and keep the old key enabled until DynamoDB reports the switch done",
                )
            )
    return found


GUARD = Guard(RULE, change=check)
