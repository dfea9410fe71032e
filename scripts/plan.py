#!/usr/bin/env python3
"""Offline plan of OLD.json -> NEW.json with data-loss guards.

    scripts/plan.py OLD.json NEW.json [--format markdown] [--allow G002]

Same as `python -m templates_src plan`, run under the project's virtualenv.
Exit 0 safe, 3 blocked by a guard, 2 bad input.
"""

from _venv import run_command

if __name__ == "__main__":
    run_command("plan")
