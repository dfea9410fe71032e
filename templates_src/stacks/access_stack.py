"""The access stack: least-privilege roles that import the data stack's exports.

Roles change more often than the table, so they live in their own stack;
deleting or rebuilding it can never touch the data.
"""

from __future__ import annotations

import json
from typing import Any

from awacs.aws import (
    Action,
    Allow,
    ArnEqualsIfExists,
    ArnLike,
    Condition,
    ConditionElement,
    ForAllValuesStringEquals,
    ForAnyValueStringEquals,
    ForAnyValueStringLike,
    Null,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
    StringEqualsIfExists,
)
from troposphere import Export, GetAtt, ImportValue, Output, Parameter, Ref, Sub, Tags, Template, iam

from ..diagnostics import Diagnostic
from ..errors import SpecError
from ..spec.loader import Spec
from ..spec.roles import PER_USER
from ..spec.rules import access_limits
from .actions import iam_actions
from .artifacts import Stack
from .encode import plain
from .global_table import REPLICA_KEY_ARN
from .grants import ANY, KEY, Grant, configured_roles, grants_for, table_arn_suffix
from .names import (
    ACCESS,
    DATA,
    KEY_ARN_EXPORT,
    KEY_ID_EXPORT,
    TABLE_ARN_EXPORT,
    export_name,
    role_logical_id,
    role_name,
    stack_name,
)
from .suppressions import role_suppressions

PERMISSIONS_BOUNDARY_PARAMETER = "PermissionsBoundaryArn"
# Another Region's replica of the table (same name in every Region).
REPLICA_TABLE_ARN = "arn:${AWS::Partition}:dynamodb:%s:${AWS::AccountId}:table/%s"
_CONDITION_OPERATORS: dict[str, Any] = {
    "StringEquals": StringEquals,
    "StringEqualsIfExists": StringEqualsIfExists,
    "ArnEqualsIfExists": ArnEqualsIfExists,
    "Null": Null,
    "ForAllValues:StringEquals": ForAllValuesStringEquals,
    "ForAnyValue:StringEquals": ForAnyValueStringEquals,
    "ForAnyValue:StringLike": ForAnyValueStringLike,
}


def _imported(spec: Spec, output: str) -> ImportValue:
    return ImportValue(export_name(spec, output))


def resource_values(spec: Spec, resource: str) -> list[Any]:
    """Symbolic grant resource -> CloudFormation values: one per replica Region for the table's
    resources and its key (applications use their nearest replica), imported for the stack's own."""
    suffix = table_arn_suffix(resource)
    others = [r.region for r in spec.env.replicas]
    if suffix is not None:
        home = (
            _imported(spec, TABLE_ARN_EXPORT)
            if suffix == ""
            else Sub("${TableArn}" + suffix, TableArn=_imported(spec, TABLE_ARN_EXPORT))
        )
        return [home, *(Sub(REPLICA_TABLE_ARN % (r, spec.table_name) + suffix) for r in others)]
    if resource == KEY:
        if not spec.env.global_table:
            return [_imported(spec, KEY_ARN_EXPORT)]
        # A global table's key in every Region by its shared key id, the stack's own too: the access
        # stack never imports KeyArn, so a table moving to a global table can change that export
        # (TableKey's ARN -> GlobalTableKey's) once this stack is deployed (deploy does it in order).
        key_id = _imported(spec, KEY_ID_EXPORT)
        regions = ["${AWS::Region}", *others]
        return [Sub(REPLICA_KEY_ARN % (r, "KeyId"), KeyId=key_id) for r in regions]
    if resource.startswith("s3:"):
        return [Sub("arn:${AWS::Partition}:s3:::" + resource.split(":", 1)[1])]
    if resource == ANY:
        return ["*"]
    if resource.startswith("arn:"):  # a resource the environment names by ARN (an export key)
        return [resource]
    raise ValueError(f"unknown grant resource {resource!r}")


def statement(spec: Spec, grant: Grant) -> Statement:
    props: dict[str, Any] = dict(
        Sid=grant.sid,
        Effect=Allow,
        Action=iam_actions(grant.actions),
        Resource=[value for r in grant.resources for value in resource_values(spec, r)],
    )
    if grant.condition:
        # One block per operator, all its keys in one dict (awacs keeps only
        # the last block of a repeated operator).
        props["Condition"] = Condition(
            [_CONDITION_OPERATORS[op](values) for op, values in sorted(grant.condition.items())]
        )
    return Statement(**props)


