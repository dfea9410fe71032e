"""The Deployer and the environment-level entry points: check the caller's account and Region, make
the boto3 clients, run the stacks in order. The Deployer composes the steps of a deploy, each apart:
the change-set mechanics (change_sets.py), the refusals before and after a change set is made
(refusals.py), the stack policy and termination protection (protection.py), a global table's steps
and its key switch's grants (global_steps.py), and a table's takeover and release (takeover.py).
Failures raise the error root (errors.py): AwsFailure, Refused, BadInput.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..change.plan import EMPTY_TEMPLATE, StackPlan, attach_steps, plan_stack
from ..errors import AwsFailure, BadInput, Refused
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.grants import configured_roles
from ..stacks.names import ACCESS, DATA, replica_key_region, role_name
from .accounts import source_for_this_deploy
from .aws import aws_errors, exists, local_endpoint, session
from .change_sets import SUCCESS, ChangeSets, key_stack_with_primary, stack_region
from .global_steps import GlobalSteps, OldKeyGrants, Regional
from .migration_state import pending as migration_pending
from .protection import Protection, protected_resources, protection_policy
from .refusals import Refusals, removed_stateful
from .replicas import global_table
from .steps import StepRunner
from .takeover import Takeover

__all__ = [
    "Deployer",
    "RegionalDeployer",
    "check_caller",
    "deploy_environment",
    "deploy_stacks",
    "import_environment",
    "key_stack_with_primary",
    "plan_deployed",
    "protected_resources",
    "protection_policy",
    "regional_deployers",
    "release_environment",
    "stack_region",
]


class Deployer:
    """Every step of a deploy: one stack, a global table's steps, a takeover or release, a destroy."""

    def __init__(
        self,
        spec: Spec,
        cf: Any,
        out: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        allowed: frozenset[str] = frozenset(),
        dynamodb: Any = None,
        iam: Any = None,
        kms: Any = None,
    ) -> None:
        self.spec, self.cf, self.out, self.allowed = spec, cf, out, allowed
        # For the refusals, the key switch, the read-back after each step and destroy's verification.
        self.dynamodb, self.iam, self.kms = dynamodb, iam, kms
        self.sleep = sleep
        self.change_sets = ChangeSets(cf, out, sleep)
        self.refusals = Refusals(spec, dynamodb, out, allowed)
        self.protection = Protection(spec, self.change_sets, out)
        self.old_key_grants = OldKeyGrants(spec, dynamodb, out)

    # -- one stack ---------------------------------------------------------------------

    def deploy(self, stack: StackFiles) -> dict[str, str]:
        """Refusals, the change set (checked again once made), execution, protection; the stack's outputs."""
        change_sets = self.change_sets
        described = change_sets.describe(stack.name)
        kind = change_sets.change_set_type(stack.name, described["StackStatus"] if described else None)
        self.refusals.before_reading(stack, kind, described)
        deployed = change_sets.deployed_template(stack.name) if kind == "UPDATE" else EMPTY_TEMPLATE
        self.refusals.against_deployed(stack, kind, deployed)
        if kind == "UPDATE" and stack.kind == ACCESS:
            kept = self.old_key_grants.staged(stack, deployed)
            if kept is not None and kept.template_dict == deployed:
                self.out(f"{stack.name}: no changes")
                return change_sets.outputs(stack.name)
            stack = kept or stack
        offline = self.refusals.offline_plan(stack, deployed)

        made = change_sets.create(stack, kind)
        if made is None:
            return change_sets.outputs(stack.name)
        change_set, changes = made
        change_sets.cross_check(stack.name, changes, offline)
        refusal = self.refusals.change_set(stack.name, changes, deployed)
        if refusal is not None:
            change_sets.delete(stack.name, change_set)
            raise Refused(refusal)
        removed = removed_stateful(changes)
        # G001 allowed: a removal the stack policy forbids is let through for this execution only.
        during, own = self.protection.during_removal(stack.name, removed) or (None, None)
        final = change_sets.execute(stack.name, change_set, during, own)
        if final not in SUCCESS:
            raise AwsFailure(f"{stack.name}: ended {final}")
        for logical_id in removed:
            self.out(f"{stack.name}: {logical_id} left the stack and stays in the account (DeletionPolicy Retain)")
        self.protection.protect(stack)
        return change_sets.outputs(stack.name)

    # -- a global table; a table's takeover and release --------------------------------

    def deploy_global(
        self, data: StackFiles, keys: list[StackFiles], regional: Regional, importers: Sequence[StackFiles] = ()
    ) -> dict[str, str]:
        waits = StepRunner(self, self.out, self.sleep).wait_for_table
        steps = GlobalSteps(self.spec, self.change_sets, self.deploy, self.out, self.allowed, waits)
        return steps.deploy(data, keys, regional, importers)

    def import_table(self, stack: StackFiles, kms: Any) -> None:
        Takeover(self.spec, self.change_sets, self.dynamodb, self.out).import_table(stack, kms)

    def release_table(self, stack: StackFiles) -> None:
        Takeover(self.spec, self.change_sets, self.dynamodb, self.out).release_table(stack)

    # -- destroy -----------------------------------------------------------------------

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
        if self.change_sets.stack_status(stack.name) is None:
            self.out(f"{stack.name}: not deployed")
            return
        final = self.change_sets.delete_stack(stack.name)
        if final != "DELETE_COMPLETE":
            raise AwsFailure(f"{stack.name}: ended {final}")
        self.verify_deleted(stack)
        self.out(f"{stack.name}: deleted (verified)")

    def verify_deleted(self, stack: StackFiles) -> None:
        """A stack status is not proof: the stack must be gone by name, and so must what it owned."""
        if self.change_sets.stack_status(stack.name) is not None:
            raise AwsFailure(f"{stack.name}: still listed after its delete completed")
        remaining = []
        if stack.kind == DATA and self.dynamodb is not None:
            table = self.spec.table_name
            if self.spec.env.retention == "Retain":
                self.out(f"  table {table} kept, as its DeletionPolicy Retain says")
            elif exists(lambda: self.dynamodb.describe_table(TableName=table), "ResourceNotFoundException"):
                remaining.append(f"table {table}")
        if stack.kind == ACCESS and self.iam is not None:
            for role in configured_roles(self.spec):
                name = role_name(self.spec, role)
                if self._role_exists(name):
                    remaining.append(f"role {name}")
        if remaining:
            raise AwsFailure(f"{stack.name}: deleted, but {', '.join(remaining)} still exist(s); delete by hand")

    def _role_exists(self, name: str) -> bool:
        return exists(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity")


RegionalDeployer = Callable[[str], Deployer]


def check_caller(spec: Spec, sts: Any, configured_region: str | None) -> None:
    account = sts.get_caller_identity()["Account"]
    if account != spec.env.account_id:
        multi = spec.multi_account
        if multi is not None and multi.own != multi.source:  # deploy --account: a replica's own account
            where = f"replicas[{multi.own.region}].account", f"the replica in {multi.own.region} is in"
        else:
            where = "account_id", "the environment is"
        raise BadInput(
            f"{spec.env_file}: {where[0]}: credentials are for account {account}, {where[1]} "
            f"{spec.env.account_id}; use that account's profile"
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
        readers: dict[str, ChangeSets] = {}
        plans = []
        for stack in stacks:
            region = stack_region(spec, stack)  # a replica key stack lives in its own Region
            if region not in readers:
                readers[region] = ChangeSets(aws.client("cloudformation", region_name=region), print, time.sleep)
            reader = readers[region]
            deployed = reader.deployed_template(stack.name) if reader.describe(stack.name) else EMPTY_TEMPLATE
            plan = plan_stack(f"{stack.name} (deployed -> build)", deployed, stack.template_dict)
            plan.kind = stack.kind
            plans.append(plan)
        attach_steps(plans, spec)  # from what is deployed: the steps deploy will run
        return plans


def _table_deployer(spec: Spec, aws: Any) -> tuple[Deployer, str]:
    """A Deployer in the environment's Region with DynamoDB for checking the table, after the caller check."""
    region = spec.env.region
    check_caller(spec, aws.client("sts", region_name=region), aws.region_name)
    cf, dynamodb = aws.client("cloudformation", region_name=region), aws.client("dynamodb", region_name=region)
    return Deployer(spec, cf, dynamodb=dynamodb), region


def import_environment(spec: Spec, stacks: list[StackFiles]) -> None:
    """deploy --import: the data stack takes over the adopted table (IMPORT change set)."""
    (data,) = [s for s in stacks if s.kind == DATA]
    local = local_endpoint()
    if local is not None and global_table(data.template_dict) is not None:  # said up front, not as a rollback
        raise BadInput(
            f"deploy --import: the local endpoint ({local}) has no AWS::DynamoDB::GlobalTable (moto 5.2.5): a "
            "global table's import runs against AWS only; tests/test_adopt.py checks its change set with "
            "botocore's Stubber"
        )
    with aws_errors(f"import {spec.env_name}"):
        aws = session()
        deployer, region = _table_deployer(spec, aws)
        deployer.import_table(data, aws.client("kms", region_name=region))


def release_environment(spec: Spec, stacks: list[StackFiles]) -> None:
    """deploy --release-table: the data stack lets its table go (kept, Retain); exports keep their values."""
    (data,) = [s for s in stacks if s.kind == DATA]
    with aws_errors(f"release the table of {spec.env_name}"):
        deployer, _ = _table_deployer(spec, session())
        deployer.release_table(data)


def deploy_environment(spec: Spec, stacks: list[StackFiles], allowed: frozenset[str], destroy: bool = False) -> None:
    """Deploy (or destroy) the environment's built stacks with the caller's credentials."""
    if destroy and spec.env.protected:  # no AWS call needed to refuse
        raise Refused(
            f"{spec.env_name} is protected: destroy refused (its table is Retain, deletion-protected "
            "and the data stack has termination protection)"
        )
    local = local_endpoint()
    if local is not None and spec.env.global_table and not destroy:  # said up front, not as a rollback
        raise BadInput(
            f"{spec.env_file}: global_table: the local endpoint ({local}) has no AWS::DynamoDB::GlobalTable "
            "(moto 5.2.5): a global table deploys to AWS only; rehearse its design locally with a single-Region "
            "environment (docs/global-tables.md)"
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
            kms=aws.client("kms", region_name=region),
        )
        regional = regional_deployers(spec, lambda r: aws.client("cloudformation", region_name=r), allowed)
        if not destroy:
            waiting = migration_pending(spec, cf, aws.client("ssm", region_name=region))
            if waiting is not None:
                raise Refused(waiting)
        if destroy:
            deployer.destroy(stacks, regional)
        else:
            # A multi-account global table's source: its replication names the live replicas only (accounts.py).
            stacks = source_for_this_deploy(spec, stacks, deployer.dynamodb, deployer.out)
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
    """Every built stack in order: a table's in the planner's steps (StepRunner: one index per update,
    verified after each); a global table's data stack in replica steps around its key stacks."""
    data = next((s for s in stacks if s.kind == DATA), None)
    keys = [s for s in stacks if replica_key_region(s.kind) is not None]
    if data is None or global_table(data.template_dict) is None:
        if keys:
            raise BadInput(f"{deployer.spec.env_name}: replica key stacks built without a global table; run make synth")
        access = next((s for s in stacks if s.kind == ACCESS), None)
        if data is not None:
            StepRunner(deployer, deployer.out, deployer.sleep).run(data, access)
        for stack in stacks:
            if stack is not data and stack is not access:
                deployer.deploy(stack)
        return
    deployer.deploy_global(data, keys, regional, [s for s in stacks if s is not data and s not in keys])
