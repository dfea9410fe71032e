"""G015: a replica is removed from a global table: that Region's copy of the table is deleted.

Removing a replica from AWS::DynamoDB::GlobalTable deletes the table in that
Region; the resource's DeletionPolicy Retain keeps the global table, not a
removed replica (aws-cdk#25740). The replica in the stack's own Region can
never be removed: CloudFormation requires it in Replicas.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import GLOBAL_TABLE_TYPE
from ..diff import ResourceChange
from ..table_shape import replica_regions, replica_settings, stack_region
from . import Guard

RULE = Rule(
    "G015",
    "No replica of a global table is removed (its Region's copy is deleted; Retain does not keep it)",
    "error",
    "https://github.com/aws/aws-cdk/issues/25740",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type != GLOBAL_TABLE_TYPE or change.action != "Modify":
        return []
    after = set(replica_regions(change.new))
    own = stack_region(change.old)
    found = []
    for region in replica_regions(change.old):
        if region in after:
            continue
        if region == own:
            found.append(
                RULE.at(
                    change.logical_id,
                    f"Replicas[{region}]",
                    f"the replica in the stack's own Region {region} would be removed: CloudFormation requires "
                    "the stack's Region in Replicas and cannot remove it (the update fails, or deletes the table "
                    "there)",
                    f"keep the {region} replica; a table that must leave {region} is a new stack in another Region "
                    "(a new environment), with the data migrated to it",
                )
            )
            continue
        protected = replica_settings(change.old)[region].get("DeletionProtectionEnabled")
        found.append(
            RULE.at(
                change.logical_id,
                f"Replicas[{region}]",
                f"replica {region} would be removed: DynamoDB deletes the table's copy in {region} (DeletionPolicy "
                "Retain does not keep a removed replica)"
                + ("; its deletion protection is on, so the update fails" if protected else ""),
                f"keep the replica; to retire {region} deliberately (docs/global-tables.md: Retiring a replica): "
                "back its copy up (an on-demand backup there), turn off its deletion protection and remove it with "
                "aws dynamodb update-table, then deploy without it, allowing G015 (deploy removes one replica per "
                "deploy)",
            )
        )
    return found


GUARD = Guard(RULE, change=check)
