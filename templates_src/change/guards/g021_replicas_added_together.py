"""G021 (warning): several replicas added to an existing global table in one change.

CloudFormation adds one replica per update of an existing
AWS::DynamoDB::GlobalTable. `deploy` stages the additions itself (one
change set per replica, each key stack first: deploy/replicas.py), so this
does not block; a by-hand `update-stack` with this template fails and rolls
back, so the plan says how to do it by hand.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import GLOBAL_TABLE_TYPE
from ..diff import ResourceChange
from ..table_shape import replica_regions
from . import Guard

RULE = Rule(
    "G021",
    "Several replicas added in one change are staged one per update (deploy does it; by hand, one update-stack each)",
    "warning",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-globaltable.html#cfn-dynamodb-globaltable-replicas",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type != GLOBAL_TABLE_TYPE or change.action != "Modify":
        return []
    before = replica_regions(change.old)
    added = [r for r in replica_regions(change.new) if r not in before]
    if len(added) < 2:
        return []
    return [
        RULE.at(
            change.logical_id,
            "Replicas",
            f"{len(added)} replicas added ({', '.join(added)}): CloudFormation adds one per update of an existing "
            "global table",
            "make deploy stages it (each Region's key stack, then one data-stack update per replica); by hand, run "
            "one update-stack per replica, each template listing one more Region",
        )
    ]


GUARD = Guard(RULE, change=check)
