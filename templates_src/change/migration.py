"""A key-schema migration's phases, and the templates they deploy (pure, offline).

A design whose keys (or LSIs, or table name) change cannot update its table in
place (G001, G006, G007). With `generation: n` and a `migration:` block, the
change is a new table in a new data stack (`<prefix>-data-v<n>`) that
`migrate` fills from the deployed one (deploy/migrate.py). This module holds
what the plan shows and what the executor deploys: the phases in order, who
approves each, and the old data stack's template made read-only.
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

from ..stacks.names import TABLE_ID
from ..stacks.resource_policy import TABLE_ARN


class Phase(NamedTuple):
    name: str
    does: str
    approval: str  # who or what lets it run


PHASES = (
    Phase("create", "the new table, in its own data stack, beside the old one", "the merged design change"),
    Phase("capture", "record the old table's stream position (NEW_AND_OLD_IMAGES)", "none (reads only)"),
    Phase(
        "backfill",
        "a point-in-time export of the old table to S3, each item transformed and written with a "
        "condition that never replaces an item already there",
        "none (the old table serves as before)",
    ),
    Phase(
        "catch-up",
        "stream records since the start point, through the same transform, in order",
        "none (the old table serves as before)",
    ),
    Phase(
        "freeze",
        "the old table's resource policy denies writes (late writers fail loudly); the stream is drained",
        "the operator running migrate (writes fail until cutover)",
    ),
    Phase("verify", "count and per-key checksum of every item, old (transformed) against new", "none (reads only)"),
    Phase("cutover", "the access stack grants the new table only", "the operator running migrate"),
    Phase("retire", "the old data stack is deleted; its table stays in the account (Retain)", "--allow G001"),
)
PHASE_NAMES = tuple(p.name for p in PHASES)
# Until cutover, `migrate --rollback` undoes the freeze; after it, the cutover too.
ROLLBACK_PHASES = ("freeze", "verify", "cutover")

# The old table's read-only statement. Every data write IAM authorises on a table: a transaction
# is authorised by its item actions (Service Authorization Reference: Amazon DynamoDB, actions).
READ_ONLY_SID = "MigrationReadOnly"
WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)


def read_only_statement(table_name: str) -> dict[str, Any]:
    return {
        "Sid": READ_ONLY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": list(WRITE_ACTIONS),
        "Resource": {"Fn::Sub": TABLE_ARN % "${AWS::Region}" + table_name},
    }


def read_only(template: dict[str, Any], table_name: str) -> dict[str, Any]:
    """The deployed data stack with its table made read-only and Retained (it must outlive its stack)."""
    out = copy.deepcopy(template)
    table = out["Resources"][TABLE_ID]
    table["DeletionPolicy"] = table["UpdateReplacePolicy"] = "Retain"
    props = table.setdefault("Properties", {})
    document = props.setdefault("ResourcePolicy", {}).setdefault(
        "PolicyDocument", {"Version": "2012-10-17", "Statement": []}
    )
    statements = [s for s in document["Statement"] if s.get("Sid") != READ_ONLY_SID]
    document["Statement"] = [*statements, read_only_statement(table_name)]
    return out


def is_read_only(template: dict[str, Any]) -> bool:
    """Whether the data stack's table carries read_only's statement (a freeze, finished or stopped midway)."""
    policy = template["Resources"][TABLE_ID].get("Properties", {}).get("ResourcePolicy")
    return policy is not None and any(s.get("Sid") == READ_ONLY_SID for s in policy["PolicyDocument"]["Statement"])


def writable(template: dict[str, Any]) -> dict[str, Any]:
    """read_only undone (rollback): the statement removed; no policy left when it was the only one.

    DeletionPolicy stays Retain: a rollback must not make the old table deletable with its stack.
    """
    out = copy.deepcopy(template)
    props = out["Resources"][TABLE_ID].get("Properties", {})
    policy = props.get("ResourcePolicy")
    if policy is None:
        return out
    statements = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") != READ_ONLY_SID]
    if statements:
        policy["PolicyDocument"]["Statement"] = statements
    else:
        del props["ResourcePolicy"]
    return out
