"""A protected environment's stacks after a deploy: the stack policy that denies replacing or deleting
the table and its keys, and termination protection; and the one-off stack policy that lets a removal
allowed by G001 go for a single execution.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.names import DATA, GLOBAL_KEY_ID, KEY_ID, REPLICA_KEY_ID, TABLE_ID, key_logical_id, replica_key_region
from .change_sets import ChangeSets
from .release import policy_allowing_removal, stack_policy_resource


def protection_policy(resources: tuple[str, ...] = (TABLE_ID, KEY_ID)) -> dict[str, Any]:
    """Stack policy: no update may replace or delete the table or its key (a key stack: its key)."""
    return {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["Update:Replace", "Update:Delete"],
                "Resource": [stack_policy_resource(r) for r in resources],
            },
        ]
    }


def protected_resources(kind: str, global_table: bool = False) -> tuple[str, ...]:
    """What a protected environment's stack of this kind must never replace or delete; () for none.

    The data stack's key is TableKey, or GlobalTableKey for a global table (names.key_logical_id)."""
    if kind == DATA:
        return (TABLE_ID, key_logical_id(global_table))
    if replica_key_region(kind) is not None:
        return (REPLICA_KEY_ID,)
    return ()


class Protection:
    def __init__(self, spec: Spec, change_sets: ChangeSets, out: Callable[[str], None]) -> None:
        self.spec, self.change_sets, self.out = spec, change_sets, out

    def during_removal(self, name: str, removed: list[str]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(the policy for this execution, the stack's own to put back) when the stack's policy must let
        `removed` go (G001 allowed); None when the stack has no policy or it already lets them go."""
        own = self.change_sets.stack_policy(name) if removed else None
        if own is None:
            return None
        during = own
        for logical_id in removed:
            during = policy_allowing_removal(during, logical_id, "deploy")
        if during == own:
            return None
        self.out(f"{name}: stack policy lets {', '.join(removed)} go for this update only")
        return during, own

    def protect(self, stack: StackFiles) -> None:
        """In a protected environment: the stack policy over the stack's table and keys, termination protection."""
        protected = protected_resources(stack.kind, self.spec.env.global_table)
        if stack.kind == DATA:  # a key switch's first steps hold both keys: the old one stays protected too
            held = stack.template_dict.get("Resources", {})
            protected += tuple(k for k in (KEY_ID, GLOBAL_KEY_ID) if k in held and k not in protected)
        if not (protected and self.spec.env.protected):
            return
        cf = self.change_sets.cf
        cf.set_stack_policy(StackName=stack.name, StackPolicyBody=json.dumps(protection_policy(protected)))
        cf.update_termination_protection(StackName=stack.name, EnableTerminationProtection=True)
        self.out(
            f"{stack.name}: stack policy denies Update:Replace/Update:Delete on {' and '.join(protected)}; "
            "termination protection on"
        )
