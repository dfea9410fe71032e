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
from ..spec.environment import STANDARD_TAG_KEYS
from ..spec.loader import load_spec
from ..spec.rules.files import valid_environment_name
from .live import Facts

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
        raise BadInput(f"{' and '.join(existing)}: exist(s); adopting would overwrite (give --force to replace)")


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
