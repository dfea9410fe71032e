#!/usr/bin/env python3
"""Synthesise stacks for one environment config (or all of them).

    scripts/synth.py --env-file environments/dev.yaml --out DIR

Same as `python -m templates_src synth`, run under the project's virtualenv.
Writes DIR/<env>/<stack>.{template,parameters,tags}.json; exit 2 on bad input
with every problem listed, and nothing written.
"""

from _venv import run_command

if __name__ == "__main__":
    run_command("synth")
