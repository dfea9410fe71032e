"""Shared fixtures.

Engine tests use their own designs and environments (tests/fixtures/), built
once per session into a temporary build/, so a user who edits
templates_src/designs/ or environments/ keeps a green suite. Only the
snapshot, lint, security (access matrix, parliament, checkov) and local smoke
tests walk the user's own designs and build/.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import socket
import tempfile
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from templates_src.local import moto_server
from templates_src.spec.loader import DESIGN_EXAMPLES_SUBDIR, Spec, load_spec
from templates_src.stacks.artifacts import write_tree
from templates_src.stacks.synth import all_targets, render_all

ROOT = Path(__file__).resolve().parent.parent
# Records every AWS request the tool sends (tests/test_deploy_role_calls.py simulates them).
pytest_plugins = ["tests.record_calls"]
# Run after every other test: they simulate what the others recorded.
AFTER_RECORDING = "test_deploy_role_calls.py"
# The test modules whose requests it simulates: they run deploy, destroy, drift, adopt, plan --deployed
# and the global-table steps through the command line and the deployer.
RECORDED = ("test_deploy.py", "test_deploy_global.py", "test_adopt.py", "test_migrate_global.py")
# Under pytest-xdist, the scope (xdist's word) that keeps them and that test in one worker.
RECORDING_GROUP = "recorded-aws-calls"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked long first (longest first is the schedule that ends soonest: started last, a
    long test holds one worker while the other idles), the simulation of the recorded calls last."""
    items.sort(key=lambda item: (item.get_closest_marker("long") is None, item.path.name == AFTER_RECORDING))


