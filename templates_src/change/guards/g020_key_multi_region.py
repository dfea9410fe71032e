"""G020: a KMS key's MultiRegion setting changes: CloudFormation refuses the update.

"You can't change the MultiRegion value after the KMS key is created. If you
change the value of the MultiRegion property on an existing KMS key, the
update request fails, regardless of the value of the UpdateReplacePolicy
attribute" (AWS::KMS::Key, MultiRegion). It happens when an environment with
a customer managed key becomes a global table (whose key is a multi-Region
primary, replicated into each replica Region).
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ..diff import ResourceChange
from ..table_shape import props

RULE = Rule(
    "G020",
    "A KMS key's MultiRegion setting is not changed (the update fails)",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html#cfn-kms-key-multiregion",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type != "AWS::KMS::Key" or change.action != "Modify":
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
            "a table under a single-Region customer managed key cannot become a global table with replica keys "
            "here yet (README: Moving a live table to a global table); keep global_table: false, or move the "
            "table to aws_managed encryption first in a reviewed deploy of its own (G004 and G005 ask for that "
            "explicitly)",
        )
    ]
