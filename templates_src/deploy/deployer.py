"""Change-set deploy of an environment's stacks, refusing changes that lose data.

For each stack (data first, then access): check the caller's account and
region, plan offline against the deployed template, create a change set
(CREATE or UPDATE from the stack status), print it and cross-check it with
the plan, refuse replacement or removal of a table or key, execute, follow
the stack events, print the outputs. A protected environment's data stack
(and each replica key stack) gets a stack policy that denies Update:Replace
and Update:Delete on the table and keys, and termination protection.
AWS_ENDPOINT_URL is honoured.

A global table (AWS::DynamoDB::GlobalTable) is deployed in steps
(replicas.py): the data stack with the replicas it has already, each
key-<region> stack in its own Region (given the data stack's KeyArn), then
one data stack update per replica still missing. A live table moving to the global
table's own key (TableKey -> GlobalTableKey, after an import) gets the new key first, the
roles granted both keys, then the switch (_deploy_key_switch); the old key's grant goes
once DynamoDB reports the re-encryption done (_keeping_old_key_grants).

Failures raise the error root (errors.py): AwsFailure for AWS failures and
rollbacks, Refused for a guard or a change set that would lose data,
BadInput for the wrong account or region.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timezone
from typing import Any

from ..change.guards import STATEFUL_TYPES, g013_protection_turned_off
from ..change.plan import EMPTY_TEMPLATE, StackPlan, environment_plan, plan_stack, refuse_if_blocked, render_text
from ..errors import AwsFailure, BadInput, Refused
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.grants import configured_roles
from ..stacks.names import (
    ACCESS,
    DATA,
    GLOBAL_KEY_ID,
    KEY_ARN_EXPORT,
    KEY_ID,
    KEY_ID_EXPORT,
    PRIMARY_KEY_PARAMETER,
    REPLICA_KEY_ID,
    TABLE_ID,
    export_name,
    key_logical_id,
    replica_key_region,
    role_name,
)
from .aws import aws_errors, session
from .live import differences, not_reconcilable, read_existing, template_facts
from .release import (
    KeySwitch,
    TableValues,
    exports_moving_key,
    exports_taking_new_values,
    extra_key_grants,
    imported,
    key_switch,
    on_deployed_key,
    policy_allowing_removal,
    policy_allowing_table_removal,
    referrers,
    released,
    released_values,
    with_key_granted,
    with_new_key,
    with_output_values,
    with_table,
)
from .release import (
    references as _references,
)
from .replicas import (
    global_table,
    is_strong,
    refuse_removals,
    replica_steps,
    restricted,
    table_regions,
    template_text,
)

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


class Deployer:
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
            if "does not exist" in str(exc):
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
            self._refuse_creating_an_existing_table()
        if described and described.get("EnableTerminationProtection") and not self.spec.env.protected:
            self._refuse_unprotecting(stack.name)
        deployed = self.deployed_template(stack.name) if kind == "UPDATE" else EMPTY_TEMPLATE
        if kind == "UPDATE" and stack.kind == DATA and TABLE_ID not in deployed.get("Resources", {}):
            self._refuse_creating_a_released_table(stack)
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
        if stack_policy is not None:
            during = stack_policy
            for logical_id in removed:
                during = policy_allowing_removal(during, logical_id, "deploy")
            if during != stack_policy:
                self.out(f"{stack.name}: stack policy lets {', '.join(removed)} go for this update only")
                self.cf.set_stack_policy(StackName=stack.name, StackPolicyBody=json.dumps(during))
            else:
                stack_policy = None
        try:
            started = datetime.now(timezone.utc)
            self.cf.execute_change_set(StackName=stack.name, ChangeSetName=change_set)
            final = self._follow_events(stack.name, started)
        finally:
            if stack_policy is not None:  # the stack's own policy back, whatever happened
                self.cf.set_stack_policy(StackName=stack.name, StackPolicyBody=json.dumps(stack_policy))
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

    # -- a global table: replicas one per update ------------------------------------------

    def live_regions(self, data: StackFiles, described: dict[str, Any] | None | bool = False) -> list[str]:
        """The replica Regions the deployed data stack holds; [] when it holds no table yet.

        described: the stack as just described (None: it does not exist), else (False) described here."""
        return self._live(data, described)[1]

    def _live(
        self, data: StackFiles, described: dict[str, Any] | None | bool = False
    ) -> tuple[dict[str, Any], list[str]]:
        """The deployed data template (EMPTY_TEMPLATE for none) and its replica Regions (live_regions)."""
        if described is False:
            described = self.describe(data.name)
        if not isinstance(described, dict) or described["StackStatus"] == "REVIEW_IN_PROGRESS":
            return EMPTY_TEMPLATE, []
        deployed = self.deployed_template(data.name)
        return deployed, self._regions(deployed)

    def _regions(self, deployed: dict[str, Any]) -> list[str]:
        if TABLE_ID not in deployed.get("Resources", {}):
            return []
        # A deployed table that is not (yet) global is one Region's table: count it as the home
        # replica, never as "no table" (which would add every replica at once).
        return table_regions(deployed) or [self.spec.env.region]

    def deploy_global(
        self,
        data: StackFiles,
        keys: list[StackFiles],
        regional: RegionalDeployer,
        importers: Sequence[StackFiles] = (),
    ) -> dict[str, str]:
        """The data stack in replica steps, the key stacks (in their Regions) after the first step,
        then the importers (the stacks that import the data stack's exports: access).

        CloudFormation adds or removes one replica per GlobalTable update (replicas.GLOBAL_TABLE_DOC); a
        replica encrypted with its Region's key needs that key stack first, and the key stack
        needs the data stack's multi-Region primary key (its KeyArn output).

        A live table moving to another key of the stack (TableKey -> GlobalTableKey, after an import
        under TableKey) goes its own way: _deploy_key_switch. For any other export that changes value
        while another stack imports it (CloudFormation refuses that), the first step goes twice:
        with such exports kept at their deployed values, then (once the importers are deployed) with
        their new values.
        """
        target = data.template_dict
        described = self.describe(data.name)
        new_stack = described is None or described["StackStatus"] == "REVIEW_IN_PROGRESS"
        deployed, live = self._live(data, described)
        refuse_removals(target, live, data.name, self.allowed)
        order = table_regions(target)
        by_region = {str(replica_key_region(k.kind)): k for k in keys}
        key_regions = sorted(by_region, key=lambda r: order.index(r) if r in order else len(order))
        steps = replica_steps(target, live, deferred=set(key_regions), new_stack=new_stack, allowed=self.allowed)
        switch = key_switch(deployed, target) if live and isinstance(described, dict) else None
        if switch is not None:
            assert isinstance(described, dict)
            return self._deploy_key_switch(
                data, described, deployed, switch, steps, key_regions, by_region, regional, importers
            )
        self._announce(data.name, live, steps, key_regions)
        first = self._staged(data, steps[0])
        kept = self._imported_exports_changing(described, deployed, first.template_dict) if live else {}
        if kept:
            self.out(
                f"{data.name}: {', '.join(kept)} export(s) change value and another stack imports them: "
                f"step 1 keeps the deployed value(s), {', '.join(s.name for s in importers) or 'the importers'} "
                "deploy next, then step 1 again with the new value(s)"
            )
            self.deploy(
                dataclasses.replace(first, template=template_text(with_output_values(first.template_dict, kept)))
            )
            for stack in importers:
                self.deploy(stack)
        outputs = self.deploy(first)
        outputs = self._keys_and_replicas(data, outputs, steps, key_regions, by_region, regional)
        if not kept:
            for stack in importers:
                self.deploy(stack)
        return outputs

    def _keys_and_replicas(
        self,
        data: StackFiles,
        outputs: dict[str, str],
        steps: list[dict[str, Any]],
        key_regions: list[str],
        by_region: dict[str, StackFiles],
        regional: RegionalDeployer,
    ) -> dict[str, str]:
        """After the first step: each replica Region's key stack (given KeyArn), then one replica per update."""
        for region in key_regions:
            primary = outputs.get(KEY_ARN_EXPORT)
            if not primary:
                raise AwsFailure(
                    f"{data.name}: no {KEY_ARN_EXPORT} output: cannot give {by_region[region].name} its "
                    f"{PRIMARY_KEY_PARAMETER}; is encryption customer_managed in the data stack?"
                )
            regional(region).deploy(key_stack_with_primary(by_region[region], primary))
        for step in steps[1:]:
            outputs = self.deploy(self._staged(data, step))
        return outputs

    # -- a live table's switch to the global table's key, with no gap in the roles' grants -----------

    def _deploy_key_switch(
        self,
        data: StackFiles,
        described: dict[str, Any],
        deployed: dict[str, Any],
        switch: KeySwitch,
        steps: list[dict[str, Any]],
        key_regions: list[str],
        by_region: dict[str, StackFiles],
        regional: RegionalDeployer,
        importers: Sequence[StackFiles],
    ) -> dict[str, str]:
        """The table moves from the old key to the new one (TableKey -> GlobalTableKey) while the
        application roles hold a grant on whichever key DynamoDB uses (guard G005: grant the new key
        first, switch in its own deploy, keep the old key):

        1. the data stack: the deployed template plus the new key and its KeyId export; the table,
           the alias and KeyArn stay on the old key;
        2. the importers (access): committed (the key by KeyId, no longer importing KeyArn), with the
           old key's ARN (the deployed KeyArn, a literal) added to every statement granting the key;
        3. the data stack: committed, with the live replicas: the table on the new key (G005), the alias
           on it, the old key let go (G001, Retained); KeyArn changes value, which no stack imports now;
        then each replica Region's key stack, and the replicas one per update;
        4. the importers as committed: deploy (_keeping_old_key_grants) drops the old key's grant only
           once DynamoDB reports the re-encryption done, else keeps it until a later deploy.
        Refused before any change when step 3 is not allowed (G001, G005), when a stack other than the
        importers imports KeyArn, or when an importer would still import it.
        """
        name = data.name
        outputs_now = {o["OutputKey"]: o for o in described.get("Outputs", [])}
        old_arn = str(outputs_now.get(KEY_ARN_EXPORT, {}).get("OutputValue", ""))
        if not old_arn:
            raise AwsFailure(
                f"{name}: no {KEY_ARN_EXPORT} output: cannot keep {switch.old} granted while the table moves to "
                f"{switch.new}"
            )
        first = with_new_key(deployed, data.template_dict, switch)
        switched = steps[0]
        refuse_if_blocked(
            [plan_stack(f"{name} (step 1 -> step 3)", first, switched)],
            self.allowed,
            f"{name}: refused before any change: the key switch (step 3) is ",
        )
        key_arn_export = export_name(self.spec, KEY_ARN_EXPORT)
        key_exports = {export_name(self.spec, KEY_ID_EXPORT), key_arn_export}
        granting: list[StackFiles] = []
        for stack in importers:
            staged, count = with_key_granted(stack.template_dict, key_exports, [old_arn])
            if key_arn_export in imported(staged):
                raise Refused(
                    f"{stack.name}: refused before any change: the built template imports {key_arn_export}, which "
                    f"changes value when the table moves to {switch.new}; a global table's access stack names the "
                    "key by KeyId: run make synth"
                )
            granting.append(dataclasses.replace(stack, template=template_text(staged)) if count else stack)
        names = {s.name for s in importers}
        for output, (_, importing) in self._importers_of(
            described, exports_moving_key(deployed, switched, switch)
        ).items():
            others = [i for i in importing if i not in names]
            if others:
                raise Refused(
                    f"{name}: refused before any change: {', '.join(others)} import(s) the {output} export, which "
                    f"changes value when the table moves to {switch.new} (CloudFormation refuses that); move "
                    f"{'them' if len(others) > 1 else 'it'} off {output} first"
                )

        who = ", ".join(s.name for s in importers) or "the importers"
        self.out(f"{name}: the table moves from {switch.old} to {switch.new}; the roles hold both keys meanwhile")
        self.out(f"  step 1: {name} adds {switch.new} beside {switch.old} (the table stays on {switch.old})")
        self.out(f"  step 2: {who} grant(s) {switch.new} (by {KEY_ID_EXPORT}) and {switch.old} ({old_arn})")
        self.out(
            f"  step 3: {name} moves the table to {switch.new} (G005), the alias with it, and lets {switch.old} go "
            f"(G001, Retained); replicas {', '.join(table_regions(switched))}"
        )
        self._announce_replicas(name, steps, key_regions, 4)
        self.out(f"  last: {who} as built: the grant on {switch.old} goes once DynamoDB reports the re-encryption done")

        self.out(f"{name}: step 1: {switch.new} beside {switch.old}")
        self.deploy(dataclasses.replace(data, template=template_text(first)))
        for stack in granting:
            self.out(f"{stack.name}: step 2: the roles granted both {switch.new} and {switch.old}")
            self.deploy(stack)
        self.out(f"{name}: step 3: the table on {switch.new}, {switch.old} let go")
        outputs = self.deploy(self._staged(data, switched))
        outputs = self._keys_and_replicas(data, outputs, steps, key_regions, by_region, regional)
        for stack in importers:
            self.out(f"{stack.name}: last: as built, unless DynamoDB is still re-encrypting under {switch.new}")
            self.deploy(stack)
        self.out(
            f"{name}: {switch.old} ({old_arn}) stays in the account, Retained: keep it enabled until DynamoDB "
            f"reports the table re-encrypted under {switch.new} (DescribeTable: SSEDescription Status ENABLED with "
            "the new KMSMasterKeyArn), and while a backup made before the switch exists (restoring it needs the key)"
        )
        return outputs

    def _keeping_old_key_grants(self, stack: StackFiles, deployed: dict[str, Any]) -> StackFiles | None:
        """The access stack with the old key's grant kept while DynamoDB re-encrypts; None: as built.

        A key switch (step 2) grants the roles the old key's ARN beside the table's key. The committed
        access template drops it; deploy lets it go only once DynamoDB reports the re-encryption done.
        The DynamoDB Developer Guide's encryption-at-rest usage notes (encryption.usagenotes, "When you
        transition to a new customer managed key"): keep the original key enabled until the process is
        complete, AWS still needs it to decrypt the data before encrypting it with the new key, and the
        process is complete when the table's SSEDescription Status is ENABLED and shows the new key's
        KMSMasterKeyArn. The same guide (and the KMS Developer Guide, services-dynamodb: "Table key
        caching", "Decrypt") says DynamoDB decrypts the table key with the table's KMS key on behalf of
        the principal accessing the table, the caller's authorization re-checked after five minutes of
        inactivity. Nothing says which key those caller-side Decrypt calls use before the
        re-encryption completes, so the roles keep the old key's grant until then.
        """
        exports = {export_name(self.spec, KEY_ID_EXPORT), export_name(self.spec, KEY_ARN_EXPORT)}
        old = extra_key_grants(deployed, stack.template_dict, exports)
        if not old:
            return None
        sse = self._table_encryption()
        current = sse.get("KMSMasterKeyArn") if sse else None
        if sse and sse.get("Status") == "ENABLED" and current and current not in old:
            self.out(
                f"{stack.name}: the grant on {', '.join(old)} goes: DynamoDB reports table {self.spec.table_name} "
                f"re-encrypted under {current} (SSEDescription ENABLED). No role needs the old key for requests; it "
                "stays in the account (Retained), still needed to restore backups made before the switch"
            )
            return None
        state = (
            "no DynamoDB client to ask"
            if sse is None
            else f"SSEDescription Status {sse.get('Status', 'unknown')}, key {current or 'unknown'}"
        )
        self.out(
            f"{stack.name}: keeps the grant on {', '.join(old)}: DynamoDB has not reported table "
            f"{self.spec.table_name} re-encrypted under its new key ({state}); requests may still need the old key. "
            "A later deploy drops the grant once DescribeTable shows SSEDescription Status ENABLED on the new key"
        )
        staged, _ = with_key_granted(stack.template_dict, exports, old)
        return dataclasses.replace(stack, template=template_text(staged))

    def _table_encryption(self) -> dict[str, Any] | None:
        """The table's SSEDescription (DescribeTable); None without a DynamoDB client."""
        if self.dynamodb is None:
            return None
        table = self.dynamodb.describe_table(TableName=self.spec.table_name)["Table"]
        sse: dict[str, Any] = table.get("SSEDescription", {})
        return sse

    def _importers_of(self, described: dict[str, Any], outputs: list[str]) -> dict[str, tuple[str, list[str]]]:
        """Of the named exported outputs, those another stack imports: name -> (deployed value, importers)."""
        deployed_outputs = {o["OutputKey"]: o for o in described.get("Outputs", [])}
        found = {}
        for output in outputs:
            current = deployed_outputs.get(output)
            if not current or not current.get("ExportName"):
                continue
            try:
                importing = self.cf.list_imports(ExportName=current["ExportName"]).get("Imports", [])
            except self.cf.exceptions.ClientError as exc:
                if "is not imported" not in str(exc):
                    raise
                importing = []
            if importing:
                self.out(f"  {current['ExportName']} is imported by {', '.join(importing)}")
                found[output] = (str(current["OutputValue"]), [str(i) for i in importing])
        return found

    def _imported_exports_changing(
        self, described: dict[str, Any] | None, deployed: dict[str, Any], target: dict[str, Any]
    ) -> dict[str, str]:
        """Exported outputs whose value target changes and that another stack imports: name -> deployed value."""
        if not described:
            return {}
        changing = exports_taking_new_values(deployed, target)
        return {output: value for output, (value, _) in self._importers_of(described, changing).items()}

    def _staged(self, data: StackFiles, step: dict[str, Any]) -> StackFiles:
        """The data stack with a staged template; the committed text itself for the last step."""
        if step == data.template_dict:
            return data
        return dataclasses.replace(data, template=template_text(step))

    def _announce(self, name: str, live: list[str], steps: list[dict[str, Any]], key_regions: list[str]) -> None:
        have = ", ".join(live) if live else "none (new table)"
        self.out(f"{name}: global table: replicas deployed now: {have}")
        first = table_regions(steps[0])
        if first:
            self.out(f"  step 1: {name} with replicas {', '.join(first)}")
        else:
            self.out(f"  step 1: {name} with its key alone (the replica keys need it first)")
        self._announce_replicas(name, steps, key_regions, 2)

    def _announce_replicas(self, name: str, steps: list[dict[str, Any]], key_regions: list[str], number: int) -> None:
        """The key stacks, then the steps after the first, numbered from `number`."""
        for region in key_regions:
            self.out(f"  then: key stack in {region}")
        for n, (before, after) in enumerate(zip(steps, steps[1:], strict=False), start=number):
            added = [r for r in table_regions(after) if r not in table_regions(before)]
            if not table_regions(before):
                self.out(f"  step {n}: {name} creates the table with replicas {', '.join(added)}")
            else:
                self.out(f"  step {n}: {name} adds the replica in {', '.join(added)} (one per update)")

    def _refuse_creating_an_existing_table(self) -> None:
        """A CREATE would fail on a table that exists outside any stack (and leave a stack in the way)."""
        if self.dynamodb is None:
            return
        name = self.spec.table_name
        if self._exists(lambda: self.dynamodb.describe_table(TableName=name), "ResourceNotFoundException"):
            raise Refused(
                f"table {name} exists and no stack manages it: take it over instead of creating it "
                f"(deploy --env {self.spec.env_name} --import; README: Adopting an existing table)"
            )

    def _refuse_creating_a_released_table(self, stack: StackFiles) -> None:
        """The data stack released its table (or never held it): an update would try to create it again."""
        if TABLE_ID not in stack.template_dict.get("Resources", {}) or self.dynamodb is None:
            return
        name = self.spec.table_name
        if self._exists(lambda: self.dynamodb.describe_table(TableName=name), "ResourceNotFoundException"):
            raise Refused(
                f"{stack.name} does not hold table {name}, which exists (released?): an update would try to create "
                f"it and fail; take it back first: deploy --env {self.spec.env_name} --import"
            )

    def _refuse_unprotecting(self, name: str) -> None:
        """G013 at deploy time: the deployed stack has termination protection, the environment is unprotected."""
        plans = [
            environment_plan(
                f"{name} (deployed)", g013_protection_turned_off.check_environment(self.spec.env_file, True, False)
            )
        ]
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

    # -- import ------------------------------------------------------------------------

    def import_table(self, stack: StackFiles, kms: Any) -> None:
        """An IMPORT change set that takes the live table into the data stack, as adopted.

        Only the table is imported (an import creates nothing else); the next
        ordinary deploy adds the rest of the template through the plan and guards.
        A GlobalTable is imported with its home replica only: the live table is
        one Region's, and the next deploys add the other replicas one per update.

        Into a data stack that exists and no longer holds the table (released:
        `deploy --release-table`), the import template is the deployed one plus
        the table, everything else exactly as deployed; the table may then refer
        to the resources the stack holds (its key).
        """
        self._refuse_importing_strong(stack)
        described = self.describe(stack.name)
        template = stack.template_dict
        if global_table(template) is not None:
            template = restricted(template, {self.spec.env.region})
        table = template["Resources"][TABLE_ID]
        name = table["Properties"]["TableName"]
        live_template = self._released_stack(stack, described, name)
        on_table_key = on_deployed_key(table, live_template)
        moves_key = on_table_key is not table
        if moves_key:
            table = on_table_key
            self.out(
                f"{stack.name}: the table is imported on the stack's {KEY_ID} (its key now); the next deploy moves "
                f"it to the global table's multi-Region {GLOBAL_KEY_ID} and lets {KEY_ID} go (Retained)"
            )
        known = set(live_template.get("Resources", {})) | set(live_template.get("Parameters", {}))
        self._refuse_dangling_references(stack.name, table, known, existing=bool(live_template))
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            if table.get(policy) != "Retain":
                raise Refused(f"{stack.name}: import refused: {TABLE_ID}.{policy} must be Retain (retention: Retain)")
        existing = read_existing(name, self.dynamodb, kms)
        if existing is None:
            raise BadInput(f"{self.spec.env_file}: table_name: no table {name} in {self.spec.env.region} to import")
        _, live = existing
        found = differences(template_facts(table), live)
        blocking = not_reconcilable(found)
        if blocking:
            for d in blocking:
                self.out(f"  {d.property}: template {d.template!r}, live {d.live!r}")
            raise Refused(
                f"{stack.name}: import refused: the template differs from table {name} in what no update can "
                f"change in place ({', '.join(d.property for d in blocking)}); adopt it again or fix the YAML"
            )
        for d in found:
            self.out(f"  after the import, the next deploy changes {d.property}: {d.live!r} -> {d.template!r}")
        to_import = [
            {"ResourceType": table["Type"], "LogicalResourceId": TABLE_ID, "ResourceIdentifier": {"TableName": name}}
        ]
        change_set_name = f"import-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
        if live_template:
            assert described is not None
            self.out(
                f"{stack.name}: importing table {name} as {table['Type']} into the existing stack (every other "
                "resource and output as deployed)"
            )
            change_set = self.cf.create_change_set(
                StackName=stack.name,
                ChangeSetName=change_set_name,
                ChangeSetType="IMPORT",
                ResourcesToImport=to_import,
                TemplateBody=json.dumps(with_table(live_template, table), sort_keys=True),
                **self._as_deployed(described, stack.capabilities),
            )["Id"]
        else:
            body = {
                "AWSTemplateFormatVersion": template.get("AWSTemplateFormatVersion", "2010-09-09"),
                "Description": template.get("Description", ""),
                "Resources": {TABLE_ID: table},
            }
            change_set = self.cf.create_change_set(
                StackName=stack.name,
                ChangeSetName=change_set_name,
                ChangeSetType="IMPORT",
                ResourcesToImport=to_import,
                TemplateBody=json.dumps(body, sort_keys=True),
                Tags=stack.tags,
            )["Id"]
        described_set = self._wait_change_set(stack.name, change_set)
        if described_set["Status"] == "FAILED":
            raise AwsFailure(f"{stack.name}: import change set failed: {described_set.get('StatusReason', '')}")
        started = datetime.now(timezone.utc)
        self.cf.execute_change_set(StackName=stack.name, ChangeSetName=change_set)
        final = self._follow_events(stack.name, started)
        if final != "IMPORT_COMPLETE":
            raise AwsFailure(f"{stack.name}: import ended {final}; the table itself is unchanged (Retain)")
        env = self.spec.env_name
        replicas = table_regions(stack.template_dict)[1:]
        if moves_key:
            then = (
                f"python -m templates_src deploy --env {env} --allow G001,G005 (it moves the table to "
                f"{GLOBAL_KEY_ID}, lets {KEY_ID} go, Retained: keep it enabled until DynamoDB reports the "
                "re-encryption done"
                + (f", then adds the replicas {', '.join(replicas)}, one per update)" if replicas else ")")
            )
        elif replicas:
            then = f"make deploy ENV={env} (it adds the replicas {', '.join(replicas)}, one per update)"
        elif live_template and global_table(stack.template_dict) is not None:
            then = (
                f"make deploy ENV={env} for the rest of the stack; then list the replicas (replicas:), make synth "
                f"and deploy: one replica per update"
            )
        else:
            then = f"make deploy ENV={env} to add the rest of the stack"
        self.out(
            f"{stack.name}: imported table {name}. Next: make plan ENV={env} (against the deployed "
            f"stack: python -m templates_src plan --env {env} --deployed), then {then}"
        )

    def _released_stack(self, stack: StackFiles, described: dict[str, Any] | None, name: str) -> dict[str, Any]:
        """The deployed template of a data stack that released table `name`; {} when there is no stack yet.

        Refuses a stack that holds the table (already managed) and one left by
        a failed create or import (it holds nothing of ours).
        """
        if not described or described["StackStatus"] == "REVIEW_IN_PROGRESS":
            return {}
        status = described["StackStatus"]
        deployed = self.deployed_template(stack.name)
        held = TABLE_ID in deployed.get("Resources", {})
        if held and not status.endswith(("ROLLBACK_COMPLETE", "_FAILED")):
            raise BadInput(
                f"{stack.name} exists ({status}) and holds the table: it is already managed; "
                f"make deploy ENV={self.spec.env_name}"
            )
        if not held and released_values(deployed, name):
            if status not in UPDATABLE:
                raise AwsFailure(f"{stack.name} is {status}: cannot import now; wait for it to finish")
            return deployed
        raise BadInput(
            f"{stack.name} is {status} from a failed create or import and does not hold the table: delete the "
            f"stack (make destroy ENV={self.spec.env_name}; the table is not in it), then import again"
        )

    @staticmethod
    def _as_deployed(described: dict[str, Any], capabilities: list[str] | None = None) -> dict[str, Any]:
        """Parameters, capabilities and tags of an update that keeps the stack's own (nothing else changes)."""
        extra: dict[str, Any] = {
            "Parameters": [
                {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in described.get("Parameters", [])
            ],
            "Tags": described.get("Tags", []),
        }
        # The stack's own; else the build's (an IAM role in the template needs CAPABILITY_IAM on every update).
        if described.get("Capabilities") or capabilities:
            extra["Capabilities"] = described.get("Capabilities") or capabilities
        return extra

    # -- release: the table leaves the data stack, kept -------------------------------------

    def release_table(self, stack: StackFiles) -> None:
        """An UPDATE of the data stack without the Table (Retain: the table stays, unmanaged).

        The template is the deployed one minus the Table, each reference to it
        replaced by its live value (release.released), so every export keeps its
        value and the access stack keeps working. Refused before any change
        unless the deployed Table is Retain on delete and on replacement, and
        refused (its change set deleted) unless the change set removes the
        Table and nothing else and replaces nothing.
        """
        described = self.describe(stack.name)
        if described is None or described["StackStatus"] == "REVIEW_IN_PROGRESS":
            raise BadInput(f"{stack.name} does not exist: there is no managed table to release")
        status = described["StackStatus"]
        if status not in UPDATABLE:
            raise AwsFailure(f"{stack.name} is {status}: cannot release now; wait for it to finish or fix it")
        deployed = self.deployed_template(stack.name)
        resource = deployed.get("Resources", {}).get(TABLE_ID)
        if resource is None:
            raise BadInput(
                f"{stack.name} holds no {TABLE_ID}: already released; next: deploy --env {self.spec.env_name} --import"
            )
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            if resource.get(policy) != "Retain":
                raise Refused(
                    f"{stack.name}: release refused: the deployed {TABLE_ID} has {policy} "
                    f"{resource.get(policy, 'Delete (the default)')}; removing it from the stack would delete the "
                    "table. Set retention: Retain and deploy that first"
                )
        # The stack policy is enforced on an executed change set: it must let the table go (and comes back after).
        stack_policy = self._stack_policy(stack.name)
        during_release = policy_allowing_table_removal(stack_policy) if stack_policy is not None else None
        name = self.cf.describe_stack_resource(StackName=stack.name, LogicalResourceId=TABLE_ID)["StackResourceDetail"][
            "PhysicalResourceId"
        ]
        table = self.dynamodb.describe_table(TableName=name)["Table"]
        values = TableValues(table["TableName"], table["TableArn"], table.get("LatestStreamArn"))
        body = released(deployed, values)
        self.out(f"{stack.name}: release table {name}: the stack forgets it (Retain), the table stays")
        for where in referrers(deployed):
            self.out(f"  {where}: reference to {TABLE_ID} -> its live value")
        if table.get("DeletionProtectionEnabled"):
            self.out(f"  deletion protection stays on table {name} (a table setting, not the stack's)")

        change_set = self.cf.create_change_set(
            StackName=stack.name,
            ChangeSetName=f"release-{datetime.now(timezone.utc):%Y%m%d%H%M%S}",
            ChangeSetType="UPDATE",
            TemplateBody=json.dumps(body, sort_keys=True),
            **self._as_deployed(described, stack.capabilities),
        )["Id"]
        described_set = self._wait_change_set(stack.name, change_set)
        if described_set["Status"] == "FAILED":
            self.cf.delete_change_set(StackName=stack.name, ChangeSetName=change_set)
            raise AwsFailure(f"{stack.name}: release change set failed: {described_set.get('StatusReason', '')}")
        changes = [c["ResourceChange"] for c in described_set.get("Changes", []) if c.get("Type") == "Resource"]
        self._print_change_set(stack.name, "UPDATE", changes)
        unexpected = self._release_problems(changes, resource["Type"])
        if unexpected:
            self.cf.delete_change_set(StackName=stack.name, ChangeSetName=change_set)
            raise Refused(
                f"{stack.name}: release refused (change set deleted): it must remove {TABLE_ID} and nothing else, "
                f"and replace nothing; it would {unexpected}"
            )

        if stack_policy is not None:
            self.cf.set_stack_policy(StackName=stack.name, StackPolicyBody=json.dumps(during_release))
        try:
            started = datetime.now(timezone.utc)
            self.cf.execute_change_set(StackName=stack.name, ChangeSetName=change_set)
            final = self._follow_events(stack.name, started)
        finally:
            if stack_policy is not None:  # the stack's own policy back, whatever happened
                self.cf.set_stack_policy(StackName=stack.name, StackPolicyBody=json.dumps(stack_policy))
        if final not in SUCCESS:
            raise AwsFailure(f"{stack.name}: release ended {final}; the table is unchanged")
        if not self._exists(lambda: self.dynamodb.describe_table(TableName=name), "ResourceNotFoundException"):
            raise AwsFailure(f"{stack.name}: released, but table {name} is gone; restore it from its backups")
        self.out(f"released: table {name} kept, no longer managed by {stack.name}")
        self.out(
            f"  its exports keep their values. Next: set global_table: true (no replicas yet), make synth, then "
            f"python -m templates_src deploy --env {self.spec.env_name} --import"
        )

    def _release_problems(self, changes: list[dict[str, Any]], table_type: str) -> str:
        """What the release change set does beyond removing the table: '' when nothing."""
        problems = []
        removed_table = False
        for c in changes:
            logical_id, action = c["LogicalResourceId"], c["Action"]
            if action == "Remove" and logical_id == TABLE_ID and c["ResourceType"] == table_type and not removed_table:
                removed_table = True
            elif action == "Remove":
                problems.append(f"remove {logical_id}")
            elif action not in ("Modify", "Dynamic") or c.get("Replacement") in ("True", "Conditional"):
                problems.append(f"{action.lower()} {logical_id} (Replacement={c.get('Replacement', 'n/a')})")
        if not removed_table:
            problems.insert(0, f"not remove {TABLE_ID}")
        return ", ".join(problems)

    def _stack_policy(self, name: str) -> dict[str, Any] | None:
        body = self.cf.get_stack_policy(StackName=name).get("StackPolicyBody")
        if not body:
            return None
        policy: dict[str, Any] = json.loads(body)
        return policy

    def _refuse_importing_strong(self, stack: StackFiles) -> None:
        """No AWS call needed: an existing table with data cannot become an MRSC global table."""
        if is_strong(stack.template_dict):
            raise Refused(
                f"{stack.name}: import refused: multi_region_consistency STRONG: AWS turns on multi-Region "
                "strong consistency only on an empty table (its replicas and witness are added when the global "
                "table is created), so a table with data cannot be imported as one; import it as EVENTUAL, or "
                "copy the data into a new STRONG table"
            )

    def _refuse_dangling_references(
        self, name: str, table: dict[str, Any], known: Collection[str] = (), existing: bool = False
    ) -> None:
        """The import creates nothing: a Ref or GetAtt must name what the (deployed) stack already holds."""
        others = sorted(set(_references(table)) - {TABLE_ID} - set(known))
        if existing and others:
            raise Refused(
                f"{name}: import refused: the table refers to {', '.join(others)}, which the deployed stack does "
                "not hold and an IMPORT change set cannot create; import with the settings the live table has, "
                "then change them in a later, reviewed deploy"
            )
        if others:
            raise Refused(
                f"{name}: import refused: the table refers to {', '.join(others)}, which an IMPORT change set "
                "cannot create (it holds the table alone); import with the settings the live table has (adopt "
                "writes them, e.g. encryption: aws_managed), then change them in a later, reviewed deploy"
            )

    # -- destroy -------------------------------------------------------------------------

    def destroy(self, stacks: list[StackFiles], regional: RegionalDeployer | None = None) -> None:
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
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == missing_code:
                return False
            raise
        return True


RegionalDeployer = Callable[[str], Deployer]


def check_caller(spec: Spec, sts: Any, configured_region: str | None) -> None:
    account = sts.get_caller_identity()["Account"]
    if account != spec.env.account_id:
        raise BadInput(
            f"{spec.env_file}: account_id: credentials are for account {account}, the environment is "
            f"{spec.env.account_id}; use the right profile"
        )
    if configured_region and configured_region != spec.env.region:
        raise BadInput(
            f"{spec.env_file}: region: the AWS region configured is {configured_region}, the environment is "
            f"{spec.env.region}; unset AWS_REGION/AWS_DEFAULT_REGION or match it"
        )


def plan_deployed(spec: Spec, stacks: list[StackFiles]) -> list[StackPlan]:
    """Each built stack against the template CloudFormation has deployed now (none: an empty one)."""
    with aws_errors(f"plan {spec.env_name} against the deployed stacks"):
        aws = session()
        check_caller(spec, aws.client("sts", region_name=spec.env.region), aws.region_name)
        readers: dict[str, Deployer] = {}
        plans = []
        for stack in stacks:
            region = stack_region(spec, stack)  # a replica key stack lives in its own Region
            if region not in readers:
                readers[region] = Deployer(spec, aws.client("cloudformation", region_name=region))
            reader = readers[region]
            deployed = reader.deployed_template(stack.name) if reader.describe(stack.name) else EMPTY_TEMPLATE
            plans.append(plan_stack(f"{stack.name} (deployed -> build)", deployed, stack.template_dict))
        return plans


def import_environment(spec: Spec, stacks: list[StackFiles]) -> None:
    """deploy --import: the data stack takes over the adopted table (IMPORT change set)."""
    (data,) = [s for s in stacks if s.kind == DATA]
    with aws_errors(f"import {spec.env_name}"):
        aws = session()
        region = spec.env.region
        check_caller(spec, aws.client("sts", region_name=region), aws.region_name)
        deployer = Deployer(
            spec, aws.client("cloudformation", region_name=region), dynamodb=aws.client("dynamodb", region_name=region)
        )
        deployer.import_table(data, aws.client("kms", region_name=region))


def release_environment(spec: Spec, stacks: list[StackFiles]) -> None:
    """deploy --release-table: the data stack lets its table go (kept, Retain); exports keep their values."""
    (data,) = [s for s in stacks if s.kind == DATA]
    with aws_errors(f"release the table of {spec.env_name}"):
        aws = session()
        region = spec.env.region
        check_caller(spec, aws.client("sts", region_name=region), aws.region_name)
        deployer = Deployer(
            spec, aws.client("cloudformation", region_name=region), dynamodb=aws.client("dynamodb", region_name=region)
        )
        deployer.release_table(data)


def deploy_environment(spec: Spec, stacks: list[StackFiles], allowed: frozenset[str], destroy: bool = False) -> None:
    """Deploy (or destroy) the environment's built stacks with the caller's credentials."""
    if destroy and spec.env.protected:  # no AWS call needed to refuse
        raise Refused(
            f"{spec.env_name} is protected: destroy refused (its table is Retain, deletion-protected "
            "and the data stack has termination protection)"
        )
    with aws_errors(f"{'destroy' if destroy else 'deploy'} {spec.env_name}"):
        aws = session()
        configured = aws.region_name
        region = spec.env.region
        cf = aws.client("cloudformation", region_name=region)
        check_caller(spec, aws.client("sts", region_name=region), configured)
        deployer = Deployer(
            spec,
            cf,
            allowed=allowed,
            dynamodb=aws.client("dynamodb", region_name=region),
            iam=aws.client("iam", region_name=region),
        )
        regional = regional_deployers(spec, lambda r: aws.client("cloudformation", region_name=r), allowed)
        if destroy:
            deployer.destroy(stacks, regional)
        else:
            deploy_stacks(deployer, stacks, regional)


def regional_deployers(spec: Spec, client_for: Callable[[str], Any], allowed: frozenset[str]) -> RegionalDeployer:
    """A Deployer per Region (one CloudFormation client each), made on first use."""
    made: dict[str, Deployer] = {}

    def deployer_for(region: str) -> Deployer:
        if region not in made:
            made[region] = Deployer(spec, client_for(region), allowed=allowed)
        return made[region]

    return deployer_for


def deploy_stacks(deployer: Deployer, stacks: list[StackFiles], regional: RegionalDeployer) -> None:
    """Every built stack in order; a global table's data stack in replica steps around its key stacks."""
    data = next((s for s in stacks if s.kind == DATA), None)
    keys = [s for s in stacks if replica_key_region(s.kind) is not None]
    if data is None or global_table(data.template_dict) is None:
        if keys:
            raise BadInput(f"{deployer.spec.env_name}: replica key stacks built without a global table; run make synth")
        for stack in stacks:
            deployer.deploy(stack)
        return
    deployer.deploy_global(data, keys, regional, [s for s in stacks if s is not data and s not in keys])
