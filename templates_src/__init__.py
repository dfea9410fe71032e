"""Conversation-table infrastructure as code: designs + environments -> CloudFormation."""

import os

# We use no pydantic plugins; skipping their entry-point scan (importlib.metadata
# over every installed package) saves ~15 ms of a ~200 ms synth.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
