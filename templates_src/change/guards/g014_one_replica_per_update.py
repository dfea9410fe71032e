"""G014: more than one replica added or removed on a global table in one update.

CloudFormation adds or removes a single replica per update of an existing
AWS::DynamoDB::GlobalTable (Replicas: "You can add or remove replicas after
table creation, but you can only add or remove a single replica in each
update"); the way forward is a sequence of deploys, one replica each.

Only additions are staged by `deploy` itself (deploy/replicas.py: the
committed template is sent as one update per added replica, and each step
is planned again), so several replicas only added is no finding here; an
update that removes a replica together with any other replica change is,
because deploy never stages (or makes) a removal.
"""

from __future__ import annotations

from typing import Any

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import GLOBAL_TABLE_TYPE
from ..diff import ResourceChange
from ..table_shape import replica_regions
from . import Guard

RULE = Rule(
    "G014",
    "At most one replica added or removed per global table update",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-globaltable.html#cfn-dynamodb-globaltable-replicas",
)


def staged_sequence(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One replica per deploy: additions first (the data never has fewer copies), then removals."""
    before, after = replica_regions(old), replica_regions(new)
    current = list(before)
    steps = []
    for region in [r for r in after if r not in before]:
        current.append(region)
        steps.append(f"add replica {region} and wait until it is ACTIVE (replicas then: {', '.join(current)})")
    for region in [r for r in before if r not in after]:
        current.remove(region)
        steps.append(
            f"remove replica {region}, its copy of the table is deleted, see G015 "
            f"(replicas then: {', '.join(current) or 'none'})"
        )
    return steps


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type != GLOBAL_TABLE_TYPE or change.action != "Modify":
        return []
    steps = staged_sequence(change.old, change.new)
    removes = any(r not in replica_regions(change.new) for r in replica_regions(change.old))
    if len(steps) <= 1 or not removes:
        return []
    plan = "; ".join(f"deploy {i}: {s}" for i, s in enumerate(steps, 1))
    return [
        RULE.at(
            change.logical_id,
            "Replicas",
            f"{len(steps)} replicas added or removed in one update; CloudFormation adds or removes one replica "
            "per global table update",
            f"stage it (one replica per deploy, in the replicas: list of the environment): {plan}",
        )
    ]


GUARD = Guard(RULE, change=check)
