"""The table builder: keys, indexes, TTL, SSE, streams, PITR, protection."""

from __future__ import annotations

from troposphere import Tags, dynamodb, kms

from ..spec.design import Design, GlobalSecondaryIndex, KeyAttribute, LocalSecondaryIndex, with_key_types
from ..spec.environment import PointInTimeRecovery
from ..spec.loader import Spec
from .encryption import sse_specification
from .names import TABLE_ID
from .resource_policy import resource_policy, stream_resource_policy
from .suppressions import table_suppressions


def key_schema(keys: tuple[KeyAttribute, ...]) -> list[dynamodb.KeySchema]:
    return [dynamodb.KeySchema(AttributeName=k.name, KeyType=kind) for k, kind in with_key_types(keys)]


def attribute_definitions(design: Design) -> list[dynamodb.AttributeDefinition]:
    # Exactly the attributes that keys use: CloudFormation rejects any other.
    return [
        dynamodb.AttributeDefinition(AttributeName=name, AttributeType=type_)
        for name, type_ in design.key_attributes().items()
    ]


def projection(index: GlobalSecondaryIndex | LocalSecondaryIndex) -> dynamodb.Projection:
    if index.projection == "INCLUDE":
        return dynamodb.Projection(ProjectionType="INCLUDE", NonKeyAttributes=list(index.non_key_attributes))
    return dynamodb.Projection(ProjectionType=index.projection)


def provisioned(spec: Spec) -> dynamodb.ProvisionedThroughput | None:
    billing = spec.env.billing
    if billing.mode != "PROVISIONED":
        return None
    assert billing.read and billing.write  # checked by check_environment
    # Start at the floor; Application Auto Scaling raises it under load.
    return dynamodb.ProvisionedThroughput(ReadCapacityUnits=billing.read.min, WriteCapacityUnits=billing.write.min)


def contributor_insights(
    spec: Spec, enabled: bool | None = None
) -> dict[str, dynamodb.ContributorInsightsSpecification]:
    """enabled: a replica's own choice (None: the environment's)."""
    if not (spec.env.contributor_insights if enabled is None else enabled):
        return {}
    mode = {"Mode": spec.env.contributor_insights_mode} if spec.env.contributor_insights_mode else {}
    return {"ContributorInsightsSpecification": dynamodb.ContributorInsightsSpecification(Enabled=True, **mode)}


def on_demand_caps(spec: Spec) -> dict[str, dynamodb.OnDemandThroughput]:
    billing = spec.env.billing
    caps = {
        name: value
        for name, value in (
            ("MaxReadRequestUnits", billing.max_read_request_units),
            ("MaxWriteRequestUnits", billing.max_write_request_units),
        )
        if value is not None
    }
    return {"OnDemandThroughput": dynamodb.OnDemandThroughput(**caps)} if caps else {}


def point_in_time_recovery(settings: PointInTimeRecovery) -> dynamodb.PointInTimeRecoverySpecification:
    return dynamodb.PointInTimeRecoverySpecification(
        PointInTimeRecoveryEnabled=settings.enabled,
        **({"RecoveryPeriodInDays": settings.recovery_period_days} if settings.enabled else {}),
    )


def warm_throughput(spec: Spec) -> dict[str, dynamodb.WarmThroughput]:
    warm = spec.env.warm_throughput
    if warm is None:
        return {}
    units = {
        name: value
        for name, value in (
            ("ReadUnitsPerSecond", warm.read_units_per_second),
            ("WriteUnitsPerSecond", warm.write_units_per_second),
        )
        if value is not None
    }
    return {"WarmThroughput": dynamodb.WarmThroughput(**units)}


def kinesis_stream(spec: Spec) -> dict[str, dynamodb.KinesisStreamSpecification]:
    kinesis = spec.env.kinesis_stream
    if kinesis is None:
        return {}
    precision = kinesis.approximate_creation_date_time_precision
    return {
        "KinesisStreamSpecification": dynamodb.KinesisStreamSpecification(
            StreamArn=kinesis.stream_arn, **({"ApproximateCreationDateTimePrecision": precision} if precision else {})
        )
    }


