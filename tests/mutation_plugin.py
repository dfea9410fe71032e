"""pytest plugin of `make mutation` only (scripts/mutation.py; mutmut loads it with -p, the suite never does).

mutmut runs the tests inside mutants/, on a copy of templates_src/ whose covered
functions it can switch to a mutant, and runs each mutant against the tests that
called the mutated function while it recorded them (its "stats" run). This plugin:

- leaves out the tests of the user's own committed build/ (parametrised with
  project "user"): they compare what the code renders with what was rendered
  before, a freshness check that `make synth` would silence, not a behaviour;
  and the tests in LEFT_OUT, which need what mutants/ does not hold;
- records what runs before the first test (conftest renders the fixtures'
  build/ and loads their specs while it is imported) as called by every test
  that reads that build/: mutmut would charge it to the first test alone, and
  a mutant of the rendering would never meet the tests of the rendered templates;
- runs a mutant's tests fastest first (as recorded), so a killed mutant stops
  early (mutmut passes -x);
- renders the fixtures again, with the mutant, for a mutant of a function that
  rendering calls: mutmut's fork server imported the tests (and so rendered
  the fixtures with the unmutated code) once, before forking a child per
  mutant. The test modules' paths into the fixtures' build/ are moved to the
  new one, and the designs' cache is emptied.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

# MUTANT_UNDER_TEST while mutmut records which tests call which function.
STATS = "stats"
# Its other values that are no mutant.
NOT_A_MUTANT = ("", STATS, "fail", "list_all_tests", "mutant_generation")
# What mutmut recorded, in mutants/ (the tests' working directory).
STATS_FILE = Path("mutmut-stats.json")
# The functions called before the first test (while conftest renders the fixtures), as recorded.
RENDER_FUNCTIONS = Path("mutation-render-functions.json")


# Test node IDs (up to their parameters) that cannot run in mutants/, and why.
LEFT_OUT = {
    "tests/test_bad_input.py::test_scripts_run_under_the_project_virtualenv_from_the_system_python": (
        "scripts/ re-executing under the project's .venv: the launcher, outside mutants/ and the covered modules"
    ),
}


def mutant_under_test() -> str:
    return os.environ.get("MUTANT_UNDER_TEST", "")


def left_out(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    reads_committed_build = callspec is not None and callspec.params.get("project") == "user"
    return reads_committed_build or item.nodeid.split("[")[0] in LEFT_OUT


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    deselected = [item for item in items if left_out(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not left_out(item)]
    if mutant_under_test() not in NOT_A_MUTANT and STATS_FILE.is_file():
        durations = json.loads(STATS_FILE.read_text(encoding="utf-8"))["duration_by_test"]
        items.sort(key=lambda item: durations.get(item.nodeid, 0.0))


class ReadsOfTheBuild:
    """While mutmut records: whether the running test read the fixtures' rendered build/.

    An audit hook (sys.addaudithook: open, os.listdir, os.scandir, subprocess.Popen) sees every
    file a test opens, in the process or by a path on a command line it starts.
    """

    def __init__(self, root: str, before_first_test: frozenset[str]) -> None:
        self.root = root
        self.before_first_test = before_first_test
        self.read = False

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if self.read or event not in AUDITED:
            return
        paths = args[1] if event == "subprocess.Popen" else args[:1]
        self.read = any(
            isinstance(p, (str, bytes, os.PathLike)) and os.fsdecode(p).startswith(self.root) for p in paths or ()
        )


AUDITED = ("open", "os.listdir", "os.scandir", "subprocess.Popen")
_READS = pytest.StashKey[ReadsOfTheBuild]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, None, None]:
    if mutant_under_test() == STATS:
        from mutmut.state import state

        from tests.conftest import fixture_build

        reads = ReadsOfTheBuild(str(fixture_build()), frozenset(state()._stats))
        state()._stats.clear()
        known = json.loads(RENDER_FUNCTIONS.read_text(encoding="utf-8")) if RENDER_FUNCTIONS.is_file() else []
        RENDER_FUNCTIONS.write_text(json.dumps(sorted({*known, *reads.before_first_test}), indent=1), encoding="utf-8")
        session.config.stash[_READS] = reads
        sys.addaudithook(reads)
    yield


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    reads = item.config.stash.get(_READS, None)
    if reads is not None:
        reads.read = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    reads = item.config.stash.get(_READS, None)
    if reads is not None and reads.read:
        from mutmut.state import state

        state()._stats.update(reads.before_first_test)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    mutant = mutant_under_test()
    if mutant in NOT_A_MUTANT or not RENDER_FUNCTIONS.is_file():
        return
    if mutant.rsplit("__mutmut_", 1)[0] in json.loads(RENDER_FUNCTIONS.read_text(encoding="utf-8")):
        new = render_again()
        session.config.add_cleanup(lambda: shutil.rmtree(new.parent, ignore_errors=True))


def render_again() -> Path:
    """The fixtures rendered with the mutant; every test module's path into the old build/ moved to it."""
    from templates_src.spec import loader
    from tests import conftest

    loader._load_design.cache_clear()
    old = conftest.fixture_build()
    conftest.fixture_build.cache_clear()
    new = conftest.fixture_build()
    for name, module in list(sys.modules.items()):
        if name == "tests" or name.startswith("tests."):
            for attribute, value in list(vars(module).items()):
                moved = _moved(value, old, new)
                if moved is not value:
                    setattr(module, attribute, moved)
    return new


def _moved(value: Any, old: Path, new: Path) -> Any:
    if isinstance(value, Path) and (value == old or old in value.parents):
        return new / value.relative_to(old)
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and hasattr(value, "build"):
        build = _moved(value.build, old, new)
        return value if build is value.build else dataclasses.replace(value, build=build)
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _moved(item, old, new)
    return value
