"""Application Auto Scaling for provisioned tables: the table and every GSI."""

from __future__ import annotations

import re

from troposphere import Ref, Sub
from troposphere import applicationautoscaling as aas

from ..spec.environment import Capacity
from ..spec.loader import Spec
from .names import TABLE_ID

# Scaling through the service-linked role avoids a role we would have to own.
SERVICE_LINKED_ROLE = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
    "dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
)
_METRIC = {"Read": "DynamoDBReadCapacityUtilization", "Write": "DynamoDBWriteCapacityUtilization"}


def logical_part(name: str) -> str:
    """'user_id-created_at-index' -> 'UserIdCreatedAtIndex' for logical IDs."""
    return "".join(piece[:1].upper() + piece[1:] for piece in re.split(r"[^A-Za-z0-9]+", name))


def build_autoscaling(spec: Spec) -> list[object]:
    """Targets name the table through Sub ${Table} (names.TABLE_ID), which also orders creation."""
    billing = spec.env.billing
    if billing.mode != "PROVISIONED":
        return []
    assert billing.read and billing.write
    table_ref = f"${{{TABLE_ID}}}"
    # "Table" and "Index..." start the targets' own logical IDs: what they scale, not a reference.
    targets: list[tuple[str, str, str]] = [("Table", "table", table_ref)]
    targets += [
        (f"Index{logical_part(g.name)}", "index", f"{table_ref}/index/{g.name}")
        for g in spec.design.global_secondary_indexes
    ]
    resources: list[object] = []
    for prefix, dimension_kind, resource_path in targets:
        for side, capacity in (("Read", billing.read), ("Write", billing.write)):
            resources.extend(_target_and_policy(prefix, dimension_kind, resource_path, side, capacity))
    return resources


def _target_and_policy(prefix: str, kind: str, path: str, side: str, capacity: Capacity) -> list[object]:
    target = aas.ScalableTarget(
        f"{prefix}{side}ScalableTarget",
        ServiceNamespace="dynamodb",
        ScalableDimension=f"dynamodb:{kind}:{side}CapacityUnits",
        ResourceId=Sub(f"table/{path}"),
        MinCapacity=capacity.min,
        MaxCapacity=capacity.max,
        RoleARN=Sub(SERVICE_LINKED_ROLE),
    )
    policy = aas.ScalingPolicy(
        f"{prefix}{side}ScalingPolicy",
        PolicyName=f"{prefix}{side}TargetTracking",
        PolicyType="TargetTrackingScaling",
        ScalingTargetId=Ref(target),
        TargetTrackingScalingPolicyConfiguration=aas.TargetTrackingScalingPolicyConfiguration(
            TargetValue=float(capacity.target_utilization),
            PredefinedMetricSpecification=aas.PredefinedMetricSpecification(PredefinedMetricType=_METRIC[side]),
        ),
    )
    return [target, policy]
