#!/usr/bin/env python3
"""Synthesise stacks for one environment config (or all of them).

    scripts/synth.py --env-file environments/dev.yaml --out DIR

Writes DIR/<env>/<stack>.{template,parameters,tags}.json; exit 2 on bad input
with every problem listed, and nothing written.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from templates_src.synth import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
