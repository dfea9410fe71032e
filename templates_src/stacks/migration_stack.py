"""The migration stack: the managed backfill and the stream consumer of a new generation's table on AWS.

`<prefix>-migration-v<n>` holds a Lambda function whose code is spec/item_transform.py (the file
`migrate` runs on the operator's machine) and a small handler, fed by an event source mapping on
the old table's stream (off until the backfill is done: `ConsumerEnabled`), with its own role
(read that stream and the export's files, write the new table, send to its dead-letter queue,
write its logs), a dead-letter queue for the items it cannot write, and alarms on its lag, its
errors and its dead letters.

The backfill runs on AWS too, never through the operator's machine: a Step Functions state machine
whose Distributed Map lists the export's data files (ItemReader, S3 ListObjectsV2) and hands each
to the same function (one child execution per file, MAX_FILES_AT_ONCE at a time, no failure
tolerated), writing its results to S3 (ResultWriter) so that any number of files fits. Step
Functions, not a Glue or EMR job: the transform is this Python file with no dependencies, the
function already exists for the catch-up, and a Distributed Map scales to millions of files with
no cluster to size or pay for while idle.

`migrate` deploys the stack and removes it at retire; `deploy` never does (the pipeline's role has
no Lambda, SQS or Step Functions rights). The old table and the export bucket are named by
parameters: the old generation's files are gone by the time this stack exists.
"""

from __future__ import annotations

import json
from pathlib import Path

from awacs.aws import Allow, Bool, Condition, Deny, PolicyDocument, Principal, Statement, StringEquals, StringLike
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
    stepfunctions,
)

from ..spec import item_transform
from ..spec.loader import Spec
from ..spec.partitions import partition
from .actions import iam_action, iam_actions
from .alarms import alarm_topic_parameter
from .artifacts import Stack
from .encode import plain
from .grants import STREAM_LIST_ACTIONS, STREAM_READ_ACTIONS
from .key_actions import KEY_READ_ACTIONS, KEY_USE_ACTIONS
from .names import (
    KEY_ARN_EXPORT,
    MIGRATION,
    MIGRATION_EXPORT_DIR,
    MIGRATION_RESULTS_DIR,
    TABLE_ARN_EXPORT,
    TABLE_NAME_EXPORT,
    backfill_machine_name,
    export_name,
    migration_prefix,
    stack_name,
)
from .suppressions import (
    BACKFILL_ROLE_NAG,
    CONSUMER_NAG,
    CONSUMER_ROLE_NAG,
    CONSUMER_SKIPS,
    LOG_NAG,
    LOG_SKIPS,
    MACHINE_NAG,
    QUEUE_SKIPS,
    migration_nag,
    migration_skips,
)

# The parameter naming the bucket of the export (migrate gives it; the roles reach only its migration prefix).
EXPORT_BUCKET = "ExportBucket"
# Logical IDs migrate reads back (the function's metrics, the queue's depth, the backfill to start).
CONSUMER_ID, DEAD_LETTERS_ID, BACKFILL_ID = "Consumer", "ConsumerDeadLetters", "Backfill"
RUNTIME = "python3.12"
# Lambda's longest: one export data file loaded in one invocation (16 writes in flight).
TIMEOUT_S = 900
MEMORY_MB = 512
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

# ---- the handler of the backfill and the stream consumer (stacks/migration_stack.py) ----
import os

import boto3
from botocore.config import Config

_writer = None


def _dead_letter(item, reason):
    body = json.dumps({"reason": reason, "item": item}, sort_keys=True)
    boto3.client("sqs").send_message(QueueUrl=os.environ["DEAD_LETTERS"], MessageBody=body)


