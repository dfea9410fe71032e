"""Every design deploys on a local endpoint and its access patterns return
exactly the expected items, one request each, never a Scan."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import boto3
import pytest
from moto import mock_aws

from templates_src import moto_server
from templates_src.local import create_stack, main as local_main
from templates_src.loader import load_spec
from templates_src.smoke import load_samples, run_all, verify_table
from templates_src.stack_files import stack_files

from .conftest import BUILD, ENVIRONMENTS

DESIGN_ENVS = sorted(p.stem for p in (ENVIRONMENTS / "designs").glob("*.yaml"))


def test_every_design_has_an_example_deployment() -> None:
    designs = sorted(p.stem for p in (ENVIRONMENTS.parent / "templates_src" / "designs").glob("*.yaml"))
    assert DESIGN_ENVS == designs
    for name in designs:
        assert (BUILD / "designs" / name / "data.template.json").is_file()
        assert (BUILD / "designs" / name / "access.template.json").is_file()


def _deploy_and_run(name: str, mutate: Any = None) -> tuple[list[Any], list[Any], dict[str, int]]:
    spec = load_spec(ENVIRONMENTS / "designs" / f"{name}.yaml")
    design = mutate(spec.design) if mutate else spec.design
    build_dir = BUILD / "designs" / name
    calls: dict[str, int] = {}
    with mock_aws():
        region = spec.env.region
        cf = boto3.client("cloudformation", region_name=region)
        data, access = stack_files(spec, build_dir)
        outputs = create_stack(cf, data)
        create_stack(cf, access)
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
def test_design_access_patterns_on_local_endpoint(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    results, checks, calls = _deploy_and_run(name)
    failures = [f"{r.pattern.name}: {r.detail}" for r in results if not r.ok]
    assert not failures, "\n".join(failures)
    spec = load_spec(ENVIRONMENTS / "designs" / f"{name}.yaml")
    assert len(results) == len(spec.design.access_patterns)
    for r in results:
        assert r.pattern.example is not None, f"{r.pattern.name} has no example"
        if r.pattern.operation in ("GetItem", "Query"):
            assert r.requests == 1
            assert r.pattern.example.expect is not None and r.items, f"{r.pattern.name} returned nothing"
    assert "Scan" not in calls
    assert [c for c in checks if c.status == "MISMATCH"] == []
    assert {c.setting for c in checks if c.status == "verified"} >= {"KeySchema", "GlobalSecondaryIndexes"}
    # What the endpoint drops is reported as not verified, never as verified.
    unverified = {c.setting for c in checks if c.status == "not modelled"}
    assert "server-side encryption" in unverified and "point-in-time recovery" in unverified


def test_a_wrong_expectation_fails() -> None:
    def swap_expectation(design: Any) -> Any:
        patterns = list(design.access_patterns)
        query = next(i for i, p in enumerate(patterns) if p.operation == "Query")
        example = patterns[query].example.model_copy(update={"expect": [{"PK": "USER#nobody", "SK": "CONV#x"}]})
        patterns[query] = patterns[query].model_copy(update={"example": example})
        return design.model_copy(update={"access_patterns": patterns})

    results, _, _ = _deploy_and_run("thinktank-chat-history", swap_expectation)
    (bad,) = [r for r in results if not r.ok]
    assert bad.pattern.name == "list-user-conversations" and "expected keys" in bad.detail


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
    assert local_main(["--design", "cmz-conversations"]) == 0
    out = capsys.readouterr().out
    assert "local: moto server started on http://127.0.0.1:" in out
    assert "pattern family-oversight (Query on ParentUserIndex): ok" in out
    assert "verify: TTL: not modelled" in out
    assert "local: 5/5 access patterns passed" in out
    (proc,) = started
    assert proc.poll() is not None, "the moto server must be stopped"


def test_server_is_stopped_on_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    started = _spy_on_server(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        with moto_server.running_moto_server() as url:
            assert url.startswith("http://127.0.0.1:")
            raise KeyboardInterrupt
    (proc,) = started
    assert proc.poll() is not None


def test_local_rejects_unknown_design(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ENVIRONMENTS.parent)
    assert local_main(["--design", "nope"]) == 2
    assert "environments/designs/nope.yaml: (file): error: cannot read" in capsys.readouterr().err
