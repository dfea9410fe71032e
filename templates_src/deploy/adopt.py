"""Bring an existing table under the project: read it, write the design and environment that render it.

Nothing is changed on AWS. The files describe the table exactly as it is,
so the first deploy after the import (deploy --import) changes nothing that
matters; improvements (a protected environment's requirements, access
patterns and roles) come later, in reviewed deploys.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import BadInput, SpecError
from ..spec.design import OBSERVED_MARKER
from ..spec.environment import STANDARD_TAG_KEYS
from ..spec.loader import MANAGED_BY, load_spec
from ..spec.rules.files import valid_environment_name
from .aws import endpoint_lacks, error_code
from .live import Facts
from .traffic_logs import Observed

# The design's name: spec/design.py Identifier.
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_\-]{0,62}$")
# Written for an enabled TTL: the expiry is the application's choice, not the table's.
ADOPTED_TTL_DAYS = 365


@dataclass(frozen=True)
class Adoption:
    design_name: str
    design: dict[str, Any]
    environment: dict[str, Any]
    report: list[str]  # what was not applied, and what to do next


def refuse_legacy_global_table(table: dict[str, Any], dynamodb: Any) -> None:
    """A version 2017.11.29 (Legacy) global table has no GlobalTableVersion in DescribeTable; the legacy
    DescribeGlobalTable names it (globaltables.DetermineVersion). CloudFormation's GlobalTable is 2019.11.21."""
    if table.get("GlobalTableVersion"):
        return
    try:
        dynamodb.describe_global_table(GlobalTableName=table["TableName"])
    except Exception as exc:  # GlobalTableNotFoundException: not a legacy global table
        if error_code(exc) == "GlobalTableNotFoundException" or endpoint_lacks(exc):
            return
        raise
    raise BadInput(
        f"table {table['TableName']}: a version 2017.11.29 (Legacy) global table; update it to version "
        "2019.11.21 (Current) first (the DynamoDB Developer Guide, V2globaltables_upgrade: Updating global "
        "tables), then adopt it"
    )


