"""Shared fixtures.

Engine tests use their own designs and environments (tests/fixtures/), built
once per session into a temporary build/, so a user who edits
templates_src/designs/ or environments/ keeps a green suite. Only the
snapshot, lint, security (access matrix, parliament, checkov) and local smoke
tests walk the user's own designs and build/.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from templates_src.spec.loader import DESIGN_EXAMPLES_SUBDIR, Spec, load_spec
from templates_src.stacks.artifacts import write_tree
from templates_src.stacks.synth import all_targets, render_all

ROOT = Path(__file__).resolve().parent.parent
# Records every AWS request the tool sends (tests/test_deploy_role_calls.py simulates them).
pytest_plugins = ["tests.record_calls"]
# Run after every other test: they simulate what the others recorded.
AFTER_RECORDING = "test_deploy_role_calls.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name == AFTER_RECORDING)


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
