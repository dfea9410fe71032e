"""The table's resource-based policy: deny what no IAM policy of this account should be able to allow.

A Deny in the table's own policy holds whatever an identity policy grants,
in this account or another (DynamoDB resource-based policies,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html):

- requests without TLS (aws:SecureTransport false);
- principals of other accounts (aws:PrincipalAccount), AWS services acting
  as themselves excepted (aws:PrincipalIsAWSService: AWS Backup, streams).

Every environment's table (each replica of a global table) and stream get
both denies unless the environment turns one off, which only an unprotected
environment may do (N206, N407); with both off there is no policy.

A multi-account global table's tables also allow DynamoDB's replication
among the declared replicas, and the source the replicas' accounts' join
(stacks/replication.py); the source's DenyOtherAccounts then leaves out the
join (NotAction), which a deny of its own keeps to the declared accounts.
"""

from __future__ import annotations

from typing import NamedTuple

from awacs.aws import Action, Bool, BoolIfExists, Condition, Deny, PolicyDocument, Principal, Statement, StringNotEquals
from troposphere import Sub, dynamodb

from ..spec.environment import ResourcePolicySettings, StreamResourcePolicySettings
from ..spec.loader import Spec
from .actions import iam_action, iam_actions
from .encode import plain
from .grants import STREAM_READ_ACTIONS
from .replication import JOIN_ACTION, joining_accounts, replication_statements

TABLE_ARN = "arn:${AWS::Partition}:dynamodb:%s:${AWS::AccountId}:table/"


def table_arn(spec: Spec, region: str | None = None) -> str:
    """The table's ARN (a Sub template) in region (default: the stack's); a policy cannot GetAtt its own table."""
    return TABLE_ARN % (region or "${AWS::Region}") + spec.table_name


def table_resources(spec: Spec, region: str | None = None) -> list[Sub]:
    """The table and its indexes."""
    arn = table_arn(spec, region)
    return [Sub(arn), Sub(f"{arn}/index/*")]


class _Deny(NamedTuple):
    condition: Condition
    # The actions it is about: absent, the policy's; not_action: all of them but these (NotAction).
    actions: list[Action] | None = None
    not_actions: list[Action] | None = None


def _other_accounts(accounts: str | list[str]) -> Condition:
    return Condition(
        [
            StringNotEquals({"aws:PrincipalAccount": accounts}),
            BoolIfExists({"aws:PrincipalIsAWSService": "false"}),
        ]
    )


def _denies(spec: Spec, settings: ResourcePolicySettings | StreamResourcePolicySettings) -> dict[str, _Deny]:
    """Sid -> the condition under which everyone is denied."""
    denies: dict[str, _Deny] = {}
    if settings.deny_insecure_transport:
        denies["DenyInsecureTransport"] = _Deny(Condition(Bool({"aws:SecureTransport": "false"})))
    if settings.deny_other_accounts:
        denies["DenyOtherAccounts"] = _Deny(_other_accounts(spec.env.account_id))
    return denies


def _policy(
    denies: dict[str, _Deny], actions: list[Action], resources: list[Sub], allows: list[Statement] | None = None
) -> dynamodb.ResourcePolicy | None:
    allows = allows or []
    if not denies and not allows:  # every deny turned off (an unprotected environment's choice): no policy at all
        return None
    statements = [
        Statement(
            Sid=sid,
            Effect=Deny,
            Principal=Principal("AWS", "*"),
            **(
                {"NotAction": deny.not_actions} if deny.not_actions is not None else {"Action": deny.actions or actions}
            ),
            Resource=resources,
            Condition=deny.condition,
        )
        for sid, deny in denies.items()
    ]
    document = plain(PolicyDocument(Version="2012-10-17", Statement=[*allows, *statements]))
    return dynamodb.ResourcePolicy(PolicyDocument=document)


def _table_denies(spec: Spec) -> dict[str, _Deny]:
    """The table's denies. A multi-account source lets the declared replicas' accounts call
    AssociateTableReplica (the join) and nothing else; any other account not even that."""
    denies = _denies(spec, spec.env.resource_policy)
    joining = joining_accounts(spec)
    if joining and "DenyOtherAccounts" in denies:
        join = [iam_action(JOIN_ACTION)]
        denies["DenyOtherAccounts"] = _Deny(_other_accounts(spec.env.account_id), not_actions=join)
        denies["DenyOtherAccountsJoining"] = _Deny(_other_accounts([spec.env.account_id, *joining]), actions=join)
    return denies


def resource_policy(spec: Spec, region: str | None = None) -> dynamodb.ResourcePolicy | None:
    """The table's policy (a replica's: region names it); a multi-account table's allows replication."""
    resources = table_resources(spec, region)
    allows = replication_statements(spec, resources[:1])
    return _policy(_table_denies(spec), [Action("dynamodb", "*")], resources, allows)


def stream_resource_policy(spec: Spec, region: str | None = None) -> dynamodb.ResourcePolicy | None:
    """The stream's policy: the same denies, on the table's streams (the label is unknown before creation)."""
    if spec.env.stream_view_type is None:
        return None
    actions = iam_actions(STREAM_READ_ACTIONS)  # a stream policy takes stream actions only
    return _policy(
        _denies(spec, spec.env.stream_resource_policy), actions, [Sub(f"{table_arn(spec, region)}/stream/*")]
    )