def trust_policy(spec: Spec, role: str) -> PolicyDocument:
    assert spec.env.access is not None
    config = getattr(spec.env.access.roles, role)
    if role == PER_USER:
        return PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Effect=Allow,
                    Principal=Principal("Federated", "cognito-identity.amazonaws.com"),
                    Action=[Action("sts", "AssumeRoleWithWebIdentity")],
                    Condition=Condition(
                        [
                            StringEquals({"cognito-identity.amazonaws.com:aud": config.identity_pool_id}),
                            ForAnyValueStringLike({"cognito-identity.amazonaws.com:amr": "authenticated"}),
                        ]
                    ),
                )
            ],
        )
    services = sorted(p for p in config.trusted if p.endswith(".amazonaws.com"))
    accounts = [
        Sub(f"arn:${{AWS::Partition}}:iam::{p}:root") if p.isdigit() else p
        for p in sorted(p for p in config.trusted if not p.endswith(".amazonaws.com"))
    ]
    statements = []
    if services:
        # Confused deputy: the service may assume the role only for this
        # account (and, when named, these functions or clusters).
        condition: list[ConditionElement] = [StringEquals({"aws:SourceAccount": spec.env.account_id})]
        if config.source_arns:
            condition.append(ArnLike({"aws:SourceArn": sorted(config.source_arns)}))
        statements.append(
            Statement(
                Effect=Allow,
                Principal=Principal("Service", services),
                Action=[Action("sts", "AssumeRole")],
                Condition=Condition(condition),
            )
        )
    if accounts:
        statements.append(
            Statement(Effect=Allow, Principal=Principal("AWS", accounts), Action=[Action("sts", "AssumeRole")])
        )
    return PolicyDocument(Version="2012-10-17", Statement=statements)


def permission_policy(spec: Spec, role: str) -> PolicyDocument:
    return PolicyDocument(Version="2012-10-17", Statement=[statement(spec, g) for g in grants_for(spec, role)])


def build_access_stack(spec: Spec) -> Stack | None:
    access = spec.env.access
    if access is None:
        return None
    template = Template(
        Description=(
            f"Least-privilege roles for table {spec.table_name} (design {spec.design.name}, "
            f"environment {spec.env_name}); imports exports of {stack_name(spec, DATA)}. "
            "Generated by templates_src; edit the YAML, not this file."
        )
    )
    parameters: dict[str, str] = {}
    boundary = None
    if access.permissions_boundary_arn is not None:
        boundary = template.add_parameter(
            Parameter(
                PERMISSIONS_BOUNDARY_PARAMETER,
                Type="String",
                Description="Managed policy every role of this stack is bounded by",
                AllowedPattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$",
            )
        )
        parameters[boundary.title] = access.permissions_boundary_arn
    problems: list[Diagnostic] = []
    for role in configured_roles(spec):
        # Rendered once: sized here (IAM counts it without whitespace) and written as it is.
        policy = plain(permission_policy(spec, role))
        size = len(json.dumps(policy, separators=(",", ":")))
        found = access_limits.check_role(spec.source, role, role_name(spec, role), size)
        if found:
            problems.extend(found)
            continue
        props: dict[str, Any] = dict(
            RoleName=role_name(spec, role),
            Path=access.role_path,
            Description=f"{role} access to {spec.table_name}, derived from design {spec.design.name}",
            AssumeRolePolicyDocument=trust_policy(spec, role),
            Policies=[iam.Policy(PolicyName="table-access", PolicyDocument=policy)],
            Tags=Tags(**spec.tags),
        )
        if boundary is not None:
            props["PermissionsBoundary"] = Ref(boundary)
        resource = template.add_resource(
            iam.Role(role_logical_id(role), Metadata=role_suppressions(grants_for(spec, role)), **props)
        )
        template.add_output(
            Output(
                f"{resource.title}Arn",
                Description=f"ARN of the {role} role",
                Value=GetAtt(resource, "Arn"),
                Export=Export(Sub(f"${{AWS::StackName}}-{resource.title}Arn")),
            )
        )
    if problems:
        raise SpecError(problems)
    return Stack(
        kind=ACCESS,
        name=stack_name(spec, ACCESS),
        template=template,
        parameters=parameters,
        tags=spec.tags,
    )
