"""The Deployer (change-set core, global-table steps, takeover joined) and the environment-level
entry points: check the caller's account and Region, make the boto3 clients, run the stacks in
order. Apart as the one place that joins the three and reaches AWS for them; failures raise the
error root (errors.py): AwsFailure, Refused, BadInput.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..change.plan import EMPTY_TEMPLATE, StackPlan, plan_stack
from ..errors import BadInput, Refused
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.names import DATA, replica_key_region
from .aws import aws_errors, session
from .change_sets import (
    key_stack_with_primary,
    protected_resources,
    protection_policy,
    stack_region,
)
from .global_steps import GlobalStepsDeployer
from .replicas import global_table
from .takeover import TakeoverDeployer

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


class Deployer(TakeoverDeployer, GlobalStepsDeployer):
    """Every step of a deploy: one stack (change_sets), a global table's (global_steps), a takeover (takeover)."""


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


def _table_deployer(spec: Spec, aws: Any) -> tuple[Deployer, str]:
    """A Deployer in the environment's Region with DynamoDB for checking the table, after the caller check."""
    region = spec.env.region
    check_caller(spec, aws.client("sts", region_name=region), aws.region_name)
    cf, dynamodb = aws.client("cloudformation", region_name=region), aws.client("dynamodb", region_name=region)
    return Deployer(spec, cf, dynamodb=dynamodb), region


def import_environment(spec: Spec, stacks: list[StackFiles]) -> None:
    """deploy --import: the data stack takes over the adopted table (IMPORT change set)."""
    (data,) = [s for s in stacks if s.kind == DATA]
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
