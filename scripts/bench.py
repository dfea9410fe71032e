#!/usr/bin/env python3
"""`make bench`: wall time of `make synth` against its floor; exit 1 when over the target.

The floor is a bare interpreter importing exactly the third-party modules the
synth command loads (read from sys.modules after a real synth), the way synth
imports them: garbage collector off, and troposphere through templates_src.stacks,
which keeps troposphere.serverless out (stacks/__init__.py); then it exits as
`python -m templates_src` exits (gc.freeze: the heap left to the OS). So it moves with
our dependencies and is what no change of ours can go below. Best of N runs of
each, in turns, to damp noise on a shared machine; both with bytecode caches written
(a warm-up run first, PYTHONDONTWRITEBYTECODE dropped), as any second run has them.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 15  # best of 15: a 2-core machine is noisy
TARGET_RATIO = 1.3  # issue #20's goal

# Runs a synth in-process, then prints the third-party modules it loaded.
_LIST_MODULES = """
import json, sys, sysconfig
from templates_src.cli import main
main(["synth", "--out", sys.argv[1]])
site = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])
names = sorted(
    name for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").startswith(site) and not name.startswith("templates_src")
)
print(json.dumps(names))
"""


# Bytecode caches on: a developer's second synth reads them, and so does each timed run.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def third_party_modules() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-c", _LIST_MODULES, str(Path(tmp) / "build")],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            check=True,
        )
    names: list[str] = json.loads(proc.stdout.splitlines()[-1])
    return names


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall time, and CPU time (user + system, the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed_in_turns(*cmds: list[str]) -> list[list[tuple[float, float]]]:
    """RUNS runs of each command, in turns (a, b, a, b...): both see the same moments of a shared machine."""
    for cmd in cmds:
        run(cmd)  # warm-up: bytecode caches written
    times: list[list[tuple[float, float]]] = [[] for _ in cmds]
    for _ in range(RUNS):
        for cmd, found in zip(cmds, times, strict=True):
            found.append(run(cmd))
    return times


# Inside one synth process (as cmd_synth runs it: collector off): its imports, then every
# target rendered three times. The first render pays the first-use costs (pydantic's validators,
# the rules, lazily imported modules); the later ones are the rendering itself.
_PHASES = """
import gc, json, time
gc.disable()
start = time.perf_counter()
from pathlib import Path
from templates_src.stacks.synth import all_targets, render_all
marks = [time.perf_counter()]
targets = all_targets(Path("environments"))
for _ in range(3):
    render_all(targets)
    marks.append(time.perf_counter())
print(json.dumps([marks[0] - start, marks[1] - marks[0], min(b - a for a, b in zip(marks[1:], marks[2:]))]))
"""


def phases() -> tuple[float, float, float]:
    """Best of RUNS: (imports, first render, a later render), in seconds."""
    found = []
    for _ in range(RUNS):
        proc = subprocess.run(
            [sys.executable, "-c", _PHASES], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True
        )
        found.append(json.loads(proc.stdout.splitlines()[-1]))
    imports, first, later = (min(column) for column in zip(*found, strict=True))
    return imports, first, later


def _line(label: str, runs: list[tuple[float, float]]) -> str:
    wall = [w for w, _ in runs]
    cpu = min(c for _, c in runs)
    return (
        f"{label} best {min(wall) * 1000:6.0f} ms  median {statistics.median(wall) * 1000:6.0f} ms"
        f"  (CPU best {cpu * 1000:4.0f} ms)"
    )


def floor_code(modules: list[str]) -> str:
    """Import the modules as synth does (GC off: cmd_synth; troposphere through templates_src.stacks),
    then exit as it exits (gc.freeze: templates_src/__main__.py)."""
    return (
        "import gc\ngc.disable()\nimport importlib\nimport templates_src.stacks\n"
        f"for m in {modules!r}:\n    importlib.import_module(m)\ngc.freeze()\n"
    )


def main() -> int:
    modules = third_party_modules()
    floor, synth = timed_in_turns(
        [sys.executable, "-c", floor_code(modules)], ["make", "--no-print-directory", "synth"]
    )
    roots = sorted({m.split(".")[0] for m in modules})
    print(f"floor: {len(modules)} third-party modules synth loads ({', '.join(roots)})")
    print(_line("floor (bare python importing them):", floor))
    print(_line("make synth (every environment):    ", synth))
    best_f, best_s = min(w for w, _ in floor), min(w for w, _ in synth)
    cpu_f, cpu_s = min(c for _, c in floor), min(c for _, c in synth)
    ratio = best_s / best_f
    within = ratio <= TARGET_RATIO
    print(
        f"ratio {ratio:.2f}x ({'within' if within else 'OVER'} the {TARGET_RATIO}x target); "
        f"in CPU time {cpu_s / cpu_f:.2f}x (less moved by other work on the machine)"
    )
    imports, first, later = phases()
    print(
        f"inside synth (best of {RUNS}): imports {imports * 1000:.0f} ms (the floor's and its own, timed inside the "
        "process: no interpreter start-up), first render "
        f"{first * 1000:.0f} ms, a later render {later * 1000:.0f} ms (the first pays "
        f"{(first - later) * 1000:.0f} ms of first-use costs: validators, rules, lazy imports)"
    )
    bound = best_f + later
    print(
        f"lower bound: the floor plus one render with no import or first-use cost of its own: "
        f"{bound * 1000:.0f} ms, {bound / best_f:.2f}x"
    )
    if not within:
        print(
            f"bench: synth is {ratio:.2f}x its floor, over the {TARGET_RATIO}x goal: a known gap, the lower bound "
            "above is how close synth could come; docs/testing.md (Benchmark) says where the time goes"
        )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
