"""`python -m templates_src <command>`: see cli.py."""

import gc
import sys

# synth turns the garbage collector off (cli.cmd_synth); from here it is off for the command line's own
# imports too (argparse, pathlib, typing: ~1 ms of collections over objects that all live to the exit).
if sys.argv[1:2] == ["synth"]:
    gc.disable()

from .cli import main

code = main()
# Exiting: frozen, every object is out of the garbage collector's reach, so the interpreter's
# shutdown neither traverses nor frees what reference cycles hold (most of what was imported);
# the OS takes the memory back at once. ~30 ms of a synth. atexit handlers still run.
gc.freeze()
sys.exit(code)
