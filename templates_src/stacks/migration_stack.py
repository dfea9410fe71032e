"""The migration stack: the stream consumer that keeps a new generation's table caught up on AWS.

`<prefix>-migration-v<n>` holds a Lambda function whose code is spec/item_transform.py (the file
`migrate` runs on the operator's machine) and a small handler, fed by an event source mapping on
the old table's stream (off until the backfill is done: `ConsumerEnabled`), with its own role
(read that stream, write the new table, send to its dead-letter queue, write its logs), a
dead-letter queue for the items it cannot write, and alarms on its lag, its errors and its dead
letters. `migrate` deploys it and removes it at retire; `deploy` never does (the pipeline's role
has no Lambda or SQS rights). The old table is named by parameters: its generation's files are
gone by the time this stack exists.
"""

from __future__ import annotations

import json
from pathlib import Path

from awacs.aws import Action as AwacsAction
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import (
    Equals,
    GetAtt,
    If,
    ImportValue,
    Not,
    NoValue,
    Parameter,
    Ref,
    Sub,
    Template,
    awslambda,
    cloudwatch,
    iam,
    logs,
    sqs,
)

from ..spec import item_transform
from ..spec.loader import Spec
from .alarms import alarm_topic_parameter
from .artifacts import Stack
from .encode import plain
from .grants import STREAM_LIST_ACTIONS, STREAM_READ_ACTIONS
from .key_actions import KEY_READ_ACTIONS, KEY_USE_ACTIONS
from .names import KEY_ARN_EXPORT, MIGRATION, TABLE_ARN_EXPORT, TABLE_NAME_EXPORT, export_name, stack_name

# Logical IDs migrate reads back (the function's metrics, the queue's depth).
CONSUMER_ID, DEAD_LETTERS_ID = "Consumer", "ConsumerDeadLetters"
RUNTIME = "python3.12"
# Records per invocation; a failed batch is halved until the bad record is alone (BisectBatchOnFunctionError).
BATCH_SIZE = 100
RETRIES = 3
# One shard's records are handled in order by one invocation at a time; more shards, more at once.
RESERVED_CONCURRENCY = 10
LOG_RETENTION_DAYS = 30
# Alarms: lag (IteratorAge, ms), any error, any dead letter.
LAG_ALARM_MS = 300_000
DEAD_LETTER_RETENTION_S = 14 * 24 * 3600  # SQS's longest

HANDLER = '''

# ---- the stream consumer's handler (stacks/migration_stack.py) ----
import os

import boto3

_writer = None


def _dead_letter(item, reason):
    body = json.dumps({"reason": reason, "item": item}, sort_keys=True)
    boto3.client("sqs").send_message(QueueUrl=os.environ["DEAD_LETTERS"], MessageBody=body)


def handler(event, context):
    """Each record of the batch, in order, through the transform `migrate` runs too."""
    global _writer
    if _writer is None:
        config = json.loads(os.environ["TRANSFORM"])
        _writer = ItemWriter(boto3.client("dynamodb"), os.environ["TABLE"], config, _dead_letter)
    for record in event["Records"]:
        _writer.apply(record)
    return {"records": len(event["Records"])}
'''


# checkov's findings on the consumer that are deliberate, with why (stacks/suppressions.py's convention).
CONSUMER_SKIPS = (
    ("CKV_AWS_117", "calls only DynamoDB, DynamoDB Streams and SQS, public endpoints authorised by its role"),
    ("CKV_AWS_173", "its environment holds the table's name, the queue's URL and the transform: no secret"),
)
QUEUE_SKIPS = (("CKV_AWS_27", "encrypted at rest by SQS (SqsManagedSseEnabled: SSE-SQS)"),)
LOG_SKIPS = (("CKV_AWS_158", "the handler logs no item: a record it cannot write goes to the dead-letter queue"),)


def _skips(found: tuple[tuple[str, str], ...]) -> dict[str, object]:
    return {"checkov": {"skip": [{"id": rule, "comment": why} for rule, why in found]}}