def time_to_live(spec: Spec) -> dict[str, dynamodb.TimeToLiveSpecification]:
    attribute = spec.design.ttl_attribute
    if attribute is None:
        return {}
    # Keep the spec even when disabled: renaming the attribute later needs
    # a disable step first, and this makes that state explicit in the diff.
    return {
        "TimeToLiveSpecification": dynamodb.TimeToLiveSpecification(
            AttributeName=attribute, Enabled=spec.env.ttl_days is not None
        )
    }


def global_secondary_indexes(spec: Spec) -> list[dynamodb.GlobalSecondaryIndex]:
    out = []
    throughput = provisioned(spec)
    for gsi in spec.design.global_secondary_indexes:
        keys = gsi.key_schema()
        extra: dict[str, object] = {**contributor_insights(spec), **on_demand_caps(spec)}
        if throughput is not None:
            extra["ProvisionedThroughput"] = throughput
        out.append(
            dynamodb.GlobalSecondaryIndex(
                IndexName=gsi.name, KeySchema=key_schema(keys), Projection=projection(gsi), **extra
            )
        )
    return out


def local_secondary_indexes(spec: Spec) -> list[dynamodb.LocalSecondaryIndex]:
    design = spec.design
    return [
        dynamodb.LocalSecondaryIndex(
            IndexName=lsi.name,
            KeySchema=key_schema((design.partition_key, lsi.sort_key)),
            Projection=projection(lsi),
        )
        for lsi in design.local_secondary_indexes
    ]


def build_table(spec: Spec, key: kms.Key | None) -> dynamodb.Table | dynamodb.GlobalTable:
    if spec.env.global_table:
        from .global_table import build_global_table

        return build_global_table(spec, key)
    env, design = spec.env, spec.design
    props: dict[str, object] = {
        "TableName": spec.table_name,
        "BillingMode": env.billing.mode,
        "KeySchema": key_schema(design.table_key()),
        "AttributeDefinitions": attribute_definitions(design),
        "SSESpecification": sse_specification(spec, key),
        "PointInTimeRecoverySpecification": point_in_time_recovery(env.point_in_time_recovery),
        "DeletionProtectionEnabled": env.deletion_protection,
        "TableClass": env.table_class,
        "Tags": Tags(**spec.tags),
        **contributor_insights(spec),
        **on_demand_caps(spec),
        **warm_throughput(spec),
        **kinesis_stream(spec),
        **time_to_live(spec),
    }
    throughput = provisioned(spec)
    if throughput is not None:
        props["ProvisionedThroughput"] = throughput
    if design.global_secondary_indexes:
        props["GlobalSecondaryIndexes"] = global_secondary_indexes(spec)
    if design.local_secondary_indexes:
        props["LocalSecondaryIndexes"] = local_secondary_indexes(spec)
    if env.stream_view_type is not None:
        policy = stream_resource_policy(spec)
        props["StreamSpecification"] = dynamodb.StreamSpecification(
            StreamViewType=env.stream_view_type, **({"ResourcePolicy": policy} if policy is not None else {})
        )
    policy = resource_policy(spec)
    if policy is not None:
        props["ResourcePolicy"] = policy
    return with_policies(spec, dynamodb.Table(TABLE_ID, **props))


def with_policies(spec: Spec, table: dynamodb.Table | dynamodb.GlobalTable) -> dynamodb.Table | dynamodb.GlobalTable:
    """Retain (or not) on delete and replace, and the linters' documented exceptions."""
    table.DeletionPolicy = spec.env.retention
    table.UpdateReplacePolicy = spec.env.retention
    metadata = table_suppressions(spec)
    if metadata:
        table.Metadata = metadata
    return table
