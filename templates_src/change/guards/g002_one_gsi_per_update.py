"""G002: more than one GSI created or deleted on a table in one update.

CloudFormation rejects it and rolls the stack back (aws-cdk#14920). Deploy
stages it itself (change/steps.py, one index per update; a global table's
on its live replicas, before any replica is added), so the finding is a
warning that lists the steps. By hand (`aws cloudformation update-stack`),
the same steps are one deploy each.
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_ID, TABLE_TYPES
from ..diff import ResourceChange
from ..steps import index_changes, plan_steps
from . import Guard

RULE = Rule(
    "G002",
    "At most one GSI created or deleted per table per update: deploy stages it",
    "warning",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html#cfn-dynamodb-table-globalsecondaryindexes",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or change.action != "Modify":
        return []
    count = index_changes({"Resources": {TABLE_ID: change.old}}, {"Resources": {TABLE_ID: change.new}})
    if count <= 1:
        return []
    message = f"{count} GSI creations/deletions in one update; CloudFormation allows one per table per update"
    staged = plan_steps({"Resources": {TABLE_ID: change.old}}, {"Resources": {TABLE_ID: change.new}})
    found = RULE.at(
        change.logical_id,
        "GlobalSecondaryIndexes",
        f"{message}: deploy stages them, one per update",
        "nothing to do: the table's updates are "
        + "; ".join(f"{i}. {s.summary}" for i, s in enumerate(staged, 1))
        + " (with the access stack where it belongs, as the plan of the environment lists), each waited for "
        "and verified",
    )
    return [found]


GUARD = Guard(RULE, change=check)
