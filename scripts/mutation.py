"""make mutation: mutmut over the covered modules, within a time budget, and what survived.

The covered modules are [tool.mutmut] only_mutate in pyproject.toml (the one list);
the tests each mutant meets are the ones that called its function while mutmut
recorded them, among [tool.mutmut] pytest_add_cli_args_test_selection
(tests/mutation_plugin.py says which tests are left out, and why).

mutmut works in mutants/ (gitignored) and keeps it: a later run retests the
mutants of functions whose source changed, and this script also retests every
earlier survivor (a test may have been added since). When a test file changed,
mutmut records again which tests call which function. MUTATION_FRESH=1 starts
over from an empty mutants/.

Environment: MUTATION_BUDGET (seconds, default 5400): mutmut is stopped when it
is spent, what was tested is kept, and the next run goes on from there;
MUTATION_JOBS (default 2): mutants tested side by side; MUTATION_ONLY: mutant
names or globs (space-separated, e.g. 'templates_src.deploy.live.*'): test only
these, again even when tested before (the report still covers every mutant).

Prints each survivor with its diff, unless tests/mutation-equivalents.txt lists
it with the reason it is equivalent, and ends with the line
`mutation: <killed> killed of <total> (<percent>%)`, where total is every
mutant generated less the listed equivalents. Exit 0 only when every such
mutant was tested and killed, and every listed equivalent survived.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"
EQUIVALENTS = ROOT / "tests" / "mutation-equivalents.txt"
LOG = MUTANTS / "mutmut-run.log"
STATS = MUTANTS / "mutmut-stats.json"
TESTS_HASH = MUTANTS / "tests.sha256"
DEFAULT_BUDGET = 5400

# mutmut's verdicts by exit code of a mutant's test run (mutmut.stats.status_by_exit_code).
SURVIVED = 0
NO_TESTS = (5, 33)
# 1 a test failed, 3 pytest's internal error, 2 collection stopped by an error (conftest
# renders the fixtures: a mutant that breaks rendering stops the run there).
FAILED = (1, 2, 3)
# Over the time limit (SIGXCPU, or mutmut's own timeout code): the suite would not pass either.
TIMED_OUT = (24, -24, 36, 152, 255)


def tests_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "tests").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def meta_files() -> list[Path]:
    return sorted(MUTANTS.rglob("*.py.meta"))


def verdicts() -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in meta_files():
        out.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    return out


def retest_survivors(only: list[str]) -> int:
    """Clear the verdict of every survivor (and mutant without tests), of those named if any, so mutmut tests it again."""
    count = 0
    for meta in meta_files():
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data["exit_code_by_key"]
        for name, code in codes.items():
            if only and not any(fnmatch.fnmatchcase(name, pattern) for pattern in only):
                continue
            if code == SURVIVED or code in NO_TESTS:
                codes[name] = None
                count += 1
        meta.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return count


def equivalents() -> dict[str, str]:
    """tests/mutation-equivalents.txt: `<mutant name> <why it is equivalent>` a line, # comments."""
    out = {}
    for number, line in enumerate(EQUIVALENTS.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            sys.exit(f"{EQUIVALENTS.relative_to(ROOT)}:{number}: {name}: no reason given")
        out[name] = reason.strip()
    return out


def run_mutmut(budget: float, jobs: int, only: list[str]) -> bool:
    """mutmut run, stopped (SIGINT, then SIGTERM to its process group) once the budget is spent.

    True when it finished in time.
    """
    env = dict(os.environ)
    # The tests' subprocesses (python -m templates_src ...) import the mutated copy too.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(MUTANTS), env.get("PYTHONPATH")]))
    MUTANTS.mkdir(exist_ok=True)
    with LOG.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [str(MUTMUT), "run", "--max-children", str(jobs), *only],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=budget)
            if proc.returncode != 0:
                tail = LOG.read_text(encoding="utf-8", errors="replace").replace("\r", "\n").splitlines()[-30:]
                sys.exit(f"mutmut run failed (exit {proc.returncode}); the end of {LOG}:\n" + "\n".join(tail))
            return True
        except subprocess.TimeoutExpired:
            print(f"mutation: the budget ({budget:.0f} s) is spent; stopping mutmut (what it tested is kept)")
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait()
            return False
        finally:
            # What its children left (the tests' moto servers of a stopped mutant): its own session only.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)


def diff_of(name: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    try:
        return get_diff_for_mutant(name)
    except Exception as exc:  # the function is gone from the source: mutmut regenerates it next run
        return f"(no diff: {exc})"


def main() -> int:
    os.chdir(ROOT)
    budget = float(os.environ.get("MUTATION_BUDGET", DEFAULT_BUDGET))
    jobs = int(os.environ.get("MUTATION_JOBS", "2"))
    only = os.environ.get("MUTATION_ONLY", "").split()
    if os.environ.get("MUTATION_FRESH") == "1" and MUTANTS.exists():
        subprocess.run(["rm", "-rf", str(MUTANTS)], check=True)
    listed = equivalents()
    digest = tests_digest()
    if MUTANTS.exists():
        again = retest_survivors(only)
        if again:
            print(f"mutation: testing again {again} earlier survivors")
        if STATS.exists() and (not TESTS_HASH.exists() or TESTS_HASH.read_text() != digest):
            print("mutation: tests/ changed; mutmut records again which tests call which function")
            STATS.unlink()
    started = time.monotonic()
    finished = run_mutmut(budget, jobs, only)
    TESTS_HASH.write_text(digest)
    elapsed = time.monotonic() - started

    found = verdicts()
    status = Counter[str]()
    survivors, stale = [], []
    for name, code in sorted(found.items()):
        if name in listed:
            status["equivalent"] += 1
            if code is not None and code != SURVIVED:
                stale.append(name)
        elif code is None:
            status["not tested"] += 1
        elif code in FAILED:
            status["killed"] += 1
        elif code in TIMED_OUT:
            status["timed out"] += 1
        elif code == SURVIVED or code in NO_TESTS:
            status["survived" if code == SURVIVED else "no test calls it"] += 1
            survivors.append(name)
        else:
            status[f"unclear (exit {code})"] += 1
            survivors.append(name)
    for name in survivors:
        print(f"\n== survived: {name} (exit {found[name]})\n{diff_of(name)}")
    for name in stale:
        print(f"mutation: {name} is listed as equivalent in {EQUIVALENTS.name} but the suite kills it: remove the line")
    missing = sorted(set(listed) - set(found))
    for name in missing:
        print(f"mutation: {name} is listed in {EQUIVALENTS.name} but mutmut generates no such mutant: remove the line")

    total = len(found) - status["equivalent"]
    killed = status["killed"] + status["timed out"]
    print()
    print(
        f"mutation: {len(found)} mutants generated in {elapsed:.0f} s ({jobs} jobs); "
        + ", ".join(f"{count} {what}" for what, count in sorted(status.items()))
    )
    if not finished:
        print("mutation: not finished within MUTATION_BUDGET; run make mutation again to go on")
    print(f"mutation: {killed} killed of {total} ({100 * killed / total if total else 100:.1f}%)")
    ok = finished and killed == total and not stale and not missing
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
