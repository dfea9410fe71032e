"""A global table's deploy in steps (replicas.py): the data stack, each key-<region> stack in its
Region, then one replica per update; and a live table's gap-free switch to the global table's key
(new key first, roles granted both, then the switch; the old key's grant goes once DynamoDB reports
the re-encryption done: OldKeyGrants, which the Deployer consults on every access stack update).
Apart as the concern only a global table has; the Deployer (deployer.py) deploys each stack.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..change.plan import EMPTY_TEMPLATE, plan_stack, refuse_if_blocked
from ..change.steps import Step, index_changes, plan_steps
from ..errors import AwsFailure, Refused
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.names import (
    ACCESS,
    KEY_ARN_EXPORT,
    KEY_ID_EXPORT,
    PRIMARY_KEY_PARAMETER,
    TABLE_ID,
    export_name,
    replica_key_region,
)
from .change_sets import ChangeSets, key_stack_with_primary
from .release import (
    KeySwitch,
    exports_moving_key,
    exports_taking_new_values,
    extra_key_grants,
    imported,
    key_switch,
    with_key_granted,
    with_new_key,
    with_output_values,
)
from .replicas import refuse_removals, replica_steps, restricted, table_regions, template_text


class StackDeployer(Protocol):
    """What the steps need of a deployer: one stack deployed, its outputs returned."""

    def deploy(self, stack: StackFiles) -> dict[str, str]: ...


# A deployer in each Region (a replica key stack is deployed in its own).
Regional = Callable[[str], StackDeployer]


class GlobalSteps:
    def __init__(
        self,
        spec: Spec,
        change_sets: ChangeSets,
        deploy_one: Callable[[StackFiles], dict[str, str]],
        out: Callable[[str], None],
        allowed: frozenset[str],
        after_data_step: Callable[[Step], None] | None = None,
    ) -> None:
        self.spec, self.change_sets, self.out, self.allowed = spec, change_sets, out, allowed
        # After each index step: wait until the table and its indexes are ACTIVE and backfilled.
        self.after_data_step = after_data_step
        # Each stack of a step goes through the whole single-stack deploy (refusals, protection).
        self.deploy_one = deploy_one

    # -- a global table: replicas one per update ------------------------------------------

    def _live(
        self, data: StackFiles, described: dict[str, Any] | None | bool = False
    ) -> tuple[dict[str, Any], list[str]]:
        """The deployed data template (EMPTY_TEMPLATE for none) and the replica Regions it holds ([] when
        it holds no table yet). described: the stack as just described (None: it does not exist), else
        (False) described here."""
        if described is False:
            described = self.change_sets.describe(data.name)
        if not isinstance(described, dict) or described["StackStatus"] == "REVIEW_IN_PROGRESS":
            return EMPTY_TEMPLATE, []
        deployed = self.change_sets.deployed_template(data.name)
        return deployed, self._regions(deployed)

    def _regions(self, deployed: dict[str, Any]) -> list[str]:
        if TABLE_ID not in deployed.get("Resources", {}):
            return []
        # A deployed table that is not (yet) global is one Region's table: count it as the home
        # replica, never as "no table" (which would add every replica at once).
        return table_regions(deployed) or [self.spec.env.region]

    def deploy(
        self,
        data: StackFiles,
        keys: list[StackFiles],
        regional: Regional,
        importers: Sequence[StackFiles] = (),
    ) -> dict[str, str]:
        """The data stack in replica steps, the key stacks (in their Regions) after the first step,
        then the importers (the stacks that import the data stack's exports: access).

        CloudFormation adds or removes one replica per GlobalTable update (replicas.py cites the documentation); a
        replica encrypted with its Region's key needs that key stack first, and the key stack
        needs the data stack's multi-Region primary key (its KeyArn output).

        A live table moving to another key of the stack (TableKey -> GlobalTableKey, after an import
        under TableKey) goes its own way: _deploy_key_switch. For any other export that changes value
        while another stack imports it (CloudFormation refuses that), the first step goes twice:
        with such exports kept at their deployed values, then (once the importers are deployed) with
        their new values.
        """
        target = data.template_dict
        described = self.change_sets.describe(data.name)
        new_stack = described is None or described["StackStatus"] == "REVIEW_IN_PROGRESS"
        deployed, live = self._live(data, described)
        refuse_removals(target, live, data.name, self.allowed)
        order = table_regions(target)
        by_region = {str(replica_key_region(k.kind)): k for k in keys}
        key_regions = sorted(by_region, key=lambda r: order.index(r) if r in order else len(order))
        if live and index_changes(deployed, target) > 1:
            if key_switch(deployed, target) is not None:
                raise Refused(
                    f"{data.name}: refused before any change: the table moves to another key and its indexes "
                    f"change ({index_changes(deployed, target)} creations/deletions) in one change; merge the "
                    "index change first (deploy stages it), then the key switch"
                )
            self._index_steps(data, deployed, restricted(target, live), importers)
            described = self.change_sets.describe(data.name)
            deployed, live = self._live(data, described)
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
            self.deploy_one(first._replace(template=template_text(with_output_values(first.template_dict, kept))))
            for stack in importers:
                self.deploy_one(stack)
        outputs = self.deploy_one(first)
        outputs = self._keys_and_replicas(data, outputs, steps, key_regions, by_region, regional)
        if not kept:
            for stack in importers:
                self.deploy_one(stack)
        return outputs

    def _index_steps(
        self, data: StackFiles, deployed: dict[str, Any], on_live: dict[str, Any], importers: Sequence[StackFiles]
    ) -> None:
        """The index changes first, one per update, on the live replicas (change/steps.py plans them): the
        replica steps that follow then change no index. An access stack among the importers goes where
        the planner puts it (after the new indexes exist, before any it stops granting goes)."""
        access = next((s for s in importers if s.kind == ACCESS), None)
        deployed_access = None
        if access is not None and self.change_sets.describe(access.name):
            deployed_access = self.change_sets.deployed_template(access.name)
        planned = plan_steps(deployed, on_live, deployed_access, access.template_dict if access else None)
        self.out(f"{data.name}: {len(planned)} index steps on the live replicas first, one index per update:")
        for number, step in enumerate(planned, 1):
            self.out(f"  {number}. {step.kind}: {step.summary}")
        for number, step in enumerate(planned, 1):
            self.out(f"{data.name}: index step {number} of {len(planned)}: {step.summary}")
            if step.kind == ACCESS and access is not None:
                self.deploy_one(access)
            else:
                self.deploy_one(self._staged(data, step.template))
                if self.after_data_step is not None:
                    self.after_data_step(step)

    def _keys_and_replicas(
        self,
        data: StackFiles,
        outputs: dict[str, str],
        steps: list[dict[str, Any]],
        key_regions: list[str],
        by_region: dict[str, StackFiles],
        regional: Regional,
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
            outputs = self.deploy_one(self._staged(data, step))
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
        regional: Regional,
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
        4. the importers as committed: deploy (OldKeyGrants) drops the old key's grant only
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
            granting.append(stack._replace(template=template_text(staged)) if count else stack)
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
        self.deploy_one(data._replace(template=template_text(first)))
        for stack in granting:
            self.out(f"{stack.name}: step 2: the roles granted both {switch.new} and {switch.old}")
            self.deploy_one(stack)
        self.out(f"{name}: step 3: the table on {switch.new}, {switch.old} let go")
        outputs = self.deploy_one(self._staged(data, switched))
        outputs = self._keys_and_replicas(data, outputs, steps, key_regions, by_region, regional)
        for stack in importers:
            self.out(f"{stack.name}: last: as built, unless DynamoDB is still re-encrypting under {switch.new}")
            self.deploy_one(stack)
        self.out(
            f"{name}: {switch.old} ({old_arn}) stays in the account, Retained: keep it enabled until DynamoDB "
            f"reports the table re-encrypted under {switch.new} (DescribeTable: SSEDescription Status ENABLED with "
            "the new KMSMasterKeyArn), and while a backup made before the switch exists (restoring it needs the key)"
        )
        return outputs

    def _importers_of(self, described: dict[str, Any], outputs: list[str]) -> dict[str, tuple[str, list[str]]]:
        """Of the named exported outputs, those another stack imports: name -> (deployed value, importers)."""
        deployed_outputs = {o["OutputKey"]: o for o in described.get("Outputs", [])}
        found = {}
        for output in outputs:
            current = deployed_outputs.get(output)
            if not current or not current.get("ExportName"):
                continue
            try:
                importing = self.change_sets.cf.list_imports(ExportName=current["ExportName"]).get("Imports", [])
            except self.change_sets.cf.exceptions.ClientError as exc:
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
        return data._replace(template=template_text(step))

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


class OldKeyGrants:
    """The key switch's last step, on every access stack update: the old key's grant kept while DynamoDB
    still re-encrypts the table under its new key."""

    def __init__(self, spec: Spec, dynamodb: Any, out: Callable[[str], None]) -> None:
        self.spec, self.dynamodb, self.out = spec, dynamodb, out

    def staged(self, stack: StackFiles, deployed: dict[str, Any]) -> StackFiles | None:
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
        return stack._replace(template=template_text(staged))

    def _table_encryption(self) -> dict[str, Any] | None:
        """The table's SSEDescription (DescribeTable); None without a DynamoDB client."""
        if self.dynamodb is None:
            return None
        table = self.dynamodb.describe_table(TableName=self.spec.table_name)["Table"]
        sse: dict[str, Any] = table.get("SSEDescription", {})
        return sse
