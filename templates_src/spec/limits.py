"""Service limits the validators enforce, named once so errors can cite them.

Values come from the DynamoDB, IAM and tagging service quotas pages. The GSI
count is the default quota (it can be raised); the others are hard limits.
"""

from __future__ import annotations

# DynamoDB
MAX_GLOBAL_SECONDARY_INDEXES = 20
MAX_LOCAL_SECONDARY_INDEXES = 5
MAX_PROJECTED_NON_KEY_ATTRIBUTES = 100  # summed over every index of a table
TABLE_NAME_MIN_LENGTH = 3
TABLE_NAME_MAX_LENGTH = 255
INDEX_NAME_MIN_LENGTH = 3
INDEX_NAME_MAX_LENGTH = 255
# Table and index names: letters, digits, underscore, hyphen, dot.
NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
ATTRIBUTE_NAME_MAX_LENGTH = 255
# Item size (attribute names and values together), and what one partition
# serves per second (Best practices: partition key design).
ITEM_SIZE_MAX_KB = 400
PARTITION_READ_UNITS_PER_SECOND_MAX = 3000
PARTITION_WRITE_UNITS_PER_SECOND_MAX = 1000
# Items per request (API reference of each operation).
BATCH_GET_ITEMS_MAX = 100
BATCH_WRITE_ITEMS_MAX = 25
TRANSACT_ITEMS_MAX = 100
PITR_RECOVERY_PERIOD_MIN_DAYS = 1
PITR_RECOVERY_PERIOD_MAX_DAYS = 35
# AWS Backup lifecycle DeleteAfterDays (BackupPlan Lifecycle).
BACKUP_RETENTION_MIN_DAYS = 1
BACKUP_RETENTION_MAX_DAYS = 36500
# AWS Backup Vault Lock (PutBackupVaultLockConfiguration; AWS::Backup::BackupVault
# LockConfigurationType): retention from 1 day to 36,500 days; ChangeableForDays
# at least 3 (the 72-hour cooling-off) and at most 36,500.
VAULT_LOCK_RETENTION_MIN_DAYS = 1
VAULT_LOCK_RETENTION_MAX_DAYS = 36500
VAULT_LOCK_CHANGEABLE_MIN_DAYS = 3
VAULT_LOCK_CHANGEABLE_MAX_DAYS = 36500
# TTL deletes within days of expiry; beyond ~a century it is a typo.
TTL_DAYS_MIN = 1
TTL_DAYS_MAX = 36500
PROVISIONED_CAPACITY_MIN = 1
PROVISIONED_CAPACITY_MAX = 40000  # default per-table quota
# OnDemandThroughput.MaxRead/WriteRequestUnits (AWS::DynamoDB::Table schema: minimum 1).
ON_DEMAND_MAX_UNITS_MIN = 1
# WarmThroughput Read/WriteUnitsPerSecond (registry schema: minimum 1).
WARM_THROUGHPUT_MIN_UNITS = 1
# What a new on-demand table (and GSI) serves at once without pre-warming
# (DynamoDB developer guide, warm-throughput-scenarios).
ON_DEMAND_DEFAULT_WARM_READ_UNITS = 12000
ON_DEMAND_DEFAULT_WARM_WRITE_UNITS = 4000
TARGET_UTILIZATION_MIN = 20
TARGET_UTILIZATION_MAX = 90

# Tags (AWS resource tagging rules)
TAG_KEY_MAX_LENGTH = 128
TAG_VALUE_MAX_LENGTH = 256
MAX_TAGS_PER_RESOURCE = 50
RESERVED_TAG_PREFIX = "aws:"
# Tag keys and values match ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$: Unicode letters,
# separators (spaces) and numbers, plus these characters (DynamoDB API_Tag).
TAG_UNICODE_CATEGORIES = ("L", "Z", "N")
TAG_PUNCTUATION = "_.:/=+-@"

# IAM
IAM_ROLE_NAME_MAX_LENGTH = 64
IAM_ROLE_POLICY_MAX_CHARS = 10240  # aggregate inline policy size per role
IAM_PATH_MAX_LENGTH = 512

# Global tables: multi-Region strong consistency runs within one of these
# Region sets, with three Regions (three replicas, or two and a witness).
# (AWS::DynamoDB::GlobalTable GlobalTableWitness; DynamoDB developer guide,
# V2globaltables_HowItWorks, consistency modes.)
MRSC_REGION_SETS = (
    ("us-east-1", "us-east-2", "us-west-2"),
    ("eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"),
    ("ap-northeast-1", "ap-northeast-2", "ap-northeast-3"),
)
MRSC_REGION_COUNT = 3

# Accounts and regions
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$"

# Key schema generations (design `generation`): the data stack of generation n > 1 is
# "<prefix>-data-v<n>"; two digits keep stack names short and sortable.
GENERATION_MAX = 99
# A DynamoDB stream keeps a record for 24 hours, then may trim it at any moment (DynamoDB developer
# guide, "Change data capture for DynamoDB Streams": "data that is older than 24 hours is susceptible to
# trimming"). A catch-up that goes on from the stream's last read must start within that, with time
# left to read the oldest records first (the local drain reads one shard after another): 4 hours.
STREAM_RETENTION_HOURS = 24
CATCH_UP_WITHIN_HOURS = STREAM_RETENTION_HOURS - 4
