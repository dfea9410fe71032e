#!/usr/bin/env python3
"""`make bench`: wall time of `make synth` against its floor; exit 1 when over the target.

The floor is a bare interpreter importing exactly the third-party modules the
synth command loads (read from sys.modules after a real synth), the way synth
imports them: garbage collector off, and troposphere through templates_src.stacks,
which keeps troposphere.serverless out (stacks/__init__.py); then it exits as
`python -m templates_src` exits (gc.freeze: the heap left to the OS). So it moves with
our dependencies and is what no change of ours can go below. Best of N runs of
each, to damp noise on a shared machine; both with bytecode caches written (a
warm-up run first, PYTHONDONTWRITEBYTECODE dropped), as any second run has them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 15  # best of 15: a 2-core machine is noisy
TARGET_RATIO = 1.5

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


def timed(cmd: list[str]) -> list[float]:
    subprocess.run(cmd, cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm-up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def floor_code(modules: list[str]) -> str:
    """Import the modules as synth does (GC off: cmd_synth; troposphere through templates_src.stacks),
    then exit as it exits (gc.freeze: templates_src/__main__.py)."""
    return (
        "import gc\ngc.disable()\nimport importlib\nimport templates_src.stacks\n"
        f"for m in {modules!r}:\n    importlib.import_module(m)\ngc.freeze()\n"
    )


def main() -> int:
    modules = third_party_modules()
    floor = timed([sys.executable, "-c", floor_code(modules)])
    synth = timed(["make", "--no-print-directory", "synth"])
    best_f, best_s = min(floor), min(synth)
    roots = sorted({m.split(".")[0] for m in modules})
    print(f"floor: {len(modules)} third-party modules synth loads ({', '.join(roots)})")
    print(
        f"floor (bare python importing them): best {best_f * 1000:6.0f} ms  median {statistics.median(floor) * 1000:6.0f} ms"
    )
    print(
        f"make synth (every environment):     best {best_s * 1000:6.0f} ms  median {statistics.median(synth) * 1000:6.0f} ms"
    )
    ratio = best_s / best_f
    within = ratio <= TARGET_RATIO
    print(f"ratio {ratio:.2f}x ({'within' if within else 'OVER'} the {TARGET_RATIO}x target)")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
