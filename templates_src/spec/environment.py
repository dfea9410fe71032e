"""Environment configs: how one design is deployed to one account and region.

Defaults are the safe choice (Retain, deletion protection, PITR, a KMS key),
so leaving a setting out can never lose data; dev opts out explicitly.
"""

# No `from __future__ import annotations`, and `[]`/`{}` for empty defaults: see design.py.

from typing import Annotated, Literal, Optional, Union

from pydantic import Discriminator, Field, StringConstraints, Tag

from . import limits
from .design import StrictModel, TableName
from .traffic import Traffic

Encryption = Literal["aws_owned", "aws_managed", "customer_managed"]
# A key's ARN or its alias's ARN (KMS key-arn and alias-arn; a multi-Region key's id starts mrk-).
KmsKeyRef = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})|alias/[A-Za-z0-9/_-]{1,250})$"
    ),
]
# A key's ARN alone (no alias): how DescribeTable names a replica's key (SSEDescription.KMSMasterKeyArn).
KmsKeyOnlyArn = Annotated[
    str,
    StringConstraints(pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$"),
]
StreamViewType = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]
TableClass = Literal["STANDARD", "STANDARD_INFREQUENT_ACCESS"]
Retention = Literal["Retain", "Delete"]
AccountId = Annotated[str, StringConstraints(pattern=limits.ACCOUNT_ID_PATTERN)]
Region = Annotated[str, StringConstraints(pattern=limits.REGION_PATTERN)]
# CloudFormation stack names: a letter, then letters, digits and hyphens; the
# longest suffix we add is "-access", so leave room for it within 128.
StackPrefix = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,119}$")]
SnsTopicArn = Annotated[
    str, StringConstraints(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$")
]


class Capacity(StrictModel):
    min: int = Field(ge=limits.PROVISIONED_CAPACITY_MIN, le=limits.PROVISIONED_CAPACITY_MAX)
    max: int = Field(ge=limits.PROVISIONED_CAPACITY_MIN, le=limits.PROVISIONED_CAPACITY_MAX)
    target_utilization: int = Field(default=70, ge=limits.TARGET_UTILIZATION_MIN, le=limits.TARGET_UTILIZATION_MAX)


class Billing(StrictModel):
    mode: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"
    read: Optional[Capacity] = None
    write: Optional[Capacity] = None
    # PAY_PER_REQUEST only: a cap on request units per second (OnDemandThroughput),
    # on the table and on every GSI: a cost-safety limit; beyond it requests throttle.
    max_read_request_units: Optional[int] = Field(default=None, ge=limits.ON_DEMAND_MAX_UNITS_MIN)
    max_write_request_units: Optional[int] = Field(default=None, ge=limits.ON_DEMAND_MAX_UNITS_MIN)


class PointInTimeRecovery(StrictModel):
    enabled: bool = True
    recovery_period_days: int = Field(
        default=limits.PITR_RECOVERY_PERIOD_MAX_DAYS,
        ge=limits.PITR_RECOVERY_PERIOD_MIN_DAYS,
        le=limits.PITR_RECOVERY_PERIOD_MAX_DAYS,
    )


BackupVaultArn = Annotated[
    str, StringConstraints(pattern=r"^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$")
]
ScheduleExpression = Annotated[str, StringConstraints(pattern=r"^(cron|rate)\(.+\)$")]


class VaultLock(StrictModel):
    """AWS Backup Vault Lock on the table's vault (LockConfiguration): opt-in.

    governance: the lock holds until an administrator (key_admins) removes or
    changes it. compliance: after changeable_for_days (at least 3, AWS's
    cooling-off) it can never be changed or removed, by anyone, and the
    vault's recovery points are kept until their retention ends.
    """

    mode: Literal["governance", "compliance"]
    min_retention_days: int = Field(ge=limits.VAULT_LOCK_RETENTION_MIN_DAYS, le=limits.VAULT_LOCK_RETENTION_MAX_DAYS)
    max_retention_days: Optional[int] = Field(
        default=None, ge=limits.VAULT_LOCK_RETENTION_MIN_DAYS, le=limits.VAULT_LOCK_RETENTION_MAX_DAYS
    )
    # compliance only (N207): days until the lock becomes immutable.
    changeable_for_days: Optional[int] = Field(
        default=None, ge=limits.VAULT_LOCK_CHANGEABLE_MIN_DAYS, le=limits.VAULT_LOCK_CHANGEABLE_MAX_DAYS
    )


class Backup(StrictModel):
    """An AWS Backup plan for the table (on by default in a protected environment)."""

    enabled: bool = True
    schedule: ScheduleExpression = "cron(0 3 * * ? *)"  # daily, 03:00 UTC
    retention_days: int = Field(default=35, ge=limits.BACKUP_RETENTION_MIN_DAYS, le=limits.BACKUP_RETENTION_MAX_DAYS)
    # A vault in another region (or account) that each backup is copied to.
    copy_to_vault_arn: Optional[BackupVaultArn] = None
    # Why a protected environment has no backup plan (required then).
    reason: str = ""
    # Vault Lock on the vault; absent: none (the vault's access policy still applies).
    vault_lock: Optional[VaultLock] = None


class Alarms(StrictModel):
    # Passed as the AlarmTopicArn stack parameter: a deploy-time input.
    topic_arn: SnsTopicArn


# The characters of an IAM role, user or policy name and path: IAM's `[\w+=,.@-]`, whose \w
# (a Java regex) is ASCII. Spelt out: a Unicode \w costs pydantic-core ~0.8 ms to compile, each.
IAM_NAME_CHARS = r"[A-Za-z0-9_+=,.@/-]"
# A trusted principal: a service ("lambda.amazonaws.com"), an account id, or
# an IAM role/user ARN.
TrustedPrincipal = Annotated[
    str,
    StringConstraints(
        pattern=rf"^([a-z0-9.-]+\.amazonaws\.com|[0-9]{{12}}|arn:aws[a-z-]*:iam::[0-9]{{12}}:(root|role/{IAM_NAME_CHARS}+|user/{IAM_NAME_CHARS}+))$"
    ),
]
BucketName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
S3Prefix = Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9!_.*'()/-]+/)?$", max_length=512)]
IdentityPoolId = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]:[0-9a-f-]{36}$")]
RolePath = Annotated[
    str, StringConstraints(pattern=r"^/([A-Za-z0-9+=,.@_-]+/)*$", max_length=limits.IAM_PATH_MAX_LENGTH)
]
ManagedPolicyArn = Annotated[
    str, StringConstraints(pattern=rf"^arn:aws[a-z-]*:iam::[0-9]{{12}}:policy/{IAM_NAME_CHARS}+$")
]


