"""Where a migration's state lives, and whether one stands between a build and `deploy`.

Apart from migrate.py so that deploy (deployer.py) can ask without importing the executor.
"""

from __future__ import annotations

import json
from typing import Any

from ..spec.loader import Spec
from ..stacks.names import data_stack_name

RESUME = "make migrate ENV={env}"


def state_parameter(prefix: str, generation: int) -> str:
    """The SSM parameter holding a migration's state (JSON; deploy/migrate.py: State)."""
    return f"/{prefix}/migration/v{generation}"


def pending(spec: Spec, cf: Any, ssm: Any) -> str | None:
    """Why `deploy` must not run now: a migration from the previous generation's stack not yet cut over."""
    if spec.design.migration is None:
        return None
    old = data_stack_name(spec.stack_prefix, spec.design.generation - 1)
    try:
        cf.describe_stacks(StackName=old)
    except cf.exceptions.ClientError:
        return None  # nothing to migrate from: a new environment starts at this generation
    try:
        text = ssm.get_parameter(Name=state_parameter(spec.stack_prefix, spec.design.generation))["Parameter"]["Value"]
        phase = json.loads(text).get("phase", "")
    except ssm.exceptions.ParameterNotFound:
        phase = ""
    if phase in ("cutover", "retire"):
        return None
    return (
        f"{old} holds the table of generation {spec.design.generation - 1}; design {spec.design.name} moves it "
        f"to generation {spec.design.generation} (migration at {phase or 'its start'}): run "
        f"`{RESUME.format(env=spec.env_name)}`, which deploys the new data stack and moves the data first"
    )
