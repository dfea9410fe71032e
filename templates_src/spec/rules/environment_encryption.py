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

KEY_IN_THE_TABLES_REGION = Rule("N701", "An existing key is in the environment's Region", "error", _SAME_REGION)
GLOBAL_TABLE_KEYS_ARE_CREATED = Rule(
    "N702", "A global table's keys are created by the project (one per replica Region), not named", "error", _GLOBAL
)

RULES = (KEY_IN_THE_TABLES_REGION, GLOBAL_TABLE_KEYS_ARE_CREATED)


def check(env: Environment, src: Source) -> list[Diagnostic]:
    arn = env.existing_key_arn
    if arn is None:
        return []
    path = ("encryption", "kms_key_arn")
    found = []
    region = arn.split(":")[3]
    if region != env.region:
        found.append(
            src.report(
                KEY_IN_THE_TABLES_REGION,
                path,
                f"the key is in {region}, the table in {env.region}: DynamoDB uses a key of the table's own Region",
            )
        )
    if env.global_table:
        found.append(
            src.report(
                GLOBAL_TABLE_KEYS_ARE_CREATED,
                path,
                "a global table needs a key in each replica Region: use encryption: customer_managed "
                "(the project creates a multi-Region key and its replicas) or aws_managed",
            )
        )
    return found


RULE_MODULE = RuleModule(RULES, environment=check)
