"""What a deploy of one stack refuses, before and after its change set is made: creating a table
that exists unmanaged, an unprotected environment over a stack that is still protected (G013), a
plan the guards block, and a change set that would lose a table or key (G001) or delete one the
deployed stack does not Retain. Each raises Refused (the change set's refusal returns its reason:
the Deployer deletes the change set first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..change.guards import EnvironmentChange, run_environment_guards
from ..change.plan import StackPlan, environment_plan, plan_stack, refuse_if_blocked, render_text
from ..errors import Refused
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.names import DATA, STATEFUL_TYPES, TABLE_ID
from .aws import exists


def removed_stateful(changes: list[dict[str, Any]]) -> list[str]:
    """Logical IDs of the tables and keys a change set removes from the stack."""
    return [c["LogicalResourceId"] for c in changes if c["Action"] == "Remove" and c["ResourceType"] in STATEFUL_TYPES]


def stateful_losses(changes: list[dict[str, Any]]) -> str:
    losses = []
    for c in changes:
        if c["ResourceType"] not in STATEFUL_TYPES:
            continue
        if c["Action"] == "Remove":
            losses.append(f"remove {c['LogicalResourceId']}")
        elif c.get("Replacement") in ("True", "Conditional"):
            losses.append(f"replace {c['LogicalResourceId']} (Replacement={c['Replacement']})")
    return ", ".join(losses)


class Refusals:
    def __init__(self, spec: Spec, dynamodb: Any, out: Callable[[str], None], allowed: frozenset[str]) -> None:
        self.spec, self.dynamodb, self.out, self.allowed = spec, dynamodb, out, allowed

    def before_reading(self, stack: StackFiles, kind: str, described: dict[str, Any] | None) -> None:
        """Before the deployed template is read: a new data stack over a live table; G013."""
        if kind == "CREATE" and stack.kind == DATA:
            self._refuse_creating_a_live_table(
                f"table {self.spec.table_name} exists and no stack manages it: take it over instead of creating it "
                f"(deploy --env {self.spec.env_name} --import; docs/adopting-and-drift.md: Adopting an existing table)"
            )
        if described and described.get("EnableTerminationProtection") and not self.spec.env.protected:
            self._refuse_unprotecting(stack.name)

    def against_deployed(self, stack: StackFiles, kind: str, deployed: dict[str, Any]) -> None:
        """The data stack released its table (or never held it): an update would try to create it again."""
        if (
            kind == "UPDATE"
            and stack.kind == DATA
            and TABLE_ID not in deployed.get("Resources", {})
            and TABLE_ID in stack.template_dict.get("Resources", {})
        ):
            self._refuse_creating_a_live_table(
                f"{stack.name} does not hold table {self.spec.table_name}, which exists (released?): an update "
                f"would try to create it and fail; take it back first: deploy --env {self.spec.env_name} --import"
            )

    def offline_plan(self, stack: StackFiles, deployed: dict[str, Any]) -> StackPlan:
        """The deployed template against the built one, printed; refused when a guard blocks it."""
        offline = plan_stack(f"{stack.name} (deployed -> build)", deployed, stack.template_dict)
        self.out(render_text([offline], self.allowed))
        refuse_if_blocked([offline], self.allowed, f"{stack.name}: refused (see the plan above): ")
        return offline

    def change_set(self, name: str, changes: list[dict[str, Any]], deployed: dict[str, Any]) -> str | None:
        """Why the change set must not run (it loses a table or key; it deletes one not Retained); None: it may."""
        losses = stateful_losses(changes)
        if losses and "G001" not in self.allowed:
            return f"{name}: refused, the change set would {losses}"
        resources = deployed.get("Resources", {})
        not_retained = [r for r in removed_stateful(changes) if resources.get(r, {}).get("DeletionPolicy") != "Retain"]
        if not_retained:
            return (
                f"{name}: refused (change set deleted): it removes {', '.join(not_retained)}, which the "
                "deployed stack does not Retain: CloudFormation would delete it (a key: scheduled for deletion, "
                "with the data and backups it encrypts). Deploy retention: Retain first"
            )
        return None

    def _refuse_creating_a_live_table(self, refusal: str) -> None:
        """Refused (with `refusal`) when the table exists: creating it (a CREATE, or an update of a data
        stack that no longer holds it) would fail on it and leave a stack in the way."""
        if self.dynamodb is None:
            return
        name = self.spec.table_name
        if exists(lambda: self.dynamodb.describe_table(TableName=name), "ResourceNotFoundException"):
            raise Refused(refusal)

    def _refuse_unprotecting(self, name: str) -> None:
        """G013 at deploy time: the deployed stack has termination protection, the environment is unprotected."""
        # The deployed stack's termination protection says the environment was protected.
        change = EnvironmentChange(self.spec.env_file, was_protected=True, is_protected=self.spec.env.protected)
        plans = [environment_plan(f"{name} (deployed)", run_environment_guards(change))]
        self.out(render_text(plans, self.allowed))
        refuse_if_blocked(plans, self.allowed, f"{name}: refused: ")
