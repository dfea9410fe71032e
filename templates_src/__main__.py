"""`python -m templates_src <command>`: see cli.py."""

import sys

from .cli import main

sys.exit(main())
