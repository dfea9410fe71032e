"""Every rule-pack suppression, each with its evidence, written into the resource's Metadata.

checkov reads `Metadata.checkov.skip`, cdk-nag `Metadata.cdk_nag.rules_to_suppress`
(with `applies_to` for IAM5's per-resource findings). A suppression exists
only where a finding is a deliberate choice, and says why; everything else
must pass (`make security`).
"""

from __future__ import annotations

from typing import Any

from ..spec.environment import Backup
from ..spec.loader import Spec
from .grants import ANY, BACKUPS, EXPORTS, STREAM, Grant

NAG_PACKS = ("HIPAA.Security", "NIST.800.53.R5")

# cdk-nag renders a Sub-built ARN as its JSON; match the stable part.
_WILDCARD_RESOURCES = {
    STREAM: (
        "/stream/\\*",
        "the table's own streams: a stream's label changes when it is re-enabled, and importing "
        "the exported StreamArn would block the data stack from ever replacing its stream",
    ),
    BACKUPS: ("/backup/\\*", "DescribeBackup on this table's backups, whose ARNs AWS generates"),
    EXPORTS: ("/export/\\*", "DescribeExport on this table's exports, whose ARNs AWS generates"),
}
_STAR_ONLY = "supports no resource ARN (Service Authorization Reference) and returns metadata only, no items"


