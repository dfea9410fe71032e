#!/usr/bin/env python3
"""`make bench`: wall time of `make synth` beside importing the runtime libraries.

The synth work itself is milliseconds; the target is synth within 1.5x of the
import cost. Best of N runs, to damp noise on a shared machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
TARGET_RATIO = 1.5
IMPORTS = (
    "import troposphere.dynamodb, troposphere.kms, troposphere.cloudwatch, "
    "troposphere.applicationautoscaling, troposphere.iam, awacs.aws, awacs.kms, yaml; "
    # pydantic loads these names lazily on first access: import them as synth does.
    "from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError"
)


def timed(cmd: list[str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    imports = timed([sys.executable, "-c", IMPORTS])
    synth = timed(["make", "--no-print-directory", "synth"])
    best_i, best_s = min(imports), min(synth)
    print(f"import runtime libraries: best {best_i * 1000:6.0f} ms  median {statistics.median(imports) * 1000:6.0f} ms")
    print(f"make synth (all envs):    best {best_s * 1000:6.0f} ms  median {statistics.median(synth) * 1000:6.0f} ms")
    ratio = best_s / best_i
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"ratio {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
