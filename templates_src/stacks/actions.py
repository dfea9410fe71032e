"""IAM action names, as our action sets spell them ("service:Action"), as awacs Actions.

Every policy we build takes its actions from named sets of such strings (key_actions.py,
grants.py, aws_calls.py...); this is the one place that turns them into awacs objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from awacs.aws import Action

# The IAM policy grammar's action string, "<service_namespace>:<action_name>"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html): a service
# prefix (lowercase letters, digits, hyphens: "execute-api"), then an action name, or a pattern of
# one with the wildcards * and ?.
_ACTION_NAME = re.compile(r"([a-z0-9-]+):([A-Za-z0-9*?]+)")
# The same, its prefix in any case: IAM matches it so.
_ANY_CASE = re.compile(_ACTION_NAME.pattern, re.IGNORECASE)


def action_name(name: str) -> str | None:
    """A listed permission as an action name, its service prefix in lower case ("Iam:PassRole" ->
    "iam:PassRole": "The prefix and the action name are case insensitive", IAM JSON policy elements:
    Action); None for a string no policy can grant (a registry schema lists "s3:REST.PUT.OBJECT", an S3
    log operation, and "")."""
    match = _ANY_CASE.fullmatch(name)
    return f"{match[1].lower()}:{match[2]}" if match else None


def iam_action(name: str) -> Action:
    """`dynamodb:GetItem` -> Action("dynamodb", "GetItem"); any other shape is a ValueError at synth,
    not a policy IAM rejects at deploy."""
    match = _ACTION_NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"not an IAM action name (service:Action): {name!r}")
    return Action(*match.groups())


def iam_actions(names: Iterable[str]) -> list[Action]:
    return [iam_action(name) for name in names]
