"""Replication among a multi-account global table's replicas: the facts, and the policy statements.

DynamoDB replicates a multi-account global table as its replication service principal, which
each replica's table resource policy must allow, limited by aws:SourceAccount and aws:SourceArn to
the full replica set ("each replica must grant the above permissions to all other replicas and
itself"; DynamoDB developer guide, Security for multi-account global tables,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_MA_security.html;
CDK's TableGrants.multiAccountReplicationFrom/To and perms.MULTI_ACCOUNT_REPLICATION_ACTIONS
grant the same three actions to the same principal). A replica joins from another account by
AssociateTableReplica on the source table, which the source's policy allows to the replicas'
accounts (the guide's tutorial, "AllowTrustedAccountsToJoinThisGlobalTable",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_MA.tutorial.html).

CloudFormation: each account's table is an AWS::DynamoDB::GlobalTable; a replica's names the
source table in GlobalTableSourceArn (create-only: conditionalCreateOnlyProperties in the
registry schema cfn-lint ships) and lists only its own Region in Replicas, and every replica sets
GlobalTableSettingsReplicationMode ENABLED (the schema's ReplicaSpecification enum: ENABLED,
DISABLED), as CDK's TableV2MultiAccountReplica renders it (aws-dynamodb/lib/table-v2.ts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from awacs.aws import Allow, Condition, Principal, Statement, StringEquals
from troposphere import Sub

from ..spec.partitions import partition
from .actions import iam_actions

if TYPE_CHECKING:
    from ..spec.loader import Spec
    from ..spec.multi_account import Member

REPLICATION_PRINCIPAL = "replication.dynamodb.amazonaws.com"
REPLICATION_ACTIONS = (
    "dynamodb:ReadDataForReplication",
    "dynamodb:WriteDataForReplication",
    "dynamodb:ReplicateSettings",
)
JOIN_ACTION = "dynamodb:AssociateTableReplica"
# Every replica of a multi-account global table: its settings follow the replica set's.
SETTINGS_REPLICATION_MODE = "ENABLED"
# What the replication principal does with a replica's customer managed key (CDK's grantOnKey with
# KEY_READ_ACTIONS and KEY_WRITE_ACTIONS for the same principal).
REPLICATION_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")

REPLICATION_SID = "ReplicationOnlyAmongDeclaredReplicas"
JOIN_SID = "DeclaredAccountsJoinThisGlobalTable"
# Condition keys the replication statement names (the plan's deploy order narrows their values).
SOURCE_ACCOUNT, SOURCE_ARN = "aws:SourceAccount", "aws:SourceArn"


def member_table_arn(spec: Spec, member: Member) -> str:
    """A replica's table ARN, a Sub template (every replica's table has the environment's name; one partition)."""
    return f"arn:${{AWS::Partition}}:dynamodb:{member.region}:{member.account}:table/{spec.table_name}"


def account_root(member: Member) -> str:
    return f"arn:{partition(member.region)}:iam::{member.account}:root"


def replication_statements(spec: Spec, own_table: list[Sub]) -> list[Statement]:
    """The table's Allows: replication among the declared replicas; on the source, the others' joining."""
    group = spec.multi_account
    if group is None:
        return []
    statements = [
        Statement(
            Sid=REPLICATION_SID,
            Effect=Allow,
            Principal=Principal("Service", [REPLICATION_PRINCIPAL]),
            Action=iam_actions(REPLICATION_ACTIONS),
            Resource=own_table,
            # One operator block, both keys (awacs keeps only the last block of one operator).
            Condition=Condition(
                StringEquals(
                    {
                        SOURCE_ACCOUNT: group.accounts,
                        SOURCE_ARN: [Sub(member_table_arn(spec, m)) for m in group.members],
                    }
                )
            ),
        )
    ]
    if group.is_source:
        statements.append(
            Statement(
                Sid=JOIN_SID,
                Effect=Allow,
                Principal=Principal("AWS", [account_root(m) for m in group.members[1:]]),
                Action=iam_actions((JOIN_ACTION,)),
                Resource=own_table,
            )
        )
    return statements


def joining_accounts(spec: Spec) -> list[str]:
    """The accounts whose principals may call AssociateTableReplica on this table (the source's only)."""
    group = spec.multi_account
    return [m.account for m in group.members[1:]] if group is not None and group.is_source else []


def key_statements(spec: Spec) -> list[Statement]:
    """A replica's customer managed key: the replication principal uses it, for the declared replica set."""
    group = spec.multi_account
    if group is None:
        return []
    return [
        Statement(
            Sid="ReplicationServiceUsesTheKey",
            Effect=Allow,
            Principal=Principal("Service", [REPLICATION_PRINCIPAL]),
            Action=iam_actions(REPLICATION_KEY_ACTIONS),
            Resource=["*"],
            Condition=Condition(StringEquals({SOURCE_ACCOUNT: group.accounts})),
        )
    ]
