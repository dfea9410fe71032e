"""G020: a KMS key's MultiRegion setting changes: CloudFormation refuses the update.

"You can't change the MultiRegion value after the KMS key is created. If you
change the value of the MultiRegion property on an existing KMS key, the
update request fails, regardless of the value of the UpdateReplacePolicy
attribute" (AWS::KMS::Key, MultiRegion). A global table's key is a
multi-Region primary under a logical ID of its own (GlobalTableKey), so an
environment with a customer managed key that becomes a global table adds a
new key beside TableKey and does not trip this guard; it fires only for a key
whose MultiRegion really changes in place (a hand edit, an old build).
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import KMS_KEY_TYPE
from ..diff import ResourceChange
from ..table_shape import props
from . import Guard

RULE = Rule(
    "G020",
    "A KMS key's MultiRegion setting is not changed (the update fails)",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html#cfn-kms-key-multiregion",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type != KMS_KEY_TYPE or change.action != "Modify":
        return []
    old, new = bool(props(change.old).get("MultiRegion")), bool(props(change.new).get("MultiRegion"))
    if old == new:
        return []
    return [
        RULE.at(
            change.logical_id,
            "MultiRegion",
            f"{change.logical_id}: MultiRegion {str(old).lower()} -> {str(new).lower()}: a key cannot change it, so "
            "CloudFormation refuses the update and the stack rolls back",
            "keep the key's MultiRegion as deployed. A table moving to a global table does not change it: its "
            "multi-Region key is a new one, GlobalTableKey (docs/global-tables.md: Moving a live table to a global "
            "table; step 4's first deploy, `deploy --env <env> --allow G001,G005`, moves the table to it and lets "
            "TableKey go, Retained and enabled, still decrypting old backups; keep it enabled until DynamoDB "
            "reports the re-encryption done). A key that must change MultiRegion is a new key under a new logical ID",
        )
    ]


GUARD = Guard(RULE, change=check)
