"""N4xx: an environment's settings against the design it deploys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from ..roles import PATTERN_ROLES, STREAM_CONSUMER, TRUSTED_ROLES
from . import RuleModule
from .environment_protection import DENY_CONSEQUENCES, turned_off_denies

if TYPE_CHECKING:
    from ..design import Design
    from ..environment import Environment
    from ..source import Source

TTL_NEEDS_ATTRIBUTE = Rule(
    "N401",
    "ttl_days needs the design's ttl_attribute",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html",
)
ROLE_HAS_PATTERNS = Rule(
    "N402",
    "An app, reader or per_user role exists only with access patterns for it",
    "error",
    "docs/security-model.md: Least-privilege roles",
)
STREAM_CONSUMER_NEEDS_STREAM = Rule(
    "N403",
    "A stream_consumer role needs a stream (stream_view_type)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html",
)

WHOLE_ACCOUNT_TRUST_EXPLICIT = Rule(
    "N404",
    "A role trusts a whole account only with trust_whole_account: true",
    "error",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts",
)
SOURCE_ARNS_FOR_SERVICES = Rule(
    "N405",
    "source_arns goes with a service principal",
    "error",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
)

INSIGHTS_MODE_NEEDS_INSIGHTS = Rule(
    "N406",
    "contributor_insights_mode goes with contributor_insights: true",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-table-contributorinsightsspecification.html",
)

POLICY_DENY_TURNED_OFF = Rule(
    "N407",
    "An unprotected environment turns off a deny of its table or stream resource policy (an explicit opt-out)",
    "warning",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html",
)

RULES = (
    TTL_NEEDS_ATTRIBUTE,
    ROLE_HAS_PATTERNS,
    STREAM_CONSUMER_NEEDS_STREAM,
    WHOLE_ACCOUNT_TRUST_EXPLICIT,
    SOURCE_ARNS_FOR_SERVICES,
    INSIGHTS_MODE_NEEDS_INSIGHTS,
    POLICY_DENY_TURNED_OFF,
)


def check(env: Environment, design: Design, src: Source) -> list[Diagnostic]:
    # A protected environment may not turn one off at all (N206).
    found = [
        src.report(
            POLICY_DENY_TURNED_OFF,
            (policy, deny),
            f"turned off: {DENY_CONSEQUENCES[deny]} (on by default; remove the line to keep the deny)",
        )
        for policy, deny in ([] if env.protected else turned_off_denies(env))
    ]
    if env.contributor_insights_mode is not None and not env.contributor_insights:
        found.append(
            src.report(
                INSIGHTS_MODE_NEEDS_INSIGHTS,
                ("contributor_insights_mode",),
                "a mode for contributor insights that are off; set contributor_insights: true",
            )
        )
    if env.ttl_days is not None and design.ttl_attribute is None:
        found.append(
            src.report(
                TTL_NEEDS_ATTRIBUTE,
                ("ttl_days",),
                f"design {design.name!r} declares no ttl_attribute to expire items by",
            )
        )
    if env.access is None:
        return found
    roles = env.access.roles
    for pattern_role in PATTERN_ROLES:
        if getattr(roles, pattern_role) is not None and not design.patterns_for(pattern_role):
            found.append(
                src.report(
                    ROLE_HAS_PATTERNS,
                    ("access", "roles", pattern_role),
                    f"design {design.name!r} has no access pattern for role {pattern_role!r}; a role with nothing to do "
                    "must not exist",
                )
            )
    for role in TRUSTED_ROLES:
        config = getattr(roles, role)
        if config is None:
            continue
        accounts = [p for p in config.trusted if p.isdigit() or p.endswith(":root")]
        if accounts and not config.trust_whole_account:
            found.append(
                src.report(
                    WHOLE_ACCOUNT_TRUST_EXPLICIT,
                    ("access", "roles", role, "trusted"),
                    f"{', '.join(accounts)}: trusts every principal of the account; name the role (arn:...:role/...) "
                    "or set trust_whole_account: true",
                )
            )
        if config.source_arns and not any(p.endswith(".amazonaws.com") for p in config.trusted):
            found.append(
                src.report(
                    SOURCE_ARNS_FOR_SERVICES,
                    ("access", "roles", role, "source_arns"),
                    "source_arns narrows a service principal; this role trusts none",
                )
            )
    if roles.stream_consumer is not None and env.stream_view_type is None:
        found.append(
            src.report(
                STREAM_CONSUMER_NEEDS_STREAM,
                ("access", "roles", STREAM_CONSUMER),
                "needs a stream: set stream_view_type",
            )
        )
    return found


RULE_MODULE = RuleModule(RULES, environment_design=check)
