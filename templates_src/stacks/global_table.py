"""The global table builder: AWS::DynamoDB::GlobalTable, one replica per Region.

The stack's own Region is the first replica (CloudFormation requires it and
never removes it). What is global (keys, indexes, TTL, stream, billing mode,
write capacity) is set once; what AWS lets differ per replica (protection,
PITR, table class, insights, tags, read capacity, the key) is set per replica
from the environment, with each replica's overrides.

A multi-account global table (stacks/replication.py): the source lists its
own Region alone; each other account's replica is that account's GlobalTable,
created from the source (GlobalTableSourceArn), its own Region alone.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Sub, Tags, dynamodb, kms

from ..spec.environment import Capacity, Replica
from ..spec.loader import Spec
from .names import TABLE_ID
from .replication import SETTINGS_REPLICATION_MODE, member_table_arn
from .resource_policy import resource_policy, stream_resource_policy
from .table import (
    attribute_definitions,
    contributor_insights,
    key_schema,
    kinesis_stream,
    local_secondary_indexes,
    point_in_time_recovery,
    projection,
    time_to_live,
    warm_throughput,
    with_policies,
)

# A replica key in another Region: same key id as the multi-Region primary
# (KMS multi-Region keys share it), that Region in the ARN.
REPLICA_KEY_ARN = "arn:${AWS::Partition}:kms:%s:${AWS::AccountId}:key/${%s}"


def replica_key_arn(region: str, key: kms.Key) -> Sub:
    return Sub(REPLICA_KEY_ARN % (region, key.title))


def _auto_scaling(capacity: Capacity) -> dynamodb.CapacityAutoScalingSettings:
    return dynamodb.CapacityAutoScalingSettings(
        MinCapacity=capacity.min,
        MaxCapacity=capacity.max,
        TargetTrackingScalingPolicyConfiguration=dynamodb.TargetTrackingScalingPolicyConfiguration(
            TargetValue=capacity.target_utilization
        ),
    )


def _write_settings(spec: Spec) -> dict[str, Any]:
    """Write capacity is global: auto scaling (PROVISIONED) or an on-demand cap."""
    billing = spec.env.billing
    if billing.mode == "PROVISIONED":
        assert billing.write is not None  # checked by N101
        return {
            "WriteProvisionedThroughputSettings": dynamodb.WriteProvisionedThroughputSettings(
                WriteCapacityAutoScalingSettings=_auto_scaling(billing.write)
            )
        }
    if billing.max_write_request_units is not None:
        return {
            "WriteOnDemandThroughputSettings": dynamodb.WriteOnDemandThroughputSettings(
                MaxWriteRequestUnits=billing.max_write_request_units
            )
        }
    return {}


def _read_settings(spec: Spec, replica: Replica | None) -> dict[str, Any]:
    """Read capacity is per replica: its own auto scaling, else billing.read; or the on-demand cap."""
    billing = spec.env.billing
    if billing.mode == "PROVISIONED":
        capacity = replica.read if replica is not None and replica.read is not None else billing.read
        assert capacity is not None  # checked by N101
        return {
            "ReadProvisionedThroughputSettings": dynamodb.ReadProvisionedThroughputSettings(
                ReadCapacityAutoScalingSettings=_auto_scaling(capacity)
            )
        }
    if billing.max_read_request_units is not None:
        return {
            "ReadOnDemandThroughputSettings": dynamodb.ReadOnDemandThroughputSettings(
                MaxReadRequestUnits=billing.max_read_request_units
            )
        }
    return {}


def _indexes(spec: Spec) -> list[dynamodb.GlobalTableGlobalSecondaryIndex]:
    return [
        dynamodb.GlobalTableGlobalSecondaryIndex(
            IndexName=gsi.name,
            KeySchema=key_schema(gsi.key_schema()),
            Projection=projection(gsi),
            **_write_settings(spec),
        )
        for gsi in spec.design.global_secondary_indexes
    ]


def _sse(spec: Spec) -> dynamodb.GlobalTableSSESpecification:
    if spec.env.encryption == "aws_owned":
        return dynamodb.GlobalTableSSESpecification(SSEEnabled=False)
    return dynamodb.GlobalTableSSESpecification(SSEEnabled=True, SSEType="KMS")


def _replica(spec: Spec, region: str, replica: Replica | None, key: kms.Key | None) -> dynamodb.ReplicaSpecification:
    env = spec.env
    # The environment's own Region (validated with it): a replica with every setting unset.
    own = replica or Replica.model_construct(region=region)

    def chosen(value: Any, default: Any) -> Any:
        return default if value is None else value

    insights_on = chosen(own.contributor_insights, env.contributor_insights)
    props: dict[str, Any] = {
        "Region": region,
        "DeletionProtectionEnabled": chosen(own.deletion_protection, env.deletion_protection),
        "PointInTimeRecoverySpecification": point_in_time_recovery(
            chosen(own.point_in_time_recovery, env.point_in_time_recovery)
        ),
        "TableClass": chosen(own.table_class, env.table_class),
        "Tags": Tags(**{**spec.tags, **own.tags}),
        **contributor_insights(spec, insights_on),
    }
    joined = spec.multi_account is not None and not spec.multi_account.is_source
    if spec.multi_account is not None:
        props["GlobalTableSettingsReplicationMode"] = SETTINGS_REPLICATION_MODE
    if not joined:  # a joined replica's throughput is the replica set's (unified settings)
        props.update(_read_settings(spec, replica))
    if spec.design.global_secondary_indexes and not joined:
        props["GlobalSecondaryIndexes"] = [
            dynamodb.ReplicaGlobalSecondaryIndexSpecification(
                IndexName=gsi.name, **contributor_insights(spec, insights_on), **_read_settings(spec, replica)
            )
            for gsi in spec.design.global_secondary_indexes
        ]
    if key is not None:
        key_arn = GetAtt(key, "Arn") if replica is None else replica_key_arn(region, key)
        props["SSESpecification"] = dynamodb.ReplicaSSESpecification(KMSMasterKeyId=key_arn)
    elif env.existing_key_arn is not None:
        # Existing keys: each replica's own, of its Region (N701, N702: "The key must be created in the
        # same region as the replica", CloudFormation's ReplicaSSESpecification).
        existing = env.existing_key_arn if replica is None else replica.kms_key_arn
        if existing is not None:
            props["SSESpecification"] = dynamodb.ReplicaSSESpecification(KMSMasterKeyId=existing)
    own_region = None if replica is None else region  # the stack's replica: ${AWS::Region}
    policy = resource_policy(spec, own_region)
    if policy is not None:
        props["ResourcePolicy"] = policy
    stream_policy = stream_resource_policy(spec, own_region)
    if stream_policy is not None:
        props["ReplicaStreamSpecification"] = dynamodb.ReplicaStreamSpecification(ResourcePolicy=stream_policy)
    if replica is None:
        # A Kinesis stream is in one Region (N610): the stack's replica sends to it.
        props.update(kinesis_stream(spec))
    return dynamodb.ReplicaSpecification(**props)


def _joined_replica(spec: Spec, key: kms.Key | None) -> dynamodb.GlobalTable:
    """A replica in another account: created from the source table (GlobalTableSourceArn), its own
    Region alone. Key schema, indexes, billing, TTL and stream come from the source and stay
    unified (CDK's TableV2MultiAccountReplica sets none of them either)."""
    assert spec.multi_account is not None
    source = member_table_arn(spec, spec.multi_account.source)
    table = dynamodb.GlobalTable(
        TABLE_ID,
        TableName=spec.table_name,
        GlobalTableSourceArn=Sub(source),
        Replicas=[_replica(spec, spec.env.region, None, key)],
    )
    joined = with_policies(spec, table)
    assert isinstance(joined, dynamodb.GlobalTable)
    return joined


def build_global_table(spec: Spec, key: kms.Key | None) -> dynamodb.GlobalTable:
    env, design = spec.env, spec.design
    if spec.multi_account is not None and not spec.multi_account.is_source:
        return _joined_replica(spec, key)
    replicas = [_replica(spec, env.region, None, key)]
    replicas += [_replica(spec, r.region, r, key) for r in env.replicas]
    props: dict[str, Any] = {
        "TableName": spec.table_name,
        "BillingMode": env.billing.mode,
        "KeySchema": key_schema(design.table_key()),
        "AttributeDefinitions": attribute_definitions(design),
        "SSESpecification": _sse(spec),
        "MultiRegionConsistency": env.multi_region_consistency or "EVENTUAL",
        "Replicas": replicas,
        **_write_settings(spec),
        **warm_throughput(spec),
        # STRONG supports no TTL (N613): not even a disabled specification, which the handler would apply.
        **({} if env.multi_region_consistency == "STRONG" else time_to_live(spec)),
    }
    if env.witness_region is not None:
        props["GlobalTableWitnesses"] = [dynamodb.GlobalTableWitness(Region=env.witness_region)]
    if design.global_secondary_indexes:
        props["GlobalSecondaryIndexes"] = _indexes(spec)
    if design.local_secondary_indexes:
        props["LocalSecondaryIndexes"] = local_secondary_indexes(spec)
    if env.stream_view_type is not None:
        props["StreamSpecification"] = dynamodb.StreamSpecification(StreamViewType=env.stream_view_type)
    table = with_policies(spec, dynamodb.GlobalTable(TABLE_ID, **props))
    assert isinstance(table, dynamodb.GlobalTable)
    return table
