"""CloudWatch alarms on the table, sent to the environment's SNS topic."""

from __future__ import annotations

from troposphere import Parameter, Ref, Tags, cloudwatch, dynamodb

from ..spec.loader import Spec
from .autoscaling import logical_part

ALARM_TOPIC_PARAMETER = "AlarmTopicArn"
# CloudWatch caps a metric-math alarm at 10 metrics.
MAX_ALARM_METRICS = 10
# A global table's writes usually reach the other replicas within a second;
# minutes of lag mean a Region is impaired (a failover would lose those writes).
REPLICATION_LATENCY_ALARM_MS = 60_000
REPLICATION_LATENCY_PERIODS = 3


def alarm_topic_parameter() -> Parameter:
    return Parameter(
        ALARM_TOPIC_PARAMETER,
        Type="String",
        Description="SNS topic that receives the table's alarms",
        AllowedPattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$",
    )


def _operations(spec: Spec) -> list[str]:
    # SystemErrors is reported per API operation; watch the ones the
    # design's access patterns actually call.
    ops = sorted({str(p.operation) for p in spec.design.access_patterns})
    return ops[:MAX_ALARM_METRICS]


def build_alarms(spec: Spec, table: dynamodb.Table | dynamodb.GlobalTable, topic: Parameter) -> list[cloudwatch.Alarm]:
    common = dict(
        AlarmActions=[Ref(topic)],
        OKActions=[Ref(topic)],
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Threshold=1,
        EvaluationPeriods=1,
        TreatMissingData="notBreaching",
        Tags=Tags(**spec.tags),
    )
    alarms = [
        cloudwatch.Alarm(
            f"{side}ThrottleAlarm",
            AlarmDescription=f"{spec.table_name}: {side.lower()} requests throttled",
            Namespace="AWS/DynamoDB",
            MetricName=f"{side}ThrottleEvents",
            Dimensions=[cloudwatch.MetricDimension(Name="TableName", Value=Ref(table))],
            Statistic="Sum",
            Period=300,
            **common,
        )
        for side in ("Read", "Write")
    ]
    metrics = [
        cloudwatch.MetricDataQuery(
            Id=f"m{i}",
            ReturnData=False,
            MetricStat=cloudwatch.MetricStat(
                Metric=cloudwatch.Metric(
                    Namespace="AWS/DynamoDB",
                    MetricName="SystemErrors",
                    Dimensions=[
                        cloudwatch.MetricDimension(Name="TableName", Value=Ref(table)),
                        cloudwatch.MetricDimension(Name="Operation", Value=op),
                    ],
                ),
                Period=300,
                Stat="Sum",
            ),
        )
        for i, op in enumerate(_operations(spec))
    ]
    ids = ",".join(m.Id for m in metrics)
    metrics.append(
        cloudwatch.MetricDataQuery(Id="total", Expression=f"SUM([{ids}])", Label="SystemErrors", ReturnData=True)
    )
    alarms.append(
        cloudwatch.Alarm(
            "SystemErrorsAlarm",
            AlarmDescription=f"{spec.table_name}: DynamoDB system errors (HTTP 500)",
            Metrics=metrics,
            **common,
        )
    )
    return alarms + _replication_alarms(spec, table, common)


def _replication_alarms(
    spec: Spec, table: dynamodb.Table | dynamodb.GlobalTable, common: dict[str, object]
) -> list[cloudwatch.Alarm]:
    """EVENTUAL global tables: lag from this Region to each other replica (ReplicationLatency,
    emitted here per ReceivingRegion). STRONG tables replicate synchronously: no such lag."""
    if not spec.env.replicas or spec.env.multi_region_consistency == "STRONG":
        return []
    settings = {
        **common,
        "Threshold": REPLICATION_LATENCY_ALARM_MS,
        "EvaluationPeriods": REPLICATION_LATENCY_PERIODS,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    return [
        cloudwatch.Alarm(
            f"ReplicationLatency{logical_part(replica.region)}Alarm",
            AlarmDescription=(
                f"{spec.table_name}: writes take over {REPLICATION_LATENCY_ALARM_MS // 1000} s to reach "
                f"{replica.region}"
            ),
            Namespace="AWS/DynamoDB",
            MetricName="ReplicationLatency",
            Dimensions=[
                cloudwatch.MetricDimension(Name="TableName", Value=Ref(table)),
                cloudwatch.MetricDimension(Name="ReceivingRegion", Value=replica.region),
            ],
            Statistic="Average",
            Period=300,
            **settings,
        )
        for replica in spec.env.replicas
    ]