def module_of(nodeid: str) -> str:
    """The test module's file name in a node ID."""
    return nodeid.split("::")[0].rsplit("/", 1)[-1]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (make test): one worker runs the recorded modules, then the test that simulates
    their requests (in collection order: last); the others share every other test, one at a time.

    xdist's own `--dist loadgroup` cannot do it with pytest 9 (it renames node IDs through an attribute
    pytest no longer reads), so the scheduler is xdist's LoadScopeScheduling with this grouping.
    """
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None  # another distribution asked for by name: xdist's
    from xdist.scheduler import LoadScopeScheduling

    class RecordedTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return RECORDING_GROUP if module_of(nodeid) in (*RECORDED, AFTER_RECORDING) else nodeid

    return RecordedTogether(config, log)


# Under pytest-xdist each worker's moto servers listen on ports of a range of its own, below the
# kernel's ephemeral ports: a port one worker just found free is never another's.
WORKER_PORTS = 100
WORKER_PORTS_FROM = 20000


def _ports_of_this_worker() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    first = WORKER_PORTS_FROM + WORKER_PORTS * int(worker.removeprefix("gw"))
    if first + WORKER_PORTS > 32768:
        return  # more workers than ranges: the kernel's choice, as without xdist
    ports = iter(range(first, first + WORKER_PORTS))

    def free_port() -> int:
        for port in ports:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise RuntimeError(f"{worker}: no free port left in {first}-{first + WORKER_PORTS - 1}")

    moto_server.free_port = free_port


_ports_of_this_worker()


FIXTURES = ROOT / "tests" / "fixtures"
# The cost engine's tests price with their own book (us-east-1, as read 2026-11), so a Region or price
# added to templates_src/change/cost/price_book.json never changes a test; subprocesses inherit it.
os.environ["PRICE_BOOK"] = str(FIXTURES / "price_book.json")


@dataclass(frozen=True)
class Project:
    """Where a set of environments, designs and their build live."""

    environments: Path
    designs: Path
    build: Path

    @property
    def env_names(self) -> list[str]:
        return sorted(p.stem for p in self.environments.glob("*.yaml"))

    @property
    def design_examples(self) -> list[str]:
        return sorted(p.stem for p in (self.environments / DESIGN_EXAMPLES_SUBDIR).glob("*.yaml"))

    def spec(self, env: str) -> Spec:
        return load_spec(self.environments / f"{env}.yaml", self.designs)


# The user's own project: what `make synth` reads and writes.
USER = Project(ROOT / "environments", ROOT / "templates_src" / "designs", ROOT / "build")
# The engine's fixtures, built on first use into a session temp dir.
FIXTURE_ENVIRONMENTS = FIXTURES / "environments"
FIXTURE_DESIGNS = FIXTURES / "designs"
FIXTURE_ENV_NAMES = sorted(p.stem for p in FIXTURE_ENVIRONMENTS.glob("*.yaml"))


@functools.cache
def fixture_build() -> Path:
    """The fixtures synthesised once per test session into a temporary build/."""
    root = Path(tempfile.mkdtemp(prefix="fixture-build-"))
    atexit.register(shutil.rmtree, root, True)
    build = root / "build"
    write_tree(build, render_all(all_targets(FIXTURE_ENVIRONMENTS), FIXTURE_DESIGNS).tree, replace_all=True)
    return build


@pytest.fixture(scope="session")
def fx() -> Project:
    return Project(FIXTURE_ENVIRONMENTS, FIXTURE_DESIGNS, fixture_build())


# Security tests (access matrix, parliament) are derived from each design, so
# they walk the user's own build/ as well as the fixtures.
SECURITY_PROJECTS = {"user": USER, "fixture": Project(FIXTURE_ENVIRONMENTS, FIXTURE_DESIGNS, fixture_build())}


def fixture_cli_args(command: str, env: str, build: bool = True) -> list[str]:
    """`<command> --env ENV` on the engine's fixtures and (build) their build (never the user's)."""
    return [
        command,
        "--env",
        env,
        "--environments-dir",
        str(FIXTURE_ENVIRONMENTS),
        "--designs-dir",
        str(FIXTURE_DESIGNS),
    ] + (["--build", str(fixture_build())] if build else [])


def fixture_spec(env: str) -> Spec:
    return load_spec(FIXTURE_ENVIRONMENTS / f"{env}.yaml", FIXTURE_DESIGNS)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


# The newest stack event before a change set executes (or a stack is deleted): deploy follows
# only the events after it, by identity, so stubbed events need no particular time.
EVENT_BEFORE = {
    "StackId": "arn:aws:cloudformation:us-east-1:333333333333:stack/before/0",
    "EventId": "event-before-the-operation",
    "StackName": "before",
    "LogicalResourceId": "before",
    "Timestamp": "2026-01-01T00:00:00Z",
    "ResourceStatus": "UPDATE_COMPLETE",
}


def synth_with_designs(designs: Path, out: Path, environments: Path = FIXTURE_ENVIRONMENTS) -> Path:
    """`synth` of the fixture environments (or others) with another designs folder, into out (never build/)."""
    from templates_src.cli import main as cli_main

    args = ["synth", "--environments-dir", str(environments), "--designs-dir", str(designs), "--out", str(out)]
    assert cli_main(args) == 0
    return out


class MotoServers:
    """One moto server kept for the session (per xdist worker). Each use gets it reset (moto's
    /moto-api/reset: every service's state, every account's, dropped) and put in the account asked
    for (moto_shim's fix 19 sets MOTO_ACCOUNT_ID): an empty endpoint for that account, as a new
    server started for it would be, without the ~1 s a server takes to start. One account at a
    time: a test never holds two endpoints. tests/test_local.py still starts its own: it tests the
    starting.
    """

    def __init__(self) -> None:
        self._servers: list[contextlib.AbstractContextManager[str]] = []
        self._url: str | None = None
        self._in_use = False

    @contextlib.contextmanager
    def fresh(self, account_id: str) -> Iterator[str]:
        """The endpoint URL of an empty moto server for account_id."""
        assert not self._in_use, "one endpoint at a time: a second would reset the first's server"
        url = self._url
        if url is not None:
            try:
                for path, body in (("/moto-api/reset", b""), (moto_server.ACCOUNT_PATH, account_id.encode())):
                    request = urllib.request.Request(f"{url}{path}", data=body, method="POST")
                    urllib.request.urlopen(request, timeout=10).close()
            except OSError:  # the server is gone: a new one
                url = None
        if url is None:
            server = moto_server.running_moto_server(account_id=account_id)
            url = server.__enter__()
            self._servers.append(server)
            self._url = url
        self._in_use = True
        try:
            yield url
        finally:
            self._in_use = False

    def close(self) -> None:
        """Every server stopped at once: each takes ~0.4 s to stop (its serve loop polls every 0.5 s)."""
        with ThreadPoolExecutor(max(len(self._servers), 1)) as pool:
            list(pool.map(lambda server: server.__exit__(None, None, None), self._servers))


@pytest.fixture(scope="session")
def moto_servers() -> Iterator[MotoServers]:
    servers = MotoServers()
    try:
        yield servers
    finally:
        servers.close()


@contextlib.contextmanager
def local_endpoint(monkeypatch: pytest.MonkeyPatch, servers: MotoServers, account: str) -> Iterator[str]:
    """AWS_ENDPOINT_URL at an empty session moto server for account, with its dummy credentials, and no
    profile or Region of the caller's: what a test of the command line on the local endpoint needs."""
    for key in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    with servers.fresh(account) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        for key, value in moto_server.DUMMY_CREDENTIALS.items():
            monkeypatch.setenv(key, value)
        yield url