def consumer_code() -> str:
    """The Lambda's index.py: the transform module as it is, then the handler."""
    return Path(item_transform.__file__).read_text(encoding="utf-8") + HANDLER


def _action(name: str) -> AwacsAction:
    prefix, action = name.split(":", 1)
    return AwacsAction(prefix, action)


def _via_dynamodb(region: str = "${AWS::Region}") -> Condition:
    return Condition(StringEquals({"kms:ViaService": Sub(f"dynamodb.{region}.amazonaws.com")}))


def build_migration_stack(spec: Spec) -> Stack | None:
    """None unless the design migrates a single-Region table (global tables are not migrated)."""
    if spec.design.migration is None or spec.env.global_table:
        return None
    generation = spec.design.generation
    template = Template(
        Description=(
            f"Stream consumer of the migration of {spec.table_name} to key schema generation {generation} "
            f"(design {spec.design.name}, environment {spec.env_name}); deployed and removed by migrate."
        )
    )
    source_table = template.add_parameter(
        Parameter("SourceTableName", Type="String", Description="The previous generation's table")
    )
    source_stream = template.add_parameter(
        Parameter("SourceStreamArn", Type="String", Description="Its stream (NEW_AND_OLD_IMAGES)")
    )
    source_key = template.add_parameter(
        Parameter("SourceKeyArn", Type="String", Default="", Description="Its customer managed key, if any")
    )
    enabled = template.add_parameter(
        Parameter(
            "ConsumerEnabled",
            Type="String",
            AllowedValues=["true", "false"],
            Default="false",
            Description="migrate turns it on once the backfill is done",
        )
    )
    template.add_condition("HasSourceKey", Not(Equals(Ref(source_key), "")))
    template.add_condition("ConsumerOn", Equals(Ref(enabled), "true"))
    parameters = {}
    topic = None
    if spec.env.alarms is not None:
        topic = template.add_parameter(alarm_topic_parameter())
        parameters[topic.title] = spec.env.alarms.topic_arn

    dead_letters = template.add_resource(
        sqs.Queue(
            DEAD_LETTERS_ID,
            Metadata=_skips(QUEUE_SKIPS),
            MessageRetentionPeriod=DEAD_LETTER_RETENTION_S,
            SqsManagedSseEnabled=True,
        )
    )
    log_group = template.add_resource(
        logs.LogGroup("ConsumerLogs", Metadata=_skips(LOG_SKIPS), RetentionInDays=LOG_RETENTION_DAYS)
    )
    new_table_arn = ImportValue(export_name(spec, TABLE_ARN_EXPORT))
    old_stream = Sub(
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}/stream/*",
        Table=Ref(source_table),
    )
    statements = [
        Statement(
            Sid="ReadTheOldStream",
            Effect=Allow,
            Action=[_action(a) for a in STREAM_READ_ACTIONS],
            Resource=[old_stream],
        ),
        # ListStreams supports no resource ARN (Service Authorization Reference: Amazon DynamoDB).
        Statement(Sid="ListStreams", Effect=Allow, Action=[_action(a) for a in STREAM_LIST_ACTIONS], Resource=["*"]),
        Statement(
            Sid="WriteTheNewTable",
            Effect=Allow,
            Action=[_action("dynamodb:PutItem"), _action("dynamodb:DeleteItem")],
            Resource=[new_table_arn],
        ),
        Statement(
            Sid="DeadLetters", Effect=Allow, Action=[_action("sqs:SendMessage")], Resource=[GetAtt(dead_letters, "Arn")]
        ),
        Statement(
            Sid="OwnLogs",
            Effect=Allow,
            Action=[_action("logs:CreateLogStream"), _action("logs:PutLogEvents")],
            Resource=[GetAtt(log_group, "Arn")],
        ),
    ]
    if spec.env.customer_key:
        statements.append(
            Statement(
                Sid="NewTableKeyViaDynamoDB",
                Effect=Allow,
                Action=[_action(a) for a in sorted(KEY_USE_ACTIONS)],
                Resource=[ImportValue(export_name(spec, KEY_ARN_EXPORT))],
                Condition=_via_dynamodb(),
            )
        )
    old_key = Statement(
        Sid="OldStreamKeyViaDynamoDB",
        Effect=Allow,
        Action=[_action(a) for a in sorted(KEY_READ_ACTIONS)],
        Resource=[Ref(source_key)],
        Condition=_via_dynamodb(),
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [*(plain(s) for s in statements), If("HasSourceKey", plain(old_key), NoValue)],
    }
    access = spec.env.access
    role_props: dict[str, object] = {}
    if access is not None:
        role_props["Path"] = access.role_path
        if access.permissions_boundary_arn:
            role_props["PermissionsBoundary"] = access.permissions_boundary_arn
    role = template.add_resource(
        iam.Role(
            "ConsumerRole",
            AssumeRolePolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal("Service", "lambda.amazonaws.com"),
                        Action=[_action("sts:AssumeRole")],
                        # The confused deputy: only this account's Lambda functions.
                        Condition=Condition(StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")})),
                    )
                ],
            ),
            Policies=[iam.Policy(PolicyName="migration-consumer", PolicyDocument=policy)],
            **role_props,
        )
    )
    function = template.add_resource(
        awslambda.Function(
            CONSUMER_ID,
            Metadata=_skips(CONSUMER_SKIPS),
            Runtime=RUNTIME,
            Handler="index.handler",
            Role=GetAtt(role, "Arn"),
            Code=awslambda.Code(ZipFile=consumer_code()),
            Timeout=60,
            MemorySize=256,
            ReservedConcurrentExecutions=RESERVED_CONCURRENCY,
            LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(log_group)),
            Environment=awslambda.Environment(
                Variables={
                    "TABLE": ImportValue(export_name(spec, TABLE_NAME_EXPORT)),
                    "TRANSFORM": json.dumps(spec.design.transform_config(), sort_keys=True),
                    "DEAD_LETTERS": Ref(dead_letters),
                }
            ),
            DeadLetterConfig=awslambda.DeadLetterConfig(TargetArn=GetAtt(dead_letters, "Arn")),
        )
    )
    template.add_resource(
        awslambda.EventSourceMapping(
            "ConsumerEvents",
            EventSourceArn=Ref(source_stream),
            FunctionName=Ref(function),
            StartingPosition="TRIM_HORIZON",  # every record the stream keeps: replayed in order, they converge
            Enabled=If("ConsumerOn", True, False),
            BatchSize=BATCH_SIZE,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=RETRIES,
            DestinationConfig=awslambda.DestinationConfig(
                OnFailure=awslambda.OnFailure(Destination=GetAtt(dead_letters, "Arn"))
            ),
        )
    )
    actions = {"AlarmActions": [Ref(topic)], "OKActions": [Ref(topic)]} if topic is not None else {}
    for title, namespace, metric, dimension, value, statistic, threshold in (
        ("ConsumerLagAlarm", "AWS/Lambda", "IteratorAge", "FunctionName", Ref(function), "Maximum", LAG_ALARM_MS),
        ("ConsumerErrorAlarm", "AWS/Lambda", "Errors", "FunctionName", Ref(function), "Sum", 1),
        (
            "ConsumerDeadLetterAlarm",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "QueueName",
            GetAtt(dead_letters, "QueueName"),
            "Maximum",
            1,
        ),
    ):
        template.add_resource(
            cloudwatch.Alarm(
                title,
                AlarmDescription=f"migration of {spec.table_name}: {metric} of the stream consumer",
                Namespace=namespace,
                MetricName=metric,
                Dimensions=[cloudwatch.MetricDimension(Name=dimension, Value=value)],
                Statistic=statistic,
                Period=60,
                EvaluationPeriods=1,
                Threshold=threshold,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData="notBreaching",
                **actions,
            )
        )
    return Stack(
        kind=MIGRATION,
        name=stack_name(spec, MIGRATION),
        template=template,
        parameters=parameters,
        tags=spec.tags,
    )
