"""`python -m templates_src <command>`: see cli.py."""

import gc
import sys

from .cli import main

code = main()
# Exiting: frozen, every object is out of the garbage collector's reach, so the interpreter's
# shutdown neither traverses nor frees what reference cycles hold (most of what was imported);
# the OS takes the memory back at once. ~30 ms of a synth. atexit handlers still run.
gc.freeze()
sys.exit(code)
