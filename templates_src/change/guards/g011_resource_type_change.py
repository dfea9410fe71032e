"""G011: a stateful resource changes type (e.g. Table <-> GlobalTable).

CloudFormation treats a changed resource type as a new resource: it creates
the new one and deletes the old, so a Table -> GlobalTable change in place
can delete the table (AWS::DynamoDB::GlobalTable, "Considerations when
migrating from AWS::DynamoDB::Table").
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import GLOBAL_TABLE_TYPE, STATEFUL_TYPES, TABLE_TYPES
from ..diff import ResourceChange
from . import Guard

RULE = Rule(
    "G011",
    "A table or key does not change resource type in place",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-globaltable.html",
)


# The safe way from a Table to a GlobalTable (docs/global-tables.md: Moving a live table to a global table):
# two deploy steps around the YAML change, then the ordinary deploys that add the replicas.
TO_GLOBAL_TABLE = (
    "1) keep the table Retained (DeletionPolicy and UpdateReplacePolicy Retain) and deploy that (retention: "
    "Retain, the default); "
    "2) remove the table from the data stack and deploy its removal (the table stays, unmanaged): "
    "`deploy --env <env> --release-table` (every reference becomes the table's live name and ARNs, so the exports "
    "and the access stack keep working; deletion protection stays on the table); "
    "3) set global_table: true with no replicas yet and run `deploy --env <env> --import`: it imports the "
    "table as a GlobalTable with only its own Region (run make synth first; an IMPORT change set: nothing created "
    "or deleted); "
    "4) add the replicas, one per deploy: list them and run `deploy --env <env>` once per added replica. "
    "With aws_owned or aws_managed encryption that is all. With a customer managed key, step 4's first deploy "
    "also moves the table to the global table's multi-Region key (GlobalTableKey, a new key: a key cannot "
    "become multi-Region, G020) and lets the old TableKey go: `deploy --env <env> --allow G001,G005` (G001: "
    "TableKey leaves the stack, Retained and enabled, still decrypting old backups; G005: DynamoDB re-encrypts "
    "the table in the background, keep the old key enabled until it reports the re-encryption done); then the "
    "replica keys and the replicas follow, one per update"
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.action != "Replace" or "Type" not in change.replacing:
        return []
    old_type = change.old.get("Type")
    if old_type not in STATEFUL_TYPES and change.resource_type not in STATEFUL_TYPES:
        return []
    if old_type in TABLE_TYPES and change.resource_type == GLOBAL_TABLE_TYPE:
        way = TO_GLOBAL_TABLE
    else:
        way = (
            "keep the resource Retained; deploy its removal from the stack (it stays, unmanaged); import it into "
            "the stack as the new type with an IMPORT change set; then change it in later, reviewed deploys"
        )
    return [
        RULE.at(
            change.logical_id,
            "Type",
            f"{change.logical_id} changes type {old_type} -> {change.resource_type}: CloudFormation creates a new "
            "resource and deletes the old one (the table's data with it)",
            way,
        )
    ]


GUARD = Guard(RULE, change=check)
