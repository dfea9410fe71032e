"""moto_server with one fix: outputs and exports after a change set executes.

moto 5.2.5 applies a change set's resources but never refreshes the stack's
outputs or registers its exports (create_stack and update_stack do), and a
stack made by a CREATE change set cannot see other stacks' exports, so a
second stack importing them fails with "No export named ...". Real
CloudFormation does refresh them; this shim makes the local endpoint do the
same so the change-set deploy can be exercised end to end. Nothing else of
moto is changed.

    python -m templates_src.local.moto_shim -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import sys
from typing import Any

from moto.cloudformation.models import CloudFormationBackend
from moto.server import main as moto_main

_original_execute = CloudFormationBackend.execute_change_set


def _execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = self.change_sets.get(change_set_name) or next(
        cs
        for cs in self.change_sets.values()
        if cs.change_set_name == change_set_name and stack_name in (None, cs.stack.name, cs.stack_id)
    )
    stack = self.stacks[change_set.stack_id]
    stack.cross_stack_resources = self.exports
    stack.resource_map.cross_stack_resources = self.exports
    _original_execute(self, change_set_name, stack_name)
    stack._parse_template()
    stack.output_map = stack._create_output_map()
    for export in stack.exports:
        self.exports[export.name] = export


def install() -> None:
    CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    moto_main(sys.argv[1:])
