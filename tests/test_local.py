"""Every design deploys on a local endpoint and its access patterns return
exactly the expected items, one request each, never a Scan.

Smoke tests: they walk the user's own designs and their example deployments
(environments/designs/, build/designs/), so every assertion is derived from
the design rather than fixed."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import boto3
import pytest

from templates_src.cli import main as cli_main
from templates_src.local import moto_server
from templates_src.local.runner import create_stack
from templates_src.local.smoke import load_samples, run_all, verify_table
from templates_src.spec.loader import load_spec
from templates_src.stacks.artifacts import read_stack_files

from .conftest import USER, MotoServers, local_endpoint

BUILD, ENVIRONMENTS = USER.build, USER.environments
DESIGN_ENVS = USER.design_examples


def local_main(args: list[str]) -> int:
    return cli_main(["local", *args])


def test_every_example_deployment_names_a_design_and_is_rendered() -> None:
    """The smoke tests below walk the example deployments (environments/designs/<name>.yaml), however many
    there are: a design without one (an adopted design, until you write one) is simply not smoke-tested."""
    designs = {p.stem for p in USER.designs.glob("*.yaml")}
    for name in DESIGN_ENVS:
        example = load_spec(ENVIRONMENTS / "designs" / f"{name}.yaml")
        assert example.design.name in designs, f"environments/designs/{name}.yaml names no design in {USER.designs}"
        assert (BUILD / "designs" / name / "data.template.json").is_file(), "run make synth"


def _deploy_and_run(
    name: str, monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers, mutate: Any = None
) -> tuple[list[Any], list[Any], dict[str, int]]:
    spec = load_spec(ENVIRONMENTS / "designs" / f"{name}.yaml")
    design = mutate(spec.design) if mutate else spec.design
    build_dir = BUILD / "designs" / name
    calls: dict[str, int] = {}
    # The worker's moto server (with the shim's fixes, as `make local` runs it), empty, in the design's account.
    with local_endpoint(monkeypatch, moto_servers, spec.env.account_id):
        region = spec.env.region
        cf = boto3.client("cloudformation", region_name=region)
        stacks = read_stack_files(spec, build_dir)
        outputs = create_stack(cf, stacks[0])
        for stack in stacks[1:]:
            create_stack(cf, stack)
        ddb = boto3.client("dynamodb", region_name=region)
        table = outputs["TableName"]
        assert load_samples(ddb, table, design) == len(design.sample_items)

        def count(event_name: str, **_: Any) -> None:
            op = event_name.rsplit(".", 1)[-1]
            calls[op] = calls.get(op, 0) + 1

        ddb.meta.events.register("before-call.dynamodb.*", count)
        results = run_all(ddb, table, design)
        template = json.loads((build_dir / "data.template.json").read_text())
        checks = verify_table(ddb, table, spec, template["Resources"]["Table"]["Properties"])
    return results, checks, calls


@pytest.mark.parametrize("name", DESIGN_ENVS)
def test_design_access_patterns_on_local_endpoint(
    name: str, monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers
) -> None:
    results, checks, calls = _deploy_and_run(name, monkeypatch, moto_servers)
    failures = [f"{r.pattern.name}: {r.detail}" for r in results if not r.ok]
    assert not failures, "\n".join(failures)
    spec = load_spec(ENVIRONMENTS / "designs" / f"{name}.yaml")
    assert len(results) == len(spec.design.access_patterns)
    for r in results:
        if r.pattern.example is None:
            assert r.skipped, f"{r.pattern.name}: a pattern without example is reported as not run"
            continue
        if r.pattern.operation in ("GetItem", "Query") and r.pattern.example.expect:
            assert r.requests == 1
            assert r.pattern.example.expect is not None and r.items, f"{r.pattern.name} returned nothing"
    assert "Scan" not in calls
    assert [c for c in checks if c.status == "MISMATCH"] == []
    # Every setting the smoke run compares, read back from the live table: the keys and indexes, and what
    # the template sets of TTL, point-in-time recovery and encryption (every example sets the last two).
    template = json.loads((BUILD / "designs" / name / "data.template.json").read_text())["Resources"]["Table"]
    expected = {"KeySchema", "GlobalSecondaryIndexes", "StreamSpecification", "BillingMode"}
    expected |= {"DeletionProtectionEnabled", "point-in-time recovery", "server-side encryption"}
    if "TimeToLiveSpecification" in template["Properties"]:
        expected.add("TTL")
    assert {c.setting for c in checks if c.status == "verified"} == expected


@pytest.mark.parametrize("name", DESIGN_ENVS[:1])
def test_a_wrong_expectation_fails(name: str, monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers) -> None:
    chosen: list[str] = []

    def swap_expectation(design: Any) -> Any:
        patterns = list(design.access_patterns)
        query = next(i for i, p in enumerate(patterns) if p.operation == "Query" and p.example and p.example.expect)
        keys = {k.name: "no-such-item" if k.type == "S" else 999999 for k in design.table_key()}
        example = patterns[query].example.model_copy(update={"expect": [keys]})
        patterns[query] = patterns[query].model_copy(update={"example": example})
        chosen.append(patterns[query].name)
        return design.model_copy(update={"access_patterns": patterns})

    results, _, _ = _deploy_and_run(name, monkeypatch, moto_servers, swap_expectation)
    (bad,) = [r for r in results if not r.ok]
    assert [bad.pattern.name] == chosen and "expected keys" in bad.detail


def _spy_on_server(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    started: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(moto_server.subprocess, "Popen", popen)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return started


def test_make_local_flow_against_a_real_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started = _spy_on_server(monkeypatch)
    monkeypatch.chdir(ENVIRONMENTS.parent)
    name = DESIGN_ENVS[0]
    design = load_spec(ENVIRONMENTS / "designs" / f"{name}.yaml").design
    assert local_main(["--design", name]) == 0
    out = capsys.readouterr().out
    assert "local: moto server started on http://127.0.0.1:" in out
    for pattern in design.access_patterns:
        where = f" on {pattern.index}" if pattern.index else ""
        assert f"pattern {pattern.name} ({pattern.operation}{where}): " in out
    ran = sum(1 for p in design.access_patterns if p.example is not None)
    assert f"local: {ran}/{ran} access patterns passed" in out
    (proc,) = started
    assert proc.poll() is not None, "the moto server must be stopped"


def test_server_is_stopped_on_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    started = _spy_on_server(monkeypatch)
    with pytest.raises(KeyboardInterrupt), moto_server.running_moto_server() as url:
        assert url.startswith("http://127.0.0.1:")
        raise KeyboardInterrupt
    (proc,) = started
    assert proc.poll() is not None


def test_local_rejects_unknown_design(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ENVIRONMENTS.parent)
    assert local_main(["--design", "nope"]) == 2
    err = capsys.readouterr().err
    assert "environments/designs/nope.yaml: (file): error: cannot read" in err and "Traceback" not in err


def test_a_setting_the_live_table_lacks_is_a_mismatch_and_verified_once_it_has_it(
    monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers
) -> None:
    """The read-back reads the live table, not the template: a table without the template's TTL,
    point-in-time recovery and KMS key shows each as a MISMATCH, then each as verified once set."""
    from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS

    spec = load_spec(FIXTURE_ENVIRONMENTS / "dev.yaml", FIXTURE_DESIGNS)
    props = {
        "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35},
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
    }
    with local_endpoint(monkeypatch, moto_servers, "111111111111"):
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        keys = {
            "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "AttributeDefinitions": [
                {"AttributeName": "userId", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }

        def settings(table: str) -> dict[str, tuple[str, str]]:
            wanted = {"TTL", "point-in-time recovery", "server-side encryption"}
            checks = verify_table(ddb, table, spec, props)
            return {c.setting: (c.status, c.detail) for c in checks if c.setting in wanted}

        ddb.create_table(TableName="plain", **keys)
        assert settings("plain") == {
            "TTL": ("MISMATCH", "want expiresAt, got None"),
            "point-in-time recovery": ("MISMATCH", "want True, got False"),
            "server-side encryption": ("MISMATCH", "want KMS, got AWS owned"),
        }
        # moto takes a table's key at creation only; TTL and recovery are switched on afterwards.
        ddb.create_table(TableName="set", SSESpecification={"Enabled": True, "SSEType": "KMS"}, **keys)
        ddb.update_time_to_live(
            TableName="set", TimeToLiveSpecification={"AttributeName": "expiresAt", "Enabled": True}
        )
        ddb.update_continuous_backups(
            TableName="set", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        assert settings("set") == {
            "TTL": ("verified", "expiresAt"),
            "point-in-time recovery": ("verified", "True"),
            "server-side encryption": ("verified", "KMS"),
        }


def test_make_local_says_which_settings_differ_and_fails(
    monkeypatch: pytest.MonkeyPatch, moto_servers: MotoServers, capsys: pytest.CaptureFixture[str]
) -> None:
    from templates_src.local import smoke

    real = smoke.verify_table

    def dropping_ttl(*args: Any) -> list[Any]:
        return [
            c if c.setting != "TTL" else smoke.SettingCheck("TTL", "MISMATCH", "want x, got None") for c in real(*args)
        ]

    monkeypatch.setattr(smoke, "verify_table", dropping_ttl)
    from .conftest import fixture_cli_args

    with local_endpoint(monkeypatch, moto_servers, "111111111111"):  # AWS_ENDPOINT_URL set: make local uses it
        assert cli_main(fixture_cli_args("local", "dev")) != 0  # the engine's fixture: its dev sets TTL
    out = capsys.readouterr().out
    assert "verify: TTL: MISMATCH (want x, got None)" in out
    assert "local: the live table differs from the design in 1: TTL" in out
