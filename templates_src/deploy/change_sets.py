"""The change-set mechanics of one CloudFormation client: a stack's state and deployed template,
create a change set and wait for it, print it, cross-check it with the offline plan, execute it
and follow its events, outputs, stack deletion. No policy: what to refuse is refusals.py, what to
protect is protection.py, and the Deployer (deployer.py) composes them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..change.plan import StackPlan
from ..errors import AwsFailure
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.names import PRIMARY_KEY_PARAMETER, replica_key_region
from .aws import stack_missing

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


def stack_region(spec: Spec, stack: StackFiles) -> str:
    """Where a stack is deployed: a replica key stack in its Region, every other in the environment's."""
    return replica_key_region(stack.kind) or spec.env.region


def key_stack_with_primary(stack: StackFiles, primary_key_arn: str) -> StackFiles:
    """A key-<region> stack given the data stack's KeyArn output (known only once the data stack exists)."""
    return stack._replace(parameters=[{"ParameterKey": PRIMARY_KEY_PARAMETER, "ParameterValue": primary_key_arn}])


def resource_changes(described: dict[str, Any]) -> list[dict[str, Any]]:
    """The resource changes of a described change set."""
    return [c["ResourceChange"] for c in described.get("Changes", []) if c.get("Type") == "Resource"]


class ChangeSets:
    def __init__(self, cf: Any, out: Callable[[str], None], sleep: Callable[[float], None]) -> None:
        self.cf, self.out, self.sleep = cf, out, sleep

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

    def stack_policy(self, name: str) -> dict[str, Any] | None:
        body = self.cf.get_stack_policy(StackName=name).get("StackPolicyBody")
        if not body:
            return None
        policy: dict[str, Any] = json.loads(body)
        return policy

    def outputs(self, name: str) -> dict[str, str]:
        stack = self.cf.describe_stacks(StackName=name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        for key, value in sorted(outputs.items()):
            self.out(f"  output {key} = {value}")
        return outputs

    # -- a change set ------------------------------------------------------------------

    def create(self, stack: StackFiles, kind: str) -> tuple[str, list[dict[str, Any]]] | None:
        """A CREATE or UPDATE change set of the built stack, ready: (its ARN, its resource changes), printed.
        None when it holds no changes (reported; an empty one that was made is deleted)."""
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
            return None
        described = self.wait(stack.name, change_set)
        if described["Status"] == "FAILED":
            reason = described.get("StatusReason", "")
            if any(marker in reason for marker in NO_CHANGES):
                self.out(f"{stack.name}: no changes")
                self.delete(stack.name, change_set)
                return None
            raise AwsFailure(f"{stack.name}: change set failed: {reason}")
        changes = resource_changes(described)
        self.print_changes(stack.name, kind, changes)
        return change_set, changes

    def wait(self, name: str, change_set: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            described: dict[str, Any] = self.cf.describe_change_set(StackName=name, ChangeSetName=change_set)
            if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
                return described
            if time.monotonic() > deadline:
                raise AwsFailure(f"{name}: change set {change_set} still {described['Status']}")
            self.sleep(POLL_S)

    def delete(self, name: str, change_set: str) -> None:
        self.cf.delete_change_set(StackName=name, ChangeSetName=change_set)

    def print_changes(self, name: str, kind: str, changes: list[dict[str, Any]]) -> None:
        self.out(f"{name}: {kind} change set, {len(changes)} resource change(s)")
        for c in changes:
            replacement = c.get("Replacement")
            extra = f" replacement={replacement}" if replacement and replacement != "False" else ""
            self.out(f"  {c['Action']:<7} {c['LogicalResourceId']} ({c['ResourceType']}){extra}")

    def cross_check(self, name: str, changes: list[dict[str, Any]], offline: StackPlan) -> None:
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

    def execute(
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
            last_seen = self.last_event_id(name)
            self.cf.execute_change_set(StackName=name, ChangeSetName=change_set)
            return self.follow_events(name, last_seen)
        finally:
            if during is not None and own_policy is not None:
                self.cf.set_stack_policy(StackName=name, StackPolicyBody=json.dumps(own_policy))

    def last_event_id(self, name: str) -> str | None:
        """The newest event of a stack before an operation starts: what follows it is the operation's.

        Events are followed by identity, not by time: a local clock ahead of AWS's would hide the
        first events, one behind would show old ones."""
        events = self.cf.describe_stack_events(StackName=name)["StackEvents"]
        return str(events[0]["EventId"]) if events else None

    def events_since(self, name: str, last_seen: str | None) -> list[dict[str, Any]]:
        """The stack's events after `last_seen`, newest first (all of them when it is None)."""
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StackName": name}
        while True:
            page = self.cf.describe_stack_events(**kwargs)
            for event in page["StackEvents"]:
                if event["EventId"] == last_seen:
                    return found
                found.append(event)
            if not page.get("NextToken"):
                return found
            kwargs["NextToken"] = page["NextToken"]

    def follow_events(self, name: str, last_seen: str | None) -> str:
        seen: set[str] = set()
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            events = self.events_since(name, last_seen)
            for e in reversed(events):
                if e["EventId"] in seen:
                    continue
                seen.add(e["EventId"])
                reason = f" - {e['ResourceStatusReason']}" if e.get("ResourceStatusReason") else ""
                self.out(f"  {e['Timestamp']:%H:%M:%S} {e['LogicalResourceId']} {e['ResourceStatus']}{reason}")
            status = self.stack_status(name) or "DELETE_COMPLETE"
            if not status.endswith("_IN_PROGRESS"):
                if status not in SUCCESS:
                    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
                    for e in failed:
                        self.out(f"  FAILED {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '(no reason)')}")
                return status
            if time.monotonic() > deadline:
                raise AwsFailure(f"{name}: still {status} after {TIMEOUT_S:.0f} s")
            self.sleep(POLL_S)

    # -- a whole stack -----------------------------------------------------------------

    def delete_stack(self, name: str) -> str:
        """Delete a stack and follow it to its final status (by its ID: a deleted stack is not found by name)."""
        stack_id = self.cf.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
        last_seen = self.last_event_id(stack_id)
        self.cf.delete_stack(StackName=stack_id)
        return self.follow_events(stack_id, last_seen)
