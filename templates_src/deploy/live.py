"""A table as DynamoDB describes it, and as a template declares it, in one comparable shape.

`adopt` writes configs from the live shape, `drift` compares the two, and
`deploy --import` refuses what an import cannot reconcile. Reads:
DescribeTable, DescribeTimeToLive, DescribeContinuousBackups,
ListTagsOfResource, DescribeContributorInsights (where the endpoint has it),
DescribeKey for the table's KMS key; for a global table, the same reads of
each other replica in its own Region (read_replica: its settings are that
Region's table's, not the home Region's).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..change.table_shape import props
from ..stacks.names import GLOBAL_TABLE_TYPE
from .aws import endpoint_lacks, error_code

# Table properties whose change replaces the table or cannot be made in
# place: an import never reconciles them (the first update would fail or
# replace the table).
NOT_RECONCILABLE = ("TableName", "KeySchema", "AttributeDefinitions", "LocalSecondaryIndexes")
# Tags every stack adds (spec/loader.py: Design, Environment, ManagedBy): while
# the table lacks them (after an import), the next deploy adds them; not drift.
MANAGED_TAGS = ("Design", "Environment", "ManagedBy")


@dataclass(frozen=True)
class Facts:
    """Everything we manage about a table, by property name, in comparable values."""

    values: dict[str, Any]
    unknown: tuple[str, ...] = ()  # properties the endpoint could not tell
    notes: tuple[str, ...] = field(default_factory=tuple)


def _keys(key_schema: list[dict[str, Any]]) -> list[list[str]]:
    return [[k["AttributeName"], k["KeyType"]] for k in key_schema]


def _projection(index: dict[str, Any]) -> dict[str, Any]:
    projection = index.get("Projection") or {}
    return {
        "ProjectionType": projection.get("ProjectionType", "ALL"),
        "NonKeyAttributes": sorted(projection.get("NonKeyAttributes", [])),
    }


def _throughput(source: dict[str, Any] | None) -> list[int] | None:
    if not source:
        return None
    return [int(source.get("ReadCapacityUnits", 0)), int(source.get("WriteCapacityUnits", 0))]


def _indexes(indexes: list[dict[str, Any]], provisioned: bool) -> dict[str, Any]:
    out = {}
    for index in indexes:
        entry: dict[str, Any] = {"KeySchema": _keys(index["KeySchema"]), **_projection(index)}
        if provisioned:
            entry["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
        out[index["IndexName"]] = entry
    return out


# What a GlobalTable sets per replica, not on the table: the home replica's
# values are what the stack's own Region's table has (DescribeTable there).
REPLICA_SETTINGS = (
    "DeletionProtectionEnabled",
    "PointInTimeRecoverySpecification",
    "TableClass",
    "Tags",
    "ContributorInsightsSpecification",
)


def _as_home_table(p: dict[str, Any]) -> dict[str, Any]:
    """A GlobalTable's properties seen as its home Region's table: its first replica's settings on top.

    The first replica is the stack's own Region (stacks/global_table.py); its
    SSESpecification names that Region's key, the table's says KMS or not.
    """
    replicas = p.get("Replicas") or [{}]
    home = replicas[0]
    merged = {k: v for k, v in p.items() if k != "Replicas"}
    merged.update({k: home[k] for k in REPLICA_SETTINGS if k in home})
    key = (home.get("SSESpecification") or {}).get("KMSMasterKeyId")
    if key is not None:
        merged["SSESpecification"] = {**(p.get("SSESpecification") or {}), "KMSMasterKeyId": key}
    return merged


def template_facts(resource: dict[str, Any]) -> Facts:
    """The table of a data template (Fn:: values such as the key's ARN compare by kind only).

    A GlobalTable compares as its home Region's table; its capacity is auto
    scaled per replica (no fixed number to compare), so ProvisionedThroughput
    is left out of its facts.
    """
    is_global = resource.get("Type") == GLOBAL_TABLE_TYPE
    p = _as_home_table(props(resource)) if is_global else props(resource)
    billing = p.get("BillingMode", "PROVISIONED")
    provisioned = billing == "PROVISIONED" and not is_global
    sse = p.get("SSESpecification") or {}
    if not sse.get("SSEEnabled"):
        encryption = "aws_owned"
    elif "KMSMasterKeyId" in sse:
        encryption = "customer_managed"
    else:
        encryption = "aws_managed"
    ttl = p.get("TimeToLiveSpecification") or {}
    pitr = p.get("PointInTimeRecoverySpecification") or {}
    pitr_on = bool(pitr.get("PointInTimeRecoveryEnabled"))
    values = {
        "TableName": p.get("TableName"),
        "KeySchema": _keys(p.get("KeySchema", [])),
        "AttributeDefinitions": sorted(
            [a["AttributeName"], a["AttributeType"]] for a in p.get("AttributeDefinitions", [])
        ),
        "BillingMode": billing,
        "ProvisionedThroughput": _throughput(p.get("ProvisionedThroughput")) if provisioned else None,
        "GlobalSecondaryIndexes": _indexes(p.get("GlobalSecondaryIndexes", []), provisioned),
        "LocalSecondaryIndexes": _indexes(p.get("LocalSecondaryIndexes", []), False),
        "StreamViewType": (p.get("StreamSpecification") or {}).get("StreamViewType"),
        "TimeToLiveAttribute": ttl.get("AttributeName") if ttl.get("Enabled") else None,
        "PointInTimeRecovery": [pitr_on, pitr.get("RecoveryPeriodInDays", 35) if pitr_on else None],
        "Encryption": encryption,
        "DeletionProtectionEnabled": bool(p.get("DeletionProtectionEnabled", False)),
        "TableClass": p.get("TableClass", "STANDARD"),
        "ContributorInsights": bool((p.get("ContributorInsightsSpecification") or {}).get("Enabled", False)),
        "Tags": {t["Key"]: t["Value"] for t in p.get("Tags", [])},
    }
    # A global table's other replica Regions (the stack's own Region is the table's home).
    others = props(resource).get("Replicas", [])[1:] if is_global else []
    values["Replicas"] = sorted(str(r.get("Region")) for r in others)
    # The consistency mode and witness of a global table; a Regional table is EVENTUAL, as DescribeTable's
    # MultiRegionConsistency defaults ("If you don't specify this field, the global table consistency
    # mode defaults to EVENTUAL", the DynamoDB API reference).
    values["MultiRegionConsistency"] = p.get("MultiRegionConsistency", "EVENTUAL") if is_global else "EVENTUAL"
    values["Witnesses"] = sorted(str(w.get("Region")) for w in p.get("GlobalTableWitnesses", []))
    values["ReplicaSettings"] = {
        str(r.get("Region")): _template_replica(r, sse_on=bool(sse.get("SSEEnabled"))) for r in others
    }
    key = sse.get("KMSMasterKeyId")
    if isinstance(key, str) and ":key/" in key:  # an existing key named by its ARN: compared as itself
        values["KmsKeyArn"] = key
    if is_global and billing == "PROVISIONED":
        del values["ProvisionedThroughput"]
    return Facts(values)


def _template_replica(replica: dict[str, Any], sse_on: bool) -> dict[str, Any]:
    """What a GlobalTable sets for one replica (not the stack's own), in the shape read_replica reads.

    ReadCapacity is the replica's read auto scaling range [min, max] (PROVISIONED only): the live
    capacity compares as within it. KmsKeyArn only where the template names a key by its ARN (an
    existing key); the project's replica keys (Fn::Sub) compare by kind."""
    pitr = replica.get("PointInTimeRecoverySpecification") or {}
    pitr_on = bool(pitr.get("PointInTimeRecoveryEnabled"))
    key = (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
    out: dict[str, Any] = {
        "DeletionProtectionEnabled": bool(replica.get("DeletionProtectionEnabled", False)),
        "PointInTimeRecovery": [pitr_on, pitr.get("RecoveryPeriodInDays", 35) if pitr_on else None],
        "TableClass": replica.get("TableClass", "STANDARD"),
        "ContributorInsights": bool((replica.get("ContributorInsightsSpecification") or {}).get("Enabled", False)),
        "Tags": {t["Key"]: t["Value"] for t in replica.get("Tags", [])},
        "Encryption": "aws_owned" if not sse_on else "customer_managed" if key is not None else "aws_managed",
    }
    if isinstance(key, str) and ":key/" in key:
        out["KmsKeyArn"] = key
    scaling = (replica.get("ReadProvisionedThroughputSettings") or {}).get("ReadCapacityAutoScalingSettings")
    if scaling:
        out["ReadCapacity"] = [int(scaling["MinCapacity"]), int(scaling["MaxCapacity"])]
    return out


# The (dynamodb, kms) clients of a Region: how a global table's replicas are read, each in its own Region.
RegionClients = Callable[[str], tuple[Any, Any]]


def regional_clients(aws: Any) -> RegionClients:
    """A session's (dynamodb, kms) clients for a Region: a replica is read where it lives."""
    return lambda region: (aws.client("dynamodb", region_name=region), aws.client("kms", region_name=region))


def read_existing(
    name: str, dynamodb: Any, kms: Any, replicas: RegionClients | None = None
) -> tuple[dict[str, Any], Facts] | None:
    """read_live, or None when the table does not exist."""
    try:
        return read_live(name, dynamodb, kms, replicas)
    except Exception as exc:  # botocore ClientError
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def read_live(
    name: str, dynamodb: Any, kms: Any, replicas: RegionClients | None = None
) -> tuple[dict[str, Any], Facts]:
    """(DescribeTable's Table, the facts) of a live table. Unsupported calls become `unknown`.

    replicas: the clients of a Region, to read a global table's other replicas each in its own Region
    (read_replica); without them their settings are `unknown` (not compared)."""
    table: dict[str, Any] = dynamodb.describe_table(TableName=name)["Table"]
    unknown: list[str] = []
    notes: list[str] = []
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    provisioned = billing == "PROVISIONED"
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    pitr_on, pitr_days = _pitr(dynamodb, name)
    tags = _tags(dynamodb, table["TableArn"])
    insights = _insights(dynamodb, name, "ContributorInsights", unknown, notes)
    encryption, key_arn = _encryption(table, kms, notes)
    stream = table.get("StreamSpecification") or {}
    values = {
        "TableName": table["TableName"],
        "KeySchema": _keys(table["KeySchema"]),
        "AttributeDefinitions": sorted([a["AttributeName"], a["AttributeType"]] for a in table["AttributeDefinitions"]),
        "BillingMode": billing,
        "ProvisionedThroughput": _throughput(table.get("ProvisionedThroughput")) if provisioned else None,
        # A global table's capacity is auto scaled per replica: no fixed number to compare (template_facts).
        "GlobalSecondaryIndexes": _indexes(
            table.get("GlobalSecondaryIndexes") or [], provisioned and not table.get("GlobalTableVersion")
        ),
        "LocalSecondaryIndexes": _indexes(table.get("LocalSecondaryIndexes") or [], False),
        "StreamViewType": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        "TimeToLiveAttribute": ttl.get("AttributeName")
        if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        else None,
        "PointInTimeRecovery": [pitr_on, pitr_days],
        "Encryption": encryption,
        "DeletionProtectionEnabled": bool(table.get("DeletionProtectionEnabled", False)),
        "TableClass": _table_class(table),
        "ContributorInsights": bool(insights),
        "Tags": tags,
        # A global table's (version 2019.11.21) replicas in other Regions.
        "Replicas": sorted(
            str(r["RegionName"])
            for r in table.get("Replicas") or []
            if r.get("RegionName") != dynamodb.meta.region_name
        ),
        # The customer managed key's ARN (adopt names it; drift compares it where a template names one).
        "KmsKeyArn": key_arn,
        # DescribeTable: "If you don't specify this field, the global table consistency mode defaults to
        # EVENTUAL" (a Regional table included); the witness of a STRONG table with two replicas.
        "MultiRegionConsistency": table.get("MultiRegionConsistency", "EVENTUAL"),
        "Witnesses": sorted(str(w["RegionName"]) for w in table.get("GlobalTableWitnesses") or []),
    }
    others: list[str] = values["Replicas"]
    if others and replicas is None:
        unknown.append("ReplicaSettings")
    settings: dict[str, Any] = {}
    for region in others if replicas is not None else []:
        assert replicas is not None
        try:
            settings[region] = read_replica(name, region, *replicas(region), unknown, notes)
        except Exception as exc:  # listed by the home Region, not (yet) described in its own
            if error_code(exc) != "ResourceNotFoundException":
                raise
            unknown.append(f"ReplicaSettings[{region}]")
            notes.append(f"replica in {region}: DescribeTable there finds no table yet; its settings are not read")
    values["ReplicaSettings"] = settings
    return table, Facts(values, tuple(unknown), tuple(notes))


def read_replica(
    name: str, region: str, dynamodb: Any, kms: Any, unknown: list[str], notes: list[str]
) -> dict[str, Any]:
    """One replica's own settings, read in its Region with that Region's clients: what a GlobalTable sets
    per replica (CloudFormation's ReplicaSpecification: deletion protection, PITR, table class,
    contributor insights, tags, read capacity, the key). DynamoDB keeps them per replica table: the
    home Region's DescribeTable does not show a replica's protection, PITR, insights or tags."""
    table: dict[str, Any] = dynamodb.describe_table(TableName=name)["Table"]
    pitr_on, pitr_days = _pitr(dynamodb, name)
    tags = _tags(dynamodb, table["TableArn"])
    insights = _insights(dynamodb, name, f"ReplicaSettings[{region}].ContributorInsights", unknown, notes)
    encryption, key_arn = _encryption(table, kms, notes)
    out: dict[str, Any] = {
        "DeletionProtectionEnabled": bool(table.get("DeletionProtectionEnabled", False)),
        "PointInTimeRecovery": [pitr_on, pitr_days],
        "TableClass": _table_class(table),
        "ContributorInsights": bool(insights),
        "Tags": tags,
        "Encryption": encryption,
        "KmsKeyArn": key_arn,
    }
    if (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED") == "PROVISIONED":
        out["ReadCapacity"] = int((table.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits", 0))
    return out


def _table_class(table: dict[str, Any]) -> str:
    # DescribeTable omits the summary for a table that never left STANDARD.
    return str((table.get("TableClassSummary") or {}).get("TableClass", "STANDARD"))


def _pitr(dynamodb: Any, name: str) -> tuple[bool, int | None]:
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = backups.get("PointInTimeRecoveryDescription") or {}
    on = pitr.get("PointInTimeRecoveryStatus") == "ENABLED"
    return on, (int(pitr.get("RecoveryPeriodInDays", 35)) if on else None)


def _tags(dynamodb: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(ResourceArn=arn).get("Tags", [])}


def _insights(dynamodb: Any, name: str, what: str, unknown: list[str], notes: list[str]) -> bool | None:
    try:
        status = dynamodb.describe_contributor_insights(TableName=name).get("ContributorInsightsStatus")
    except Exception as exc:  # not every endpoint implements it (moto does not)
        if not endpoint_lacks(exc):
            raise
        unknown.append(what)
        region = "" if what == "ContributorInsights" else f" ({dynamodb.meta.region_name})"
        notes.append(f"contributor insights{region}: the endpoint cannot describe them; taken as off")
        return None
    return status in ("ENABLED", "ENABLING")


def _encryption(table: dict[str, Any], kms: Any, notes: list[str]) -> tuple[str, str | None]:
    """(the key's kind, the customer managed key's ARN or None)."""
    sse = table.get("SSEDescription") or {}
    encryption = "aws_owned"
    if sse.get("Status") in ("ENABLED", "ENABLING", "UPDATING"):
        encryption = _key_kind(sse.get("KMSMasterKeyArn", ""), kms, notes)
    return encryption, sse.get("KMSMasterKeyArn") if encryption == "customer_managed" else None


def _key_kind(key_arn: str, kms: Any, notes: list[str]) -> str:
    """aws_managed (alias/aws/dynamodb, KeyManager AWS) or customer_managed."""
    try:
        manager = kms.describe_key(KeyId=key_arn)["KeyMetadata"].get("KeyManager")
    except Exception as exc:
        if error_code(exc) != "NotFoundException":
            raise
        # A key the endpoint does not know (moto invents the AWS managed key's ARN).
        notes.append(f"{key_arn}: KMS does not describe the table's key; taken as the AWS managed key")
        return "aws_managed"
    return "aws_managed" if manager == "AWS" else "customer_managed"


def shown(value: Any) -> str:
    """A fact's value in a message: JSON, or "absent"."""
    return "absent" if value is None else json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class Difference:
    property: str
    template: Any
    live: Any


def differences(template: Facts, live: Facts, standard_tags_pending: bool = False) -> list[Difference]:
    """Property by property (indexes by name), skipping what the endpoint could not tell.

    standard_tags_pending: the stack has not applied its standard tags yet (no stack, or one that
    imported the table as it was): their absence is what the next deploy changes, not drift.
    """
    out: list[Difference] = []
    pending = standard_tags_pending
    for name, want in template.values.items():
        if name in live.unknown:
            continue
        have: Any = live.values.get(name)
        if name == "Tags" and standard_tags_pending:
            want = {k: v for k, v in want.items() if k not in MANAGED_TAGS or k in have}
        if name in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for index in sorted(set(want) | set(have)):
                before, after = want.get(index), have.get(index)
                if before is None or after is None:  # added or removed: the whole index
                    if before != after:
                        out.append(Difference(f"{name}[{index}]", before, after))
                    continue
                for key in sorted(set(before) | set(after)):  # the same index: only what changed
                    if before.get(key) != after.get(key):
                        out.append(Difference(f"{name}[{index}].{key}", before.get(key), after.get(key)))
            continue
        if name == "Tags":
            out += _tag_differences("Tags", want, have)
            continue
        if name == "ReplicaSettings":  # Regions on one side only are the Replicas difference
            for region in sorted(set(want) & set(have)):
                out += _replica_differences(f"{name}[{region}]", want[region], have[region], live.unknown, pending)
            continue
        if want != have:
            out.append(Difference(name, want, have))
    return out


def _tag_differences(where: str, want: dict[str, Any], have: dict[str, Any]) -> list[Difference]:
    return [
        Difference(f"{where}[{key}]", want.get(key), have.get(key))
        for key in sorted(set(want) | set(have))
        if want.get(key) != have.get(key)
    ]


def _replica_differences(
    where: str, want: dict[str, Any], have: dict[str, Any], unknown: tuple[str, ...], pending: bool
) -> list[Difference]:
    """One replica's settings, as the template sets them against what its Region's table has."""
    out = []
    for key, value in want.items():
        path = f"{where}.{key}"
        if path in unknown:
            continue
        live = have.get(key)
        if key == "Tags":
            tags: dict[str, Any] = live or {}
            if pending:
                value = {k: v for k, v in value.items() if k not in MANAGED_TAGS or k in tags}
            out += _tag_differences(path, value, tags)
        elif key == "ReadCapacity":  # auto scaled: in sync anywhere within [min, max]
            if live is None or not value[0] <= live <= value[1]:
                out.append(Difference(path, value, live))
        elif value != live:
            out.append(Difference(path, value, live))
    return out


def not_reconcilable(found: list[Difference]) -> list[Difference]:
    return [d for d in found if d.property.split("[")[0] in NOT_RECONCILABLE]
