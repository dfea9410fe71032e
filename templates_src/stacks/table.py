"""The table builder: keys, indexes, TTL, SSE, streams, PITR, protection."""

from __future__ import annotations

from troposphere import Tags, dynamodb, kms

from ..spec.design import Design, GlobalSecondaryIndex, KeyAttribute, LocalSecondaryIndex, with_key_types
from ..spec.loader import Spec
from .encryption import sse_specification
from .names import TABLE_ID
from .resource_policy import resource_policy
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


def _provisioned(spec: Spec) -> dynamodb.ProvisionedThroughput | None:
    billing = spec.env.billing
    if billing.mode != "PROVISIONED":
        return None
    assert billing.read and billing.write  # checked by check_environment
    # Start at the floor; Application Auto Scaling raises it under load.
    return dynamodb.ProvisionedThroughput(ReadCapacityUnits=billing.read.min, WriteCapacityUnits=billing.write.min)


def _contributor_insights(spec: Spec) -> dict[str, dynamodb.ContributorInsightsSpecification]:
    if not spec.env.contributor_insights:
        return {}
    mode = {"Mode": spec.env.contributor_insights_mode} if spec.env.contributor_insights_mode else {}
    return {"ContributorInsightsSpecification": dynamodb.ContributorInsightsSpecification(Enabled=True, **mode)}


def _on_demand_caps(spec: Spec) -> dict[str, dynamodb.OnDemandThroughput]:
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


def global_secondary_indexes(spec: Spec) -> list[dynamodb.GlobalSecondaryIndex]:
    out = []
    throughput = _provisioned(spec)
    for gsi in spec.design.global_secondary_indexes:
        keys = gsi.key_schema()
        extra: dict[str, object] = {**_contributor_insights(spec), **_on_demand_caps(spec)}
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


def build_table(spec: Spec, key: kms.Key | None) -> dynamodb.Table:
    env, design = spec.env, spec.design
    props: dict[str, object] = {
        "TableName": spec.table_name,
        "BillingMode": env.billing.mode,
        "KeySchema": key_schema(design.table_key()),
        "AttributeDefinitions": attribute_definitions(design),
        "SSESpecification": sse_specification(spec, key),
        "PointInTimeRecoverySpecification": dynamodb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=env.point_in_time_recovery.enabled,
            **(
                {"RecoveryPeriodInDays": env.point_in_time_recovery.recovery_period_days}
                if env.point_in_time_recovery.enabled
                else {}
            ),
        ),
        "DeletionProtectionEnabled": env.deletion_protection,
        "TableClass": env.table_class,
        "Tags": Tags(**spec.tags),
        **_contributor_insights(spec),
        **_on_demand_caps(spec),
    }
    throughput = _provisioned(spec)
    if throughput is not None:
        props["ProvisionedThroughput"] = throughput
    if design.global_secondary_indexes:
        props["GlobalSecondaryIndexes"] = global_secondary_indexes(spec)
    if design.local_secondary_indexes:
        props["LocalSecondaryIndexes"] = local_secondary_indexes(spec)
    if design.ttl_attribute is not None:
        # Keep the spec even when disabled: renaming the attribute later needs
        # a disable step first, and this makes that state explicit in the diff.
        props["TimeToLiveSpecification"] = dynamodb.TimeToLiveSpecification(
            AttributeName=design.ttl_attribute, Enabled=env.ttl_days is not None
        )
    if env.stream_view_type is not None:
        props["StreamSpecification"] = dynamodb.StreamSpecification(StreamViewType=env.stream_view_type)
    policy = resource_policy(spec)
    if policy is not None:
        props["ResourcePolicy"] = policy
    table = dynamodb.Table(
        TABLE_ID,
        DeletionPolicy=env.retention,
        UpdateReplacePolicy=env.retention,
        **props,
    )
    metadata = table_suppressions(spec)
    if metadata:
        table.Metadata = metadata
    return table
