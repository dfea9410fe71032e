"""Every rule and guard, cfn-lint style: the good fixture passes, a bad one fires with its ID and path.

The good fixtures are the engine's (tests/fixtures/); each bad case changes
one thing. A rule without a bad case here fails the suite.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.change.guards import EnvironmentChange, run_environment_guards
from templates_src.change.plan import plan_stack
from templates_src.diagnostics import Diagnostic
from templates_src.errors import SpecError
from templates_src.rules_doc import all_rules
from templates_src.spec import limits
from templates_src.spec.loader import load_design, load_spec
from templates_src.stacks.synth import Target, build_stacks, render_all

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, read_json

Design = dict[str, Any]
Env = dict[str, Any]


def _design() -> Design:
    return yaml.safe_load((FIXTURE_DESIGNS / "conversations.yaml").read_text())


def _env(name: str = "prod") -> Env:
    return yaml.safe_load((FIXTURE_ENVIRONMENTS / f"{name}.yaml").read_text())


def _pattern(d: Design, name: str) -> dict[str, Any]:
    return next(p for p in d["access_patterns"] if p["name"] == name)


def _diagnostics(call: Callable[[], Any]) -> list[Diagnostic]:
    try:
        result = call()
    except SpecError as exc:
        return exc.problems
    if isinstance(result, tuple):  # load_design: (design, warnings)
        return list(result[1])
    return list(getattr(result, "warnings", ()))


def design_case(tmp_path: Path, mutate: Callable[[Design], None]) -> list[Diagnostic]:
    d = _design()
    mutate(d)
    designs = tmp_path / "designs"
    designs.mkdir(exist_ok=True)
    path = designs / "conversations.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return _diagnostics(lambda: load_design(path))


def env_case(tmp_path: Path, mutate: Callable[[Env], None], base: str = "prod", name: str = "qa") -> list[Diagnostic]:
    e = _env(base)
    mutate(e)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(e, sort_keys=False))
    return _diagnostics(lambda: load_spec(path, FIXTURE_DESIGNS))


def text_case(tmp_path: Path, text: str) -> list[Diagnostic]:
    path = tmp_path / "qa.yaml"
    path.write_text(text, encoding="utf-8")
    return _diagnostics(lambda: load_spec(path, FIXTURE_DESIGNS))


def build_case(tmp_path: Path, mutate: Callable[[Env], None]) -> list[Diagnostic]:
    e = _env("prod")
    mutate(e)
    path = tmp_path / "qa.yaml"
    path.write_text(yaml.safe_dump(e, sort_keys=False))
    return _diagnostics(lambda: render_all([Target(path, "qa")], FIXTURE_DESIGNS, with_taskcat=False))


def guard_case(mutate: Callable[[dict[str, Any]], None], env: str = "prod", kind: str = "data") -> list[Diagnostic]:
    old = read_json(fixture_build() / env / f"{kind}.template.json")
    new = copy.deepcopy(old)
    mutate(new)
    return plan_stack("x", old, new).findings


def _table(t: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = t["Resources"]["Table"]["Properties"]
    return props


def _attr(t: dict[str, Any], name: str, type_: str) -> None:
    defs = _table(t)["AttributeDefinitions"]
    defs[:] = [d for d in defs if d["AttributeName"] != name] + [{"AttributeName": name, "AttributeType": type_}]


def _gsi(name: str, pk: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }


def _add_gsis(t: dict[str, Any], *names: str) -> None:
    for n in names:
        _attr(t, n.lower(), "S")
        _table(t)["GlobalSecondaryIndexes"].append(_gsi(n, n.lower()))


def _traffic(e: Env) -> dict[str, Any]:
    patterns: dict[str, Any] = e["traffic"]["patterns"]
    return patterns


GOOD_ENV_TEXT = (FIXTURE_ENVIRONMENTS / "dev.yaml").read_text()
KEY_UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
P = "access_patterns"

# rule id -> (how to make the bad input, the path it must report)
CASES: dict[str, tuple[Callable[[Path], list[Diagnostic]], str]] = {
    "Y001": (lambda t: text_case(t, "design: [x\n"), "(file)"),
    "Y002": (lambda t: text_case(t, "- a\n"), "(top level)"),
    "Y003": (lambda t: text_case(t, GOOD_ENV_TEXT + "region: us-east-2\n"), "region"),
    "Y004": (lambda t: text_case(t, GOOD_ENV_TEXT.replace("protected: false", "protected: no")), "protected"),
    "Y005": (lambda t: _diagnostics(lambda: load_spec(t / "missing.yaml", FIXTURE_DESIGNS)), "(file)"),
    "S001": (lambda t: env_case(t, lambda e: e.update(tabel_class="STANDARD")), "tabel_class"),
    "S002": (lambda t: env_case(t, lambda e: e.pop("region")), "region"),
    "S003": (lambda t: env_case(t, lambda e: e.update(encryption="rot13")), "encryption"),
    "F001": (lambda t: design_case(t, lambda d: d.update(name="other")), "name"),
    "F002": (lambda t: env_case(t, lambda e: None, name="Prod"), "(file name)"),
    "F003": (lambda t: env_case(t, lambda e: e.update(design="nope")), "design"),
    "D101": (lambda t: design_case(t, _index_key_typed_twice), "global_secondary_indexes[ByUserUpdated].sort_key.type"),
    "D102": (lambda t: design_case(t, lambda d: d.update(ttl_attribute="sk")), "ttl_attribute"),
    "D201": (
        lambda t: design_case(
            t,
            lambda d: d["global_secondary_indexes"].extend(
                {"name": f"Index{i:02d}", "partition_key": {"name": f"a{i}", "type": "S"}}
                for i in range(limits.MAX_GLOBAL_SECONDARY_INDEXES)
            ),
        ),
        "global_secondary_indexes",
    ),
    "D202": (
        lambda t: design_case(
            t,
            lambda d: d.update(
                local_secondary_indexes=[
                    {"name": f"Local{i}", "sort_key": {"name": f"l{i}", "type": "S"}} for i in range(6)
                ]
            ),
        ),
        "local_secondary_indexes",
    ),
    "D203": (
        lambda t: design_case(
            t,
            lambda d: (
                d.pop("sort_key")
                and d.update(local_secondary_indexes=[{"name": "Local0", "sort_key": {"name": "l0", "type": "S"}}])
            ),
        ),
        "local_secondary_indexes",
    ),
    "D204": (
        lambda t: design_case(
            t, lambda d: d["global_secondary_indexes"].append(dict(d["global_secondary_indexes"][0]))
        ),
        "global_secondary_indexes[ByUserUpdated].name",
    ),
    "D205": (
        lambda t: design_case(t, lambda d: d["global_secondary_indexes"][0].update(projection="ALL")),
        "global_secondary_indexes[ByUserUpdated].non_key_attributes",
    ),
    "D206": (
        lambda t: design_case(t, lambda d: d["global_secondary_indexes"][0]["non_key_attributes"].append("updatedAt")),
        "global_secondary_indexes[ByUserUpdated].non_key_attributes",
    ),
    "D207": (
        lambda t: design_case(t, lambda d: d["global_secondary_indexes"][0]["non_key_attributes"].append("title")),
        "global_secondary_indexes[ByUserUpdated].non_key_attributes",
    ),
    "D208": (
        lambda t: design_case(
            t, lambda d: d["global_secondary_indexes"][0].update(non_key_attributes=[f"x{i}" for i in range(101)])
        ),
        "global_secondary_indexes",
    ),
    "D209": (
        lambda t: design_case(t, lambda d: d.update(access_patterns=[p for p in d[P] if p.get("index") is None])),
        "global_secondary_indexes[ByUserUpdated].name",
    ),
    "D301": (
        lambda t: design_case(t, lambda d: d[P][1].update(name=d[P][0]["name"])),
        "access_patterns[get-conversation].name",
    ),
    "D302": (
        lambda t: design_case(t, lambda d: _pattern(d, "get-conversation").update(index="ByUserUpdated")),
        "access_patterns[get-conversation].index",
    ),
    "D303": (
        lambda t: design_case(t, lambda d: _pattern(d, "list-user-conversations").update(index="Nope")),
        "access_patterns[list-user-conversations].index",
    ),
    "D304": (
        lambda t: design_case(t, lambda d: _pattern(d, "append-message").update(item_operations=[])),
        "access_patterns[append-message].item_operations",
    ),
    "D305": (
        lambda t: design_case(
            t,
            lambda d: (
                d["global_secondary_indexes"].append(
                    {"name": "ByConv", "partition_key": {"name": "conversationId", "type": "S"}}
                ),
                d[P].append(
                    {
                        "name": "by-conv",
                        "operation": "Query",
                        "index": "ByConv",
                        "key_condition": "conversationId = :c",
                        "roles": ["per_user"],
                        "attributes": ["title"],
                    }
                ),
            ),
        ),
        "access_patterns[by-conv].roles",
    ),
    "D306": (
        lambda t: design_case(t, lambda d: _pattern(d, "rename-conversation").update(roles=["reader"])),
        "access_patterns[rename-conversation].roles",
    ),
    "D307": (
        lambda t: design_case(t, lambda d: _pattern(d, "get-conversation").pop("key_condition")),
        "access_patterns[get-conversation].key_condition",
    ),
    "D308": (
        lambda t: design_case(t, lambda d: _pattern(d, "list-messages").update(key_condition="userId > :u")),
        "access_patterns[list-messages].key_condition",
    ),
    "D309": (
        lambda t: design_case(
            t,
            lambda d: _pattern(d, "list-messages").update(
                key_condition="userId = :userId AND begins_with(title, :messagePrefix)"
            ),
        ),
        "access_patterns[list-messages].key_condition",
    ),
    "D310": (
        lambda t: design_case(t, lambda d: _pattern(d, "get-conversation")["example"].update(values={})),
        "access_patterns[get-conversation].example",
    ),
    "D311": (lambda t: design_case(t, _get_by_partition_only), "access_patterns[get-conversation].key_condition"),
    "D312": (
        lambda t: design_case(t, lambda d: _pattern(d, "rename-conversation").pop("example")),
        "access_patterns[rename-conversation].example",
    ),
    "D313": (
        lambda t: design_case(t, lambda d: _pattern(d, "list-messages").update(attributes=[])),
        "access_patterns[list-messages].attributes",
    ),
    "D314": (
        lambda t: design_case(t, lambda d: _pattern(d, "add-my-message")["attributes"].append("role")),
        "access_patterns[add-my-message].attributes",
    ),
    "D315": (
        lambda t: design_case(
            t, lambda d: _pattern(d, "create-conversation").update(roles=["app", "per_user"], attributes=["title"])
        ),
        "access_patterns[create-conversation].operation",
    ),
    "D316": (
        lambda t: design_case(t, lambda d: _pattern(d, "rename-conversation").update(index_writes={"ByNothing": 1})),
        "access_patterns[rename-conversation].index_writes.ByNothing",
    ),
    "D317": (lambda t: design_case(t, lambda d: d.update(access_patterns=[])), "access_patterns"),
    "D401": (lambda t: design_case(t, lambda d: d.update(message_storage="list_in_item")), "message_storage"),
    "N101": (lambda t: env_case(t, lambda e: e.update(billing={"mode": "PROVISIONED"})), "billing.read"),
    "N102": (
        lambda t: env_case(
            t,
            lambda e: e.update(
                billing={"mode": "PROVISIONED", "read": {"min": 9, "max": 2}, "write": {"min": 1, "max": 2}}
            ),
        ),
        "billing.read.min",
    ),
    "N103": (lambda t: env_case(t, lambda e: e["billing"].update(read={"min": 1, "max": 2})), "billing.read"),
    "N104": (
        lambda t: env_case(t, lambda e: e["billing"].update(max_read_request_units=100), base="staging"),
        "billing.max_read_request_units",
    ),
    "N201": (lambda t: env_case(t, lambda e: e.update(retention="Delete")), "retention"),
    "N202": (lambda t: env_case(t, lambda e: e.pop("key_admins")), "key_admins"),
    "N203": (lambda t: env_case(t, lambda e: e.update(backup={"enabled": False})), "backup.enabled"),
    "N204": (lambda t: env_case(t, lambda e: e["access"].pop("permissions_boundary_arn")), "ci"),
    "N206": (
        lambda t: env_case(t, lambda e: e.update(stream_resource_policy={"deny_insecure_transport": False})),
        "stream_resource_policy.deny_insecure_transport",
    ),
    "N207": (
        lambda t: env_case(
            t, lambda e: e.update(backup={"vault_lock": {"mode": "compliance", "min_retention_days": 7}})
        ),
        "backup.vault_lock.changeable_for_days",
    ),
    "N208": (
        lambda t: env_case(
            t, lambda e: e.update(backup={"vault_lock": {"mode": "governance", "min_retention_days": 60}})
        ),
        "backup.retention_days",
    ),
    "N205": (
        lambda t: env_case(t, lambda e: e["access"]["roles"]["ops"].pop("export_kms_key_arn")),
        "access.roles.ops.export_kms_key_arn",
    ),
    "N301": (lambda t: env_case(t, lambda e: e["tags"].update({"k" * 129: "v"})), "tags." + "k" * 129),
    "N302": (lambda t: env_case(t, lambda e: e["tags"].update({"aws:owner": "me"})), "tags.aws:owner"),
    "N303": (lambda t: env_case(t, lambda e: e["tags"].update(Note="x" * 257)), "tags.Note"),
    "N304": (lambda t: env_case(t, lambda e: e["tags"].update(Note="tab\there")), "tags.Note"),
    "N305": (lambda t: env_case(t, lambda e: e["tags"].update({f"T{i}": "v" for i in range(48)})), "tags"),
    "N401": (lambda t: _no_ttl_design(t), "ttl_days"),
    "N402": (lambda t: env_case(t, lambda e: None) + _reader_without_patterns(t), "access.roles.reader"),
    "N403": (lambda t: env_case(t, lambda e: e.pop("stream_view_type")), "access.roles.stream_consumer"),
    "N404": (
        lambda t: env_case(t, lambda e: e["access"]["roles"]["reader"].update(trusted=["333333333333"])),
        "access.roles.reader.trusted",
    ),
    "N405": (
        lambda t: env_case(
            t,
            lambda e: e["access"]["roles"]["reader"].update(
                source_arns=["arn:aws:lambda:us-east-1:333333333333:function:f"]
            ),
        ),
        "access.roles.reader.source_arns",
    ),
    "N501": (
        lambda t: env_case(t, lambda e: _traffic(e).update({"no-such": {"per_month": 1, "item_kb": 1}})),
        "traffic.patterns.no-such",
    ),
    "N502": (
        lambda t: env_case(
            t,
            lambda e: _traffic(e).update(
                {"list-user-conversations": {"per_month": 1, "item_kb": 1, "consistent_read": True}}
            ),
        ),
        "traffic.patterns.list-user-conversations.consistent_read",
    ),
    "N503": (
        lambda t: env_case(t, lambda e: _traffic(e)["get-conversation"].update(items=2)),
        "traffic.patterns.get-conversation.items",
    ),
    "N504": (
        lambda t: env_case(t, lambda e: _traffic(e)["get-conversation"].update(peak_per_second=1)),
        "traffic.patterns.get-conversation.peak_per_second",
    ),
    "N505": (
        lambda t: env_case(t, lambda e: e["traffic"]["index_gb"].update(ByNothing=1)),
        "traffic.index_gb.ByNothing",
    ),
    "N406": (
        lambda t: env_case(
            t, lambda e: e.update(contributor_insights=False, contributor_insights_mode="THROTTLED_KEYS")
        ),
        "contributor_insights_mode",
    ),
    "N407": (
        lambda t: env_case(t, lambda e: e.update(resource_policy={"deny_other_accounts": False}), base="dev"),
        "resource_policy.deny_other_accounts",
    ),
    "N601": (lambda t: env_case(t, lambda e: e.update(replicas=[{"region": "eu-west-1"}])), "replicas"),
    "N602": (
        lambda t: env_case(t, lambda e: e["replicas"].append({"region": "eu-west-1"}), base="global"),
        "replicas[2].region",
    ),
    "N603": (
        lambda t: env_case(t, lambda e: e.update(witness_region="us-west-2"), base="strong"),
        "witness_region",
    ),
    "N604": (lambda t: env_case(t, lambda e: e.pop("witness_region"), base="strong"), "replicas"),
    "N605": (
        lambda t: env_case(t, lambda e: e.update(witness_region="us-west-2"), base="global"),
        "witness_region",
    ),
    "N606": (
        lambda t: env_case(t, lambda e: e["replicas"][0].update(read={"min": 1, "max": 5}), base="global"),
        "replicas[0].read",
    ),
    "N607": (
        lambda t: env_case(t, lambda e: e["replicas"][1].update(deletion_protection=False), base="global"),
        "replicas[1].deletion_protection",
    ),
    "N608": (
        lambda t: env_case(
            t,
            lambda e: (
                [e.pop(k) for k in ("stream_view_type", "stream_resource_policy")]
                and e["access"]["roles"].pop("stream_consumer")
            ),
            base="global",
        ),
        "stream_view_type",
    ),
    "N609": (lambda t: env_case(t, lambda e: e.update(warm_throughput={})), "warm_throughput"),
    "N701": (
        lambda t: env_case(
            t, lambda e: e.update(encryption={"kms_key_arn": f"arn:aws:kms:eu-west-1:111111111111:key/{KEY_UUID}"})
        ),
        "encryption.kms_key_arn",
    ),
    "N702": (
        lambda t: env_case(
            t,
            lambda e: e.update(encryption={"kms_key_arn": f"arn:aws:kms:us-east-1:222222222222:key/{KEY_UUID}"}),
            base="global",
        ),
        "encryption.kms_key_arn",
    ),
    "N610": (
        lambda t: env_case(
            t,
            lambda e: e.update(
                kinesis_stream={"stream_arn": "arn:aws:kinesis:eu-west-1:333333333333:stream/chat-changes"}
            ),
        ),
        "kinesis_stream.stream_arn",
    ),
    "N611": (
        lambda t: env_case(
            t,
            lambda e: (
                e.update(stream_resource_policy={"deny_insecure_transport": True}),
                [e.pop(k) for k in ("stream_view_type", "kinesis_stream")],
                e["access"]["roles"].pop("stream_consumer"),
            ),
            base="dev",
        ),
        "stream_resource_policy",
    ),
    "N612": (
        lambda t: env_case(t, lambda e: e.update(warm_throughput={"write_units_per_second": 4000})),
        "warm_throughput.write_units_per_second",
    ),
    "N613": (
        lambda t: env_case(t, lambda e: e.update(design="conversations"), base="strong"),
        "multi_region_consistency",
    ),
    "N614": (
        lambda t: env_case(t, lambda e: e["replicas"][0].update(region="eu-west-9"), base="global"),
        "replicas[0].region",
    ),
    "N615": (lambda t: env_case(t, lambda e: e.update(test_regions=["us-west-2"]), base="global"), "test_regions"),
    "A001": (lambda t: build_case(t, lambda e: e.update(stack_prefix="a" * 60)), "stack_prefix"),
    "A002": (lambda t: _with_small_policy_limit(lambda: build_case(t, lambda e: None)), "access.roles.app"),
    "G001": (lambda t: guard_case(lambda x: _table(x).update(TableName="renamed")), "TableName"),
    "G002": (lambda t: guard_case(lambda x: _add_gsis(x, "ByA", "ByB")), "GlobalSecondaryIndexes"),
    "G003": (
        lambda t: guard_case(lambda x: _table(x)["TimeToLiveSpecification"].update(AttributeName="ttl")),
        "TimeToLiveSpecification.AttributeName",
    ),
    "G004": (
        lambda t: guard_case(lambda x: _table(x).update(DeletionProtectionEnabled=False)),
        "DeletionProtectionEnabled",
    ),
    "G005": (
        lambda t: guard_case(lambda x: _table(x)["SSESpecification"].update(KMSMasterKeyId="arn:other")),
        "SSESpecification.KMSMasterKeyId",
    ),
    "G006": (
        lambda t: guard_case(
            lambda x: _table(x).update(
                LocalSecondaryIndexes=[
                    {
                        "IndexName": "L",
                        "Projection": {"ProjectionType": "ALL"},
                        "KeySchema": [
                            {"AttributeName": "userId", "KeyType": "HASH"},
                            {"AttributeName": "sk", "KeyType": "RANGE"},
                        ],
                    }
                ]
            )
        ),
        "LocalSecondaryIndexes",
    ),
    "G007": (lambda t: guard_case(lambda x: _attr(x, "sk", "B")), "AttributeDefinitions"),
    "G008": (
        lambda t: guard_case(
            lambda x: _table(x)["GlobalSecondaryIndexes"][0].update(Projection={"ProjectionType": "ALL"})
        ),
        "GlobalSecondaryIndexes[ByUserUpdated]",
    ),
    "G009": (
        lambda t: guard_case(lambda x: _table(x).update(StreamSpecification={"StreamViewType": "NEW_IMAGE"})),
        "StreamSpecification.StreamViewType",
    ),
    "G010": (
        lambda t: guard_case(
            lambda x: (_table(x).update(BillingMode="PAY_PER_REQUEST"), _table(x).pop("ProvisionedThroughput")),
            env="staging",
        ),
        "BillingMode",
    ),
    "G011": (lambda t: guard_case(lambda x: x["Resources"]["Table"].update(Type="AWS::DynamoDB::GlobalTable")), "Type"),
    "G012": (
        lambda t: guard_case(lambda x: x["Resources"].update(Renamed=x["Resources"].pop("Table"))),
        "(logical ID)",
    ),
    "G013": (lambda t: run_environment_guards(EnvironmentChange("prod.yaml", True, False, 4)), "protected"),
    "G014": (
        lambda t: guard_case(lambda x: _table(x)["Replicas"][2].update(Region="eu-central-1"), env="global"),
        "Replicas",
    ),
    "G015": (lambda t: guard_case(lambda x: _table(x)["Replicas"].pop(), env="global"), "Replicas[ap-southeast-2]"),
    "G016": (
        lambda t: guard_case(lambda x: _table(x).update(MultiRegionConsistency="STRONG"), env="global"),
        "MultiRegionConsistency",
    ),
    "G017": (
        lambda t: guard_case(lambda x: _table(x).update(GlobalTableWitnesses=[{"Region": "eu-north-1"}]), env="strong"),
        "GlobalTableWitnesses",
    ),
    "G018": (
        lambda t: guard_case(
            lambda x: _table(x).update(StreamSpecification={"StreamViewType": "KEYS_ONLY"}), env="global"
        ),
        "StreamSpecification",
    ),
    "G021": (
        lambda t: guard_case(
            lambda x: x["Resources"]["Table"]["Properties"].update(
                Replicas=x["Resources"]["Table"]["Properties"]["Replicas"]
                + [{"Region": "sa-east-1"}, {"Region": "ca-central-1"}]
            ),
            env="global",
        ),
        "Replicas",
    ),
    "G020": (
        lambda t: guard_case(lambda x: x["Resources"]["TableKey"]["Properties"].update(MultiRegion=True)),
        "MultiRegion",
    ),
    # The backup plan keeps recovery points 1 day instead of 35.
    "G023": (
        lambda t: guard_case(
            lambda x: x["Resources"]["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"][0]["Lifecycle"].update(
                DeleteAfterDays=1
            )
        ),
        "BackupPlan.BackupPlanRule[daily].Lifecycle.DeleteAfterDays",
    ),
    # The key's policy loses DynamoDB's use (the statement with kms:ViaService dynamodb.<region>).
    "G022": (
        lambda t: guard_case(
            lambda x: x["Resources"]["TableKey"]["Properties"]["KeyPolicy"].update(
                Statement=[
                    s
                    for s in x["Resources"]["TableKey"]["Properties"]["KeyPolicy"]["Statement"]
                    if s["Sid"] != "UseOnlyThroughDynamoDB"
                ]
            )
        ),
        "KeyPolicy",
    ),
    "G019": (
        lambda t: guard_case(lambda x: _table(x)["WarmThroughput"].update(ReadUnitsPerSecond=100), env="global"),
        "WarmThroughput.ReadUnitsPerSecond",
    ),
}


def _index_key_typed_twice(d: Design) -> None:
    """updatedAt: S as the table's sort key, N as the index's."""
    d["sort_key"] = {"name": "updatedAt", "type": "S"}
    d["global_secondary_indexes"][0]["sort_key"]["type"] = "N"


def _get_by_partition_only(d: Design) -> None:
    get = _pattern(d, "get-conversation")
    get["key_condition"] = "userId = :userId"
    get["example"]["values"] = {":userId": "u-1"}


def _no_ttl_design(tmp_path: Path) -> list[Diagnostic]:
    """prod sets ttl_days; its design here has no ttl_attribute."""
    d = _design()
    d.pop("ttl_attribute")
    d["protected_attributes"] = ["role", "messageCount"]
    designs = tmp_path / "n401"
    designs.mkdir()
    (designs / "conversations.yaml").write_text(yaml.safe_dump(d, sort_keys=False))
    e = _env("prod")
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(e, sort_keys=False))
    return _diagnostics(lambda: load_spec(path, designs))


def _reader_without_patterns(tmp_path: Path) -> list[Diagnostic]:
    d = _design()
    for p in d[P]:
        p["roles"] = [r for r in p["roles"] if r != "reader"] or ["app"]
    designs = tmp_path / "n402"
    designs.mkdir()
    (designs / "conversations.yaml").write_text(yaml.safe_dump(d, sort_keys=False))
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(_env("prod"), sort_keys=False))
    return _diagnostics(lambda: load_spec(path, designs))


def _with_small_policy_limit(call: Callable[[], list[Diagnostic]]) -> list[Diagnostic]:
    saved = limits.IAM_ROLE_POLICY_MAX_CHARS
    limits.IAM_ROLE_POLICY_MAX_CHARS = 200
    try:
        return call()
    finally:
        limits.IAM_ROLE_POLICY_MAX_CHARS = saved


def test_every_rule_has_a_bad_fixture() -> None:
    assert sorted(CASES) == sorted(r.id for r in all_rules())


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_bad_fixture_fires_with_its_id_and_path(rule_id: str, tmp_path: Path) -> None:
    make, path = CASES[rule_id]
    found = make(tmp_path)
    hits = [d for d in found if d.rule_id == rule_id]
    assert hits, f"{rule_id} did not fire; got {[str(d) for d in found]}"
    assert path in {d.path for d in hits}, [str(d) for d in hits]
    for d in hits:
        if d.where.endswith(".yaml") and rule_id not in ("Y005", "F002"):
            assert d.line is not None, f"{d} has no line"


@pytest.mark.parametrize("env", sorted(p.stem for p in FIXTURE_ENVIRONMENTS.glob("*.yaml")))
def test_good_fixtures_report_nothing(env: str) -> None:
    spec = load_spec(FIXTURE_ENVIRONMENTS / f"{env}.yaml", FIXTURE_DESIGNS)
    assert spec.warnings == ()
    build_stacks(spec)  # the A rules run while building
    template = read_json(fixture_build() / env / "data.template.json")
    assert plan_stack("same", template, copy.deepcopy(template)).findings == []
