"""`migrate`: a table moved to a new key schema, phase by phase, without losing a row.

The phases and their templates are change/migration.py's; the data moves in migration_data.py.
The state lives in AWS, in an SSM parameter ("/<prefix>/migration/v<n>"): the last phase done,
the export, the stream checkpoints, the counts. Every run reads it and goes on from there, so a
run killed in any phase is resumed by running it again; each phase's writes are idempotent
(conditional puts, checkpoints saved after the records they cover). Nothing is kept only in
this process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from botocore.config import Config

from ..change.migration import PHASE_NAMES, ROLLBACK_PHASES, is_read_only, read_only, writable
from ..errors import AwsFailure, BadInput, Refused
from ..spec import limits
from ..spec.item_transform import ItemWriter, export_items, transform_digest
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.migration_stack import BACKFILL_ID, CONSUMER_ID, DEAD_LETTERS_ID, EXPORT_BUCKET
from ..stacks.names import (
    ACCESS,
    DATA,
    MIGRATION,
    MIGRATION_EXPORT_DIR,
    TABLE_ID,
    TABLE_NAME_EXPORT,
    data_stack_name,
    migration_prefix,
)
from .aws import aws_errors, error_code, local_endpoint, session
from .deployer import Deployer, check_caller
from .migration_data import Comparison, DeadLetters, Shards, Writer, compare, expired_by, export_files
from .migration_state import state_parameter
from .steps import StepRunner

# Waiting for an export: every second at first, backing off to POLL_S (a small table's is quick).
# The stream consumer (AWS): caught up when less than this behind the stream; idle after the freeze when
# it has had no invocation for IDLE_MINUTES; a difference at verify is looked at again VERIFY_ATTEMPTS times.
LAG_CAUGHT_UP_MS = 60_000.0
LAG_POLL_S = 30.0
IDLE_MINUTES = 3
CATCH_UP_TIMEOUT_S = 6 * 3600.0
BACKFILL_TIMEOUT_S = 12 * 3600.0
EXECUTION_NAME_MAX = 80  # Step Functions' limit on an execution's name
VERIFY_ATTEMPTS = 3
VERIFY_PAUSE_S = 60.0
POLL_S = 10.0
FIRST_POLL_S = 1.0
EXPORT_TIMEOUT_S = 12 * 3600.0
# After the freeze: the stream is read until it stays empty this long (the deny reaches every writer).
QUIET_S = 2.0
# Where dead letters go on this machine (ignored by git).
DEAD_LETTERS_DIR = Path(".migration")


@dataclass
class State:
    """What a migration has done, as kept in its SSM parameter (JSON)."""

    phase: str = ""  # the last phase done ("" none yet)
    old_table: str = ""
    new_table: str = ""
    stream_arn: str = ""
    checkpoints: dict[str, str] = field(default_factory=dict)
    export_arn: str = ""
    export_prefix: str = ""
    files_done: list[str] = field(default_factory=list)
    loaded: int = 0
    skipped: int = 0
    applied: int = 0
    dead_letters: int = 0
    access_before: str = ""  # S3 key of the access template before cutover (rollback)
    backfill_execution: str = ""  # AWS: the managed backfill's execution (Step Functions)
    backfill_attempts: int = 0
    transform: str = ""  # the digest of the transform the backfill started with
    queue_reported: int = 0  # AWS: dead letters in the queue already reported by a stop
    rolling_back: bool = False  # a rollback began and has not finished: only a rollback goes on
    # When (ISO 8601, UTC) a read of the stream began after which every record up to the checkpoints was
    # read: capture, then each full pass of the local catch-up. "" when no read of ours goes on from the
    # checkpoints (before capture; on AWS once the stream consumer reads the stream).
    stream_read_at: str = ""

    def done(self, phase: str) -> bool:
        return bool(self.phase) and PHASE_NAMES.index(self.phase) >= PHASE_NAMES.index(phase)


class Migration:
    def __init__(
        self,
        spec: Spec,
        stacks: list[StackFiles],
        clients: Callable[[str], Any],
        bucket: str,
        out: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        if spec.design.migration is None:
            raise BadInput(f"design {spec.design.name}: no migration: block; see docs/migrations.md")
        if spec.env.global_table:
            raise BadInput(
                f"{spec.env_file}: global_table: migrate moves a single-Region table only (docs/migrations.md)"
            )
        self.spec, self.out, self.sleep, self.bucket = spec, out, sleep, bucket
        self.now = now
        self.config = spec.design.transform_config()
        self.data = next(s for s in stacks if s.kind == DATA)
        self.access = next(s for s in stacks if s.kind == ACCESS)
        # On AWS the catch-up runs in the generated stream consumer (stacks/migration_stack.py); on the
        # local endpoint in this process (moto runs a Lambda only in Docker), through the same ItemWriter.
        built_consumer = next((s for s in stacks if s.kind == MIGRATION), None)
        self.consumer = built_consumer if local_endpoint() is None else None
        self.cloudwatch = clients("cloudwatch") if self.consumer is not None else None
        self.cf, self.dynamodb, self.ssm = clients("cloudformation"), clients("dynamodb"), clients("ssm")
        self.s3, self.streams = clients("s3"), clients("dynamodbstreams")
        self.clients = clients
        self.deployer = Deployer(
            spec, self.cf, out, sleep, dynamodb=self.dynamodb, iam=clients("iam"), kms=clients("kms")
        )
        self.old_stack = data_stack_name(spec.stack_prefix, spec.design.generation - 1)
        self.parameter = state_parameter(spec.stack_prefix, spec.design.generation)
        self.prefix = migration_prefix(spec.stack_prefix, spec.design.generation)
        self.state = self._read_state()
        self.dead = DeadLetters(DEAD_LETTERS_DIR / f"{spec.env_name}-v{spec.design.generation}.jsonl")

    # -- state -------------------------------------------------------------------------

    def _read_state(self) -> State:
        try:
            text = self.ssm.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        except self.ssm.exceptions.ParameterNotFound:
            return State()
        return State(**json.loads(text))

    def save(self) -> None:
        self.ssm.put_parameter(
            Name=self.parameter, Value=json.dumps(asdict(self.state), sort_keys=True), Type="String", Overwrite=True
        )

    def _finished(self, phase: str, line: str) -> None:
        self.state.phase = phase
        self.save()
        self.out(f"migrate: {phase}: {line}")

    # -- the run -----------------------------------------------------------------------

    def run(self, allowed: frozenset[str] = frozenset()) -> None:
        if self.state.rolling_back:
            raise BadInput(
                f"migrate: a rollback was stopped midway (the grants or the old table's writes may be restored, "
                f"the state still says {self.state.phase}): run `make migrate ENV={self.spec.env_name} ROLLBACK=1` "
                "again first"
            )
        if self.state.phase:
            self.out(f"migrate: {self.parameter}: the last run finished phase {self.state.phase}; going on from there")
        self._same_transform()
        steps: list[tuple[str, Callable[[], None]]] = [
            ("create", self.create),
            ("capture", self.capture),
            ("backfill", self.backfill),
            ("catch-up", self.catch_up),
            ("freeze", self.freeze),
            ("verify", self.verify),
            ("cutover", self.cutover),
        ]
        for phase, action in steps:
            if not self.state.done(phase):
                action()
        if "G001" in allowed:
            self.retire()
        else:
            self.out(
                f"migrate: cut over to {self.state.new_table}. The old table {self.state.old_table} is read-only; "
                f"`make migrate ENV={self.spec.env_name} ROLLBACK=1` moves back until it is retired with "
                f"`make migrate ENV={self.spec.env_name} ALLOW=G001`"
            )

    def create(self) -> None:
        old = self._old_outputs()
        self.state.old_table = old[TABLE_NAME_EXPORT]
        described = self.dynamodb.describe_table(TableName=self.state.old_table)["Table"]
        view = (described.get("StreamSpecification") or {}).get("StreamViewType")
        if view != "NEW_AND_OLD_IMAGES" or not described.get("LatestStreamArn"):
            raise Refused(
                f"{self.state.old_table}: its stream is {view or 'off'}; catch-up needs NEW_AND_OLD_IMAGES "
                "(a modified item's key may move). Turn it on in a reviewed deploy of the old generation first"
            )
        self.state.stream_arn = described["LatestStreamArn"]
        StepRunner(self.deployer, self.out, self.sleep).run(self.data, None)
        self.state.new_table = self.spec.table_name
        if self.consumer is not None:
            self._deploy_consumer(described, enabled=False)
        self._finished("create", f"{self.state.new_table} created in {self.data.name}, beside {self.state.old_table}")

    def capture(self) -> None:
        shards = Shards(self.streams, self.state.stream_arn)
        started = self.now()
        shards.capture()
        self.state.checkpoints = shards.checkpoints
        self.state.stream_read_at = started.isoformat(timespec="seconds")
        self._finished("capture", f"the stream's start point recorded in {len(shards.checkpoints)} shard(s)")

    def _same_transform(self) -> None:
        """A transform changed after the backfill wrote with the earlier one is refused: the new table would
        hold items of both. Changed while nothing was written yet (every item a dead letter), it is taken."""
        now = transform_digest(self.config)
        if not self.state.transform or self.state.transform == now:
            return
        # Written: counted by this machine, or a finished backfill (on AWS the function's writes are not counted).
        if self.state.loaded or self.state.applied or self.state.done("backfill"):
            raise Refused(
                f"migrate: the design's migration: changed after the backfill wrote {self.state.loaded} item(s) "
                f"and the catch-up {self.state.applied} record(s) with the earlier transform; {self.state.new_table} "
                "would hold items of both. Start over: docs/migrations.md, Starting over"
            )
        self.out("migrate: the transform changed; nothing was written with the earlier one: the backfill runs again")
        self.state.transform = now
        self.save()

    def backfill(self) -> None:
        if not self.state.transform:
            self.state.transform = transform_digest(self.config)
        if not self.state.export_arn:
            self._bucket_exists()
            self._pitr_on()
            self.state.export_prefix = f"{self.prefix}/{MIGRATION_EXPORT_DIR}"
            table_arn = self.dynamodb.describe_table(TableName=self.state.old_table)["Table"]["TableArn"]
            self.state.export_arn = self.dynamodb.export_table_to_point_in_time(
                TableArn=table_arn,
                S3Bucket=self.bucket,
                S3Prefix=self.state.export_prefix,
                ExportFormat="DYNAMODB_JSON",
            )["ExportDescription"]["ExportArn"]
            self.save()
            self.out(
                f"migrate: backfill: exporting {self.state.old_table} to s3://{self.bucket}/{self.state.export_prefix}"
            )
        self._wait_for_export()
        if self.consumer is not None:
            self._managed_backfill()
            return
        writer = self._writer()
        for key in export_files(self.s3, self.bucket, self.state.export_prefix):
            if key in self.state.files_done:
                continue
            writer.load_all(export_items(self.s3, self.bucket, key))
            self.state.files_done.append(key)
            self.state.loaded += writer.written
            self.state.skipped += writer.skipped
            self.state.dead_letters += writer.dead.count
            writer.written = writer.skipped = writer.dead.count = 0
            self.save()
            self.out(f"  {key}: {self.state.loaded} item(s) written, {self.state.skipped} already there")
        self._stop_on_dead_letters(self.state.dead_letters, f"the dead-letter file {self.dead.path}")
        self._finished("backfill", f"{self.state.loaded} item(s) written from the export")

    def _stop_on_dead_letters(self, count: int, where: str) -> None:
        """Items the transform could not take stop the migration here, before anything is frozen: the
        backfill runs again (every file; the conditional writes skip what is there) once the design is fixed."""
        if not count:
            return
        first = f" (the first: {self.dead.first})" if self.dead.first else ""
        self.state.files_done, self.state.dead_letters, self.state.backfill_execution = [], 0, ""
        self.save()
        raise BadInput(
            f"design {self.spec.design.name}: migration: {count} item(s) of {self.state.old_table} could not be "
            f"transformed or written{first}; they are in {where}. Fix the design's migration: (or the items) "
            f"and run `make migrate ENV={self.spec.env_name}` again: nothing was frozen"
        )

    def _stream_still_holds(self, phase: str) -> None:
        """Refused when records the catch-up has not read may have been trimmed from the stream: the new
        table would miss writes. Checked before the catch-up and before the freeze stops the old table's writes."""
        if not self.state.stream_read_at:
            return
        read_at = datetime.fromisoformat(self.state.stream_read_at)
        age = self.now() - read_at
        if age > timedelta(hours=limits.CATCH_UP_WITHIN_HOURS):
            hours, minutes = divmod(int(age.total_seconds()) // 60, 60)
            raise Refused(
                f"migrate: {phase}: the stream of {self.state.old_table} was last read {hours} h {minutes} min ago "
                f"({self.state.stream_read_at}); it keeps a record {limits.STREAM_RETENTION_HOURS} h, so the "
                f"writes since may be gone (a catch-up starts within {limits.CATCH_UP_WITHIN_HOURS} h). "
                "Start over: docs/migrations.md, Starting over"
            )

    def catch_up(self) -> None:
        self._stream_still_holds("catch-up")
        if self.consumer is not None:
            described = self.dynamodb.describe_table(TableName=self.state.old_table)["Table"]
            self._deploy_consumer(described, enabled=True)
            # From here the consumer reads the stream (from its trim horizon): nothing of ours goes on from
            # the checkpoints, so a later run checks no age.
            self.state.stream_read_at = ""
            self.save()
            lag = self._consumer_lag(until_below_ms=LAG_CAUGHT_UP_MS)
            self._finished("catch-up", f"the stream consumer is on, {lag / 1000:.0f} s behind the stream")
            return
        applied = self._drain()
        self._finished("catch-up", f"{applied} stream record(s) applied")

    def freeze(self) -> None:
        self._stream_still_holds("freeze")
        deployed = self.deployer.change_sets.deployed_template(self.old_stack)
        self._update_old_stack(read_only(deployed, self.state.old_table))
        self.out(f"migrate: freeze: writes to {self.state.old_table} are denied; draining its stream")
        if self.consumer is not None:
            self._consumer_idle()
            self._finished("freeze", "the stream consumer has been idle since; verify compares every item")
            return
        applied = self._drain(quiet=True)
        self._finished("freeze", f"{applied} more record(s) applied; the new table has every write")

    def verify(self) -> None:
        old_key = [k["AttributeName"] for k in self._old_key_schema()]
        # The stream consumer may still hold a batch it is retrying: on AWS a difference is looked at again.
        attempts = VERIFY_ATTEMPTS if self.consumer is not None else 1
        for attempt in range(1, attempts + 1):
            # TTL deletes only where the environment turns it on (ttl_days: TimeToLiveSpecification.Enabled).
            ttl = self.spec.design.ttl_attribute if self.spec.env.ttl_days is not None else None
            expired = expired_by(ttl, int(self.now().timestamp()))
            result: Comparison = compare(
                self.dynamodb, self.state.old_table, old_key, self.state.new_table, self.config, expired
            )
            if not result.mismatches or attempt == attempts:
                break
            self.out(
                f"migrate: verify: {result.mismatches} difference(s); the consumer may be behind, again in {VERIFY_PAUSE_S:.0f} s"
            )
            self.sleep(VERIFY_PAUSE_S)
        self.state.dead_letters += self._queued_dead_letters()
        if result.mismatches or self.state.dead_letters:
            raise Refused(
                "\n".join(
                    [
                        f"migrate: verify: {result.mismatches} mismatch(es) between {self.state.old_table} "
                        f"({result.old_items} items, transformed) and {self.state.new_table} ({result.new_items})",
                        *result.lines(),
                        *(
                            [f"  {self.state.dead_letters} item(s) in the dead-letter file {self.dead.path}"]
                            if self.state.dead_letters
                            else []
                        ),
                        f"nothing was cut over; `make migrate ENV={self.spec.env_name} ROLLBACK=1` reopens writes "
                        "on the old table; fix the items and run migrate again, or, if the transform is wrong, "
                        "start over (docs/migrations.md, Starting over)",
                    ]
                )
            )
        past_ttl = f" ({result.expired} missing from one table after their TTL, left out)" if result.expired else ""
        self._finished("verify", f"{result.new_items} item(s), every key and checksum equal{past_ttl}")

    def cutover(self) -> None:
        # Kept once: a cutover stopped after its access update would read the new grants as "before".
        if not self.state.access_before:
            before = self.deployer.change_sets.deployed_template(self.access.name)
            self.state.access_before = f"{self.prefix}/access-before.json"
            self.s3.put_object(Bucket=self.bucket, Key=self.state.access_before, Body=json.dumps(before).encode())
            self.save()
        StepRunner(self.deployer, self.out, self.sleep).run(self.data, self.access)
        self._finished("cutover", f"the roles grant {self.state.new_table} only")

    def _freeze_stopped_midway(self) -> bool:
        """The old table read-only while the phase says no freeze ran: a freeze stopped before it was saved."""
        if self.state.done("freeze") or not self.state.done("create"):
            return False
        return is_read_only(self.deployer.change_sets.deployed_template(self.old_stack))

    def rollback(self) -> None:
        if self.state.phase == "retire":
            raise BadInput(
                f"migrate --rollback: {self.old_stack} was retired (deleted, its table kept): there is nothing to roll "
                "back to"
            )
        if self.state.phase not in ROLLBACK_PHASES and not self._freeze_stopped_midway():
            raise BadInput(
                f"migrate --rollback: the migration is at {self.state.phase or 'its start'}; rollback undoes "
                f"{', '.join(ROLLBACK_PHASES)} only (before them the old table takes writes as before)"
            )
        self.state.rolling_back = True  # saved first: a run stopped below is told to roll back again
        self.save()
        if self.state.access_before:  # a cutover, finished or stopped after its access update
            body = self.s3.get_object(Bucket=self.bucket, Key=self.state.access_before)["Body"].read().decode()
            self.deployer.deploy(StackFiles(ACCESS, self.access.name, body, self.access.parameters, self.access.tags))
            self.state.access_before = ""  # the next cutover keeps the grants of then
            self.out(f"migrate: rollback: the roles grant {self.state.old_table} again")
        deployed = self.deployer.change_sets.deployed_template(self.old_stack)
        self._update_old_stack(writable(deployed))
        # stream_read_at stays the freeze's: the table took no write since, but TTL's deletes go on under a
        # freeze, into the stream, and the next catch-up must still find them there.
        self.state.phase, self.state.rolling_back = "catch-up", False
        self.save()
        self.out(
            f"migrate: rollback: {self.state.old_table} takes writes again; run migrate again to freeze and verify"
        )

    def retire(self) -> None:
        if self.state.phase != "cutover":
            raise BadInput("migrate --allow G001: retire follows cutover; run migrate without it first")
        deployed = self.deployer.change_sets.deployed_template(self.old_stack)
        if deployed["Resources"][TABLE_ID].get("DeletionPolicy") != "Retain":
            raise Refused(f"{self.old_stack}: its table is not Retain; the freeze sets it, run migrate again")
        if self.consumer is not None and self.deployer.change_sets.describe(self.consumer.name):
            self.deployer.change_sets.delete_stack(self.consumer.name)
            self.out(f"migrate: retire: {self.consumer.name} (the stream consumer) deleted")
        self.cf.update_termination_protection(StackName=self.old_stack, EnableTerminationProtection=False)
        self.deployer.change_sets.delete_stack(self.old_stack)
        self._finished("retire", f"{self.old_stack} deleted; {self.state.old_table} stays in the account (Retain)")

    # -- helpers -----------------------------------------------------------------------

    # -- the stream consumer (AWS) ------------------------------------------------------

    def _deploy_consumer(self, old_table: dict[str, Any], enabled: bool) -> None:
        assert self.consumer is not None
        sse = old_table.get("SSEDescription") or {}
        key = sse.get("KMSMasterKeyArn", "")
        if key and self.deployer.kms.describe_key(KeyId=key)["KeyMetadata"].get("KeyManager") != "CUSTOMER":
            key = ""  # DynamoDB's AWS managed key: its own policy lets the account's principals use it through DynamoDB
        values = {
            "SourceTableName": self.state.old_table,
            "SourceStreamArn": self.state.stream_arn,
            "SourceKeyArn": key,
            "ConsumerEnabled": "true" if enabled else "false",
            EXPORT_BUCKET: self.bucket,
        }
        parameters = [p for p in self.consumer.parameters if p["ParameterKey"] not in values]
        parameters += [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
        self.deployer.deploy(
            StackFiles(self.consumer.kind, self.consumer.name, self.consumer.template, parameters, self.consumer.tags)
        )

    def _consumer_resource(self, logical_id: str) -> str:
        """The physical ID of a resource of the migration stack (the function, its queue, the state machine)."""
        assert self.consumer is not None
        resource = self.cf.describe_stack_resource(StackName=self.consumer.name, LogicalResourceId=logical_id)
        return str(resource["StackResourceDetail"]["PhysicalResourceId"])

    def _consumer_function(self) -> str:
        return self._consumer_resource(CONSUMER_ID)

    def _managed_backfill(self) -> None:
        """AWS: the migration stack's state machine loads every file of the export through the function,
        never through this machine. Its execution is kept in the state: a killed run waits for it again;
        a failed one is started again (the conditional writes skip what the first one loaded)."""
        states = self.clients("stepfunctions")
        export_id = self.state.export_arn.rsplit("/", 1)[-1]
        if not self.state.backfill_execution:
            machine = self._consumer_resource(BACKFILL_ID)
            name = f"backfill-{export_id}-{self.state.backfill_attempts + 1}"[:EXECUTION_NAME_MAX]
            job = {"prefix": f"{self.state.export_prefix}/AWSDynamoDB/{export_id}/data/"}
            try:  # the same name and input as a running execution: StartExecution returns it (idempotent)
                arn = states.start_execution(stateMachineArn=machine, name=name, input=json.dumps(job))["executionArn"]
            except states.exceptions.ExecutionAlreadyExists:  # started by a run killed before it saved, and ended
                arn = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
            self.state.backfill_execution = arn
            self.state.backfill_attempts += 1
            self.save()
            self.out(f"migrate: backfill: the export's files are loaded on AWS by {arn}")
        started = time.monotonic()
        while True:
            described = states.describe_execution(executionArn=self.state.backfill_execution)
            status = described["status"]
            if status == "SUCCEEDED":
                break
            if status != "RUNNING":
                failed = self.state.backfill_execution
                self.state.backfill_execution = ""  # the next run starts another attempt
                self.save()
                raise AwsFailure(
                    f"migrate: backfill: {failed} ended {status}: {described.get('error', '')} "
                    f"{described.get('cause', '')}".rstrip()
                    + "; fix the cause (the function's log group, its dead-letter queue) and run migrate again"
                )
            if time.monotonic() - started > BACKFILL_TIMEOUT_S:
                raise AwsFailure("migrate: backfill: still running on AWS; run migrate again to go on waiting")
            self.out(f"  backfill: running on AWS ({time.monotonic() - started:.0f} s)")
            self.sleep(LAG_POLL_S)
        queued = self._queued_dead_letters()
        self.state.queue_reported += queued  # reported once: a fixed design's run counts only new ones
        self._stop_on_dead_letters(queued, "the migration stack's dead-letter queue")
        self._finished("backfill", f"every file of the export loaded on AWS by {self.state.backfill_execution}")

    def _metric(self, name: str, statistic: str, minutes: int) -> list[float]:
        assert self.cloudwatch is not None
        now = datetime.now(timezone.utc)
        points = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=name,
            Dimensions=[{"Name": "FunctionName", "Value": self._consumer_function()}],
            StartTime=now - timedelta(minutes=minutes),
            EndTime=now,
            Period=60,
            Statistics=[statistic],
        )["Datapoints"]
        return [float(p[statistic]) for p in sorted(points, key=lambda p: p["Timestamp"])]

    def _consumer_lag(self, until_below_ms: float) -> float:
        """The consumer's IteratorAge (how far behind the stream it is), reported until it is below the mark."""
        started = time.monotonic()
        while True:
            ages = self._metric("IteratorAge", "Maximum", 5)
            lag = ages[-1] if ages else float("inf")
            if lag < until_below_ms:
                return lag
            shown = f"{lag / 1000:.0f} s" if ages else "no records processed yet"
            self.out(f"  catch-up: the stream consumer is {shown} behind ({time.monotonic() - started:.0f} s)")
            if time.monotonic() - started > CATCH_UP_TIMEOUT_S:
                raise AwsFailure(f"migrate: catch-up: still {shown} behind; run migrate again to go on waiting")
            self.sleep(LAG_POLL_S)

    def _consumer_idle(self) -> None:
        """No invocation for IDLE_MINUTES in a row: every record written before the freeze is applied."""
        started = time.monotonic()
        while True:
            if not any(self._metric("Invocations", "Sum", IDLE_MINUTES)):
                return
            if time.monotonic() - started > CATCH_UP_TIMEOUT_S:
                raise AwsFailure("migrate: freeze: the stream consumer is still busy; run migrate again")
            self.sleep(LAG_POLL_S)

    def _queued_dead_letters(self) -> int:
        """Items the function could not write since the last stop (its dead-letter queue): each stops the
        backfill or fails verification. The queue keeps them 14 days for inspection; those a stop already
        reported (queue_reported) are not counted again."""
        if self.consumer is None:
            return 0
        url = self._consumer_resource(DEAD_LETTERS_ID)
        attributes = self.clients("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        count = max(0, int(attributes.get("ApproximateNumberOfMessages", 0)) - self.state.queue_reported)
        if count:
            self.out(f"migrate: {count} new item(s) in the migration stack's dead-letter queue {url}")
        return count

    def _old_outputs(self) -> dict[str, str]:
        if not self.deployer.change_sets.describe(self.old_stack):
            raise BadInput(
                f"migrate: no stack {self.old_stack} (generation {self.spec.design.generation - 1}) to migrate from; "
                "a new environment deploys generation "
                f"{self.spec.design.generation} directly with `make deploy ENV={self.spec.env_name}`"
            )
        return self.deployer.change_sets.outputs(self.old_stack)

    def _old_key_schema(self) -> list[dict[str, str]]:
        schema: list[dict[str, str]] = self.dynamodb.describe_table(TableName=self.state.old_table)["Table"][
            "KeySchema"
        ]
        return schema

    def _writer(self) -> Writer:
        return Writer(self.dynamodb, self.state.new_table, self.config, self.dead)

    def _drain(self, quiet: bool = False) -> int:
        """Stream records after the checkpoints applied until none is left (quiet: none for QUIET_S)."""
        shards = Shards(self.streams, self.state.stream_arn, self.state.checkpoints)
        writer = self._writer()

        def saved() -> None:
            self.state.applied += writer.written
            self.state.dead_letters += writer.dead.count
            writer.written = writer.dead.count = 0
            self.save()

        def read() -> int:
            """One pass over every shard: each record written before it started is read by its end."""
            started = self.now()
            applied = shards.read(writer.apply, saved)
            self.state.stream_read_at = started.isoformat(timespec="seconds")
            return applied

        total = 0
        while True:
            applied = read()
            total += applied
            if applied:
                self.out(f"  catch-up: {total} record(s) applied")
            if not quiet or not applied:
                if not quiet:
                    return total
                self.sleep(QUIET_S)
                applied = read()
                total += applied
                if not applied:
                    return total

    def _bucket_exists(self) -> None:
        """The export's bucket, checked before DynamoDB is asked to write to it (HeadBucket: s3:ListBucket)."""
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            code = error_code(exc)
            if code not in ("404", "NoSuchBucket", "403", "AccessDenied"):
                raise
            why = "does not exist" if code in ("404", "NoSuchBucket") else "is not this account's to read"
            raise BadInput(
                f"{self.spec.env_file}: access.roles.ops.export_bucket: the bucket {self.bucket} {why}; create it "
                "(on the local endpoint too: docs/migrations.md) or give another with --bucket (make migrate BUCKET=…)"
            ) from None

    def _pitr_on(self) -> None:
        """An export reads the table's point-in-time recovery: turned on (and said) when it is off."""
        backups = self.dynamodb.describe_continuous_backups(TableName=self.state.old_table)
        pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
            self.dynamodb.update_continuous_backups(
                TableName=self.state.old_table,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
            self.out(
                f"migrate: backfill: point-in-time recovery turned on for {self.state.old_table} (the export reads it)"
            )

    def _wait_for_export(self) -> None:
        started, pause = time.monotonic(), FIRST_POLL_S
        while True:
            export = self.dynamodb.describe_export(ExportArn=self.state.export_arn)["ExportDescription"]
            status = export["ExportStatus"]
            if status == "COMPLETED":
                return
            if status == "FAILED":
                # The next run captures the stream's start point again, then exports anew: the catch-up goes on
                # from a start point taken just before the export it follows, not one a day old.
                self.state.export_arn, self.state.checkpoints, self.state.stream_read_at = "", {}, ""
                self.state.phase = "create"
                self.save()
                raise AwsFailure(
                    f"migrate: backfill: the export failed: {export.get('FailureMessage', '')}; fix that and run "
                    "migrate again: it starts a new export"
                )
            if time.monotonic() - started > EXPORT_TIMEOUT_S:
                raise AwsFailure(f"migrate: backfill: the export is still {status}; run migrate again later")
            self.sleep(pause)
            pause = min(pause * 2, POLL_S)

    def _update_old_stack(self, template: dict[str, Any]) -> None:
        described = self.deployer.change_sets.describe(self.old_stack) or {}
        parameters = [
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in described.get("Parameters", [])
        ]
        stack = StackFiles(DATA, self.old_stack, json.dumps(template, indent=2, sort_keys=True), parameters, [])
        change_sets = self.deployer.change_sets
        made = change_sets.create(stack, "UPDATE")
        if made is None:
            return
        final = change_sets.execute(self.old_stack, made[0])
        if not final.endswith("_COMPLETE") or "ROLLBACK" in final:
            raise AwsFailure(f"{self.old_stack}: ended {final}")


def migrate_environment(
    spec: Spec, stacks: list[StackFiles], bucket: str | None, allowed: frozenset[str], rollback: bool = False
) -> None:
    if spec.env.global_table:
        raise BadInput(f"{spec.env_file}: global_table: migrate moves a single-Region table only (docs/migrations.md)")
    bucket = bucket or _ops_bucket(spec)
    with aws_errors(f"migrate {spec.env_name}"):
        aws = session()
        region = spec.env.region
        check_caller(spec, aws.client("sts", region_name=region), aws.region_name)
        # One pooled connection per backfill thread (botocore keeps 10: the rest would reconnect per call).
        pool = Config(max_pool_connections=ItemWriter.THREADS)
        migration = Migration(
            spec, stacks, lambda service: aws.client(service, region_name=region, config=pool), bucket
        )
        if rollback:
            migration.rollback()
        else:
            migration.run(allowed)


def _ops_bucket(spec: Spec) -> str:
    ops = spec.env.access.roles.ops if spec.env.access is not None else None
    if ops is None:
        raise BadInput(
            f"{spec.env_file}: access.roles.ops.export_bucket: not set; migrate exports the old table to S3: "
            "name a bucket there or give --bucket"
        )
    return ops.export_bucket
