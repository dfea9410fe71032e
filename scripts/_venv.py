"""Run a templates_src command under the project's virtualenv, whatever python started the script.

The scripts in scripts/ may be started with the system python3, which lacks
the project's dependencies: re-execute under .venv/bin/python, creating the
virtualenv through the Makefile first when it is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
VENV_STAMP = ".venv/.installed"


def run_command(command: str) -> None:
    """Replace this process with `.venv/bin/python -m templates_src <command> <args>`."""
    if Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
        if not VENV_PYTHON.exists():
            made = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), VENV_STAMP], check=False)
            if made.returncode != 0:
                sys.exit(f"{Path(sys.argv[0]).name}: could not create the virtualenv (make {VENV_STAMP})")
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])
    sys.path.insert(0, str(ROOT))
    from templates_src.cli import main

    sys.exit(main([command, *sys.argv[1:]]))