# A named IAM role or user (not an account, not a wildcard).
IamRoleOrUserArn = Annotated[
    str, StringConstraints(pattern=rf"^arn:aws[a-z-]*:iam::[0-9]{{12}}:(role|user)/{IAM_NAME_CHARS}+$")
]


SourceArn = Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+$")]


class TrustedRole(StrictModel):
    trusted: list[TrustedPrincipal] = Field(min_length=1)
    # An account id (or :root) trusts every principal that account allows:
    # only with this set, never implied.
    trust_whole_account: bool = False
    # Service principals: the functions, clusters or tasks that may assume the
    # role (aws:SourceArn, ArnLike); aws:SourceAccount is always set.
    source_arns: list[SourceArn] = []


KmsKeyArn = Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-f0-9-]{36}$")]


class OpsRole(TrustedRole):
    # Backups and exports to S3 (seed 001's "Data Management").
    export_bucket: BucketName
    export_prefix: S3Prefix = "dynamodb-exports/"
    # The account that owns export_bucket (ExportTableToPointInTime's S3BucketOwner); absent: this
    # environment's account. Exports write only into a bucket of this account (s3:ResourceAccount).
    export_bucket_owner: Optional[AccountId] = None
    # Exports encrypted with this KMS key (SSE-KMS) instead of the bucket's default
    # (required in a protected environment: N205).
    export_kms_key_arn: Optional[KmsKeyArn] = None


class PerUserRole(StrictModel):
    # Clients reaching the table through a Cognito identity pool.
    identity_pool_id: IdentityPoolId


class AccessRoles(StrictModel):
    app: Optional[TrustedRole] = None
    reader: Optional[TrustedRole] = None
    stream_consumer: Optional[TrustedRole] = None
    ops: Optional[OpsRole] = None
    per_user: Optional[PerUserRole] = None


class Access(StrictModel):
    role_path: RolePath = "/"
    # Deploy-time input: passed as the PermissionsBoundaryArn stack parameter.
    permissions_boundary_arn: Optional[ManagedPolicyArn] = None
    roles: AccessRoles


GitHubRepository = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")]
GitHubEnvironment = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,255}$")]
WorkflowPath = Annotated[str, StringConstraints(pattern=r"^\.github/workflows/[A-Za-z0-9._-]+\.ya?ml$")]
GitRef = Annotated[str, StringConstraints(pattern=r"^refs/(heads|tags)/[A-Za-z0-9._/-]{1,200}$")]
EnvironmentName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,100}$")]
OidcProviderArn = Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$")]


