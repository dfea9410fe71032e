"""IAM grants by intent, derived from the design's access patterns.

A Grant names its resources symbolically ("table", "index:X", "stream", ...)
so the same grants render into CloudFormation (access_stack.py) and into the
reviewers' access report (access_report.py).

Action groups are named like CDK's (read, write, stream read, key use), but a
role never receives a whole group "just in case": the item actions come from
the patterns that role performs, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ..spec.design import AccessPattern
from ..spec.environment import OpsRole
from ..spec.loader import Spec
from ..spec.operations import READ_OPERATIONS
from ..spec.roles import OPS, PATTERN_ROLES, PER_USER, ROLES, STREAM_CONSUMER
from .key_actions import DATA_KEY_ACTIONS, KEY_READ_ACTIONS, KEY_USE_ACTIONS

STREAM_READ_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
# These actions support no resource ARN: AWS requires Resource "*".
STREAM_LIST_ACTIONS = ("dynamodb:ListStreams",)
BACKUP_LIST_ACTIONS = ("dynamodb:ListBackups",)
BACKUP_TABLE_ACTIONS = (
    "dynamodb:CreateBackup",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:ExportTableToPointInTime",
)
BACKUP_DESCRIBE_ACTIONS = ("dynamodb:DescribeBackup",)
EXPORT_DESCRIBE_ACTIONS = ("dynamodb:DescribeExport",)
# What DynamoDB's export writes into the bucket as the caller: the DynamoDB
# developer guide (S3DataExport_Requesting.html, "Set up S3 permissions")
# lists s3:AbortMultipartUpload, s3:PutObject and s3:PutObjectAcl as required,
# so the ACL write stays, but only as DynamoDB's: every S3 action here needs
# aws:CalledVia dynamodb.amazonaws.com (DynamoDB is one of the services that
# set it: IAM User Guide, reference_policies_condition-keys.html#condition-keys-calledvia),
# so the role cannot call S3 itself, and so cannot send an ACL in a request body
# (which no header condition sees); and only into a bucket of the expected
# account (s3:ResourceAccount, Amazon S3 condition keys). Headers are still
# held to no ACL but bucket-owner-full-control and no grant headers.
EXPORT_S3_PUT_ACTIONS = ("s3:PutObject",)
EXPORT_S3_ACL_ACTIONS = ("s3:PutObjectAcl",)
EXPORT_S3_ABORT_ACTIONS = ("s3:AbortMultipartUpload",)
EXPORT_CALLER = "dynamodb.amazonaws.com"
EXPORT_ACL_SAFE: dict[str, dict[str, Any]] = {
    "StringEqualsIfExists": {"s3:x-amz-acl": "bucket-owner-full-control"},
    "Null": {
        "s3:x-amz-grant-full-control": "true",
        "s3:x-amz-grant-read": "true",
        "s3:x-amz-grant-read-acp": "true",
        "s3:x-amz-grant-write-acp": "true",
    },
}
COGNITO_SUB = "${cognito-identity.amazonaws.com:sub}"

# Symbolic resources.
TABLE = "table"
# The table's streams (table/X/stream/*), not the imported StreamArn: an
# export in use cannot change, so importing it would block the data stack
# from ever replacing its stream (a view-type change makes a new label).
STREAM = "stream"
KEY = "key"
BACKUPS = "backups"
EXPORTS = "exports"
ANY = "*"


def index(name: str) -> str:
    return f"index:{name}"


def table_arn_suffix(resource: str) -> str | None:
    """The part after the table ARN of a resource under the table, or None (ARN patterns live here)."""
    if resource == TABLE:
        return ""
    if resource.startswith("index:"):
        return "/index/" + resource.split(":", 1)[1]
    return {BACKUPS: "/backup/*", EXPORTS: "/export/*", STREAM: "/stream/*"}.get(resource)


def export_objects(bucket: str, prefix: str) -> str:
    return f"s3:{bucket}/{prefix}*"


class Grant(NamedTuple):
    """(A NamedTuple, as the other records synth builds: cheaper to define and to make than a frozen
    dataclass, which compiles six methods at import and sets each field through object.__setattr__.)"""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: dict[str, dict[str, Any]] = {}  # shared by every grant without one: read, never changed


def grants_for(spec: Spec, role: str) -> list[Grant]:
    builders: dict[str, Callable[[Spec, str], list[Grant]]] = {
        **dict.fromkeys(PATTERN_ROLES, _pattern_grants),
        STREAM_CONSUMER: _stream_consumer_grants,
        OPS: _ops_grants,
    }
    return builders[role](spec, role)


def configured_roles(spec: Spec) -> list[str]:
    if spec.env.access is None:
        return []
    return [r for r in ROLES if getattr(spec.env.access.roles, r) is not None]


def _pattern_grants(spec: Spec, role: str) -> list[Grant]:
    patterns = spec.design.patterns_for(role)
    if role == PER_USER:
        return _per_user_grants(spec, patterns)
    table_actions = sorted({f"dynamodb:{a}" for p in patterns if p.index is None for a in p.iam_actions()})
    # Querying an index is authorised on the index ARN alone, so name each
    # queried index instead of "index/*" (which would also open future ones).
    indexes = sorted({p.index for p in patterns if p.index is not None})
    grants = []
    if table_actions:
        grants.append(Grant("TableItems", tuple(table_actions), (TABLE,)))
    if indexes:
        grants.append(Grant("IndexQueries", ("dynamodb:Query",), tuple(index(i) for i in indexes)))
    grants.extend(_key_grants(spec, any(p.operation not in READ_OPERATIONS for p in patterns)))
    return grants


# Fine-grained access for clients (DynamoDB developer guide, specifying-conditions.html):
# every key in the request is the caller's own (ForAllValues) and there is at
# least one (ForAnyValue and the Null guard: ForAllValues holds for a missing
# or empty set), only the named attributes, reads by specific attributes,
# writes that do not return whole old items. ForAllValues is true as well
# when dynamodb:Attributes is missing (IAM User Guide,
# reference_policies_condition-single-vs-multi-valued-context-keys: it holds
# for a request without the key), e.g. a GetItem without a
# ProjectionExpression, which returns every attribute: the Null guard makes
# every request name its attributes.
READ_SELECT = "SPECIFIC_ATTRIBUTES"
WRITE_RETURN_VALUES = ("NONE", "UPDATED_NEW", "UPDATED_OLD")


def _per_user_grants(spec: Spec, patterns: list[AccessPattern]) -> list[Grant]:
    design = spec.design
    keys = set(design.key_attributes())  # table and index keys: every request carries them
    # An index key that is protected is still never written: only the table's
    # key must be in every request (index keys are written like any attribute).
    write_keys = keys - (set(design.protected_attributes) - {k.name for k in design.table_key()})
    leading = [design.per_user_key_prefix + COGNITO_SUB]
    grants = []
    reads = [p for p in patterns if p.operation in READ_OPERATIONS]
    writes = [p for p in patterns if p.operation not in READ_OPERATIONS]
    for group, sid, group_keys, extra in (
        (reads, "OwnItemsRead", keys, {"StringEqualsIfExists": {"dynamodb:Select": READ_SELECT}}),
        (
            writes,
            "OwnItemsWrite",
            write_keys,
            {"StringEqualsIfExists": {"dynamodb:ReturnValues": list(WRITE_RETURN_VALUES)}},
        ),
    ):
        if not group:
            continue
        attributes = sorted(group_keys | {a for p in group for a in p.attributes})
        condition: dict[str, dict[str, Any]] = {
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": leading, "dynamodb:Attributes": attributes},
            "ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": leading},
            "Null": {"dynamodb:LeadingKeys": "false", "dynamodb:Attributes": "false"},
            **extra,
        }
        table_actions = sorted({f"dynamodb:{a}" for p in group if p.index is None for a in p.iam_actions()})
        if table_actions:
            grants.append(Grant(sid, tuple(table_actions), (TABLE,), condition))
        indexes = sorted({p.index for p in group if p.index is not None})
        if indexes:
            grants.append(Grant(f"{sid}Index", ("dynamodb:Query",), tuple(index(i) for i in indexes), condition))
    grants.extend(_key_grants(spec, bool(writes)))
    return grants


def _stream_consumer_grants(spec: Spec, role: str) -> list[Grant]:
    return [
        Grant("StreamRead", STREAM_READ_ACTIONS, (STREAM,)),
        Grant("StreamList", STREAM_LIST_ACTIONS, (ANY,)),
        *_key_grants(spec, writes=False),
    ]


def _ops_grants(spec: Spec, role: str) -> list[Grant]:
    assert spec.env.access is not None and spec.env.access.roles.ops is not None
    ops = spec.env.access.roles.ops
    return [
        Grant("BackupAndExportTable", BACKUP_TABLE_ACTIONS, (TABLE,)),
        Grant("DescribeBackups", BACKUP_DESCRIBE_ACTIONS, (BACKUPS,)),
        Grant("DescribeExports", EXPORT_DESCRIBE_ACTIONS, (EXPORTS,)),
        Grant("ListBackups", BACKUP_LIST_ACTIONS, (ANY,)),
        *_export_grants(spec, ops),
        *_key_grants(spec, writes=False),
    ]


def _export_grants(spec: Spec, ops: OpsRole) -> list[Grant]:
    objects = (export_objects(ops.export_bucket, ops.export_prefix),)
    through_dynamodb: dict[str, dict[str, Any]] = {
        "ForAnyValue:StringEquals": {"aws:CalledVia": [EXPORT_CALLER]},
        "StringEquals": {"s3:ResourceAccount": ops.export_bucket_owner or spec.env.account_id},
    }
    acl_safe = {**through_dynamodb, **{op: dict(values) for op, values in EXPORT_ACL_SAFE.items()}}
    put_condition = {op: dict(values) for op, values in acl_safe.items()}
    grants = []
    if ops.export_kms_key_arn is not None:
        # A request that names an encryption must name this key (IfExists: a
        # multipart UploadPart carries no encryption headers).
        put_condition["StringEqualsIfExists"]["s3:x-amz-server-side-encryption"] = "aws:kms"
        put_condition["ArnEqualsIfExists"] = {"s3:x-amz-server-side-encryption-aws-kms-key-id": ops.export_kms_key_arn}
        via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{spec.env.region}.amazonaws.com"}}
        grants.append(Grant("ExportKeyViaS3", DATA_KEY_ACTIONS, (ops.export_kms_key_arn,), via_s3))
    return [
        Grant("WriteExportObjects", EXPORT_S3_PUT_ACTIONS, objects, put_condition),
        Grant("ExportObjectAcl", EXPORT_S3_ACL_ACTIONS, objects, acl_safe),
        Grant("AbortExportUploads", EXPORT_S3_ABORT_ACTIONS, objects, through_dynamodb),
        *grants,
    ]


def _key_grants(spec: Spec, writes: bool) -> list[Grant]:
    if not spec.env.customer_key:
        return []
    actions = KEY_USE_ACTIONS if writes else KEY_READ_ACTIONS
    # Only through DynamoDB (in each replica's Region): the key cannot be used directly with these rights.
    endpoints = [f"dynamodb.{region}.amazonaws.com" for region in spec.env.replica_regions]
    via: dict[str, Any] = {"StringEquals": {"kms:ViaService": endpoints[0] if len(endpoints) == 1 else endpoints}}
    scopes = existing_key_scopes(spec.env.existing_key_arns, via) or [((KEY,), via)]
    return [
        Grant(f"TableKeyViaDynamoDB{'' if n == 0 else 'ByAlias'}", tuple(sorted(actions)), resources, condition)
        for n, (resources, condition) in enumerate(scopes)
    ]


KeyScope = tuple[tuple[str, ...], dict[str, Any]]


def existing_key_scopes(arns: Sequence[str], condition: dict[str, Any]) -> list[KeyScope]:
    """Existing keys in an IAM policy, as (resources, condition) scopes: the keys named by ARN in one;
    keys named by an alias ARN in another, as the account's keys in that Region that carry the alias
    (IAM matches keys, not aliases: kms:ResourceAliases, alias-authorization). [] for no existing key
    (the caller's own resources stand). A global table's replicas each name their Region's key."""
    keys = tuple(a for a in arns if ":alias/" not in a)
    aliased = [a.split(":alias/", 1) for a in arns if ":alias/" in a]
    scopes: list[KeyScope] = [(keys, condition)] if keys else []
    if aliased:
        names = sorted({f"alias/{alias}" for _, alias in aliased})
        resources = tuple(sorted({f"{prefix}:key/*" for prefix, _ in aliased}))
        match = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": names[0] if len(names) == 1 else names}}
        scopes.append((resources, {**condition, **match}))
    return scopes
