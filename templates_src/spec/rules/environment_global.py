"""N6xx: global tables (replicas, consistency, witness) and the newer table properties.

Checked as DynamoDB and CloudFormation check them, every problem at once, so
a replica set AWS would refuse is an error at synth, not an hour into a deploy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, PathPart, Rule
from .. import limits
from ..operations import TRANSACT_OPERATIONS
from ..partitions import partition_of
from . import RuleModule

if TYPE_CHECKING:
    from ..design import Design
    from ..environment import Environment
    from ..source import Source

_GLOBAL = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-globaltable.html"
)
_WITNESS = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-globaltable-globaltablewitness.html"
_MODES = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html"

GLOBAL_SETTINGS_NEED_GLOBAL_TABLE = Rule(
    "N601", "replicas, multi_region_consistency and witness_region go with global_table: true", "error", _GLOBAL
)
ONE_REPLICA_PER_REGION = Rule(
    "N602", "One replica per Region; the environment's own Region is always the first", "error", _GLOBAL
)
STRONG_IN_ONE_REGION_SET = Rule(
    "N603", "STRONG consistency keeps every Region in one of AWS's MRSC Region sets", "error", _WITNESS
)
STRONG_THREE_REGIONS = Rule(
    "N604", "STRONG consistency has three replicas, or two replicas and a witness_region", "error", _MODES
)
WITNESS_ONLY_STRONG = Rule(
    "N605", "A witness_region is for STRONG consistency, in a Region that holds no replica", "error", _WITNESS
)
REPLICA_READ_ONLY_PROVISIONED = Rule(
    "N606",
    "A replica's read capacity is for PROVISIONED billing (write capacity is the global billing.write)",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-globaltable-replicaspecification.html",
)
PROTECTED_REPLICAS_KEEP_DATA = Rule(
    "N607",
    "In a protected environment every replica keeps deletion protection and PITR",
    "error",
    "docs/environments.md: Environment config reference (protected)",
)
REPLICAS_NEED_STREAM = Rule(
    "N608",
    "A global table with more than one replica sets stream_view_type (replication reads the stream)",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-globaltable.html#cfn-dynamodb-globaltable-streamspecification",
)
WARM_THROUGHPUT_NAMES_UNITS = Rule(
    "N609",
    "warm_throughput sets read_units_per_second or write_units_per_second",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-table-warmthroughput.html",
)
KINESIS_STREAM_LOCAL = Rule(
    "N610",
    "kinesis_stream is a stream in the table's own account and Region",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html",
)
STREAM_POLICY_NEEDS_STREAM = Rule(
    "N611",
    "stream_resource_policy needs a stream (stream_view_type)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-attach-resource-based-policy.html",
)
WARM_BELOW_ON_DEMAND_DEFAULT = Rule(
    "N612",
    f"On-demand warm throughput is above what a new table already has "
    f"({limits.ON_DEMAND_DEFAULT_WARM_READ_UNITS} reads, {limits.ON_DEMAND_DEFAULT_WARM_WRITE_UNITS} writes/s)",
    "warning",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput.html",
)

STRONG_FEATURES = Rule(
    "N613",
    "STRONG consistency is used without transactions, LSIs or TTL (MRSC supports none of them)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/multi-region-strong-consistency-gt.html",
)
KNOWN_REGION = Rule(
    "N614",
    "Every Region named (region, replicas, witness_region, test_regions) is one AWS has; every Region and ARN is in "
    "the environment's partition",
    "error",
    "botocore's partitions.json (the Regions of every AWS partition)",
)
GLOBAL_TEST_IN_ITS_REGION = Rule(
    "N615",
    "A global table's taskcat test runs in its own Region only (no test_regions)",
    "error",
    "docs/testing.md: Multi-region test deployments: taskcat",
)

RULES = (
    GLOBAL_SETTINGS_NEED_GLOBAL_TABLE,
    ONE_REPLICA_PER_REGION,
    STRONG_IN_ONE_REGION_SET,
    STRONG_THREE_REGIONS,
    WITNESS_ONLY_STRONG,
    REPLICA_READ_ONLY_PROVISIONED,
    PROTECTED_REPLICAS_KEEP_DATA,
    REPLICAS_NEED_STREAM,
    WARM_THROUGHPUT_NAMES_UNITS,
    KINESIS_STREAM_LOCAL,
    STREAM_POLICY_NEEDS_STREAM,
    WARM_BELOW_ON_DEMAND_DEFAULT,
    STRONG_FEATURES,
    KNOWN_REGION,
    GLOBAL_TEST_IN_ITS_REGION,
)


# Free text, where a value that starts with "arn:" names nothing we deploy (a tag's value may name a
# resource anywhere).
_NOT_ARNS = frozenset({"tags", "reason"})


def _arns(value: object, path: tuple[PathPart, ...]) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    """Every ARN in an environment's settings, with its path (its free text left out)."""
    if isinstance(value, str):
        if value.startswith("arn:"):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _NOT_ARNS:
                yield from _arns(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _arns(item, (*path, i))


def region_set(region: str) -> tuple[str, ...] | None:
    return next((s for s in limits.MRSC_REGION_SETS if region in s), None)


def _check_global(env: Environment, src: Source) -> list[Diagnostic]:
    found = []
    if not env.global_table:
        for field, value in (
            ("replicas", env.replicas),
            ("multi_region_consistency", env.multi_region_consistency),
            ("witness_region", env.witness_region),
        ):
            if value:
                found.append(
                    src.report(
                        GLOBAL_SETTINGS_NEED_GLOBAL_TABLE,
                        (field,),
                        "needs global_table: true; a live table becomes a global table by migration, not by "
                        "this edit (docs/global-tables.md: Moving a live table to a global table)",
                    )
                )
        return found
    seen: dict[str, tuple[PathPart, ...]] = {}  # each other Region listed: where first
    for i, replica in enumerate(env.replicas):
        path = ("replicas", i, "region")
        if replica.region == env.region:
            message = (
                f"{replica.region} is the environment's own region, always the first replica; "
                "remove this entry (its settings are the environment's)"
            )
        elif replica.region in seen:
            where = ".".join(str(p) for p in seen[replica.region])
            message = f"{replica.region} is already listed ({where}); remove one of them"
        else:
            seen[replica.region] = path
            continue
        found.append(src.report(ONE_REPLICA_PER_REGION, path, message))
    strong = env.multi_region_consistency == "STRONG"
    if env.witness_region is not None:
        if not strong:
            found.append(
                src.report(
                    WITNESS_ONLY_STRONG,
                    ("witness_region",),
                    "a witness is only for multi_region_consistency: STRONG (EVENTUAL replicates to replicas only)",
                )
            )
        elif env.witness_region == env.region or env.witness_region in seen:
            found.append(
                src.report(
                    WITNESS_ONLY_STRONG,
                    ("witness_region",),
                    f"{env.witness_region} holds a replica; the witness must be a third Region",
                )
            )
    if strong:
        found.extend(_check_strong(env, src))
    if env.replicas and env.stream_view_type is None and not strong:
        found.append(
            src.report(
                REPLICAS_NEED_STREAM,
                ("stream_view_type",),
                "a global table with a replica besides its own region needs a stream (CloudFormation's "
                "StreamSpecification); set stream_view_type (NEW_AND_OLD_IMAGES is what replication uses)",
            )
        )
    for i, replica in enumerate(env.replicas):
        if replica.read is not None and env.billing.mode != "PROVISIONED":
            found.append(
                src.report(
                    REPLICA_READ_ONLY_PROVISIONED,
                    ("replicas", i, "read"),
                    "read capacity per replica needs billing.mode PROVISIONED",
                )
            )
        elif replica.read is not None and replica.read.min > replica.read.max:
            found.append(
                src.report(
                    REPLICA_READ_ONLY_PROVISIONED,
                    ("replicas", i, "read", "min"),
                    f"min ({replica.read.min}) is greater than max ({replica.read.max})",
                )
            )
        if env.protected:
            pitr = replica.point_in_time_recovery
            checks: tuple[tuple[tuple[PathPart, ...], bool], ...] = (
                (("replicas", i, "deletion_protection"), replica.deletion_protection is False),
                (("replicas", i, "point_in_time_recovery", "enabled"), pitr is not None and not pitr.enabled),
            )
            for field_path, off in checks:
                if off:
                    found.append(
                        src.report(
                            PROTECTED_REPLICAS_KEEP_DATA,
                            field_path,
                            "a protected environment keeps it on in every replica (set protected: false to opt out)",
                        )
                    )
    return found


def _check_strong(env: Environment, src: Source) -> list[Diagnostic]:
    found = []
    home = region_set(env.region)
    sets = "; ".join(", ".join(s) for s in limits.MRSC_REGION_SETS)
    if home is None:
        found.append(
            src.report(
                STRONG_IN_ONE_REGION_SET,
                ("region",),
                f"{env.region} is in no multi-Region strong consistency Region set (sets: {sets})",
            )
        )
    else:
        for path, region in [
            *((("replicas", i, "region"), r.region) for i, r in enumerate(env.replicas)),
            *([(("witness_region",), env.witness_region)] if env.witness_region else []),
        ]:
            if region not in home:
                found.append(
                    src.report(
                        STRONG_IN_ONE_REGION_SET,
                        path,
                        f"{region} is outside {env.region}'s Region set ({', '.join(home)}); STRONG keeps every "
                        "Region in one set",
                    )
                )
    replicas = len(env.replica_regions)
    witness = env.witness_region is not None
    if not (
        (replicas == limits.MRSC_REGION_COUNT and not witness) or (replicas == limits.MRSC_REGION_COUNT - 1 and witness)
    ):
        taken = {*env.replica_regions, env.witness_region}
        spare = [r for r in (home or ()) if r not in taken]
        suggestion = f" (in this Region set: {', '.join(spare)})" if spare else ""
        found.append(
            src.report(
                STRONG_THREE_REGIONS,
                ("replicas",),
                f"{replicas} replica(s) counting the environment's region{' and a witness' if witness else ''}: "
                f"STRONG needs {limits.MRSC_REGION_COUNT} replicas, or {limits.MRSC_REGION_COUNT - 1} and a "
                f"witness_region{suggestion}",
            )
        )
    return found


def _check_properties(env: Environment, src: Source) -> list[Diagnostic]:
    found = []
    warm = env.warm_throughput
    if warm is not None:
        if warm.read_units_per_second is None and warm.write_units_per_second is None:
            found.append(
                src.report(
                    WARM_THROUGHPUT_NAMES_UNITS,
                    ("warm_throughput",),
                    "set read_units_per_second, write_units_per_second or both",
                )
            )
        elif env.billing.mode == "PAY_PER_REQUEST":
            for field, value, default in (
                ("read_units_per_second", warm.read_units_per_second, limits.ON_DEMAND_DEFAULT_WARM_READ_UNITS),
                ("write_units_per_second", warm.write_units_per_second, limits.ON_DEMAND_DEFAULT_WARM_WRITE_UNITS),
            ):
                if value is not None and value <= default:
                    found.append(
                        src.report(
                            WARM_BELOW_ON_DEMAND_DEFAULT,
                            ("warm_throughput", field),
                            f"{value} is not above the {default} a new on-demand table starts with: it pre-warms "
                            "nothing (warm throughput only ever rises)",
                        )
                    )
    kinesis = env.kinesis_stream
    if kinesis is not None:
        region, account = kinesis.stream_arn.split(":")[3:5]  # arn:partition:kinesis:region:account:stream/name
        if region != env.region or account != env.account_id:
            found.append(
                src.report(
                    KINESIS_STREAM_LOCAL,
                    ("kinesis_stream", "stream_arn"),
                    f"the stream is in {account}/{region}; DynamoDB sends changes only to a stream in the table's "
                    f"account and Region ({env.account_id}/{env.region})",
                )
            )
    # On by default; written out without a stream it would govern nothing.
    if "stream_resource_policy" in env.model_fields_set and env.stream_view_type is None:
        found.append(src.report(STREAM_POLICY_NEEDS_STREAM, ("stream_resource_policy",), "set stream_view_type first"))
    return found


def _check_regions(env: Environment, src: Source) -> list[Diagnostic]:
    named: list[tuple[tuple[PathPart, ...], str]] = [(("region",), env.region)]
    named += [(("replicas", i, "region"), r.region) for i, r in enumerate(env.replicas)]
    named += [(("witness_region",), env.witness_region)] if env.witness_region else []
    named += [(("test_regions", i), r) for i, r in enumerate(env.test_regions)]
    partitions = partition_of()
    home = partitions.get(env.region)
    found = []
    for path, region in named:
        if region not in partitions:
            found.append(
                src.report(KNOWN_REGION, path, f"{region!r} is not an AWS Region (botocore knows of none by that name)")
            )
        elif home is not None and partitions[region] != home:
            found.append(
                src.report(
                    KNOWN_REGION,
                    path,
                    f"{region} is in partition {partitions[region]}, the environment's region {env.region} in "
                    f"{home}: a table, its replicas and its tests stay within one partition",
                )
            )
    if home is not None:
        for path, arn in _arns(env.model_dump(), ()):
            partition = arn.split(":")[1]
            if partition != home:
                found.append(
                    src.report(
                        KNOWN_REGION,
                        path,
                        f"{arn} is in partition {partition}, the environment's region {env.region} in {home}: "
                        f"an ARN of another partition names nothing there (arn:{home}:...)",
                    )
                )
    if env.global_table and env.test_regions:
        found.append(
            src.report(
                GLOBAL_TEST_IN_ITS_REGION,
                ("test_regions",),
                "a global table's taskcat test is multi-Region by itself (one stack creates every replica); "
                "in another Region the stack's own Region would be missing from its replicas: remove test_regions",
            )
        )
    return found


def check(env: Environment, src: Source) -> list[Diagnostic]:
    return [*_check_regions(env, src), *_check_global(env, src), *_check_properties(env, src)]


def check_design(env: Environment, design: Design, src: Source) -> list[Diagnostic]:
    """What a STRONG (MRSC) table cannot do, against the design it holds."""
    if not env.global_table or env.multi_region_consistency != "STRONG":
        return []
    uses = []  # the design's
    transactional = sorted(p.name for p in design.access_patterns if p.operation in TRANSACT_OPERATIONS)
    if transactional:
        uses.append(f"transactions (access patterns {', '.join(transactional)})")
    if design.local_secondary_indexes:
        uses.append("local secondary indexes")
    found, remedies = [], []
    if uses:
        found.append(f"design {design.name!r} uses {' and '.join(uses)}")
        remedies.append("a design without them")
    if env.ttl_days is not None:  # the environment's
        found.append("ttl_days sets TTL")
        remedies.append("no ttl_days")
    if not found:
        return []
    return [
        src.report(
            STRONG_FEATURES,
            ("multi_region_consistency",),
            f"{' and '.join(found)}, which multi-Region strong consistency does not support; use EVENTUAL, or "
            f"{' and '.join(remedies)}",
        )
    ]


RULE_MODULE = RuleModule(RULES, environment=check, environment_design=check_design)