class Ci(StrictModel):
    """The deploy role a GitHub Actions workflow assumes through OIDC (no stored keys)."""

    github_repository: GitHubRepository  # owner/name
    # The GitHub environment whose jobs may assume the role (its protection
    # rules then gate every deploy); default: the environment's own name.
    github_environment: Optional[GitHubEnvironment] = None
    # Default: this account's token.actions.githubusercontent.com provider.
    oidc_provider_arn: Optional[OidcProviderArn] = None
    # The workflow that runs the deploy (its token's workflow_ref), the reusable workflow the
    # deploy job runs in (job_workflow_ref), and the ref both must run from (ref): the role
    # trusts only that job (docs/pull-requests.md: The deploy role).
    deploy_workflow: WorkflowPath = ".github/workflows/deploy.yml"
    deploy_job_workflow: WorkflowPath = ".github/workflows/deploy-environment.yml"
    deploy_ref: GitRef = "refs/heads/main"
    # The environments (by file name) this one deploys after in the generated deploy workflow
    # (stacks/workflow.py): waves such as dev -> staging -> every prod Region follow from the files.
    deploy_after: list[EnvironmentName] = []


Consistency = Literal["EVENTUAL", "STRONG"]


class Replica(StrictModel):
    """Another Region's copy of a global table; an unset field follows the environment's setting.

    Writes, keys, indexes, TTL, streams and billing mode are the global table's
    own (one value for every replica); these are what AWS lets differ per replica.
    """

    region: Region
    # The account holding this replica: a multi-account global table (EVENTUAL only, every replica in an
    # account of its own, the environment's account the source's: N616-N619). Absent: the environment's
    # account (a same-account replica).
    account: Optional[AccountId] = None
    # A replica in another account, with a customer managed key: who administers that account's key
    # (the environment's key_admins are the source account's).
    key_admins: list[IamRoleOrUserArn] = []
    deletion_protection: Optional[bool] = None
    point_in_time_recovery: Optional[PointInTimeRecovery] = None
    table_class: Optional[TableClass] = None
    contributor_insights: Optional[bool] = None
    tags: dict[str, str] = {}
    # PROVISIONED only: this replica's read auto scaling (write capacity is global: billing.write).
    read: Optional[Capacity] = None
    # Under an existing key (encryption: {kms_key_arn}): this replica's key, in its own Region (N701,
    # N702); DynamoDB encrypts each replica with a key of that replica's Region. Otherwise unset (N703).
    kms_key_arn: Optional[KmsKeyOnlyArn] = None


class WarmThroughput(StrictModel):
    """Pre-warmed throughput (WarmThroughput): what the table serves at once, before it scales."""

    read_units_per_second: Optional[int] = Field(default=None, ge=limits.WARM_THROUGHPUT_MIN_UNITS)
    write_units_per_second: Optional[int] = Field(default=None, ge=limits.WARM_THROUGHPUT_MIN_UNITS)


