"""G005: a table's encryption key changes to another customer managed key.

DynamoDB re-encrypts in the background; during that time the old key must
stay usable, and every role needs grants on both keys.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ..diff import ResourceChange

RULE = Rule(
    "G005",
    "The table's encryption key is not switched in one step",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type != "AWS::DynamoDB::Table" or change.action != "Modify":
        return []
    old = (change.old.get("Properties", {}).get("SSESpecification") or {}).get("KMSMasterKeyId")
    new = (change.new.get("Properties", {}).get("SSESpecification") or {}).get("KMSMasterKeyId")
    if old and new and old != new:
        return [
            RULE.at(
                change.logical_id,
                "SSESpecification.KMSMasterKeyId",
                f"the table's encryption key changes from {old} to {new}",
                "add the new key and grant it to every role first, switch the table in its own deploy, "
                "and keep the old key enabled until DynamoDB reports the switch done",
            )
        ]
    return []