def _nag(rule_id: str, reason: str, applies_to: list[Any] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": rule_id, "reason": reason}
    if applies_to:
        entry["applies_to"] = applies_to
    return entry


def table_suppressions(spec: Spec) -> dict[str, Any]:
    """What an unprotected environment opts out of, on the table."""
    env, checkov, nag = spec.env, [], []
    why = f"environment {spec.env_name} is unprotected"
    if not env.customer_key:
        checkov.append({"id": "CKV_AWS_119", "comment": f"{why} and chose {env.encryption} encryption"})
    if not env.point_in_time_recovery.enabled:
        reason = f"{why} and turns PITR off to save cost"
        checkov.append({"id": "CKV_AWS_28", "comment": reason})
        nag += [_nag("AwsSolutions-DDB3", reason)] + [_nag(f"{p}-DynamoDBPITREnabled", reason) for p in NAG_PACKS]
    if spec.backup is None:
        reason = f"{why} and has no AWS Backup plan (backup: to opt in)"
        nag += [_nag(f"{p}-DynamoDBInBackupPlan", reason) for p in NAG_PACKS]
    metadata: dict[str, Any] = {}
    if checkov:
        metadata["checkov"] = {"skip": checkov}
    if nag:
        metadata["cdk_nag"] = {"rules_to_suppress": nag}
    return metadata


def role_suppressions(grants: list[Grant]) -> dict[str, Any]:
    """An access-stack role: its inline policy, and every wildcard resource its grants need."""
    inline = (
        "inline by design: the policy is derived from this role's access patterns, lives and dies with the role, "
        "and every grant is listed in build/<env>/access-report.md"
    )
    nag = [_nag(f"{p}-IAMNoInlinePolicy", inline) for p in NAG_PACKS]
    for grant in grants:
        for resource in grant.resources:
            if resource == ANY:
                actions = ", ".join(grant.actions)
                nag.append(_nag("AwsSolutions-IAM5", f"{actions} {_STAR_ONLY}", ["Resource::*"]))
            elif resource in _WILDCARD_RESOURCES:
                pattern, reason = _WILDCARD_RESOURCES[resource]
                nag.append(_nag("AwsSolutions-IAM5", reason, [{"regex": f"/^Resource::.*{pattern}.*$/g"}]))
            elif resource.startswith("s3:") and resource.endswith("*"):
                nag.append(
                    _nag(
                        "AwsSolutions-IAM5",
                        "DynamoDB's export writes objects it names itself, under the configured prefix only, and only "
                        "DynamoDB may (aws:CalledVia), into a bucket of the expected account (s3:ResourceAccount); ACL "
                        "headers are conditioned so no object can be made public",
                        [{"regex": "/^Resource::arn:<AWS::Partition>:s3:::.*\\*$/g"}],
                    )
                )
    return {"cdk_nag": {"rules_to_suppress": nag}}


def backup_role_suppressions(plan: Backup) -> dict[str, Any]:
    """The AWS Backup role: its inline policy, and the wildcards AWS Backup's own ARNs need."""
    inline = (
        "inline by design: AWS Backup's role for this table only, scoped to the table, its backups, this vault "
        "and these keys (instead of the account-wide AWSBackupServiceRolePolicyForBackup); lives and dies with "
        "the role"
    )
    nag = [_nag(f"{p}-IAMNoInlinePolicy", inline) for p in NAG_PACKS]
    wildcards = [
        (
            "/backup/\\*",
            "DescribeBackup and DeleteBackup (lifecycle) on this table's backups, whose ARNs AWS generates",
        ),
        (
            ":recovery-point:\\*",
            "TagResource (and, with a copy, CopyFromBackupVault) on this account's and Region's recovery points, "
            "whose ARNs AWS Backup generates",
        ),
    ]
    if plan.copy_to_vault_arn is not None:
        wildcards.append(
            (
                ":key/\\*",
                "DescribeKey and CreateGrant (for AWS resources only) on the copy vault's Region and account: its "
                "key is not known to this stack",
            )
        )
    nag += [_nag("AwsSolutions-IAM5", why, [{"regex": f"/^Resource::.*{pattern}.*$/g"}]) for pattern, why in wildcards]
    nag.append(_nag("AwsSolutions-IAM5", f"tag:GetResources {_STAR_ONLY}", ["Resource::*"]))
    return {"cdk_nag": {"rules_to_suppress": nag}}


# -- the migration stack (stacks/migration_stack.py) --------------------------------

# checkov's findings on the migration stack that are deliberate, with why.
CONSUMER_SKIPS = (
    ("CKV_AWS_117", "calls only DynamoDB, DynamoDB Streams, S3 and SQS, public endpoints authorised by its role"),
    ("CKV_AWS_173", "its environment holds the table's name, the queue's URL and the transform: no secret"),
)
QUEUE_SKIPS = (("CKV_AWS_27", "encrypted at rest by SQS (SqsManagedSseEnabled: SSE-SQS)"),)
LOG_SKIPS = (("CKV_AWS_158", "the handler logs no item: a record it cannot write goes to the dead-letter queue"),)


# cdk-nag's findings that are deliberate, with why (applies_to: IAM5's per-resource findings, as regexes).
_INLINE = "inline by design: this migration's role only, scoped to its tables, files and queue; removed at retire"
CONSUMER_NAG = (
    *((f"{p}-LambdaInsideVPC", CONSUMER_SKIPS[0][1], None) for p in NAG_PACKS),
    ("AwsSolutions-L1", "the runtime the transform is tested on, pinned; moved in a reviewed change", None),
)
LOG_NAG = tuple((f"{p}-CloudWatchLogGroupEncrypted", LOG_SKIPS[0][1], None) for p in NAG_PACKS)
CONSUMER_ROLE_NAG = (
    *((f"{p}-IAMNoInlinePolicy", _INLINE, None) for p in NAG_PACKS),
    ("AwsSolutions-IAM5", "the old table's streams: a stream's label is AWS's", "/stream/\\*"),
    ("AwsSolutions-IAM5", "dynamodb:ListStreams supports no resource ARN (Service Authorization Reference)", "*"),
    ("AwsSolutions-IAM5", "the export's data files, named by DynamoDB, under this migration's prefix", "/export/\\*"),
)
BACKFILL_ROLE_NAG = (
    *((f"{p}-IAMNoInlinePolicy", _INLINE, None) for p in NAG_PACKS),
    ("AwsSolutions-IAM5", "the loader function's versions (Step Functions' lambda:invoke)", ":\\*"),
    (
        "AwsSolutions-IAM5",
        "the results file Step Functions names, under this migration's prefix",
        "/backfill-results/\\*",
    ),
    ("AwsSolutions-IAM5", "the Distributed Map's child executions, named by Step Functions", ":execution:.*[/:]\\*"),
)
MACHINE_NAG = (
    (
        "AwsSolutions-SF1",
        "a STANDARD workflow's execution history is kept by Step Functions for 90 days and read by migrate; log "
        "delivery to CloudWatch Logs would need logs:*LogDelivery on every resource",
        None,
    ),
    ("AwsSolutions-SF2", "one Lambda call per file: X-Ray adds nothing the function's errors alarm misses", None),
)


def migration_skips(
    found: tuple[tuple[str, str], ...], nag: tuple[tuple[str, str, str | None], ...] = ()
) -> dict[str, object]:
    return {"checkov": {"skip": [{"id": rule, "comment": why} for rule, why in found]}, **migration_nag(nag)}


def _applies_to(resource: str) -> object:
    """ "*" the finding on Resource::* itself; anything else a regex over the rendered resource."""
    return "Resource::*" if resource == "*" else {"regex": f"/^Resource::.*{resource}.*$/g"}


def migration_nag(found: tuple[tuple[str, str, str | None], ...]) -> dict[str, object]:
    if not found:
        return {}
    return {
        "cdk_nag": {
            "rules_to_suppress": [
                {"id": rule, "reason": why, **({"applies_to": [_applies_to(at)]} if at else {})}
                for rule, why, at in found
            ]
        }
    }