KinesisStreamArn = Annotated[
    str, StringConstraints(pattern=r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[A-Za-z0-9_.-]{1,128}$")
]


class KinesisStream(StrictModel):
    """Item changes also go to a Kinesis data stream (KinesisStreamSpecification)."""

    stream_arn: KinesisStreamArn
    approximate_creation_date_time_precision: Optional[Literal["MICROSECOND", "MILLISECOND"]] = None


class StreamResourcePolicySettings(StrictModel):
    """The DynamoDB stream's resource-based policy: explicit Denies, like the table's."""

    deny_insecure_transport: bool = True
    deny_other_accounts: bool = True


class ResourcePolicySettings(StrictModel):
    """The table's resource-based policy (stacks/resource_policy.py): explicit Denies.

    On in every environment (each deny true unless set false); only an
    unprotected environment may turn one off (N206; N407 warns), and with
    both off there is no policy.
    """

    deny_insecure_transport: bool = True
    deny_other_accounts: bool = True


class ExistingKey(StrictModel):
    """A customer managed key the project neither creates nor manages: its policy is its owner's.

    The table is encrypted with it, the roles' grants name only it (through DynamoDB, as for the
    project's own key), and a protected environment accepts it.
    """

    kms_key_arn: KmsKeyRef


# One branch validated by the value's shape (a name or a mapping), so an error names that branch's
# problem alone; the tags are dropped from error paths (rules/schema.py: UNION_TAGS).
ENCRYPTION_BY_NAME, ENCRYPTION_BY_KEY = "(encryption name)", "(existing key)"
UNION_TAGS = frozenset({ENCRYPTION_BY_NAME, ENCRYPTION_BY_KEY})
EncryptionChoice = Annotated[
    Union[Annotated[Encryption, Tag(ENCRYPTION_BY_NAME)], Annotated[ExistingKey, Tag(ENCRYPTION_BY_KEY)]],
    Discriminator(lambda v: ENCRYPTION_BY_KEY if isinstance(v, (dict, ExistingKey)) else ENCRYPTION_BY_NAME),
]


class Environment(StrictModel):
    # Defaults of nested models are built with model_construct: every field its default, nothing to
    # validate, and no validator of their own to build (defer_build).
    design: str
    account_id: AccountId
    region: Region
    # protected: the table must be Retain, deletion-protected, PITR-backed and
    # encrypted with a customer managed key; deploy refuses to destroy it.
    protected: bool = True
    stack_prefix: Optional[StackPrefix] = None
    table_name: Optional[TableName] = None
    billing: Billing = Field(default_factory=Billing.model_construct)
    # aws_owned, aws_managed, customer_managed (a key the data stack creates), or an existing key:
    # {kms_key_arn: <key or alias ARN>}.
    encryption: EncryptionChoice = "customer_managed"
    # customer_managed: who may manage the key (never use it). The principal
    # that deploys the data stack must be one of them (KMS's lockout check).
    key_admins: list[IamRoleOrUserArn] = []
    point_in_time_recovery: PointInTimeRecovery = Field(default_factory=PointInTimeRecovery.model_construct)
    deletion_protection: bool = True
    retention: Retention = "Retain"
    ttl_days: Optional[int] = Field(default=None, ge=limits.TTL_DAYS_MIN, le=limits.TTL_DAYS_MAX)
    stream_view_type: Optional[StreamViewType] = None
    contributor_insights: bool = False
    # The table's resource-based policy: TLS only and this account only, by default everywhere.
    resource_policy: ResourcePolicySettings = Field(default_factory=ResourcePolicySettings.model_construct)
    # Which keys CloudWatch Contributor Insights reports (absent: AWS's default, both).
    contributor_insights_mode: Optional[Literal["ACCESSED_AND_THROTTLED_KEYS", "THROTTLED_KEYS"]] = None
    table_class: TableClass = "STANDARD"
    tags: dict[str, str] = {}
    alarms: Optional[Alarms] = None
    # Absent: on (defaults) when protected, off otherwise.
    backup: Optional[Backup] = None
    access: Optional[Access] = None
    # Extra regions taskcat deploys the data stack to (besides `region`).
    test_regions: list[Region] = []
    # Requests and sizes per access pattern: what `cost` and the plan price.
    traffic: Optional[Traffic] = None
    # A deploy role for GitHub Actions (build/<env>/deploy-role.*).
    ci: Optional[Ci] = None
    # AWS::DynamoDB::GlobalTable instead of AWS::DynamoDB::Table, with this
    # environment's region as one replica. Fixed for a table's life: moving a
    # live table across is a migration, not an edit (docs/global-tables.md: Moving a live table to a
    # global table).
    global_table: bool = False
    replicas: list[Replica] = []
    # Global tables only; absent: EVENTUAL (AWS's default). Fixed at creation.
    multi_region_consistency: Optional[Consistency] = None
    # STRONG with two replicas: the third Region, which holds no data.
    witness_region: Optional[Region] = None
    warm_throughput: Optional[WarmThroughput] = None
    kinesis_stream: Optional[KinesisStream] = None
    # The DynamoDB stream's resource-based policy, like the table's: on by default wherever
    # there is a stream (stream_view_type); set without a stream it is an error (N611).
    stream_resource_policy: StreamResourcePolicySettings = Field(
        default_factory=StreamResourcePolicySettings.model_construct
    )

    @property
    def existing_key_arn(self) -> Optional[str]:
        """The existing key's (or its alias's) ARN, when encryption names one."""
        return self.encryption.kms_key_arn if isinstance(self.encryption, ExistingKey) else None

    @property
    def existing_key_arns(self) -> tuple[str, ...]:
        """Every existing key the table uses: the environment's, then each replica's (global tables)."""
        if self.existing_key_arn is None:
            return ()
        return (self.existing_key_arn, *(r.kms_key_arn for r in self.replicas if r.kms_key_arn is not None))

    @property
    def customer_key(self) -> bool:
        """Encrypted with a customer managed key: the project's own or an existing one."""
        return self.encryption == "customer_managed" or self.existing_key_arn is not None

    @property
    def replica_regions(self) -> list[str]:
        """Every Region holding a copy of the table: this environment's first."""
        return [self.region, *(r.region for r in self.replicas)]

    @property
    def other_account_replicas(self) -> list[Replica]:
        """The replicas in accounts other than this environment's (a multi-account global table)."""
        return [r for r in self.replicas if r.account is not None and r.account != self.account_id]


# Added to every environment's tags; a config may override their values.
STANDARD_TAG_KEYS = ("Design", "Environment", "ManagedBy")
# Together they name an environment's resources: the deploy role reaches a key only with both.
ENVIRONMENT_TAG_KEYS = STANDARD_TAG_KEYS[:2]
