"""Names every layer agrees on: stack kinds, stack and role names, logical IDs, exports, resource types.

Changing a logical ID of a stateful resource replaces it, so these are facts,
kept in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..spec.loader import Spec

DATA, ACCESS = "data", "access"
# Deploy order: the access stack imports the data stack's exports.
STACK_KINDS = (DATA, ACCESS)
# The pipeline's own identity (GitHub OIDC): created once by an administrator,
# never by the pipeline it authorises; planned and reviewed like the others.
DEPLOY_ROLE = "deploy-role"
# A key-schema migration's stream consumer (stacks/migration_stack.py): deployed by migrate, never by deploy.
MIGRATION = "migration"
REVIEWED_KINDS = (*STACK_KINDS, MIGRATION, DEPLOY_ROLE)
# A global table's key in each other replica Region: stack kind "key-<region>",
# deployed in that Region before the data stack adds the replica.
REPLICA_KEY_KIND_PREFIX = "key-"
# What create-stack must acknowledge (artifacts.capabilities_for decides from the template).
NAMED_IAM = "CAPABILITY_NAMED_IAM"
IAM = "CAPABILITY_IAM"

# Logical IDs of the data stack's stateful resources.
TABLE_ID = "Table"
KEY_ID = "TableKey"
# A global table's key: a multi-Region primary, under a logical ID of its own. A key's
# MultiRegion cannot change (G020), so a table moving to a global table (docs/global-tables.md:
# Moving a live table to a global table) gets a new key beside the single-Region TableKey, which
# the stack then lets go (Retained, still decrypting the old backups).
GLOBAL_KEY_ID = "GlobalTableKey"
KEY_ALIAS_ID = "TableKeyAlias"
BACKUP_KEY_ID = "BackupVaultKey"
BACKUP_VAULT_ID = "BackupVault"
BACKUP_PLAN_ID = "BackupPlan"
BACKUP_SELECTION_ID = "BackupSelection"
BACKUP_ROLE_ID = "BackupRole"

# CloudFormation resource types the plan, its guards and the deploy recognise in a template.
TABLE_TYPE = "AWS::DynamoDB::Table"
GLOBAL_TABLE_TYPE = "AWS::DynamoDB::GlobalTable"
TABLE_TYPES = (TABLE_TYPE, GLOBAL_TABLE_TYPE)
KMS_KEY_TYPE = "AWS::KMS::Key"
KMS_REPLICA_KEY_TYPE = "AWS::KMS::ReplicaKey"
KMS_KEY_TYPES = (KMS_KEY_TYPE, KMS_REPLICA_KEY_TYPE)
BACKUP_VAULT_TYPE = "AWS::Backup::BackupVault"
ROLE_TYPE = "AWS::IAM::Role"
# Resources that hold data or the means to read it: never replaced or removed unnoticed.
STATEFUL_TYPES = (*TABLE_TYPES, *KMS_KEY_TYPES, BACKUP_VAULT_TYPE)

# Outputs of the data stack, exported as "<data stack name>-<name>".
TABLE_NAME_EXPORT, TABLE_ARN_EXPORT, STREAM_ARN_EXPORT, KEY_ARN_EXPORT = "TableName", "TableArn", "StreamArn", "KeyArn"
# The key id alone: a multi-Region key's replicas share it, so grants name each Region's key with it.
KEY_ID_EXPORT = "KeyId"
# The replica key stack's input: the data stack's KeyArn output.
PRIMARY_KEY_PARAMETER = "PrimaryKeyArn"
REPLICA_KEY_ID, REPLICA_KEY_ALIAS_ID = "ReplicaKey", "ReplicaKeyAlias"


def key_logical_id(global_table: bool) -> str:
    """The data stack's customer managed key: GlobalTableKey for a global table, else TableKey."""
    return GLOBAL_KEY_ID if global_table else KEY_ID


# A multi-account global table's replica in another account: that account's stacks, kind
# "account-<account id>-<kind>" (its data and access stacks), in build/<env>/ beside the source's.
ACCOUNT_KIND_PREFIX = "account-"


def account_kind(account: str, kind: str) -> str:
    return f"{ACCOUNT_KIND_PREFIX}{account}-{kind}"


def account_of_kind(kind: str) -> tuple[str, str] | None:
    """(account, kind) of an account-<account>-<kind> stack kind; None for any other kind."""
    if not kind.startswith(ACCOUNT_KIND_PREFIX):
        return None
    account, _, rest = kind.removeprefix(ACCOUNT_KIND_PREFIX).partition("-")
    return account, rest


def replica_key_kind(region: str) -> str:
    return f"{REPLICA_KEY_KIND_PREFIX}{region}"


def replica_key_region(kind: str) -> str | None:
    """The Region of a replica key stack kind, or None for any other kind."""
    return kind.removeprefix(REPLICA_KEY_KIND_PREFIX) if kind.startswith(REPLICA_KEY_KIND_PREFIX) else None


def stack_name(spec: Spec, kind: str) -> str:
    if kind == DATA:
        return data_stack_name(spec.stack_prefix, spec.design.generation)
    if kind == MIGRATION:
        return f"{spec.stack_prefix}-{kind}-v{spec.design.generation}"
    return f"{spec.stack_prefix}-{kind}"


# The data template's Metadata key holding its key schema's generation (absent: 1).
GENERATION_METADATA = "KeySchemaGeneration"


def generation_of(template: dict[str, Any]) -> int:
    return int((template.get("Metadata") or {}).get(GENERATION_METADATA, 1))


def data_stack_name(prefix: str, generation: int) -> str:
    """A key schema's generation n > 1 lives in "<prefix>-data-v<n>", beside the one it migrates from."""
    return f"{prefix}-{DATA}" + (f"-v{generation}" if generation > 1 else "")


def migration_prefix(prefix: str, generation: int) -> str:
    """The S3 prefix of a migration's files in the export bucket: the export, the backfill's results, the
    access template kept for rollback (migrate writes them; the consumer's roles may reach only them)."""
    return f"migrations/{prefix}/v{generation}"


# Under migration_prefix: the export DynamoDB writes (<export>/AWSDynamoDB/<id>/data/*.json.gz) and the
# managed backfill's results (Step Functions' ResultWriter).
MIGRATION_EXPORT_DIR, MIGRATION_RESULTS_DIR = "export", "backfill-results"


def backfill_machine_name(prefix: str, generation: int) -> str:
    """The managed backfill's state machine: named, so its role can name it (and its executions)."""
    return f"{prefix}-migration-v{generation}-backfill"


def export_name(spec: Spec, output: str) -> str:
    return f"{stack_name(spec, DATA)}-{output}"


def role_name(spec: Spec, role: str) -> str:
    return f"{spec.stack_prefix}-{role.replace('_', '-')}"


def deploy_role_name(spec: Spec) -> str:
    return f"{spec.stack_prefix}-deploy"


def deploy_role_arn(spec: Spec) -> str:
    """The deploy role's ARN, as a Fn::Sub template (partition and account from the stack)."""
    path = spec.env.access.role_path if spec.env.access is not None else "/"
    return f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{path}{deploy_role_name(spec)}"


# DynamoDB's AWS managed key (encryption: aws_managed).
AWS_MANAGED_DYNAMODB_ALIAS = "alias/aws/dynamodb"


def key_alias_name(spec: Spec) -> str:
    """The alias of the table's key, in the data stack's Region and each replica key's."""
    return f"alias/{spec.table_name}"


def role_logical_id(role: str) -> str:
    return "".join(part.capitalize() for part in role.split("_")) + "Role"