def handler(event, context):
    """A stream batch: each record, in order. The backfill's {"backfill": {"bucket", "key"}}: every
    item of that export data file. Both through the transform `migrate` runs too."""
    global _writer
    if _writer is None:
        config = json.loads(os.environ["TRANSFORM"])
        # One pooled connection per thread of load_all (botocore keeps 10: the rest would reconnect per call).
        client = boto3.client("dynamodb", config=Config(max_pool_connections=ItemWriter.THREADS))
        _writer = ItemWriter(client, os.environ["TABLE"], config, _dead_letter)
    if "backfill" in event:
        job = event["backfill"]
        written, skipped = _writer.written, _writer.skipped
        _writer.load_all(export_items(boto3.client("s3"), job["bucket"], job["key"]))
        return {"key": job["key"], "written": _writer.written - written, "skipped": _writer.skipped - skipped}
    for record in event["Records"]:
        _writer.apply(record)
    return {"records": len(event["Records"])}
'''
# Export data files loaded at once by the backfill (each a child execution calling the function).
MAX_FILES_AT_ONCE = 10
# Lambda's transient errors, retried by the state machine (Step Functions' best practice for Lambda tasks).
LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


def consumer_code() -> str:
    """The Lambda's index.py: the transform module as it is, then the handler."""
    return Path(item_transform.__file__).read_text(encoding="utf-8") + HANDLER


def _trusting(service: str) -> PolicyDocument:
    """A role the service assumes for this account only (the confused deputy: aws:SourceAccount)."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", service),
                Action=[iam_action("sts:AssumeRole")],
                Condition=Condition(StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")})),
            )
        ],
    )


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
    template.add_parameter(
        Parameter(EXPORT_BUCKET, Type="String", Description="The bucket migrate exports the old table to")
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
            Metadata=migration_skips(QUEUE_SKIPS),
            # Emptied before cutover (verify fails on any dead letter), so nothing is lost with it at retire.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            MessageRetentionPeriod=DEAD_LETTER_RETENTION_S,
            SqsManagedSseEnabled=True,
        )
    )
    # Only over TLS (the Lambda service and the function use it; AwsSolutions-SQS4).
    template.add_resource(
        sqs.QueuePolicy(
            "ConsumerDeadLettersTlsOnly",
            Queues=[Ref(dead_letters)],
            PolicyDocument=plain(
                PolicyDocument(
                    Version="2012-10-17",
                    Statement=[
                        Statement(
                            Sid="DenyInsecureTransport",
                            Effect=Deny,
                            Principal=Principal("*"),
                            Action=[iam_action("sqs:*")],
                            Resource=[GetAtt(dead_letters, "Arn")],
                            Condition=Condition(Bool({"aws:SecureTransport": "false"})),
                        )
                    ],
                )
            ),
        )
    )
    log_group = template.add_resource(
        logs.LogGroup(
            "ConsumerLogs",
            Metadata=migration_skips(LOG_SKIPS, LOG_NAG),
            RetentionInDays=LOG_RETENTION_DAYS,
            # The migration's record outlives its stack (retire removes it) for its retention period.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        )
    )
    new_table_arn = ImportValue(export_name(spec, TABLE_ARN_EXPORT))
    files = migration_prefix(spec.stack_prefix, spec.design.generation)
    export_files = Sub(f"arn:${{AWS::Partition}}:s3:::${{{EXPORT_BUCKET}}}/{files}/{MIGRATION_EXPORT_DIR}/*")
    old_stream = Sub(
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}/stream/*",
        Table=Ref(source_table),
    )
    statements = [
        Statement(
            Sid="ReadTheOldStream",
            Effect=Allow,
            Action=iam_actions(STREAM_READ_ACTIONS),
            Resource=[old_stream],
        ),
        Statement(Sid="ReadTheExport", Effect=Allow, Action=[iam_action("s3:GetObject")], Resource=[export_files]),
        # ListStreams supports no resource ARN (Service Authorization Reference: Amazon DynamoDB).
        Statement(Sid="ListStreams", Effect=Allow, Action=iam_actions(STREAM_LIST_ACTIONS), Resource=["*"]),
        Statement(
            Sid="WriteTheNewTable",
            Effect=Allow,
            Action=[iam_action("dynamodb:PutItem"), iam_action("dynamodb:DeleteItem")],
            Resource=[new_table_arn],
        ),
        Statement(
            Sid="DeadLetters",
            Effect=Allow,
            Action=[iam_action("sqs:SendMessage")],
            Resource=[GetAtt(dead_letters, "Arn")],
        ),
        Statement(
            Sid="OwnLogs",
            Effect=Allow,
            Action=[iam_action("logs:CreateLogStream"), iam_action("logs:PutLogEvents")],
            Resource=[GetAtt(log_group, "Arn")],
        ),
    ]
    if spec.env.customer_key:
        statements.append(
            Statement(
                Sid="NewTableKeyViaDynamoDB",
                Effect=Allow,
                Action=iam_actions(sorted(KEY_USE_ACTIONS)),
                Resource=[ImportValue(export_name(spec, KEY_ARN_EXPORT))],
                Condition=_via_dynamodb(),
            )
        )
    old_key = Statement(
        Sid="OldStreamKeyViaDynamoDB",
        Effect=Allow,
        Action=iam_actions(sorted(KEY_READ_ACTIONS)),
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
            Metadata=migration_nag(CONSUMER_ROLE_NAG),
            AssumeRolePolicyDocument=_trusting("lambda.amazonaws.com"),
            Policies=[iam.Policy(PolicyName="migration-consumer", PolicyDocument=policy)],
            **role_props,
        )
    )
    function = template.add_resource(
        awslambda.Function(
            CONSUMER_ID,
            Metadata=migration_skips(CONSUMER_SKIPS, CONSUMER_NAG),
            Runtime=RUNTIME,
            Handler="index.handler",
            Role=GetAtt(role, "Arn"),
            Code=awslambda.Code(ZipFile=consumer_code()),
            Timeout=TIMEOUT_S,
            MemorySize=MEMORY_MB,
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
    _add_backfill(template, spec, function, role_props)
    if topic is not None:  # alarms that alert someone: the environment's topic (alarms:)
        _add_alarms(template, spec, Ref(topic), function, dead_letters)
    return Stack(
        kind=MIGRATION,
        name=stack_name(spec, MIGRATION),
        template=template,
        parameters=parameters,
        tags=spec.tags,
    )


def backfill_definition(bucket: str, results_prefix: str, partition: str) -> dict[str, object]:
    """The state machine: a Distributed Map over the export's data files (the execution's input names
    their prefix: {"prefix": ".../AWSDynamoDB/<export id>/data/"}), each loaded by the function."""
    return {
        "Comment": "Loads every data file of a table export into the new generation's table (migrate's backfill)",
        "StartAt": "LoadEachExportFile",
        "States": {
            "LoadEachExportFile": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": f"arn:{partition}:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": bucket, "Prefix.$": "$.prefix"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "LoadOneFile",
                    "States": {
                        "LoadOneFile": {
                            "Type": "Task",
                            "Resource": f"arn:{partition}:states:::lambda:invoke",
                            "Parameters": {
                                "FunctionName": "${Consumer}",
                                "Payload": {"backfill": {"bucket": bucket, "key.$": "$.Key"}},
                            },
                            "ResultSelector": {"result.$": "$.Payload"},
                            "Retry": [
                                {
                                    "ErrorEquals": LAMBDA_TRANSIENT,
                                    "IntervalSeconds": 2,
                                    "MaxAttempts": 6,
                                    "BackoffRate": 2,
                                }
                            ],
                            "End": True,
                        }
                    },
                },
                "MaxConcurrency": MAX_FILES_AT_ONCE,
                "ToleratedFailurePercentage": 0,
                # The results go to S3: any number of files' results fits (a state's output holds 256 KiB).
                "ResultWriter": {
                    "Resource": f"arn:{partition}:states:::s3:putObject",
                    "Parameters": {"Bucket": bucket, "Prefix": results_prefix},
                },
                "End": True,
            }
        },
    }


def _add_backfill(template: Template, spec: Spec, function: awslambda.Function, role_props: dict[str, object]) -> None:
    """The managed backfill's state machine and its role: invoke the function, list the export's files,
    write its results, run (and stop) its own child executions; nothing else.

    The permissions are the ones the Step Functions developer guide lists for a Distributed Map
    (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html): StartExecution on
    the state machine, DescribeExecution and StopExecution on its executions, s3:ListBucket for an
    ItemReader over objects, and PutObject, GetObject, ListMultipartUploadParts, AbortMultipartUpload
    under a ResultWriter's prefix.
    """
    generation = spec.design.generation
    files = migration_prefix(spec.stack_prefix, generation)
    machine = backfill_machine_name(spec.stack_prefix, generation)
    results = f"{files}/{MIGRATION_RESULTS_DIR}"
    states = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
    statements = [
        Statement(
            Sid="InvokeTheLoader",
            Effect=Allow,
            Action=[iam_action("lambda:InvokeFunction")],
            Resource=[GetAtt(function, "Arn"), Sub("${Arn}:*", Arn=GetAtt(function, "Arn"))],
        ),
        Statement(
            Sid="ListTheExportFiles",
            Effect=Allow,
            Action=[iam_action("s3:ListBucket")],
            Resource=[Sub(f"arn:${{AWS::Partition}}:s3:::${{{EXPORT_BUCKET}}}")],
            Condition=Condition(StringLike({"s3:prefix": f"{files}/{MIGRATION_EXPORT_DIR}/*"})),
        ),
        Statement(
            Sid="WriteTheResults",
            Effect=Allow,
            Action=[
                iam_action(a)
                for a in ("s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject")
            ],
            Resource=[Sub(f"arn:${{AWS::Partition}}:s3:::${{{EXPORT_BUCKET}}}/{results}/*")],
        ),
        Statement(
            Sid="RunItsChildExecutions",
            Effect=Allow,
            Action=[iam_action("states:StartExecution")],
            Resource=[Sub(f"{states}:stateMachine:{machine}")],
        ),
        Statement(
            Sid="WatchItsChildExecutions",
            Effect=Allow,
            Action=[iam_action("states:DescribeExecution"), iam_action("states:StopExecution")],
            Resource=[Sub(f"{states}:execution:{machine}/*"), Sub(f"{states}:execution:{machine}:*")],
        ),
    ]
    role = template.add_resource(
        iam.Role(
            "BackfillRole",
            Metadata=migration_nag(BACKFILL_ROLE_NAG),
            AssumeRolePolicyDocument=_trusting("states.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="migration-backfill",
                    PolicyDocument=plain(PolicyDocument(Version="2012-10-17", Statement=statements)),
                )
            ],
            **role_props,
        )
    )
    template.add_resource(
        stepfunctions.StateMachine(
            BACKFILL_ID,
            Metadata=migration_nag(MACHINE_NAG),
            StateMachineName=machine,
            StateMachineType="STANDARD",
            RoleArn=GetAtt(role, "Arn"),
            # The integrations' ARNs written out in the stack's partition (China's and GovCloud's are their own):
            # cfn-lint (E3601) reads them literally.
            Definition=backfill_definition(f"${{{EXPORT_BUCKET}}}", results, partition(spec.env.region)),
            DefinitionSubstitutions={"Consumer": GetAtt(function, "Arn"), EXPORT_BUCKET: Ref(EXPORT_BUCKET)},
        )
    )


def _add_alarms(
    template: Template, spec: Spec, topic: Ref, function: awslambda.Function, dead_letters: sqs.Queue
) -> None:
    actions = {"AlarmActions": [topic], "OKActions": [topic]}
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
