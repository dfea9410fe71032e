"""The KMS actions our policies allow or deny, one named set per intent.

The key policies (encryption.py), the roles' grants (grants.py) and the backup role
(backup.py) take their KMS actions from here. Sets that look alike stay apart where their
intent differs: a role that only reads never gets what a writer needs. The deploy role's
filters over the registry's handler permissions live with it (deploy_role.py).
"""

from __future__ import annotations

# Manage, never use: no Encrypt/Decrypt/GenerateDataKey and no CreateGrant
# (a grant could hand its holder the use of the key).
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
)
# Actions that destroy or lock away access to the data: directly, only the named administrators (and
# the root user, break-glass). Revoking DynamoDB's grant or rewriting the policy makes the table
# inaccessible (DynamoDB archives it after 7 days); disabling rotation weakens it silently.
KEY_DESTRUCTIVE_ACTIONS = (
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
)
# Creating AWS::KMS::Alias needs kms:CreateAlias on the key (key policy) as well as on the alias
# (IAM policy): alias-access.html, "Controlling access to aliases".
KEY_ALIAS_ACTIONS = ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias")
# The account's own statement: recovery (PutKeyPolicy, for the root user: encryption.py denies it to the
# rest) and reading the key's settings, which IAM then grants (deploy's read-back: rotation, policy).
KEY_RECOVERY_ACTIONS = ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:PutKeyPolicy")
# A global table's multi-Region key: an administrator (the deploying role) replicates it into
# each replica Region (AWS::KMS::ReplicaKey calls ReplicateKey on the primary) and may move
# the primary Region (encryption._multi_region_statements: which Regions).
KEY_REPLICATE_ACTIONS = ("kms:ReplicateKey",)
KEY_MOVE_PRIMARY_ACTIONS = ("kms:UpdatePrimaryRegion",)

# What a role that only reads through DynamoDB needs of the table's key (reader, stream consumer, ops).
KEY_READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
# What a service (DynamoDB, AWS Backup) does with a key on its caller's behalf: all a writer
# needs of the table's key, and what the key policy lets the account use through that service.
KEY_USE_ACTIONS = KEY_READ_ACTIONS + (
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
# Making and opening data keys under a key for another service's writes: S3 writing an export
# with SSE-KMS (the ops role), AWS Backup through DynamoDB (the backup role; the managed
# policy's KMSDynamoDBPermissions).
DATA_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
KEY_DESCRIBE_ACTIONS = ("kms:DescribeKey",)
# A service's grant on a key (only for AWS resources), and its retiring when what holds it goes.
KEY_GRANT_ACTIONS = ("kms:CreateGrant",)
KEY_RETIRE_GRANT_ACTIONS = ("kms:RetireGrant",)