def design_name_for(table_name: str) -> str:
    """The table's name in lower case, its words split by '-': PoppAIChatConversations ->
    popp-ai-chat-conversations, cg_chatbot.conversations -> cg_chatbot-conversations."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", table_name)
    name = re.sub(r"[^a-z0-9_\-]+", "-", words.lower()).strip("-_")
    name = name if name[:1].isalpha() else f"t-{name}"
    return name[:63]


def _key(name: str, types: dict[str, str]) -> dict[str, str]:
    if name not in types:
        raise BadInput(f"DescribeTable lists no type for key attribute {name!r} (AttributeDefinitions); cannot adopt")
    return {"name": name, "type": types[name]}


def _index(index: dict[str, Any], types: dict[str, str], local: bool) -> dict[str, Any]:
    keys = dict((k[1], k[0]) for k in index["KeySchema"])
    out: dict[str, Any] = {"name": index["name"]}
    if local:
        out["sort_key"] = _key(keys["RANGE"], types)
    else:
        out["partition_key"] = _key(keys["HASH"], types)
        if "RANGE" in keys:
            out["sort_key"] = _key(keys["RANGE"], types)
    out["projection"] = index["ProjectionType"]
    if index["NonKeyAttributes"]:
        out["non_key_attributes"] = index["NonKeyAttributes"]
    return out


def check_targets(design_name: str, design_path: Path, env_path: Path, force: bool) -> None:
    """Before any AWS call: names valid, and no file replaced without --force."""
    if not _IDENTIFIER.match(design_name):
        raise BadInput(
            f"--design: {design_name!r}: lowercase letters, digits, '-' and '_', starting with a letter (max 63)"
        )
    if not valid_environment_name(env_path.stem):
        raise BadInput(f"--env: {env_path.stem!r}: lowercase letters, digits and hyphens, starting with a letter")
    existing = [str(p) for p in (design_path, env_path) if p.exists()]
    if existing and not force:
        raise BadInput(
            f"{' and '.join(existing)}: exist(s); adopting would overwrite: choose other names (--design, --env; "
            "make adopt DESIGN=… ENV=…) or give --force (make adopt FORCE=1) to replace them"
        )


def adoption(facts: Facts, region: str, account: str, design_name: str | None) -> Adoption:
    v = facts.values
    name = design_name or design_name_for(v["TableName"])
    if not _IDENTIFIER.match(name):
        raise BadInput(f"--design: {name!r}: lowercase letters, digits, '-' and '_', starting with a letter (max 63)")
    encryption: Any = v["Encryption"]
    if encryption == "customer_managed":  # the team's own key: named, never managed by the project
        if not v.get("KmsKeyArn"):
            raise BadInput(f"table {v['TableName']}: under a customer managed key DescribeTable does not name")
        encryption = {"kms_key_arn": v["KmsKeyArn"]}
    types = dict(v["AttributeDefinitions"])
    keys = dict((k[1], k[0]) for k in v["KeySchema"])
    design: dict[str, Any] = {
        "name": name,
        "description": f"Adopted from table {v['TableName']} ({region}); declare its access patterns.",
        "table_name": v["TableName"],
        "partition_key": _key(keys["HASH"], types),
    }
    if "RANGE" in keys:
        design["sort_key"] = _key(keys["RANGE"], types)
    if v["GlobalSecondaryIndexes"]:
        design["global_secondary_indexes"] = [
            _index({"name": n, **i}, types, local=False) for n, i in v["GlobalSecondaryIndexes"].items()
        ]
    if v["LocalSecondaryIndexes"]:
        design["local_secondary_indexes"] = [
            _index({"name": n, **i}, types, local=True) for n, i in v["LocalSecondaryIndexes"].items()
        ]
    if v["TimeToLiveAttribute"]:
        design["ttl_attribute"] = v["TimeToLiveAttribute"]
    design["access_patterns"] = []

    report = [
        "access patterns: a table cannot tell how it is read and written; the design has none, so no role is "
        f"generated until you declare them (templates_src/designs/{name}.yaml, docs/designs.md: Designs)",
    ]
    pitr_on, pitr_days = v["PointInTimeRecovery"]
    env: dict[str, Any] = {
        "design": name,
        "account_id": account,
        "region": region,
        "protected": False,
        "table_name": v["TableName"],
        "billing": {"mode": v["BillingMode"]},
        "encryption": encryption,
        "point_in_time_recovery": {"enabled": pitr_on, **({"recovery_period_days": pitr_days} if pitr_on else {})},
        "deletion_protection": v["DeletionProtectionEnabled"],
        # Never Delete: adoption must not be able to cost a row.
        "retention": "Retain",
    }
    if v.get("Replicas"):  # a global table (version 2019.11.21): its replicas, each with its own settings
        env["global_table"] = True
        env["multi_region_consistency"] = v["MultiRegionConsistency"]
        if v["Witnesses"]:
            (env["witness_region"],) = v["Witnesses"]
        env["replicas"] = [
            _replica(region, v, (v.get("ReplicaSettings") or {}).get(region), report) for region in v["Replicas"]
        ]
        read = [r for r in v["Replicas"] if r in (v.get("ReplicaSettings") or {})]
        report.append(
            f"global table ({v['MultiRegionConsistency']}): replicas in {', '.join(v['Replicas'])}"
            + (f", each written with its own settings as read in its Region ({', '.join(read)})" if read else "")
            + "; a setting a replica shares with the table is left to the table's. deploy --import takes the "
            "table in as an AWS::DynamoDB::GlobalTable with its home replica, and the next deploys the others"
        )
    if v["BillingMode"] == "PROVISIONED":
        read, write = v["ProvisionedThroughput"]
        env["billing"]["read"] = {"min": read, "max": read}
        env["billing"]["write"] = {"min": write, "max": write}
        report.append(
            f"billing: auto scaling with min = max = the table's capacity ({read}/{write}) is added for the table "
            "and every GSI; widen billing.read/write.max in a later deploy"
        )
        for index, entry in v["GlobalSecondaryIndexes"].items():
            if entry.get("ProvisionedThroughput") != [read, write]:
                report.append(
                    f"GSI {index}: capacity {entry.get('ProvisionedThroughput')} differs from the table's "
                    f"{[read, write]}; an environment scales every GSI like the table, so drift reports it until "
                    "the next deploy aligns it"
                )
    if v["TimeToLiveAttribute"]:
        env["ttl_days"] = ADOPTED_TTL_DAYS
        report.append(
            f"ttl_days: {ADOPTED_TTL_DAYS} written as a placeholder: the table stores no lifetime, your application "
            "does; set the number it uses (it is only published as the TtlDays output)"
        )
    if v["StreamViewType"]:
        env["stream_view_type"] = v["StreamViewType"]
    env["contributor_insights"] = v["ContributorInsights"]
    env["table_class"] = v["TableClass"]
    if v["Tags"]:  # every live tag, a standard key's value included (the config's value wins)
        env["tags"] = dict(v["Tags"])
    if v["Tags"].get("ManagedBy") == MANAGED_BY:  # another environment of this project may hold it
        owner = v["Tags"].get("Environment", "?")
        report.append(
            f"tags: the table is tagged ManagedBy={MANAGED_BY}, Environment={owner}: if it is still in that "
            f"environment's data stack, an import here fails (a resource belongs to one stack); release it there "
            f"first (deploy --env {owner} --release-table). The tags written here are its own: change Environment "
            "and Design in the environment file if it now belongs to this one"
        )
    added = [k for k in STANDARD_TAG_KEYS if k not in v["Tags"]]
    if added:
        report.append(f"tags: the first deploy adds {', '.join(added)} to the table (every stack's standard tags)")
    missing = [
        what
        for what, ok in (
            ("deletion protection", v["DeletionProtectionEnabled"]),
            ("point-in-time recovery", pitr_on),
            ("a customer managed key", v["Encryption"] == "customer_managed"),
        )
        if not ok
    ]
    report.append(
        "protected: false, as found. A protected environment also needs "
        + (", ".join(missing) + " and " if missing else "")
        + "an AWS Backup plan: turn them on in later, reviewed deploys, then set protected: true"
    )
    report += list(facts.notes)
    return Adoption(name, design, env, report)


def _replica(region: str, table: dict[str, Any], own: dict[str, Any] | None, report: list[str]) -> dict[str, Any]:
    """A replicas: entry, with each setting the replica does not share with the (home) table.

    An unset field follows the environment's (spec/environment.py Replica), so only differences are
    written; what a Replica cannot say (a tag the table has and the replica lacks, another kind of
    key) is reported: drift shows it until a deploy aligns it.
    """
    entry: dict[str, Any] = {"region": region}
    if own is None:  # not read (the endpoint did not describe it there)
        return entry
    if own["DeletionProtectionEnabled"] != table["DeletionProtectionEnabled"]:
        entry["deletion_protection"] = own["DeletionProtectionEnabled"]
    if own["PointInTimeRecovery"] != table["PointInTimeRecovery"]:
        on, days = own["PointInTimeRecovery"]
        entry["point_in_time_recovery"] = {"enabled": on, **({"recovery_period_days": days} if on else {})}
    if own["TableClass"] != table["TableClass"]:
        entry["table_class"] = own["TableClass"]
    if own["ContributorInsights"] != table["ContributorInsights"]:
        entry["contributor_insights"] = own["ContributorInsights"]
    tags = {k: v for k, v in own["Tags"].items() if table["Tags"].get(k) != v}
    if tags:
        entry["tags"] = tags
    lacking = sorted(k for k in table["Tags"] if k not in own["Tags"])
    if lacking:
        report.append(
            f"replica {region}: lacks the table's tag(s) {', '.join(lacking)}; a replica's tags add to the "
            "environment's, so the first deploy tags it with them"
        )
    if "ReadCapacity" in own and table.get("ProvisionedThroughput"):
        read = own["ReadCapacity"]
        if read != table["ProvisionedThroughput"][0]:
            entry["read"] = {"min": read, "max": read}
    if own["Encryption"] != table["Encryption"]:
        raise BadInput(
            f"table {table['TableName']}: the replica in {region} is encrypted with {_KEY_KINDS[own['Encryption']]}, "
            f"the table in its home Region with {_KEY_KINDS[table['Encryption']]}; an environment encrypts every "
            "replica alike: align the replica (aws dynamodb update-table --region "
            f"{region} --sse-specification ...), then adopt"
        )
    if own.get("KmsKeyArn"):  # a customer managed key: each replica's own, in its Region (N702)
        entry["kms_key_arn"] = own["KmsKeyArn"]
    return entry


_KEY_KINDS = {
    "aws_owned": "an AWS owned key",
    "aws_managed": "the AWS managed key",
    "customer_managed": "a customer managed key",
}


def _yaml(header: str, data: dict[str, Any]) -> str:
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    return "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + body


def write_adoption(result: Adoption, design_path: Path, env_path: Path, table: str, force: bool) -> tuple[Path, Path]:
    """Write both files or neither; existing files are refused without force."""
    check_targets(result.design_name, design_path, env_path, force)
    design_text = _yaml(
        f"Adopted from the live table {table} by `adopt`: its keys and indexes as they are.\n"
        "Declare access_patterns next: roles, grants and smoke tests come from them.",
        result.design,
    )
    env_text = _yaml(
        f"Adopted from the live table {table} by `adopt`: every setting as the table has it now.\n"
        f"Import it before any other deploy: make import ENV={env_path.stem}\n"
        "(docs/adopting-and-drift.md: Adopting an existing table).",
        result.environment,
    )
    # Validate in a scratch copy first: a file that does not read back is never written.
    with tempfile.TemporaryDirectory(prefix="adopt-") as scratch:
        designs, env_file = Path(scratch) / "designs", Path(scratch) / env_path.name
        designs.mkdir()
        (designs / design_path.name).write_text(design_text, encoding="utf-8")
        env_file.write_text(env_text, encoding="utf-8")
        try:
            load_spec(env_file, designs)
        except SpecError as exc:
            raise SpecError(exc.problems, consequence="the adopted files do not validate; nothing written") from None
    try:
        for path, text in ((design_path, design_text), (env_path, env_text)):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
    except OSError as exc:
        raise BadInput(f"cannot write the adopted files: {exc}") from None
    return design_path, env_path


# -- access patterns and a traffic profile from observed traffic (traffic_logs.py) -----------------

# Days a month is priced as (the cost model's per_month).
MONTH_DAYS = 30


def _pattern_name(operation: str, index: str | None, taken: set[str]) -> str:
    base = re.sub(r"(?<=[a-z])(?=[A-Z])", "-", operation).lower() + (f"-{index.lower()}" if index else "")
    base = re.sub(r"[^a-z0-9_\-]+", "-", base)[:56]
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _in_key_order(condition: str, design: dict[str, Any], index: str | None) -> str:
    """A keyed call's "a = :a AND b = :b" with the partition key first, as a key condition reads."""
    if index is not None:
        return condition
    parts = condition.split(" AND ")
    order = [design["partition_key"]["name"], *([design["sort_key"]["name"]] if "sort_key" in design else [])]
    named = {p.split(" = ")[0]: p for p in parts}
    if sorted(named) != sorted(order) or len(parts) != len(named):
        return condition
    return " AND ".join(named[n] for n in order)


