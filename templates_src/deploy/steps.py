"""The executor of a staged deploy: the planner's steps (change/steps.py), one stack update at a time.

Before each step it reads what is live, so a second run after an interruption (Ctrl-C, a CI
timeout, a step that rolled back) starts from there: nothing is kept in this process alone. The
deployed template of an intermediate step names the build it leads to and its step (the planner's
STAGED_METADATA), which is how a later run says what an earlier one already did. After each data
step it waits until the table and every index are ACTIVE and backfilled, with progress, and then
reads the table back and compares it with the step's template: the drift comparison (live.py),
one code path. After each access step, each role's inline policies, trust and boundary are read
back from IAM and compared with the deployed template (readback.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..change.plan import EMPTY_TEMPLATE
from ..change.steps import Step, build_digest, plan_steps, staged_marker
from ..errors import AwsFailure
from ..stacks.artifacts import StackFiles
from ..stacks.names import ACCESS, DATA, TABLE_ID
from .live import differences, read_live, shown, template_facts
from .readback import data_differences, role_differences
from .replicas import template_text

POLL_S = 15.0
# A backfill of a large table can take hours; CI jobs have their own limits (the run resumes).
BACKFILL_TIMEOUT_S = 6 * 3600.0
# Which command resumes a deploy (said when a run stops between steps).
RESUME = "make deploy ENV={env}"


class StepRunner:
    """Runs the data and access stacks of a regional table in the planner's steps, verified."""

    def __init__(
        self,
        deployer: Any,  # deployer.Deployer: deploys one stack (refusals, change set, protection)
        out: Callable[[str], None],
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.deployer, self.out, self.sleep, self.clock = deployer, out, sleep, clock
        self.spec = deployer.spec

    def run(self, data: StackFiles, access: StackFiles | None) -> None:
        deployed_data = self._deployed(data.name)
        if deployed_data is None:  # a new table: created with all its indexes in one step
            steps = [Step(DATA, data.template_dict, "the data stack as built")]
            steps += [Step(ACCESS, access.template_dict, "the access stack as built")] if access else []
        else:
            deployed_access = self._deployed(access.name) if access is not None else None
            built = data.template_dict
            self._say_where_an_earlier_run_stopped(data.name, deployed_data, built)
            steps = plan_steps(deployed_data, built, deployed_access, access.template_dict if access else None)
        stacks = {DATA: data, ACCESS: access}
        if len(steps) > 1:
            self.out(f"{self.spec.env_name}: {len(steps)} steps from what is deployed now to the build:")
            for number, step in enumerate(steps, 1):
                self.out(f"  {number}. {stacks[step.kind].name}: {step.summary}")  # type: ignore[union-attr]
        if not steps:  # nothing to change: still read back, so drift is never a success line
            self.deployer.deploy(data)  # "no changes", and the protection checked
            self.verify_table(data, data.template_dict)
            if access is not None:
                self.deployer.deploy(access)
                self.verify_roles(access)
        for number, step in enumerate(steps, 1):
            stack = stacks[step.kind]
            assert stack is not None
            if len(steps) > 1:
                self.out(f"{stack.name}: step {number} of {len(steps)}: {step.summary}")
            try:
                self._step(stack, step)
            except KeyboardInterrupt:
                self.out(self._stopped(number, len(steps), "interrupted"))
                raise
            except AwsFailure as exc:
                raise AwsFailure(f"{exc}\n{self._stopped(number, len(steps), 'failed')}") from None
        if len(steps) > 1:
            self.out(f"{self.spec.env_name}: all {len(steps)} steps done, each verified against what is live")

    def _deployed(self, name: str) -> dict[str, Any] | None:
        """The stack's deployed template; None when there is none yet (no stack, or one never created)."""
        change_sets = self.deployer.change_sets
        described = change_sets.describe(name)
        if described is None or described["StackStatus"] == "REVIEW_IN_PROGRESS":
            return None
        template: dict[str, Any] = change_sets.deployed_template(name)
        return template

    def _stopped(self, number: int, of: int, how: str) -> str:
        finished = number - 1
        done = (
            "no step finished"
            if not finished
            else "step 1 finished"
            if finished == 1
            else f"steps 1-{finished} finished"
        )
        done += f"; step {number} may be live in part"
        command = RESUME.format(env=self.spec.env_name)
        return f"{self.spec.env_name}: {how} in step {number} of {of} ({done}); `{command}` reads what is live and carries on"

    def _step(self, stack: StackFiles, step: Step) -> None:
        staged = (
            stack if step.template == stack.template_dict else stack._replace(template=template_text(step.template))
        )
        self.deployer.deploy(staged)
        if step.kind == DATA:
            self.wait_for_table(step)
            self.verify_table(stack, step.template)
        else:
            self.verify_roles(stack)

    # -- before the first step ----------------------------------------------------------

    def _say_where_an_earlier_run_stopped(self, name: str, deployed: dict[str, Any], built: dict[str, Any]) -> None:
        marker = staged_marker(deployed)
        if marker is None:
            return
        did = marker.get("Did", f"its index change {marker.get('Step')}")
        if marker.get("Build") == build_digest(built):
            self.out(f"{name}: an earlier run of this build stopped after '{did}': what is live is not redone")
        else:
            self.out(
                f"{name}: the deployed template is an intermediate step ('{did}') of another build's staged "
                "deploy; this run goes from there to this build"
            )

    # -- after a data step --------------------------------------------------------------

    def wait_for_table(self, step: Step) -> None:
        """Until the table and every GSI are ACTIVE and none is backfilling; progress while one is."""
        dynamodb = self.deployer.dynamodb
        if dynamodb is None:
            return
        started = self.clock()
        while True:
            table = dynamodb.describe_table(TableName=self.spec.table_name)["Table"]
            busy = [
                g
                for g in table.get("GlobalSecondaryIndexes") or []
                if g.get("IndexStatus") != "ACTIVE" or g.get("Backfilling")
            ]
            if table.get("TableStatus") == "ACTIVE" and not busy:
                if step.created:
                    self.out(f"  GSI {step.created}: ACTIVE, backfilled ({self._elapsed(started)})")
                return
            for index in busy:
                self.out(self._progress(table, index, started))
            if self.clock() - started > BACKFILL_TIMEOUT_S:
                raise AwsFailure(
                    f"{self.spec.table_name}: still {', '.join(g['IndexName'] for g in busy) or 'not ACTIVE'} "
                    f"after {self._elapsed(started)}"
                )
            self.sleep(POLL_S)

    def _progress(self, table: dict[str, Any], index: dict[str, Any], started: float) -> str:
        """One line: the index's items and size against the table's (DynamoDB refreshes both about every
        six hours: DescribeTable's ItemCount and IndexSizeBytes), elapsed, and an estimate from them."""
        items, total = index.get("ItemCount", 0), table.get("ItemCount", 0)
        size, table_size = index.get("IndexSizeBytes", 0), table.get("TableSizeBytes", 0)
        state = "backfilling" if index.get("Backfilling") else index.get("IndexStatus", "?")
        line = f"  GSI {index['IndexName']}: {state}, {items} of {total} items, {size} of {table_size} bytes"
        elapsed = self.clock() - started
        if total and 0 < items < total:
            remaining = elapsed * (total - items) / items
            line += f", {self._elapsed(started)} elapsed, about {remaining / 60:.0f} min left"
        else:
            line += f", {self._elapsed(started)} elapsed"
        return line

    def _elapsed(self, started: float) -> str:
        return f"{self.clock() - started:.0f} s"

    def verify_table(self, stack: StackFiles, template: dict[str, Any]) -> None:
        """The live table (drift's comparison), its resource policy and its key against the step's template."""
        deployer = self.deployer
        resource = template["Resources"].get(TABLE_ID)
        if deployer.dynamodb is None or resource is None:
            return
        table, live = read_live(self.spec.table_name, deployer.dynamodb, deployer.kms)
        found = [
            f"{d.property}: template {shown(d.template)}, live {shown(d.live)}"
            for d in differences(template_facts(resource), live)
        ]
        found += data_differences(
            template, stack, table, deployer.dynamodb, deployer.kms, deployer.change_sets.cf, self.spec
        )
        if found:
            raise AwsFailure(
                f"{stack.name}: what is live differs from the template (read back after the deploy): {'; '.join(found)}"
            )
        self.out(f"{stack.name}: verified: the live table, its resource policy and key match the template")

    def verify_roles(self, stack: StackFiles) -> None:
        """Each role's inline policies, trust and boundary in IAM against the deployed access template."""
        deployer = self.deployer
        if deployer.iam is None:
            return
        deployed = (
            deployer.change_sets.deployed_template(stack.name)
            if deployer.change_sets.describe(stack.name)
            else EMPTY_TEMPLATE
        )
        found = role_differences(deployed, stack, deployer.iam, deployer.change_sets.cf, self.spec)
        if found:
            raise AwsFailure(
                f"{stack.name}: IAM differs from the deployed template (read back after the deploy): {'; '.join(found)}"
            )
        self.out(f"{stack.name}: verified: every role's policies, trust and boundary in IAM match the template")
