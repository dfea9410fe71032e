"""G018: the stream settings of a multi-replica global table change.

An AWS::DynamoDB::GlobalTable in multi-Region eventual consistency (MREC)
replicates through its stream: its StreamSpecification can be changed only
while it has one replica ("You can only change the streams settings if your
global table has only one replica"; GlobalTable StreamSpecification). A
strongly consistent (MRSC) table may change it.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import GLOBAL_TABLE_TYPE
from ..diff import ResourceChange
from ..table_shape import consistency, replica_regions, stream_view_type
from . import Guard

RULE = Rule(
    "G018",
    "A multi-replica (MREC) global table's stream settings are not changed",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-globaltable-streamspecification.html",
)


def multi_replica_eventual(change: ResourceChange) -> bool:
    """An EVENTUAL global table with more than one replica before or after the change (G009 defers to this)."""
    if change.resource_type != GLOBAL_TABLE_TYPE or change.action != "Modify":
        return False
    if "STRONG" in (consistency(change.old), consistency(change.new)):
        return False
    return max(len(replica_regions(change.old)), len(replica_regions(change.new))) > 1


def check(change: ResourceChange) -> list[Diagnostic]:
    if not multi_replica_eventual(change):
        return []
    old, new = stream_view_type(change.old), stream_view_type(change.new)
    if old == new:
        return []
    replicas_now, replicas_next = len(replica_regions(change.old)), len(replica_regions(change.new))
    if replicas_now <= 1:
        way = (
            "deploy 1: change the stream while the table has its one replica; deploy 2: add the replica "
            "(one per deploy, G014)"
        )
    else:
        way = (
            f"keep stream_view_type: {old or 'none'} (global table replication needs the stream); to change it, "
            "the table must first be down to one replica (removing replicas deletes their copies, G015), then "
            "the stream changes (a new stream ARN: move consumers), then the replicas are added back one per deploy"
        )
    return [
        RULE.at(
            change.logical_id,
            "StreamSpecification",
            f"stream {old or 'none'} -> {new or 'none'} on a global table with {max(replicas_now, replicas_next)} "
            "replicas: CloudFormation changes a global table's stream only while it has one replica, so the "
            "update fails",
            way,
        )
    ]


GUARD = Guard(RULE, change=check)
