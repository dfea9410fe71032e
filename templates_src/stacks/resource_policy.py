"""The table's resource-based policy: deny what no IAM policy of this account should be able to allow.

A Deny in the table's own policy holds whatever an identity policy grants,
in this account or another (DynamoDB resource-based policies,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html):

- requests without TLS (aws:SecureTransport false);
- principals of other accounts (aws:PrincipalAccount), AWS services acting
  as themselves excepted (aws:PrincipalIsAWSService: AWS Backup, streams).
"""

from __future__ import annotations

from awacs.aws import Action, Bool, BoolIfExists, Condition, Deny, PolicyDocument, Principal, Statement, StringNotEquals
from troposphere import Sub, dynamodb, encode_to_dict

from ..spec.loader import Spec

TABLE_ARN = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"


def table_resources(spec: Spec) -> list[Sub]:
    """The table and its indexes (a table's policy cannot name its own GetAtt)."""
    return [Sub(f"{TABLE_ARN}{spec.table_name}"), Sub(f"{TABLE_ARN}{spec.table_name}/index/*")]


def resource_policy(spec: Spec) -> dynamodb.ResourcePolicy | None:
    settings = spec.env.resource_policy
    if settings is None:
        return None
    # Sid -> the condition under which everyone is denied everything on the table.
    denies: dict[str, Condition] = {}
    if settings.deny_insecure_transport:
        denies["DenyInsecureTransport"] = Condition(Bool({"aws:SecureTransport": "false"}))
    if settings.deny_other_accounts:
        denies["DenyOtherAccounts"] = Condition(
            [
                StringNotEquals({"aws:PrincipalAccount": spec.env.account_id}),
                BoolIfExists({"aws:PrincipalIsAWSService": "false"}),
            ]
        )
    statements = [
        Statement(
            Sid=sid,
            Effect=Deny,
            Principal=Principal("AWS", "*"),
            Action=[Action("dynamodb", "*")],
            Resource=table_resources(spec),
            Condition=condition,
        )
        for sid, condition in denies.items()
    ]
    document = encode_to_dict(PolicyDocument(Version="2012-10-17", Statement=statements))
    return dynamodb.ResourcePolicy(PolicyDocument=document)
