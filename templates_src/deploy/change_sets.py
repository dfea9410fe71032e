"""The change-set core: deploy one stack (plan offline, create the change set, cross-check it with
the plan, refuse losing a table or key, execute, follow events, outputs), a protected environment's
stack policy and termination protection, and destroy with its verification. Apart as the base class
the global-table steps and the table takeover build on; it imports neither.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..change.guards import EnvironmentChange, run_environment_guards
from ..change.plan import EMPTY_TEMPLATE, StackPlan, environment_plan, plan_stack, refuse_if_blocked, render_text
from ..errors import AwsFailure, BadInput, Refused
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.grants import configured_roles
from ..stacks.names import (
    ACCESS,
    DATA,
    GLOBAL_KEY_ID,
    KEY_ID,
    PRIMARY_KEY_PARAMETER,
    REPLICA_KEY_ID,
    STATEFUL_TYPES,
    TABLE_ID,
    key_logical_id,
    replica_key_region,
    role_name,
)
from .aws import error_code, stack_missing
from .release import policy_allowing_removal

POLL_S = 5.0
TIMEOUT_S = 3600.0
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}
SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


def protection_policy(resources: tuple[str, ...] = (TABLE_ID, KEY_ID)) -> dict[str, Any]:
    """Stack policy: no update may replace or delete the table or its key (a key stack: its key)."""
    return {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["Update:Replace", "Update:Delete"],
                "Resource": [f"LogicalResourceId/{r}" for r in resources],
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


def stack_region(spec: Spec, stack: StackFiles) -> str:
    """Where a stack is deployed: a replica key stack in its Region, every other in the environment's."""
    return replica_key_region(stack.kind) or spec.env.region


def key_stack_with_primary(stack: StackFiles, primary_key_arn: str) -> StackFiles:
    """A key-<region> stack given the data stack's KeyArn output (known only once the data stack exists)."""
    return dataclasses.replace(
        stack, parameters=[{"ParameterKey": PRIMARY_KEY_PARAMETER, "ParameterValue": primary_key_arn}]
    )


