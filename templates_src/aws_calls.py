"""Every AWS API call the command line makes with its own credentials, and what it acts on.

The deploy role (stacks/deploy_role.py) allows exactly the pipeline's calls
below, each on its own resources; CloudFormation's calls on the caller's
behalf (the resource handlers) come from the registry schemas instead.
Each entry names the module that makes the call. tests/test_deploy_role_calls.py
records every request the deploy, destroy, drift, adopt and global-table tests
send and proves each one allowed by the generated role and key policies; a
call made but missing here fails it.

A base module (no imports from the layers): the deploy layer makes the calls,
the stacks layer derives the role from them.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple


class On(str, Enum):
    """What a call acts on, as the deploy role scopes it."""

    STACKS = "this environment's stacks"
    TABLE = "this environment's table (each replica Region)"
    LEGACY_GLOBAL_TABLE = "this environment's table as a version 2017.11.29 global table (account-wide ARN)"
    ROLES = "this environment's roles"
    KEY = "the table's key (by its alias) or DynamoDB's AWS managed key"
    MIGRATION = "a migration's state parameter, its export bucket, the old table's stream and its backfill"
    ANY = "no resource-level permission exists for it"


class ApiCall(NamedTuple):
    action: str
    on: On
    where: str  # the module (and step) that makes it
    # Only an environment that may be destroyed (unprotected) gets it.
    destroys: bool = False


# What the pipeline (the deploy role) runs: deploy, destroy, drift, plan --deployed, adopt.
PIPELINE_CALLS = (
    ApiCall("cloudformation:DescribeStacks", On.STACKS, "deploy/change_sets.py: state and outputs; drift; plan"),
    ApiCall("cloudformation:GetTemplate", On.STACKS, "deploy/change_sets.py: the deployed template to plan"),
    ApiCall("cloudformation:CreateChangeSet", On.STACKS, "deploy/change_sets.py: CREATE and UPDATE"),
    ApiCall("cloudformation:DescribeChangeSet", On.STACKS, "deploy/change_sets.py: wait, cross-check"),
    ApiCall("cloudformation:DeleteChangeSet", On.STACKS, "deploy/change_sets.py: empty; deployer.py: refused"),
    ApiCall("cloudformation:ExecuteChangeSet", On.STACKS, "deploy/change_sets.py"),
    ApiCall("cloudformation:DescribeStackEvents", On.STACKS, "deploy/change_sets.py: follow a change"),
    ApiCall("cloudformation:GetStackPolicy", On.STACKS, "deploy/protection.py: a removal's one-off policy"),
    ApiCall("cloudformation:SetStackPolicy", On.STACKS, "deploy/protection.py: protected stacks"),
    ApiCall("cloudformation:UpdateTerminationProtection", On.STACKS, "deploy/protection.py: protected stacks"),
    ApiCall("cloudformation:DetectStackDrift", On.STACKS, "deploy/drift.py"),
    # No resource-level permission (the IAM simulator: "must use wildcard").
    ApiCall("cloudformation:DescribeStackDriftDetectionStatus", On.ANY, "deploy/drift.py"),
    ApiCall("cloudformation:DescribeStackResourceDrifts", On.STACKS, "deploy/drift.py"),
    ApiCall("cloudformation:DeleteStack", On.STACKS, "deploy/change_sets.py: destroy", destroys=True),
    # ListImports has no resource-level permission (service authorization reference).
    ApiCall("cloudformation:ListImports", On.ANY, "deploy/global_steps.py: exports still imported"),
    ApiCall(
        "dynamodb:DescribeTable",
        On.TABLE,
        "deploy/refusals.py, global_steps.py, deployer.py, live.py (a global table's replicas: each in its Region); "
        "accounts.py: a multi-account table's live replicas",
    ),
    ApiCall("dynamodb:DescribeTimeToLive", On.TABLE, "deploy/live.py: drift, adopt, each step's read-back"),
    ApiCall(
        "dynamodb:DescribeContinuousBackups",
        On.TABLE,
        "deploy/live.py: drift, adopt (each replica's Region), read-back",
    ),
    ApiCall(
        "dynamodb:DescribeContributorInsights",
        On.TABLE,
        "deploy/live.py: drift, adopt (each replica's Region), each step's read-back",
    ),
    ApiCall("dynamodb:ListTagsOfResource", On.TABLE, "deploy/live.py: drift, adopt (each replica's Region), read-back"),
    ApiCall("dynamodb:DescribeGlobalTable", On.LEGACY_GLOBAL_TABLE, "deploy/adopt.py: a legacy global table"),
    ApiCall("kms:DescribeKey", On.KEY, "deploy/live.py: who manages the table's key (each replica's, in its Region)"),
    ApiCall("iam:GetRole", On.ROLES, "deploy/readback.py: after each access step; deployer.py: destroy's check"),
    ApiCall("iam:ListRolePolicies", On.ROLES, "deploy/readback.py: after each access step"),
    ApiCall("iam:GetRolePolicy", On.ROLES, "deploy/readback.py: after each access step"),
    ApiCall("iam:ListAttachedRolePolicies", On.ROLES, "deploy/readback.py: after each access step"),
    ApiCall("dynamodb:GetResourcePolicy", On.TABLE, "deploy/readback.py: the table's resource policy"),
    ApiCall("kms:GetKeyPolicy", On.KEY, "deploy/readback.py: the table's key policy after each data step"),
    ApiCall("kms:GetKeyRotationStatus", On.KEY, "deploy/readback.py: the table's key rotation"),
    # ListExports has no resource-level permission (service authorization reference).
    ApiCall("cloudformation:ListExports", On.ANY, "deploy/readback.py: Fn::ImportValue in the roles' policies"),
)
# sts:GetCallerIdentity (deploy/deployer.py, cli.py: the account check) needs no
# permission: "No permissions are required to perform this operation" (STS API reference).

# Run by an administrator, never by the pipeline: an IMPORT change set can adopt
# any resource of the account into a stack, so the deploy role denies it.
ADMINISTRATOR_CALLS = (
    ApiCall("cloudformation:CreateChangeSet", On.STACKS, "deploy/takeover.py: IMPORT (deploy --import)"),
    ApiCall("cloudformation:DescribeStackResource", On.STACKS, "deploy/takeover.py: release"),
)

# Run by an operator, never by the pipeline: `migrate` reads and writes table data
# (docs/migrations.md: Who runs it), besides the pipeline's calls it shares with deploy.
OPERATOR_CALLS = (
    ApiCall("ssm:GetParameter", On.MIGRATION, "deploy/migrate.py, migration_state.py: the migration's state"),
    ApiCall("ssm:PutParameter", On.MIGRATION, "deploy/migrate.py: the state after each phase and batch"),
    ApiCall("dynamodb:UpdateContinuousBackups", On.TABLE, "deploy/migrate.py: PITR on for the export"),
    ApiCall("dynamodb:ExportTableToPointInTime", On.TABLE, "deploy/migrate.py: backfill"),
    ApiCall("dynamodb:DescribeExport", On.TABLE, "deploy/migrate.py: backfill"),
    ApiCall("dynamodb:Scan", On.TABLE, "deploy/migration_data.py: verify (both tables)"),
    ApiCall("dynamodb:PutItem", On.TABLE, "deploy/migration_data.py: backfill, catch-up (the new table)"),
    ApiCall("dynamodb:DeleteItem", On.TABLE, "deploy/migration_data.py: catch-up (the new table)"),
    ApiCall("dynamodb:DescribeStream", On.MIGRATION, "deploy/migration_data.py: the old table's shards"),
    ApiCall("dynamodb:GetShardIterator", On.MIGRATION, "deploy/migration_data.py: capture, catch-up"),
    ApiCall("dynamodb:GetRecords", On.MIGRATION, "deploy/migration_data.py: capture, catch-up"),
    ApiCall("s3:ListBucket", On.MIGRATION, "deploy/migration_data.py: the export's files"),
    ApiCall("s3:GetObject", On.MIGRATION, "deploy/migration_data.py, migrate.py: export files; rollback"),
    ApiCall("s3:PutObject", On.MIGRATION, "deploy/migrate.py: the access template before cutover"),
    # The stream consumer on AWS (stacks/migration_stack.py): its function and queue, its metrics.
    ApiCall("cloudformation:DescribeStackResource", On.STACKS, "deploy/migrate.py: the consumer's function, queue"),
    ApiCall("cloudwatch:GetMetricStatistics", On.ANY, "deploy/migrate.py: the consumer's lag and invocations"),
    ApiCall("sqs:GetQueueAttributes", On.MIGRATION, "deploy/migrate.py: the consumer's dead letters"),
    ApiCall("states:StartExecution", On.MIGRATION, "deploy/migrate.py: the managed backfill (AWS)"),
    ApiCall("states:DescribeExecution", On.MIGRATION, "deploy/migrate.py: the managed backfill's progress"),
)