def with_observed(result: Adoption, observed: Observed, table: dict[str, Any]) -> Adoption:
    """The adoption with the access patterns the logs show (each marked as observed, with its window),
    the roles that make them (writers: app; read-only callers: reader, trusting the callers seen), and
    a traffic profile of the observed volumes, scaled to a month, for make cost."""
    design, env = dict(result.design), dict(result.environment)
    keys = {design["partition_key"]["name"], *([design["sort_key"]["name"]] if "sort_key" in design else [])}
    writers = observed.writers()
    role_of = {caller: "app" if caller in writers else "reader" for caller in observed.callers()}
    window = (
        f"{observed.first:%Y-%m-%d} to {observed.last:%Y-%m-%d}"
        if observed.first and observed.last
        else "an undated window"
    )
    grouped: dict[tuple[Any, ...], tuple[int, set[str], set[str]]] = {}
    for shape, count in sorted(observed.counts.items(), key=lambda kv: (kv[0].operation, str(kv[0].index))):
        key = (shape.operation, shape.index, shape.key_condition, shape.item_operations)
        total, callers, attributes = grouped.get(key, (0, set(), set()))
        grouped[key] = (total + count, callers | {shape.caller}, attributes | observed.attributes.get(shape, set()))
    taken: set[str] = set()
    patterns, profile = [], {}
    size = table.get("TableSizeBytes", 0)
    items = table.get("ItemCount", 0)
    item_kb = round(size / items / 1024, 3) if items and size else 1.0
    for (operation, index, key_condition, item_operations), (count, callers, attributes) in grouped.items():
        name = _pattern_name(operation, index, taken)
        pattern: dict[str, Any] = {
            "name": name,
            "description": f"{OBSERVED_MARKER}{window}: {count} call(s) by {', '.join(sorted(callers))}",
            "operation": operation,
        }
        if index:
            pattern["index"] = index
        if key_condition:
            pattern["key_condition"] = _in_key_order(key_condition, design, index)
        if item_operations:
            pattern["item_operations"] = list(item_operations)
        pattern["roles"] = sorted({role_of[c] for c in callers})
        if attributes - keys:
            pattern["attributes"] = sorted(attributes - keys)
        patterns.append(pattern)
        profile[name] = {"per_month": max(1, round(count * MONTH_DAYS / observed.days)), "item_kb": max(item_kb, 0.001)}
    design["access_patterns"] = patterns
    roles = {
        kind: {"trusted": sorted(c for c, k in role_of.items() if k == kind)}
        for kind in ("app", "reader")
        if kind in role_of.values()
    }
    if roles:
        env["access"] = {"roles": roles}
    env["traffic"] = {
        "table_gb": round(size / 1e9, 6),
        **({"table_items": items} if items else {}),
        "patterns": profile,
    }
    report = [r for r in result.report if not r.startswith("access patterns:")]
    report.insert(
        0,
        f"access patterns: {len(patterns)} observed in {observed.files} CloudTrail file(s), {window}; roles "
        + ", ".join(f"{kind} (trusted by {', '.join(r['trusted'])})" for kind, r in roles.items())
        + f"; traffic: the observed volumes scaled to {MONTH_DAYS} days, item size from the table's average",
    )
    report += [
        f"not a pattern: {operation} by {caller} ({count} call(s)): a design states no {operation}; "
        "replace it with a Query, or keep it outside this table's roles"
        for (caller, operation), count in sorted(observed.unexpressible.items())
    ]
    return Adoption(result.design_name, design, env, report)