class ChangeSetDeployer:
    def __init__(
        self,
        spec: Spec,
        cf: Any,
        out: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        allowed: frozenset[str] = frozenset(),
        dynamodb: Any = None,
        iam: Any = None,
    ) -> None:
        self.spec, self.cf, self.out, self.sleep, self.allowed = spec, cf, out, sleep, allowed
        # For destroy's verification: the resources themselves, not the stack status.
        self.dynamodb, self.iam = dynamodb, iam

    # -- stack state -------------------------------------------------------------------

    def describe(self, name: str) -> dict[str, Any] | None:
        try:
            described: dict[str, Any] = self.cf.describe_stacks(StackName=name)["Stacks"][0]
        except self.cf.exceptions.ClientError as exc:
            if stack_missing(exc):
                return None
            raise
        return described

    def stack_status(self, name: str) -> str | None:
        described = self.describe(name)
        return str(described["StackStatus"]) if described else None

    def deployed_template(self, name: str) -> dict[str, Any]:
        body = self.cf.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
        # boto3 already decodes a JSON body into a dict; a YAML body stays a string.
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except json.JSONDecodeError:
                raise AwsFailure(f"{name}: the deployed template is not JSON; cannot plan offline") from None
        template: dict[str, Any] = json.loads(json.dumps(body))  # plain types, as the offline plan reads them
        return template

    def change_set_type(self, name: str, status: str | None) -> str:
        if status is None or status == "REVIEW_IN_PROGRESS":
            return "CREATE"
        if status in UPDATABLE:
            return "UPDATE"
        raise AwsFailure(
            f"{name} is {status}: cannot deploy now"
            + (
                "; delete it (make destroy) and create it again"
                if status == "ROLLBACK_COMPLETE"
                else "; wait for it to finish or fix it in the console"
            )
        )

    # -- one stack ---------------------------------------------------------------------

    def deploy(self, stack: StackFiles) -> dict[str, str]:
        described = self.describe(stack.name)
        kind = self.change_set_type(stack.name, described["StackStatus"] if described else None)
        if kind == "CREATE" and stack.kind == DATA:
            self._refuse_creating_a_live_table(
                f"table {self.spec.table_name} exists and no stack manages it: take it over instead of creating it "
                f"(deploy --env {self.spec.env_name} --import; README: Adopting an existing table)"
            )
        if described and described.get("EnableTerminationProtection") and not self.spec.env.protected:
            self._refuse_unprotecting(stack.name)
        deployed = self.deployed_template(stack.name) if kind == "UPDATE" else EMPTY_TEMPLATE
        # The data stack released its table (or never held it): an update would try to create it again.
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
        if kind == "UPDATE" and stack.kind == ACCESS:
            kept = self._keeping_old_key_grants(stack, deployed)
            if kept is not None and kept.template_dict == deployed:
                self.out(f"{stack.name}: no changes")
                return self._outputs(stack.name)
            stack = kept or stack
        offline = plan_stack(f"{stack.name} (deployed -> build)", deployed, stack.template_dict)
        self.out(render_text([offline], self.allowed))
        refuse_if_blocked([offline], self.allowed, f"{stack.name}: refused (see the plan above): ")

        # Later calls use the change set's ARN: unambiguous whatever its name.
        try:
            change_set = self.cf.create_change_set(
                StackName=stack.name,
                ChangeSetName=f"{stack.kind}-{datetime.now(timezone.utc):%Y%m%d%H%M%S}",
                ChangeSetType=kind,
                TemplateBody=stack.template,
                Parameters=stack.parameters,
                Tags=stack.tags,
                Capabilities=stack.capabilities,
            )["Id"]
        except self.cf.exceptions.ClientError as exc:
            # Some endpoints refuse an empty change set at once, in UpdateStack's words.
            if not any(marker in str(exc) for marker in NO_CHANGES):
                raise
            self.out(f"{stack.name}: no changes")
            return self._outputs(stack.name)
        described = self._wait_change_set(stack.name, change_set)
        if described["Status"] == "FAILED":
            reason = described.get("StatusReason", "")
            if any(marker in reason for marker in NO_CHANGES):
                self.out(f"{stack.name}: no changes")
                self.cf.delete_change_set(StackName=stack.name, ChangeSetName=change_set)
                return self._outputs(stack.name)
            raise AwsFailure(f"{stack.name}: change set failed: {reason}")

        changes = [c["ResourceChange"] for c in described.get("Changes", []) if c.get("Type") == "Resource"]
        self._print_change_set(stack.name, kind, changes)
        self._cross_check(stack.name, changes, offline)
        refused = self._stateful_losses(changes)
        if refused and "G001" not in self.allowed:
            self.cf.delete_change_set(StackName=stack.name, ChangeSetName=change_set)
            raise Refused(f"{stack.name}: refused, the change set would {refused}")
        removed = self._removed_stateful(changes)
        not_retained = [
            r for r in removed if deployed.get("Resources", {}).get(r, {}).get("DeletionPolicy") != "Retain"
        ]
        if not_retained:
            self.cf.delete_change_set(StackName=stack.name, ChangeSetName=change_set)
            raise Refused(
                f"{stack.name}: refused (change set deleted): it removes {', '.join(not_retained)}, which the "
                "deployed stack does not Retain: CloudFormation would delete it (a key: scheduled for deletion, "
                "with the data and backups it encrypts). Deploy retention: Retain first"
            )
        # G001 allowed: a removal the stack policy forbids is let through for this execution only.
        stack_policy = self._stack_policy(stack.name) if removed else None
        during: dict[str, Any] | None = None
        if stack_policy is not None:
            during = stack_policy
            for logical_id in removed:
                during = policy_allowing_removal(during, logical_id, "deploy")
            if during != stack_policy:
                self.out(f"{stack.name}: stack policy lets {', '.join(removed)} go for this update only")
            else:
                stack_policy = during = None
        final = self._execute(stack.name, change_set, during, stack_policy)
        if final not in SUCCESS:
            raise AwsFailure(f"{stack.name}: ended {final}")
        for logical_id in removed:
            self.out(f"{stack.name}: {logical_id} left the stack and stays in the account (DeletionPolicy Retain)")
        protected = protected_resources(stack.kind, self.spec.env.global_table)
        if stack.kind == DATA:  # a key switch's first steps hold both keys: the old one stays protected too
            held = stack.template_dict.get("Resources", {})
            protected += tuple(k for k in (KEY_ID, GLOBAL_KEY_ID) if k in held and k not in protected)
        if protected and self.spec.env.protected:
            self.cf.set_stack_policy(StackName=stack.name, StackPolicyBody=json.dumps(protection_policy(protected)))
            self.cf.update_termination_protection(StackName=stack.name, EnableTerminationProtection=True)
            self.out(
                f"{stack.name}: stack policy denies Update:Replace/Update:Delete on {' and '.join(protected)}; "
                "termination protection on"
            )
        return self._outputs(stack.name)

    def _refuse_creating_a_live_table(self, refusal: str) -> None:
        """Refused (with `refusal`) when the table exists: creating it (a CREATE, or an update of a data
        stack that no longer holds it) would fail on it and leave a stack in the way."""
        if self.dynamodb is None:
            return
        name = self.spec.table_name
        if self._exists(lambda: self.dynamodb.describe_table(TableName=name), "ResourceNotFoundException"):
            raise Refused(refusal)

    def _keeping_old_key_grants(self, stack: StackFiles, deployed: dict[str, Any]) -> StackFiles | None:
        """The access stack with grants a key switch still needs; None: as built (global_steps.py overrides)."""
        return None

    def _refuse_unprotecting(self, name: str) -> None:
        """G013 at deploy time: the deployed stack has termination protection, the environment is unprotected."""
        # The deployed stack's termination protection says the environment was protected.
        change = EnvironmentChange(self.spec.env_file, was_protected=True, is_protected=self.spec.env.protected)
        plans = [environment_plan(f"{name} (deployed)", run_environment_guards(change))]
        self.out(render_text(plans, self.allowed))
        refuse_if_blocked(plans, self.allowed, f"{name}: refused: ")

    def _wait_change_set(self, name: str, change_set: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            described: dict[str, Any] = self.cf.describe_change_set(StackName=name, ChangeSetName=change_set)
            if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
                return described
            if time.monotonic() > deadline:
                raise AwsFailure(f"{name}: change set {change_set} still {described['Status']}")
            self.sleep(POLL_S)

    def _print_change_set(self, name: str, kind: str, changes: list[dict[str, Any]]) -> None:
        self.out(f"{name}: {kind} change set, {len(changes)} resource change(s)")
        for c in changes:
            replacement = c.get("Replacement")
            extra = f" replacement={replacement}" if replacement and replacement != "False" else ""
            self.out(f"  {c['Action']:<7} {c['LogicalResourceId']} ({c['ResourceType']}){extra}")

    def _cross_check(self, name: str, changes: list[dict[str, Any]], offline: StackPlan) -> None:
        """Compare AWS's change set with the offline plan; differences are printed."""
        expected = {"Add": "Add", "Modify": "Modify", "Replace": "Modify", "Remove": "Remove"}
        planned = {c.logical_id: expected[c.action] for c in offline.changes}
        actual = {c["LogicalResourceId"]: c["Action"] for c in changes}
        for logical_id in sorted(set(planned) | set(actual)):
            if planned.get(logical_id) != actual.get(logical_id):
                self.out(
                    f"  note: {logical_id}: offline plan says {planned.get(logical_id, 'no change')}, "
                    f"change set says {actual.get(logical_id, 'no change')}"
                )

    @staticmethod
    def _removed_stateful(changes: list[dict[str, Any]]) -> list[str]:
        """Logical IDs of the tables and keys a change set removes from the stack."""
        return [
            c["LogicalResourceId"] for c in changes if c["Action"] == "Remove" and c["ResourceType"] in STATEFUL_TYPES
        ]

    def _stateful_losses(self, changes: list[dict[str, Any]]) -> str:
        losses = []
        for c in changes:
            if c["ResourceType"] not in STATEFUL_TYPES:
                continue
            if c["Action"] == "Remove":
                losses.append(f"remove {c['LogicalResourceId']}")
            elif c.get("Replacement") in ("True", "Conditional"):
                losses.append(f"replace {c['LogicalResourceId']} (Replacement={c['Replacement']})")
        return ", ".join(losses)

    def _execute(
        self,
        name: str,
        change_set: str,
        during: dict[str, Any] | None = None,
        own_policy: dict[str, Any] | None = None,
    ) -> str:
        """Execute a change set and follow it to its final status; with `during`, that stack policy
        holds for this execution only and the stack's own policy is put back, whatever happened."""
        if during is not None:
            self.cf.set_stack_policy(StackName=name, StackPolicyBody=json.dumps(during))
        try:
            started = datetime.now(timezone.utc)
            self.cf.execute_change_set(StackName=name, ChangeSetName=change_set)
            return self._follow_events(name, started)
        finally:
            if during is not None and own_policy is not None:
                self.cf.set_stack_policy(StackName=name, StackPolicyBody=json.dumps(own_policy))

    def _follow_events(self, name: str, started: datetime) -> str:
        seen: set[str] = set()
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            events = self.cf.describe_stack_events(StackName=name)["StackEvents"]
            for e in reversed(events):
                if e["EventId"] in seen or e["Timestamp"] < started:
                    continue
                seen.add(e["EventId"])
                reason = f" - {e['ResourceStatusReason']}" if e.get("ResourceStatusReason") else ""
                self.out(f"  {e['Timestamp']:%H:%M:%S} {e['LogicalResourceId']} {e['ResourceStatus']}{reason}")
            status = self.stack_status(name) or "DELETE_COMPLETE"
            if not status.endswith("_IN_PROGRESS"):
                if status not in SUCCESS:
                    failed = [
                        e for e in events if e["ResourceStatus"].endswith("_FAILED") and e["Timestamp"] >= started
                    ]
                    for e in failed:
                        self.out(f"  FAILED {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '(no reason)')}")
                return status
            if time.monotonic() > deadline:
                raise AwsFailure(f"{name}: still {status} after {TIMEOUT_S:.0f} s")
            self.sleep(POLL_S)

    def _outputs(self, name: str) -> dict[str, str]:
        stack = self.cf.describe_stacks(StackName=name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        for key, value in sorted(outputs.items()):
            self.out(f"  output {key} = {value}")
        return outputs

    def _stack_policy(self, name: str) -> dict[str, Any] | None:
        body = self.cf.get_stack_policy(StackName=name).get("StackPolicyBody")
        if not body:
            return None
        policy: dict[str, Any] = json.loads(body)
        return policy

    # -- destroy -------------------------------------------------------------------------

    def destroy(self, stacks: list[StackFiles], regional: RegionalChangeSets | None = None) -> None:
        """Delete access, then data, then (global) each replica key stack in its own Region.

        Key stacks go last: every replica is encrypted with its Region's key,
        so a key is deleted only once the table and its replicas are gone.
        """
        if self.spec.env.protected:
            raise Refused(
                f"{self.spec.env_name} is protected: destroy refused (its table is Retain, deletion-protected "
                "and the data stack has termination protection)"
            )
        keys = [s for s in stacks if replica_key_region(s.kind) is not None]
        if keys and regional is None:
            raise BadInput(f"{self.spec.env_name}: replica key stacks need a CloudFormation client per Region")
        for stack in reversed([s for s in stacks if s not in keys]):  # access first: it imports the data exports
            self.destroy_one(stack)
        for stack in keys:
            assert regional is not None
            regional(stack_region(self.spec, stack)).destroy_one(stack)

    def destroy_one(self, stack: StackFiles) -> None:
        if self.stack_status(stack.name) is None:
            self.out(f"{stack.name}: not deployed")
            return
        # A deleted stack is only found by its ID, not by its name.
        stack_id = self.cf.describe_stacks(StackName=stack.name)["Stacks"][0]["StackId"]
        started = datetime.now(timezone.utc)
        self.cf.delete_stack(StackName=stack_id)
        final = self._follow_events(stack_id, started)
        if final != "DELETE_COMPLETE":
            raise AwsFailure(f"{stack.name}: ended {final}")
        self.verify_deleted(stack)
        self.out(f"{stack.name}: deleted (verified)")

    def verify_deleted(self, stack: StackFiles) -> None:
        """A stack status is not proof: the stack must be gone by name, and so must what it owned."""
        if self.stack_status(stack.name) is not None:
            raise AwsFailure(f"{stack.name}: still listed after its delete completed")
        remaining = []
        if stack.kind == DATA and self.dynamodb is not None:
            table = self.spec.table_name
            if self.spec.env.retention == "Retain":
                self.out(f"  table {table} kept, as its DeletionPolicy Retain says")
            elif self._exists(lambda: self.dynamodb.describe_table(TableName=table), "ResourceNotFoundException"):
                remaining.append(f"table {table}")
        if stack.kind == ACCESS and self.iam is not None:
            for role in configured_roles(self.spec):
                name = role_name(self.spec, role)
                if self._role_exists(name):
                    remaining.append(f"role {name}")
        if remaining:
            raise AwsFailure(f"{stack.name}: deleted, but {', '.join(remaining)} still exist(s); delete by hand")

    def _role_exists(self, name: str) -> bool:
        return self._exists(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity")

    def _exists(self, describe: Callable[[], Any], missing_code: str) -> bool:
        try:
            describe()
        except Exception as exc:  # botocore ClientError; its code says whether the resource is gone
            if error_code(exc) == missing_code:
                return False
            raise
        return True


RegionalChangeSets = Callable[[str], ChangeSetDeployer]
