"""N7xx: an existing key (encryption: {kms_key_arn: ...}), checked as DynamoDB would check it at deploy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from . import RuleModule

if TYPE_CHECKING:
    from ..environment import Environment
    from ..source import Source

# "The KMS key must be in the same AWS Region as the table" (encryption.usagenotes, customer managed keys).
_SAME_REGION = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html"
# A global table's replicas each need a key in their own Region (replica keys: stacks/replica_key_stack.py).
_GLOBAL = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html"

KEY_IN_THE_TABLES_REGION = Rule(
    "N701", "An existing key is in the Region of the table (or replica) it encrypts", "error", _SAME_REGION
)
# "The key must be created in the same region as the replica" (CloudFormation: AWS::DynamoDB::GlobalTable
# ReplicaSSESpecification): a global table under the team's own keys names one per replica.
_REPLICA_KEY = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
    "aws-properties-dynamodb-globaltable-replicassespecification.html"
)
GLOBAL_TABLE_NAMES_EACH_REPLICAS_KEY = Rule(
    "N702", "A global table under an existing key names an existing key for each replica", "error", _REPLICA_KEY
)
REPLICA_KEY_ONLY_WITH_AN_EXISTING_KEY = Rule(
    "N703",
    "A replica names its own key only when the environment names an existing key (encryption: {kms_key_arn})",
    "error",
    _GLOBAL,
)

RULES = (KEY_IN_THE_TABLES_REGION, GLOBAL_TABLE_NAMES_EACH_REPLICAS_KEY, REPLICA_KEY_ONLY_WITH_AN_EXISTING_KEY)


def check(env: Environment, src: Source) -> list[Diagnostic]:
    arn = env.existing_key_arn
    found = []
    if arn is None:
        for i, replica in enumerate(env.replicas):
            if replica.kms_key_arn is not None:
                found.append(
                    src.report(
                        REPLICA_KEY_ONLY_WITH_AN_EXISTING_KEY,
                        ("replicas", i, "kms_key_arn"),
                        f"encryption is {env.encryption}: the replica's key follows it (customer_managed: the "
                        "project's replica key in that Region); name keys per replica only with encryption: "
                        "{kms_key_arn: ...}",
                    )
                )
        return found
    region = arn.split(":")[3]
    if region != env.region:
        found.append(
            src.report(
                KEY_IN_THE_TABLES_REGION,
                ("encryption", "kms_key_arn"),
                f"the key is in {region}, the table in {env.region}: DynamoDB uses a key of the table's own Region",
            )
        )
    if not env.global_table:
        return found
    for i, replica in enumerate(env.replicas):
        if replica.kms_key_arn is None:
            found.append(
                src.report(
                    GLOBAL_TABLE_NAMES_EACH_REPLICAS_KEY,
                    ("replicas", i, "kms_key_arn"),
                    f"the table is under an existing key, so the replica in {replica.region} needs one of its own "
                    f"Region: name it (kms_key_arn: arn:aws:kms:{replica.region}:...), or use encryption: "
                    "customer_managed (the project creates a multi-Region key and its replicas) or aws_managed",
                )
            )
            continue
        key_region = replica.kms_key_arn.split(":")[3]
        if key_region != replica.region:
            found.append(
                src.report(
                    KEY_IN_THE_TABLES_REGION,
                    ("replicas", i, "kms_key_arn"),
                    f"the key is in {key_region}, the replica in {replica.region}: DynamoDB uses a key of the "
                    "replica's own Region",
                )
            )
    return found


RULE_MODULE = RuleModule(RULES, environment=check)
