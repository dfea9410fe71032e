#!/usr/bin/env python3
"""Offline plan of OLD.json -> NEW.json with data-loss guards (see templates_src/plan.py).

    scripts/plan.py OLD.json NEW.json [--format markdown] [--allow G002]

Exit 0 safe, 3 blocked by a guard, 2 bad input.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from templates_src.plan import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
