"""A key-schema migration on the local endpoint, with a writer writing throughout, killed twice.

Checked by listing the real resources afterwards (boto3, as the AWS CLI would): both tables
scanned and compared with the transform written out in tests/migration_designs.py, the roles'
policies read from IAM, and a write to the old table refused.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from templates_src.aws_calls import OPERATOR_CALLS, PIPELINE_CALLS
from templates_src.cli import main as cli_main

from . import record_calls
from .conftest import (
    FIXTURE_DESIGNS,
    FIXTURE_ENVIRONMENTS,
    MotoServers,
    fixture_build,
    local_endpoint,
    synth_with_designs,
)
from .migration_designs import NEW_TABLE, OLD_TABLE, expected_new_item, migration_project

ACCOUNT, REGION = "111111111111", "us-east-1"
BUCKET = "chat-platform-exports-dev"  # the dev fixture's ops export_bucket
STATE = "/conversations-dev/migration/v2"
# Two of the backfill's chunks (ItemWriter.CHUNK); each item costs the local server ~2 ms of CPU per pass, and
# the rehearsal passes over the table three times.
ITEMS = 2000


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers) -> Iterator[str]:
    with local_endpoint(monkeypatch, moto_servers, ACCOUNT) as url:
        yield url


def _client(service: str) -> Any:
    """One client per service and endpoint: the rehearsal polls the state and counts many times a
    second, and making a client costs more than the call (boto3's clients are thread-safe)."""
    return _endpoint_client(service, os.environ.get("AWS_ENDPOINT_URL", ""))


@functools.cache
def _endpoint_client(service: str, endpoint_url: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _item(i: int, prefix: str = "u") -> dict[str, Any]:
    return {
        "userId": {"S": f"{prefix}-{i % 97}"},
        "sk": {"S": f"CONV#c-{i}"},
        "title": {"S": f"chat {i}"},
        "messageCount": {"N": str(i % 7)},
    }


def _load_old_table() -> None:
    dynamodb = _client("dynamodb")
    for start in range(0, ITEMS, 25):
        requests = [{"PutRequest": {"Item": _item(i)}} for i in range(start, min(start + 25, ITEMS))]
        dynamodb.batch_write_item(RequestItems={OLD_TABLE: requests})


class Writer(threading.Thread):
    """The application: puts, updates and deletes on the old table until it is refused."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.dynamodb = _client("dynamodb")
        self.accepted = 0
        self.refused: str = ""
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            try:
                if i % 3 == 2:  # a modification of an item the export holds
                    self.dynamodb.update_item(
                        TableName=OLD_TABLE,
                        Key={"userId": _item(i)["userId"], "sk": _item(i)["sk"]},
                        UpdateExpression="SET title = :t",
                        ExpressionAttributeValues={":t": {"S": f"renamed {i}"}},
                    )
                elif i % 11 == 5:  # a deletion
                    self.dynamodb.delete_item(
                        TableName=OLD_TABLE, Key={"userId": _item(i)["userId"], "sk": _item(i)["sk"]}
                    )
                else:
                    self.dynamodb.put_item(TableName=OLD_TABLE, Item=_item(i, "w"))
                self.accepted += 1
            except ClientError as exc:
                self.refused = exc.response["Error"]["Code"]
                return
            i += 1
            time.sleep(0.02)  # ~50 writes a second: a steady application, not a load test


def _state() -> dict[str, Any]:
    try:
        return dict(json.loads(_client("ssm").get_parameter(Name=STATE)["Parameter"]["Value"]))
    except ClientError:
        return {}


def _count(table: str) -> int:
    """moto's ItemCount is the table's live count (AWS refreshes it every six hours): polled, it costs
    the server no scan of the table the backfill is writing."""
    try:
        return int(_client("dynamodb").describe_table(TableName=table)["Table"]["ItemCount"])
    except ClientError:
        return 0


def _migrate(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "templates_src", "migrate", "--env", "dev", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),
    )


def _catching_up() -> bool:
    """Backfilled, some stream records applied, not yet past the catch-up: from one read of the state (two
    reads could see two phases)."""
    state = _state()
    return state.get("phase") == "backfill" and bool(state.get("applied"))


def _kill_when(process: subprocess.Popen[str], ready: Any, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None, f"migrate ended before {what}: {process.communicate()[0]}"
        assert time.monotonic() < deadline, f"never reached {what}"
        time.sleep(every)
    process.send_signal(signal.SIGKILL)
    process.wait()


def _scan(table: str) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    for page in _client("dynamodb").get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            key = item["pk"]["S"] if "pk" in item else item["userId"]["S"]
            items[f"{key}|{item['sk']['S']}"] = item
    return items


def _policies(role: str) -> str:
    iam = _client("iam")
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return "".join(json.dumps(iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"]) for n in names)


@pytest.mark.long
def test_a_table_moves_to_a_new_key_with_a_writer_running_and_two_kills(endpoint: str, tmp_path: Path) -> None:
    dirs = ["--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["deploy", "--env", "dev", *dirs, "--build", str(fixture_build())]) == 0
    _client("s3").create_bucket(Bucket=BUCKET)
    _load_old_table()
    environments, designs, build = migration_project(tmp_path)
    args = ["--environments-dir", str(environments), "--designs-dir", str(designs), "--build", str(build)]

    # A plain deploy of the new generation would move the grants before the data: refused.
    assert cli_main(["deploy", "--env", "dev", *args]) == 3

    writer = Writer()
    writer.start()
    try:
        # Killed during backfill: some items written, not all.
        _kill_when(_migrate(args), lambda: _state().get("export_arn") and _count(NEW_TABLE) > ITEMS // 10, "backfill")
        assert _state()["phase"] == "capture"
        # Killed during catch-up: the backfill done, some records applied.
        # The catch-up's window can be short: polled more often (one state read, a few ms, per poll).
        _kill_when(_migrate(args), _catching_up, "catch-up", every=0.01)
        assert _state()["phase"] == "backfill"
        final = _migrate(args)
        out = final.communicate(timeout=300)[0]
        assert final.returncode == 0, out
    finally:
        writer.stop.set()
        writer.join(timeout=10)

    assert "migrate: verify:" in out and "every key and checksum equal" in out
    assert _state()["phase"] == "cutover"
    # The writer ran into the freeze: its writes until then were accepted, the next one refused.
    assert writer.refused == "AccessDeniedException"
    assert writer.accepted > 0
    old, new = _scan(OLD_TABLE), _scan(NEW_TABLE)
    assert len(old) >= ITEMS - ITEMS // 11  # the load, less the writer's deletions, plus its puts
    expected = {f"USER#{k}": expected_new_item(item) for k, item in old.items()}
    assert new == expected
    # The roles grant the new table only.
    app = _policies("conversations-dev-app")
    assert f"table/{NEW_TABLE}" in app
    assert f"table/{OLD_TABLE}" not in app
    # The old table refuses writes; it stays in its (kept) stack.
    with pytest.raises(ClientError, match="AccessDenied"):
        _client("dynamodb").put_item(TableName=OLD_TABLE, Item=_item(1, "late"))
    stacks = {s["StackName"] for s in _client("cloudformation").describe_stacks()["Stacks"]}
    assert {"conversations-dev-data", "conversations-dev-data-v2", "conversations-dev-access"} <= stacks


def test_rollback_reopens_the_old_table_and_retire_deletes_only_its_stack(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from templates_src.deploy import migrate

    monkeypatch.setattr(migrate, "QUIET_S", 0.0)
    dirs = ["--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["deploy", "--env", "dev", *dirs, "--build", str(fixture_build())]) == 0
    _client("s3").create_bucket(Bucket=BUCKET)
    dynamodb = _client("dynamodb")
    for i in range(40):
        dynamodb.put_item(TableName=OLD_TABLE, Item=_item(i))
    environments, designs, build = migration_project(tmp_path)
    args = [
        "--env",
        "dev",
        "--environments-dir",
        str(environments),
        "--designs-dir",
        str(designs),
        "--build",
        str(build),
    ]

    assert cli_main(["migrate", *args]) == 0
    assert _state()["phase"] == "cutover"
    with pytest.raises(ClientError, match="AccessDenied"):
        dynamodb.put_item(TableName=OLD_TABLE, Item=_item(100))

    # Rollback: the old table takes writes and is granted again.
    assert cli_main(["migrate", "--rollback", *args]) == 0
    assert _state()["phase"] == "catch-up"
    dynamodb.put_item(TableName=OLD_TABLE, Item=_item(100))
    app = _policies("conversations-dev-app")
    assert f"table/{OLD_TABLE}" in app and f"table/{NEW_TABLE}" not in app
    assert _client("dynamodb").describe_table(TableName=OLD_TABLE)["Table"]["TableStatus"] == "ACTIVE"

    # Run again: the write made after the rollback reaches the new table, which verify checks.
    capsys.readouterr()
    assert cli_main(["migrate", *args]) == 0
    assert "migrate: verify: 41 item(s), every key and checksum equal" in capsys.readouterr().out
    assert "USER#u-3|CONV#c-100" in _scan(NEW_TABLE)

    # A rollback after retire is refused; retire needs G001 allowed, and keeps the table.
    assert cli_main(["migrate", "--allow", "G001", *args]) == 0
    assert _state()["phase"] == "retire"
    stacks = {s["StackName"] for s in _client("cloudformation").describe_stacks()["Stacks"]}
    assert "conversations-dev-data" not in stacks and "conversations-dev-data-v2" in stacks
    assert len(_scan(OLD_TABLE)) == 41  # the old table stays, with its items
    capsys.readouterr()
    assert cli_main(["migrate", "--rollback", *args]) == 2
    assert "conversations-dev-data was retired (deleted, its table kept): there is nothing to roll back to" in (
        capsys.readouterr().err
    )

    # Every call migrate made here is listed (aws_calls.py: the pipeline's, or the operator's), and the docs name each.
    listed = {c.action for c in (*PIPELINE_CALLS, *OPERATOR_CALLS)}
    made = {
        IAM_ACTION_OF.get(f"{r['prefix']}:{r['operation']}", f"{r['prefix']}:{r['operation']}")
        for r in record_calls.RECORDS
        if r["test"].endswith("::test_rollback_reopens_the_old_table_and_retire_deletes_only_its_stack")
        and r["module"].startswith(("templates_src.deploy.migrate", "templates_src.deploy.migration"))
    }
    assert {"ssm:PutParameter", "dynamodb:GetRecords", "dynamodb:ExportTableToPointInTime", "s3:ListBucket"} <= made
    assert made - {"sts:GetCallerIdentity"} <= listed, sorted(made - listed)


# S3's API operation and the IAM action that authorises it differ in name (Service Authorization Reference).
IAM_ACTION_OF = {"s3:ListObjectsV2": "s3:ListBucket", "s3:HeadBucket": "s3:ListBucket"}


def test_the_docs_name_every_call_migrate_makes_as_an_operator() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "migrations.md").read_text()
    section = text.split("## Who runs it", 1)[1].split("\n## ", 1)[0]
    missing = [c.action for c in OPERATOR_CALLS if c.action.split(":")[1] not in section]
    assert not missing, missing


def test_a_transform_that_takes_no_item_stops_before_the_freeze_and_a_fixed_one_goes_on(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key template naming an attribute the items lack: every item a dead letter. The migration stops at
    the backfill, names the design and the file, freezes nothing; the fixed design is taken and finishes."""
    from templates_src.deploy import migrate

    monkeypatch.setattr(migrate, "QUIET_S", 0.0)
    monkeypatch.chdir(tmp_path)  # the dead-letter file is written under the working directory
    dirs = ["--environments-dir", str(FIXTURE_ENVIRONMENTS), "--designs-dir", str(FIXTURE_DESIGNS)]
    assert cli_main(["deploy", "--env", "dev", *dirs, "--build", str(fixture_build())]) == 0
    dynamodb = _client("dynamodb")
    for i in range(20):
        dynamodb.put_item(TableName=OLD_TABLE, Item=_item(i))
    environments, designs, build = migration_project(tmp_path)
    args = ["--env", "dev", "--environments-dir", str(environments), "--designs-dir", str(designs)]
    design = yaml.safe_load((designs / "conversations.yaml").read_text())

    # The export bucket is not there yet: named, with where it comes from, before anything is exported.
    capsys.readouterr()
    assert cli_main(["migrate", *args, "--build", str(build)]) == 2
    assert f"access.roles.ops.export_bucket: the bucket {BUCKET} does not exist; create it" in capsys.readouterr().err
    _client("s3").create_bucket(Bucket=BUCKET)

    design["migration"]["keys"]["pk"] = "USER#{userID}"  # not userId
    (designs / "conversations.yaml").write_text(yaml.safe_dump(design, sort_keys=False))
    synth_with_designs(designs, build, environments)
    assert cli_main(["migrate", *args, "--build", str(build)]) == 2
    err = capsys.readouterr().err
    assert "design conversations: migration: 20 item(s) of conversations-dev could not be transformed" in err
    assert "(the first: attribute 'userID' (in the key template of 'pk') is missing)" in err
    assert ".migration/dev-v2.jsonl" in err and "nothing was frozen" in err
    assert _state()["phase"] == "capture" and _state()["files_done"] == []
    dynamodb.put_item(TableName=OLD_TABLE, Item=_item(50))  # the old table still takes writes
    assert len((tmp_path / ".migration" / "dev-v2.jsonl").read_text().splitlines()) == 20

    design["migration"]["keys"]["pk"] = "USER#{userId}"
    (designs / "conversations.yaml").write_text(yaml.safe_dump(design, sort_keys=False))
    synth_with_designs(designs, build, environments)
    assert cli_main(["migrate", *args, "--build", str(build)]) == 0
    out = capsys.readouterr().out
    assert "the transform changed; nothing was written with the earlier one: the backfill runs again" in out
    assert "migrate: verify: 21 item(s), every key and checksum equal" in out
    assert _scan(NEW_TABLE) == {f"USER#{k}": expected_new_item(v) for k, v in _scan(OLD_TABLE).items()}


def _bare_migration(state: Any, saved: list[dict[str, Any]]) -> Any:
    """A Migration past its set-up, holding state; each save recorded."""
    from templates_src.deploy import migrate

    migration = object.__new__(migrate.Migration)
    migration.state, migration.out, migration.sleep = state, lambda line: None, lambda seconds: None
    migration.config = {"keys": {"pk": "USER#{userId}"}}
    migration.save = lambda: saved.append(dict(vars(migration.state)))
    return migration


def test_a_transform_changed_after_items_were_written_is_refused() -> None:
    from templates_src.deploy import migrate
    from templates_src.errors import Refused

    saved: list[dict[str, Any]] = []
    state = migrate.State(phase="backfill", new_table=NEW_TABLE, transform="0123456789abcdef", loaded=12)
    with pytest.raises(Refused) as refused:
        _bare_migration(state, saved)._same_transform()
    assert str(refused.value) == (
        "migrate: the design's migration: changed after the backfill wrote 12 item(s) and the catch-up 0 "
        f"record(s) with the earlier transform; {NEW_TABLE} would hold items of both. Start over: "
        "docs/migrations.md, Starting over"
    )
    assert saved == []
    # On AWS the function's writes are not counted: a finished backfill is enough to refuse.
    aws = migrate.State(phase="backfill", new_table=NEW_TABLE, transform="0123456789abcdef")
    with pytest.raises(Refused, match="changed after the backfill wrote 0 item"):
        _bare_migration(aws, saved)._same_transform()


def _clock(*times: str) -> Any:
    """A clock that gives these times (ISO 8601), one per call."""
    from datetime import datetime

    given = iter(datetime.fromisoformat(t) for t in times)
    return lambda: next(given)


class _OneShard:
    """A stream of one shard: each GetRecords takes the next batch (none left: an empty one). A pass over the
    stream reads batches until an empty one."""

    def __init__(self, *batches: list[dict[str, Any]]) -> None:
        self.batches = list(batches)

    def describe_stream(self, **_: Any) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "iterator"}

    def get_records(self, **_: Any) -> dict[str, Any]:
        records = self.batches.pop(0) if self.batches else []
        return {"Records": records, "NextShardIterator": "iterator"}


@pytest.mark.parametrize(
    ("now", "refused"),
    [
        ("2026-12-02T04:00:00+00:00", False),  # 20 h: the limit, still in time
        ("2026-12-02T04:00:01+00:00", True),
        ("2026-12-03T11:00:00+00:00", True),
    ],
)
def test_a_catch_up_or_freeze_the_stream_may_no_longer_feed_is_refused_before_anything_changes(
    now: str, refused: bool
) -> None:
    """A stream keeps a record 24 h: a catch-up resumed later could miss writes, and a freeze then would stop
    the old table's writes for a verify bound to fail. Both refuse before touching anything."""
    from templates_src.deploy import migrate
    from templates_src.errors import Refused

    for phase, action in (("catch-up", "catch_up"), ("freeze", "freeze")):
        saved: list[dict[str, Any]] = []
        state = migrate.State(phase="backfill", old_table=OLD_TABLE, stream_read_at="2026-12-01T08:00:00+00:00")
        migration = _bare_migration(state, saved)
        migration.now = _clock(now)
        if not refused:
            migration._stream_still_holds(phase)
            continue
        with pytest.raises(Refused) as stopped:
            getattr(migration, action)()  # no client set: any AWS call would fail otherwise
        hours = "20 h 0 min" if now.endswith("04:00:01+00:00") else "51 h 0 min"
        assert str(stopped.value) == (
            f"migrate: {phase}: the stream of {OLD_TABLE} was last read {hours} ago (2026-12-01T08:00:00+00:00); "
            "it keeps a record 24 h, so the writes since may be gone (a catch-up starts within 20 h). Start over: "
            "docs/migrations.md, Starting over"
        )
        assert saved == []


def test_no_age_is_checked_without_a_read_to_go_on_from() -> None:
    """Before capture, and on AWS once the stream consumer reads the stream: nothing of ours resumes."""
    from templates_src.deploy import migrate

    migration = _bare_migration(migrate.State(phase="backfill", old_table=OLD_TABLE), [])
    migration.now = _clock("2030-01-01T00:00:00+00:00")
    assert migration._stream_still_holds("catch-up") is None


def test_capture_and_each_full_pass_of_the_catch_up_record_when_their_read_began(tmp_path: Path) -> None:
    from templates_src.deploy import migrate
    from templates_src.deploy.migration_data import DeadLetters

    saved: list[dict[str, Any]] = []
    migration = _bare_migration(migrate.State(phase="create", old_table=OLD_TABLE, stream_arn="arn:stream"), saved)
    migration.streams = _OneShard([{"dynamodb": {"SequenceNumber": "100"}}], [])
    migration.now = _clock("2026-12-01T08:00:00+00:00")
    migration.capture()
    assert (saved[-1]["stream_read_at"], saved[-1]["checkpoints"]) == ("2026-12-01T08:00:00+00:00", {"shard-1": "100"})

    applied: list[dict[str, Any]] = []

    class Writer:
        written = 0
        dead = DeadLetters(tmp_path / "dead.jsonl")

        def apply(self, record: dict[str, Any]) -> None:
            applied.append(record)
            self.written += 1

    migration._writer = Writer
    record = [{"dynamodb": {"SequenceNumber": str(n)}} for n in (101, 102, 103)]
    migration.streams = _OneShard(record[:2], [], [], [record[2]], [])
    # The freeze's drain, pass by pass (each begun a minute later): two records; none; after a quiet pause, one
    # more (counted too); none; after a pause, none: every record written before 09:04 was read.
    migration.now = _clock(*(f"2026-12-01T09:0{m}:00+00:00" for m in range(5)))
    assert migration._drain(quiet=True) == 3
    assert [r["dynamodb"]["SequenceNumber"] for r in applied] == ["101", "102", "103"]
    assert migration.state.stream_read_at == "2026-12-01T09:04:00+00:00"
    # Saved with each batch (the last: record 103's, in the third pass): the time of the last full pass before
    # it, the second's, which a run stopped mid-pass keeps.
    assert saved[-1]["stream_read_at"] == "2026-12-01T09:01:00+00:00"


def _old_table_stack(read_only: bool) -> dict[str, Any]:
    """The old data stack as deployed: its table, read-only (frozen) or not."""
    from templates_src.change.migration import read_only_statement

    table: dict[str, Any] = {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": OLD_TABLE}}
    if read_only:
        table["Properties"]["ResourcePolicy"] = {
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [read_only_statement(OLD_TABLE)]}
        }
    return {"Resources": {"Table": table}}


def _rolling_back(state: Any, deployed: dict[str, Any], saved: list[dict[str, Any]]) -> tuple[Any, list[Any]]:
    migration = _bare_migration(state, saved)
    updates: list[Any] = []
    migration.old_stack = "conversations-dev-data"
    migration.deployer = type(
        "D", (), {"change_sets": type("C", (), {"deployed_template": lambda self, name: deployed})()}
    )()
    migration._update_old_stack = updates.append
    migration.now = _clock("2026-12-05T10:00:00+00:00")
    return migration, updates


@pytest.mark.parametrize(
    "phase",
    [
        "freeze",
        # A freeze stopped after the deny, before its phase was saved: the table is made writable again, though
        # the phase says catch-up.
        "catch-up",
    ],
)
def test_rollback_reopens_a_frozen_table_whatever_its_phase_says(phase: str) -> None:
    """The stream's last read stays: TTL's deletes went on under the freeze, and the next catch-up reads them."""
    from templates_src.deploy import migrate

    saved: list[dict[str, Any]] = []
    state = migrate.State(phase=phase, old_table=OLD_TABLE, stream_read_at="2026-12-01T08:00:00+00:00")
    migration, updates = _rolling_back(state, _old_table_stack(read_only=True), saved)
    migration.rollback()
    assert [u["Resources"]["Table"]["Properties"].get("ResourcePolicy") for u in updates] == [None]
    assert (saved[-1]["phase"], saved[-1]["stream_read_at"]) == ("catch-up", "2026-12-01T08:00:00+00:00")


class _Bucket:
    """The bucket: objects put and read back."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:
        self.objects[Key] = Body

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        import io

        return {"Body": io.BytesIO(self.objects[Key])}


ACCESS_BEFORE = "conversations-dev-migration-v2/access-before.json"


def _after_a_cutover(phase: str, grants: bytes, saved: list[dict[str, Any]]) -> tuple[Any, list[Any], _Bucket]:
    """A Migration whose cutover kept the grants of before (access_before) in the bucket, the old table frozen."""
    from templates_src.deploy import migrate
    from templates_src.stacks.artifacts import StackFiles

    bucket = _Bucket()
    bucket.objects[ACCESS_BEFORE] = grants
    state = migrate.State(phase=phase, old_table=OLD_TABLE, access_before=ACCESS_BEFORE)
    migration, updates = _rolling_back(state, _old_table_stack(read_only=True), saved)
    migration.s3, migration.bucket, migration.prefix = bucket, BUCKET, "conversations-dev-migration-v2"
    migration.access = StackFiles("access", "conversations-dev-access", "{}", "[]", "[]")
    migration.data = StackFiles("data", "conversations-dev-data-v2", "{}", "[]", "[]")
    return migration, updates, bucket


def test_a_cutover_stopped_after_its_access_update_keeps_the_grants_of_before_and_rollback_restores_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from templates_src.deploy import migrate

    saved: list[dict[str, Any]] = []
    # Stopped after the access update: the state still at verify, the "before" kept.
    migration, updates, bucket = _after_a_cutover("verify", b'{"the grants": "of before"}', saved)
    key = ACCESS_BEFORE

    # Run again: the cutover keeps the earlier "before", never the deployed (already cut over) template.
    ran: list[str] = []
    monkeypatch.setattr(migrate, "StepRunner", lambda *a: type("R", (), {"run": lambda self, *s: ran.append("run")})())
    migration.deployer.change_sets.deployed_template = lambda name: {"the grants": "already cut over"}
    migration.cutover()
    assert (ran, bucket.objects[key]) == (["run"], b'{"the grants": "of before"}')

    # Rolled back from verify too: the grants of before are deployed again.
    deployed: list[Any] = []
    migration.state.phase = "verify"
    migration.deployer.deploy = deployed.append
    migration.deployer.change_sets.deployed_template = lambda name: _old_table_stack(read_only=True)
    migration.rollback()
    assert [(d.name, d.template) for d in deployed] == [("conversations-dev-access", '{"the grants": "of before"}')]
    assert (saved[-1]["access_before"], saved[-1]["phase"]) == ("", "catch-up")


def test_rollback_of_a_table_never_frozen_is_bad_input() -> None:
    from templates_src.deploy import migrate
    from templates_src.errors import BadInput

    migration, updates = _rolling_back(migrate.State(phase="catch-up"), _old_table_stack(read_only=False), [])
    with pytest.raises(BadInput, match="the migration is at catch-up; rollback undoes freeze, verify, cutover only"):
        migration.rollback()
    assert updates == []


def test_a_failed_export_is_forgotten_so_the_next_run_exports_again() -> None:
    from templates_src.deploy import migrate
    from templates_src.errors import AwsFailure

    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{OLD_TABLE}/export/0001"
    dynamodb = boto3.client("dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    saved: list[dict[str, Any]] = []
    migration = _bare_migration(migrate.State(phase="capture", export_arn=arn), saved)
    migration.dynamodb = dynamodb
    with Stubber(dynamodb) as stub:
        stub.add_response(
            "describe_export",
            {
                "ExportDescription": {
                    "ExportArn": arn,
                    "ExportStatus": "FAILED",
                    "FailureMessage": "The specified bucket does not exist",
                }
            },
            {"ExportArn": arn},
        )
        with pytest.raises(AwsFailure) as failed:
            migration._wait_for_export()
    assert str(failed.value) == (
        "migrate: backfill: the export failed: The specified bucket does not exist; fix that and run migrate "
        "again: it starts a new export"
    )
    # The next run captures the stream's start point again before it exports: not one from before the failure.
    assert (saved[-1]["export_arn"], saved[-1]["phase"], saved[-1]["checkpoints"], saved[-1]["stream_read_at"]) == (
        "",
        "create",
        {},
        "",
    )


def test_migrates_clients_keep_a_connection_for_each_backfill_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """16 writes in flight (ItemWriter.THREADS) on botocore's default pool of 10 would open and close
    a connection per call for the other 6."""
    from templates_src.deploy import migrate

    from .conftest import fixture_spec

    made: dict[str, Any] = {}

    class Captured:
        def __init__(self, spec: Any, stacks: Any, clients: Any, bucket: str) -> None:
            made.update(dynamodb=clients("dynamodb"), bucket=bucket)

        def run(self, allowed: frozenset[str]) -> None:
            made["allowed"] = allowed

    monkeypatch.setattr(migrate, "Migration", Captured)
    monkeypatch.setattr(migrate, "check_caller", lambda *args: None)
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(key, value)
    migrate.migrate_environment(fixture_spec("dev"), [], "a-bucket", frozenset({"G001"}))
    assert made["dynamodb"].meta.config.max_pool_connections == 16
    assert made["dynamodb"].meta.region_name == REGION
    assert (made["bucket"], made["allowed"]) == ("a-bucket", frozenset({"G001"}))


class _Scans:
    """DynamoDB's Scan of two tables, one page each."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        self.tables = tables

    def get_paginator(self, name: str) -> Any:
        tables = self.tables
        return type("P", (), {"paginate": lambda self, TableName, **_: [{"Items": tables[TableName]}]})()


def test_verify_forgives_an_item_missing_from_one_table_only_when_it_expired_there_lately() -> None:
    """DynamoDB deletes an expired item in each table on its own time (a freeze does not stop it): a copy
    missing from one table is no mismatch when it expired within the last 30 days. Copies in both tables are
    always compared; an item not yet expired, or expired long ago, missing from one table still is one."""
    from templates_src.deploy.migration_data import compare, expired_by

    now, day = 100_000_000, 24 * 3600
    config = {"keys": {"pk": "USER#{userId}"}, "key_types": {"pk": "S"}}

    def old(user: str, expires: int, title: str = "t") -> dict[str, Any]:
        return {"userId": {"S": user}, "expiresAt": {"N": str(expires)}, "title": {"S": title}}

    def new(user: str, expires: int, title: str = "t") -> dict[str, Any]:
        return {"pk": {"S": f"USER#{user}"}, **old(user, expires, title)}

    def key(user: str) -> str:
        return '{"pk":{"S":"USER#' + user + '"}}'

    tables = {
        OLD_TABLE: [
            old("kept", now + 1),
            old("gone-from-new", now - 1),  # expired a second ago: the new table's TTL got to it first
            old("live-missing", now + 1),
            old("long-expired-missing", now - 31 * day),
            old("expired-both-sides", now - 1, title="old"),
        ],
        NEW_TABLE: [new("kept", now + 1), new("gone-from-old", now), new("expired-both-sides", now - 1, title="new")],
    }
    found = compare(_Scans(tables), OLD_TABLE, ["userId"], NEW_TABLE, config, expired_by("expiresAt", now))
    assert (found.missing, found.extra, found.different, found.expired) == (
        [key("live-missing"), key("long-expired-missing")],
        [],
        [key("expired-both-sides")],
        2,
    )
    # TTL off (no attribute to expire by): nothing is forgiven.
    found = compare(_Scans(tables), OLD_TABLE, ["userId"], NEW_TABLE, config, expired_by(None, now))
    assert (found.missing, found.extra, found.expired) == (
        [key("gone-from-new"), key("live-missing"), key("long-expired-missing")],
        [key("gone-from-old")],
        0,
    )


def test_verify_takes_the_designs_ttl_attribute_and_the_time_now_when_the_environment_turns_ttl_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from templates_src.deploy import migrate
    from templates_src.deploy.migration_data import Comparison

    for ttl_days, judged_expected in ((30, [True, False]), (None, [False, False])):
        judged: list[bool] = []

        def compare(*args: Any, judged: list[bool] = judged) -> Comparison:
            expired = args[-1]
            judged.extend(expired({"expiresAt": {"N": str(n)}}) for n in (1764576000, 1764576001))
            return Comparison(
                old_items=1, new_items=1, missing=[], extra=[], different=[], untransformable=[], expired=3
            )

        monkeypatch.setattr(migrate, "compare", compare)
        lines: list[str] = []
        migration = _bare_migration(migrate.State(phase="freeze", old_table=OLD_TABLE, new_table=NEW_TABLE), [])
        migration.out = lines.append
        migration.spec = SimpleNamespace(
            design=SimpleNamespace(ttl_attribute="expiresAt"), env=SimpleNamespace(ttl_days=ttl_days), env_name="dev"
        )
        migration._old_key_schema = lambda: [{"AttributeName": "userId"}]
        migration.consumer, migration.dynamodb = None, None
        migration._queued_dead_letters = lambda: 0
        migration.now = _clock("2025-12-01T08:00:00+00:00")  # 1764576000
        migration.verify()
        assert judged == judged_expected  # on: at the second itself, expired; off: never
        assert lines[-1] == (
            "migrate: verify: 1 item(s), every key and checksum equal (3 missing from one table after their TTL, "
            "left out)"
        )


def test_a_rollback_stopped_midway_is_named_by_the_next_run_which_refuses_to_go_on() -> None:
    """Stopped after the grants were restored, before its state was saved: a plain run would say cut over."""
    from types import SimpleNamespace

    from templates_src.errors import BadInput

    saved: list[dict[str, Any]] = []
    migration, updates, _ = _after_a_cutover("cutover", b"{}", saved)
    migration.deployer.deploy = lambda files: None

    def killed(template: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the old table is made writable

    migration._update_old_stack = killed
    with pytest.raises(KeyboardInterrupt):
        migration.rollback()
    assert (saved[-1]["phase"], saved[-1]["rolling_back"]) == ("cutover", True)

    migration.spec = SimpleNamespace(env_name="dev")
    with pytest.raises(BadInput) as refused:
        migration.run()
    assert str(refused.value) == (
        "migrate: a rollback was stopped midway (the grants or the old table's writes may be restored, the state "
        "still says cutover): run `make migrate ENV=dev ROLLBACK=1` again first"
    )

    migration._update_old_stack = updates.append  # the rollback run again finishes, and clears the mark
    migration.rollback()
    assert (saved[-1]["phase"], saved[-1]["rolling_back"]) == ("catch-up", False)
