"""Every rule and guard, cfn-lint style: the good fixture passes, a bad one fires with its ID and path.

The good fixtures are the engine's (tests/fixtures/); each bad case changes
one thing. A rule without a bad case here fails the suite.
"""

from __future__ import annotations

import copy
import functools
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
from templates_src.spec.loader import Spec, load_design, load_spec
from templates_src.stacks.synth import Target, build_stacks, render_all

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, read_json

Design = dict[str, Any]
Env = dict[str, Any]


@functools.cache
def _parsed(path: Path) -> Any:
    """Each fixture read once per session: a case mutates a deep copy."""
    return yaml.safe_load(path.read_text())


def _design() -> Design:
    return copy.deepcopy(_parsed(FIXTURE_DESIGNS / "conversations.yaml"))


def _env(name: str = "prod") -> Env:
    return copy.deepcopy(_parsed(FIXTURE_ENVIRONMENTS / f"{name}.yaml"))


def _pattern(d: Design, name: str) -> dict[str, Any]:
    return next(p for p in d["access_patterns"] if p["name"] == name)


def _diagnostics(call: Callable[[], Any]) -> list[Diagnostic]:
    try:
        result = call()
    except SpecError as exc:
        return exc.problems
    if isinstance(result, Spec):  # load_spec (a NamedTuple: tested first)
        return list(result.warnings)
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


def design_env_case(
    tmp_path: Path, design: str, change_design: Callable[[Design], None], base: str, change_env: Callable[[Env], None]
) -> list[Diagnostic]:
    """An environment (a fixture, changed) on a changed copy of a fixture design, alone in its designs folder."""
    designs = tmp_path / "designs"
    designs.mkdir()
    d = copy.deepcopy(_parsed(FIXTURE_DESIGNS / f"{design}.yaml"))
    change_design(d)
    (designs / f"{design}.yaml").write_text(yaml.safe_dump(d, sort_keys=False))
    e = _env(base)
    e["design"] = design
    change_env(e)
    path = tmp_path / "qa.yaml"
    path.write_text(yaml.safe_dump(e, sort_keys=False))
    return _diagnostics(lambda: load_spec(path, designs))


def _with_an_lsi(d: Design) -> None:
    d["local_secondary_indexes"] = [{"name": "ByTitle", "sort_key": {"name": "title", "type": "S"}}]


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
    "D103": (lambda t: design_case(t, lambda d: d["sample_items"][1].pop("sk")), "sample_items[1].sk"),
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
    "D501": (
        lambda t: design_case(t, lambda d: d.update(migration={"keys": {"userId": "{userId}", "sk": "{sk}"}})),
        "generation",
    ),
    "D502": (
        lambda t: design_case(t, lambda d: d.update(generation=2, migration={"keys": {"userId": "{userId}"}})),
        "migration.keys",
    ),
    "D503": (
        lambda t: design_case(
            t, lambda d: d.update(generation=2, migration={"keys": {"userId": "USER#{userId", "sk": "{sk}"}})
        ),
        "migration.keys.userId",
    ),
    "D504": (
        lambda t: design_case(
            t,
            lambda d: d.update(
                generation=2, migration={"keys": {"userId": "{userId}", "sk": "{sk}"}, "rename": {"title": "sk"}}
            ),
        ),
        "migration.rename.title",
    ),
    "D505": (
        lambda t: design_case(
            t,
            lambda d: d.update(
                generation=2, migration={"keys": {"userId": "{userId}", "sk": "{sk}"}, "drop": ["messageCount"]}
            ),
        ),
        "global_secondary_indexes[ByUserUpdated].non_key_attributes[2]",
    ),
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
    "N209": (
        lambda t: env_case(
            t,
            lambda e: e.update(
                backup={"enabled": False, "reason": "x", "vault_lock": {"mode": "governance", "min_retention_days": 7}}
            ),
        ),
        "backup.vault_lock",
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
        "replicas[0].kms_key_arn",
    ),
    "N703": (
        lambda t: env_case(
            t,
            lambda e: e["replicas"][1].update(kms_key_arn=f"arn:aws:kms:ap-southeast-2:222222222222:key/{KEY_UUID}"),
            base="global",
        ),
        "replicas[1].kms_key_arn",
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
    "N616": (
        lambda t: env_case(t, lambda e: e.update(multi_region_consistency="STRONG"), base="multiaccount"),
        "replicas[0].account",
    ),
    "N617": (
        lambda t: env_case(
            t,
            lambda e: e["replicas"].append({"region": "ap-southeast-2", "account": "555555555555"}),
            base="multiaccount",
        ),
        "replicas[1].account",
    ),
    "N618": (
        lambda t: env_case(
            t, lambda e: e["replicas"][0].update(point_in_time_recovery={"enabled": True}), base="multiaccount"
        ),
        "replicas[0].point_in_time_recovery",
    ),
    "N619": (
        lambda t: env_case(t, lambda e: e["replicas"][0].pop("key_admins"), base="multiaccount"),
        "replicas[0].key_admins",
    ),
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
    # The replica in account 555555555555 is taken out of the environment: its table is removed.
    "G024": (
        lambda t: guard_case(
            lambda x: x["Resources"].pop("Table"), env="multiaccount", kind="account-555555555555-data"
        ),
        "GlobalTableSourceArn",
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


# rule id -> (severity, message, way forward) of the bad fixture's finding at its path: written out, as a user reads them.
MESSAGES: dict[str, tuple[str, str, str]] = {
    "A001": (
        "error",
        "role name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-reader' is 67 characters; IAM allows 64: shorten stack_prefix",
        "",
    ),
    "A002": ("error", "inline policy is 800 characters; IAM allows 200 per role", ""),
    "D101": (
        "error",
        "attribute 'updatedAt' is typed N here but S at sort_key; an attribute has one type across the table and its indexes",
        "",
    ),
    "D102": (
        "error",
        "'sk' is a key attribute; the TTL attribute must be a non-key Number attribute holding epoch seconds",
        "",
    ),
    "D103": (
        "error",
        "the key attribute 'sk' (S): the sample item lacks it; DynamoDB refuses such a put (make local would stop on it)",
        "",
    ),
    "D201": ("error", "21 indexes; at most 20 global secondary indexes per table (default quota)", ""),
    "D202": ("error", "6 indexes; at most 5 local secondary indexes per table", ""),
    "D203": (
        "error",
        "local secondary indexes need a table sort_key (they share the partition key and add another sort key)",
        "",
    ),
    "D204": (
        "error",
        "index name 'ByUserUpdated' is already used at global_secondary_indexes[ByUserUpdated].name (line 12)",
        "",
    ),
    "D205": ("error", "non_key_attributes is only allowed with projection INCLUDE (this index projects ALL)", ""),
    "D206": (
        "error",
        "'updatedAt' is a key of the table or of index 'ByUserUpdated', which every index projects already; remove it from non_key_attributes",
        "",
    ),
    "D207": ("error", "lists an attribute more than once", ""),
    "D208": ("error", "101 projected non-key attributes across all indexes; at most 100 per table", ""),
    "D209": (
        "warning",
        "index 'ByUserUpdated' is queried by no access pattern: it doubles write cost and storage for nothing; add the pattern or drop the index",
        "",
    ),
    "D301": ("error", "pattern name 'get-conversation' is already used (line 61)", ""),
    "D302": ("error", "only Query reads an index; GetItem works on the base table", ""),
    "D303": ("error", "unknown index 'Nope'; allowed: ByUserUpdated", ""),
    "D304": (
        "error",
        "TransactWriteItems needs item_operations (PutItem, UpdateItem, DeleteItem, ConditionCheckItem): IAM authorises each item action, not the transaction",
        "",
    ),
    "D305": (
        "error",
        "per_user patterns need dynamodb:LeadingKeys to be the caller's own key: index 'ByConv' is partitioned by 'conversationId', not the tenant key 'userId'",
        "",
    ),
    "D306": ("error", "the reader role is read-only; UpdateItem is a write", ""),
    "D307": ("error", "GetItem needs a key_condition", ""),
    "D308": (
        "error",
        "'userId > :u' must start with '<partition key> = :value' (only equality is allowed on the partition key)",
        "",
    ),
    "D309": ("error", "sort attribute 'title' is not the sort key of the table ('sk')", ""),
    "D310": ("error", "values lacks :userId, :conversationKey used by key_condition", ""),
    "D311": ("error", "GetItem addresses one item: use equality on the whole key (userId = :userId AND sk = :sk)", ""),
    "D312": (
        "warning",
        "no example: make local and the smoke tests cannot run this pattern (add values and expect)",
        "",
    ),
    "D313": (
        "error",
        "a per_user pattern lists the non-key attributes the client may read or write (dynamodb:Attributes); keys are always allowed",
        "",
    ),
    "D314": ("error", "role: protected (protected_attributes); a per_user client must never write it", ""),
    "D315": (
        "error",
        "a PutItem replaces the whole item and would drop protected attributes (expiresAt, role, messageCount); give per_user an UpdateItem (SET) pattern instead",
        "",
    ),
    "D316": ("error", "unknown GSI 'ByNothing'; allowed: ByUserUpdated", ""),
    "D317": (
        "warning",
        "no access patterns: no role, grant or smoke test is generated until you declare how the application reads and writes",
        "",
    ),
    "D401": (
        "warning",
        "messages kept as a list inside one item: a long chat hits DynamoDB's 400 KB item limit and every append rewrites the whole item; store one item per message",
        "",
    ),
    "D501": (
        "error",
        "generation is 1, but a migration fills a new table from the previous generation's; set generation to one more than the deployed table's",
        "",
    ),
    "D502": ("error", "the table's key is userId, sk; no template for sk", ""),
    "D503": ("error", "'USER#{userId': a brace outside a {placeholder}", ""),
    "D504": ("error", "sk is a key attribute of the new table; its value comes from migration.keys.sk", ""),
    "D505": (
        "error",
        "'messageCount' is dropped by migration: the new table's items do not carry it; name the new attribute here "
        "(or none)",
        "",
    ),
    "F001": ("error", "must equal the file name stem 'conversations'", ""),
    "F002": (
        "error",
        "environment file names must be lowercase letters, digits and hyphens, starting with a letter",
        "",
    ),
    "F003": ("error", "unknown design 'nope'; allowed: conversations, messages", ""),
    "G001": (
        "error",
        "AWS::DynamoDB::Table Table would be REPLACED (a new, empty resource) because TableName changed; CloudFormation cannot change it in place",
        "raise the design's generation and declare how items move (migration:); the plan then shows a new data stack beside this one, and make migrate fills it, freezes and retires the old (docs/migrations.md)",
    ),
    "N701": (
        "error",
        "the key is in eu-west-1, the table in us-east-1: DynamoDB uses a key of the table's own Region",
        "",
    ),
    "N702": (
        "error",
        "the table is under an existing key, so the replica in eu-west-1 needs one of its own Region: name it (kms_key_arn: arn:aws:kms:eu-west-1:...), or use encryption: customer_managed (the project creates a multi-Region key and its replicas) or aws_managed",
        "",
    ),
    "N703": (
        "error",
        "encryption is customer_managed: the replica's key follows it (customer_managed: the project's replica key in that Region); name keys per replica only with encryption: {kms_key_arn: ...}",
        "",
    ),
    "G002": (
        "warning",
        "2 GSI creations/deletions in one update; CloudFormation allows one per table per update: deploy stages them, one per update",
        "nothing to do: the table's updates are 1. create GSI ByA; 2. create GSI ByB (with the access stack where it belongs, as the plan of the environment lists), each waited for and verified",
    ),
    "G003": (
        "error",
        "TTL attribute renamed from 'expiresAt' to 'ttl' in one step",
        "deploy 1: TTL disabled (remove ttl_days); deploy 2, an hour later: enable it on the new attribute",
    ),
    "G004": (
        "error",
        "deletion protection would be turned off",
        "keep it on; turn it off only in the deploy right before an intended deletion",
    ),
    "G005": (
        "error",
        "the table's encryption key changes from TableKey.Arn to arn:other",
        "add the new key and grant it to every role first, switch the table in its own deploy, and keep the old key enabled until DynamoDB reports the switch done",
    ),
    "G006": (
        "error",
        "Table's local secondary indexes change: LSIs exist only from table creation, so CloudFormation would REPLACE the table with a new, empty one",
        "create a new table (new logical ID and name) with the LSIs it needs, dual-write, backfill it with an export to S3 and an import (or a scan-and-copy job), switch reads, then retire the old table",
    ),
    "G007": (
        "error",
        "key attribute type changes (sk S -> B): CloudFormation would REPLACE Table with a new, empty table",
        "create a new table (new logical ID and name) with the LSIs it needs, dual-write, backfill it with an export to S3 and an import (or a scan-and-copy job), switch reads, then retire the old table",
    ),
    "G008": (
        "error",
        "GSI ByUserUpdated changes keys or projection: CloudFormation deletes it and creates a new one; queries on it fail until the new index has backfilled",
        "add the new shape as a second index under a new name (one deploy), move readers to it once it is ACTIVE, then delete ByUserUpdated (another deploy)",
    ),
    "G009": (
        "error",
        "stream view type NEW_AND_OLD_IMAGES -> NEW_IMAGE on an enabled stream: DynamoDB refuses it and the stack rolls back",
        "deploy 1: remove stream_view_type (the stream and its 24 h of records go; stop consumers first); deploy 2: set the new view type (a new stream ARN); move consumers to it",
    ),
    "G010": (
        "warning",
        "billing mode PROVISIONED -> PAY_PER_REQUEST: DynamoDB allows this switch at most four times in a rolling 24 hours; the plan cannot see earlier switches",
        "check BillingModeSummary.LastUpdateToPayPerRequestDateTime (aws dynamodb describe-table) before deploying, and do not toggle the mode back and forth",
    ),
    "G011": (
        "error",
        "Table changes type AWS::DynamoDB::Table -> AWS::DynamoDB::GlobalTable: CloudFormation creates a new resource and deletes the old one (the table's data with it)",
        "1) keep the table Retained (DeletionPolicy and UpdateReplacePolicy Retain) and deploy that (retention: Retain, the default); 2) remove the table from the data stack and deploy its removal (the table stays, unmanaged): `deploy --env <env> --release-table` (every reference becomes the table's live name and ARNs, so the exports and the access stack keep working; deletion protection stays on the table); 3) set global_table: true with no replicas yet and run `deploy --env <env> --import`: it imports the table as a GlobalTable with only its own Region (run make synth first; an IMPORT change set: nothing created or deleted); 4) add the replicas, one per deploy: list them and run `deploy --env <env>` once per added replica. With aws_owned or aws_managed encryption that is all. With a customer managed key, step 4's first deploy also moves the table to the global table's multi-Region key (GlobalTableKey, a new key: a key cannot become multi-Region, G020) and lets the old TableKey go: `deploy --env <env> --allow G001,G005` (G001: TableKey leaves the stack, Retained and enabled, still decrypting old backups; G005: DynamoDB re-encrypts the table in the background, keep the old key enabled until it reports the re-encryption done); then the replica keys and the replicas follow, one per update",
    ),
    "G012": (
        "error",
        "Table is renamed Renamed: CloudFormation deletes Table and creates Renamed (a new, empty resource)",
        "keep the logical ID Table (it is a fact in stacks/names.py)",
    ),
    "G013": (
        "error",
        "protected: true -> false: the environment would lose its required Retain, deletion protection, PITR and key, and deploy would stop protecting the stack",
        "keep protected: true; to retire an environment, back it up, then allow G013 in a deploy of its own",
    ),
    "G014": (
        "error",
        "2 replicas added or removed in one update; CloudFormation adds or removes one replica per global table update",
        "stage it (one replica per deploy, in the replicas: list of the environment): deploy 1: add replica eu-central-1 and wait until it is ACTIVE (replicas then: us-east-1, eu-west-1, ap-southeast-2, eu-central-1); deploy 2: remove replica ap-southeast-2, its copy of the table is deleted, see G015 (replicas then: us-east-1, eu-west-1, eu-central-1)",
    ),
    "G015": (
        "error",
        "replica ap-southeast-2 would be removed: DynamoDB deletes the table's copy in ap-southeast-2 (DeletionPolicy Retain does not keep a removed replica); its deletion protection is on, so the update fails",
        "keep the replica; to retire ap-southeast-2 deliberately (docs/global-tables.md: Retiring a replica): back its copy up (an on-demand backup there), turn off its deletion protection and remove it with aws dynamodb update-table, then deploy without it, allowing G015 (deploy removes one replica per deploy)",
    ),
    "G016": (
        "error",
        "consistency mode EVENTUAL -> STRONG: a global table keeps the consistency mode it was created with, so DynamoDB refuses the update and the stack rolls back",
        "keep multi_region_consistency: EVENTUAL; a table in STRONG mode is a new global table: create it under a new logical ID and name, migrate the data (export and import, or a copy job), move readers and writers, then retire the old one",
    ),
    "G017": (
        "error",
        "2 witness creations/deletions in one update (eu-west-2 -> eu-north-1); DynamoDB creates or deletes one witness per update",
        "stage it: deploy 1: delete the witness in eu-west-2; deploy 2: create the witness in eu-north-1",
    ),
    "G018": (
        "error",
        "stream NEW_AND_OLD_IMAGES -> KEYS_ONLY on a global table with 3 replicas: CloudFormation changes a global table's stream only while it has one replica, so the update fails",
        "keep stream_view_type: NEW_AND_OLD_IMAGES (global table replication needs the stream); to change it, the table must first be down to one replica (removing replicas deletes their copies, G015), then the stream changes (a new stream ARN: move consumers), then the replicas are added back one per deploy",
    ),
    "G019": (
        "error",
        "the table's warm read throughput 20000 -> 100 units per second: warm throughput only increases, so DynamoDB refuses the update and the stack rolls back",
        "keep 20000 (or raise it): the table keeps the warm throughput it has reached whatever the template says, and a lower value costs nothing less",
    ),
    "G020": (
        "error",
        "TableKey: MultiRegion false -> true: a key cannot change it, so CloudFormation refuses the update and the stack rolls back",
        "keep the key's MultiRegion as deployed. A table moving to a global table does not change it: its multi-Region key is a new one, GlobalTableKey (docs/global-tables.md: Moving a live table to a global table; step 4's first deploy, `deploy --env <env> --allow G001,G005`, moves the table to it and lets TableKey go, Retained and enabled, still decrypting old backups; keep it enabled until DynamoDB reports the re-encryption done). A key that must change MultiRegion is a new key under a new logical ID",
    ),
    "G021": (
        "warning",
        "2 replicas added (sa-east-1, ca-central-1): CloudFormation adds one per update of an existing global table",
        "make deploy stages it (each Region's key stack, then one data-stack update per replica); by hand, run one update-stack per replica, each template listing one more Region",
    ),
    "G022": (
        "error",
        'TableKey: use through "dynamodb.us-east-1.amazonaws.com" is gone: the table (or its backups) could become unreadable, or the key manageable by the root user alone',
        "keep the administrators (key_admins) and the service's use in the key's policy; if the change is deliberate (an administrator handed over), have a key administrator confirm it and allow G022 for that one deploy",
    ),
    "G024": (
        "error",
        "the replica in this account would be removed: its table, this account's copy of the data, is deleted and leaves the global table",
        "keep the replica as declared (its account and Region in replicas:); retiring or moving one is an administrator's reviewed operation: back that account's copy up, turn its deletion protection off by hand, then allow G024 for that one deploy (docs/global-tables.md: Multi-account global tables)",
    ),
    "G023": (
        "error",
        "BackupPlan: rule daily keeps recovery points 1 days instead of 35: the older ones are deleted",
        "keep it; if the recovery or the watch really must change, say why in the pull request and allow G023 for that deploy",
    ),
    "N101": ("error", "PROVISIONED billing needs read and write capacity (min, max)", ""),
    "N102": ("error", "min (9) is greater than max (2)", ""),
    "N103": ("error", "capacity is only allowed with mode PROVISIONED", ""),
    "N104": (
        "error",
        "an on-demand cap needs mode PAY_PER_REQUEST (provisioned capacity is capped by billing.read/write.max)",
        "",
    ),
    "N201": ("error", "a protected environment needs Retain (set protected: false to opt out)", ""),
    "N202": (
        "error",
        "customer_managed encryption needs key_admins: the role ARNs that may manage (not use) the key, the role that deploys the data stack among them",
        "",
    ),
    "N203": ("error", "a protected environment keeps its AWS Backup plan; to opt out, give backup.reason", ""),
    "N204": (
        "error",
        "the deploy role creates the roles of this environment's stacks: set access.permissions_boundary_arn (a managed policy every such role must carry), or a change set could give a role any permission",
        "",
    ),
    "N205": (
        "error",
        "a protected environment's table exports leave the table's encryption: name the KMS key they are written with (SSE-KMS), e.g. arn:aws:kms:<region>:<account>:key/<id>",
        "",
    ),
    "N206": (
        "error",
        "a protected environment keeps this deny: without it requests without TLS reach the table (set protected: false to opt out)",
        "",
    ),
    "N207": (
        "error",
        "compliance mode makes the lock immutable once changeable_for_days pass: name them (3 or more)",
        "",
    ),
    "N209": ("error", "a lock with backup.enabled: false locks nothing: remove it, or enable the plan", ""),
    "N208": (
        "error",
        "35 days (the default) is outside the vault lock's retention (60..any days): the vault would fail every backup job; set retention_days within it, or change the lock",
        "",
    ),
    "N301": ("error", "tag key length must be 1..128 (got 129)", ""),
    "N302": ("error", "tag keys starting with 'aws:' are reserved by AWS", ""),
    "N303": ("error", "tag value length must be 0..256 (got 257)", ""),
    "N304": ("error", "tag value has '\\t' (U+0009); AWS allows only letters, digits, spaces and _ . : / = + - @", ""),
    "N305": ("error", "51 tags plus 3 standard ones; at most 50 per resource: remove 4", ""),
    "N401": ("error", "design 'conversations' declares no ttl_attribute to expire items by", ""),
    "N402": (
        "error",
        "design 'conversations' has no access pattern for role 'reader'; a role with nothing to do must not exist",
        "",
    ),
    "N403": ("error", "needs a stream: set stream_view_type", ""),
    "N404": (
        "error",
        "333333333333: trusts every principal of the account; name the role (arn:...:role/...) or set trust_whole_account: true",
        "",
    ),
    "N405": ("error", "source_arns narrows a service principal; this role trusts none", ""),
    "N406": ("error", "a mode for contributor insights that are off; set contributor_insights: true", ""),
    "N407": (
        "warning",
        "turned off: principals of other accounts reach it wherever an identity policy of theirs allows (on by default; remove the line to keep the deny)",
        "",
    ),
    "N501": (
        "error",
        "design 'conversations' has no pattern 'no-such'; allowed: get-conversation, list-messages, list-user-conversations, list-my-conversations, create-conversation, append-message, start-my-conversation, add-my-message, rename-conversation, delete-conversation",
        "",
    ),
    "N502": ("error", "GSI 'ByUserUpdated' serves only eventually consistent reads", ""),
    "N503": ("error", "2 items; GetItem takes at most 1", ""),
    "N504": ("error", "1/s is below the average of per_month (3.04/s)", ""),
    "N505": ("error", "unknown GSI 'ByNothing'; allowed: ByUserUpdated", ""),
    "N601": (
        "error",
        "needs global_table: true; a live table becomes a global table by migration, not by this edit (docs/global-tables.md: Moving a live table to a global table)",
        "",
    ),
    "N602": ("error", "eu-west-1 is already listed (replicas.0.region); remove one of them", ""),
    "N603": (
        "error",
        "us-west-2 is outside eu-west-1's Region set (eu-west-1, eu-west-2, eu-west-3, eu-central-1); STRONG keeps every Region in one set",
        "",
    ),
    "N604": (
        "error",
        "2 replica(s) counting the environment's region: STRONG needs 3 replicas, or 2 and a witness_region (in this Region set: eu-west-2, eu-west-3)",
        "",
    ),
    "N605": (
        "error",
        "a witness is only for multi_region_consistency: STRONG (EVENTUAL replicates to replicas only)",
        "",
    ),
    "N606": ("error", "read capacity per replica needs billing.mode PROVISIONED", ""),
    "N607": ("error", "a protected environment keeps it on in every replica (set protected: false to opt out)", ""),
    "N608": (
        "error",
        "a global table with a replica besides its own region needs a stream (CloudFormation's StreamSpecification); set stream_view_type (NEW_AND_OLD_IMAGES is what replication uses)",
        "",
    ),
    "N609": ("error", "set read_units_per_second, write_units_per_second or both", ""),
    "N610": (
        "error",
        "the stream is in 333333333333/eu-west-1; DynamoDB sends changes only to a stream in the table's account and Region (333333333333/us-east-1)",
        "",
    ),
    "N611": ("error", "set stream_view_type first", ""),
    "N612": (
        "warning",
        "4000 is not above the 4000 a new on-demand table starts with: it pre-warms nothing (warm throughput only ever rises)",
        "",
    ),
    "N613": (
        "error",
        "design 'conversations' uses transactions (access patterns add-my-message, append-message), which multi-Region strong consistency does not support; use EVENTUAL, or a design without them",
        "",
    ),
    "N614": ("error", "'eu-west-9' is not an AWS Region (botocore knows of none by that name)", ""),
    "N615": (
        "error",
        "a global table's taskcat test is multi-Region by itself (one stack creates every replica); in another Region the stack's own Region would be missing from its replicas: remove test_regions",
        "",
    ),
    "N616": (
        "error",
        "multi-account global tables replicate with multi-Region eventual consistency only; set multi_region_consistency: EVENTUAL (and no witness_region), or keep every replica in 444444444444",
        "",
    ),
    "N617": ("error", "account 555555555555 already holds a replica (replicas.0.account); one replica per account", ""),
    "N618": (
        "error",
        "a multi-account global table's settings are unified across its replicas (no per-replica override): remove it; the environment's setting applies to every replica",
        "",
    ),
    "N619": (
        "error",
        "the replica in account 555555555555 gets a customer managed key of that account: name who administers it (the role deploying that account's stacks among them: KMS's lockout check)",
        "",
    ),
    "S001": (
        "error",
        "unknown key; did you mean 'table_class'?; allowed keys: design, account_id, region, protected, stack_prefix, table_name, billing, encryption, key_admins, point_in_time_recovery, deletion_protection, retention, ttl_days, stream_view_type, contributor_insights, resource_policy, contributor_insights_mode, table_class, tags, alarms, backup, access, test_regions, traffic, ci, global_table, replicas, multi_region_consistency, witness_region, warm_throughput, kinesis_stream, stream_resource_policy",
        "",
    ),
    "S002": ("error", "required key is missing", ""),
    "S003": ("error", "Input should be 'aws_owned', 'aws_managed' or 'customer_managed' (got 'rot13')", ""),
    "Y001": ("error", "YAML syntax error: did not find expected ',' or ']'", ""),
    "Y002": ("error", "expected a mapping of settings, got list", ""),
    "Y003": (
        "error",
        "key 'region' appears twice (lines 6 and 48); YAML would silently keep the last one: remove one",
        "",
    ),
    "Y004": (
        "error",
        "'no' is a boolean in YAML 1.1 and a string in YAML 1.2; write true or false (or quote it for a string)",
        "",
    ),
    "Y005": ("error", "cannot read: No such file or directory", ""),
}


def test_every_bad_fixture_has_its_message() -> None:
    assert sorted(MESSAGES) == sorted(CASES)


@pytest.mark.parametrize("rule_id", sorted(MESSAGES))
def test_bad_fixture_says_what_is_wrong_and_the_way_forward(rule_id: str, tmp_path: Path) -> None:
    make, path = CASES[rule_id]
    said = {(d.severity, d.message, d.way_forward) for d in make(tmp_path) if d.rule_id == rule_id and d.path == path}
    assert MESSAGES[rule_id] in said, sorted(said)


def _vault_lock_with(e: Env, **extra: Any) -> None:
    e["backup"] = {"vault_lock": {"mode": "governance", "min_retention_days": 7, **extra}}


@pytest.mark.parametrize(
    ("make", "path", "allowed"),
    [
        (
            lambda t: env_case(t, lambda e: e["billing"].update(bogus=1)),
            "billing.bogus",
            "mode, read, write, max_read_request_units, max_write_request_units",
        ),
        (
            lambda t: env_case(t, lambda e: _vault_lock_with(e, bogus=1)),
            "backup.vault_lock.bogus",
            "mode, min_retention_days, max_retention_days, changeable_for_days",
        ),
        (
            lambda t: env_case(t, lambda e: e["replicas"][0].update(bogus=1), base="global"),
            "replicas[0].bogus",
            "region, account, key_admins, deletion_protection, point_in_time_recovery, table_class, "
            "contributor_insights, tags, read, kms_key_arn",
        ),
        (
            lambda t: env_case(t, lambda e: _traffic(e)["get-conversation"].update(bogus=1)),
            "traffic.patterns.get-conversation.bogus",
            "per_month, item_kb, items, consistent_read, peak_per_second, hot_key_share",
        ),
        (
            lambda t: design_case(t, lambda d: d["global_secondary_indexes"][0].update(bogus=1)),
            "global_secondary_indexes[ByUserUpdated].bogus",
            "name, partition_key, sort_key, projection, non_key_attributes",
        ),
    ],
    ids=["model", "model in an optional model", "list of models", "dict of models", "design list"],
)
def test_an_unknown_key_lists_the_keys_allowed_where_it_is(
    make: Callable[[Path], list[Diagnostic]], path: str, allowed: str, tmp_path: Path
) -> None:
    said = [(d.path, d.message) for d in make(tmp_path) if d.rule_id == "S001"]
    assert said == [(path, f"unknown key; allowed keys: {allowed}")]


REPLICA_KEYS = "region, account, key_admins, deletion_protection, point_in_time_recovery, table_class, contributor_insights, tags, read, kms_key_arn"


@pytest.mark.parametrize(
    ("make", "rule_id", "path", "message"),
    [
        (
            lambda t: env_case(t, lambda e: e["replicas"][0].update(write=5), base="global"),
            "S001",
            "replicas[0].write",
            "unknown key; a global table's write capacity is global: set billing.write; allowed keys: " + REPLICA_KEYS,
        ),
        (
            lambda t: env_case(t, lambda e: e["replicas"][1].update(stream_view_type="KEYS_ONLY"), base="global"),
            "S001",
            "replicas[1].stream_view_type",
            "unknown key; a global table has one stream for every replica: set stream_view_type; allowed keys: "
            + REPLICA_KEYS,
        ),
        (
            lambda t: env_case(t, lambda e: e["replicas"][0].update(encryption="aws_owned"), base="global"),
            "S001",
            "replicas[0].encryption",
            "unknown key; a global table has one encryption choice: set encryption (each replica gets its own "
            "Region's key); allowed keys: " + REPLICA_KEYS,
        ),
        (
            lambda t: env_case(
                t,
                lambda e: e["replicas"][0].update(point_in_time_recovery={"enabled": True, "bogus": 1}),
                base="global",
            ),
            "S001",
            "replicas[0].point_in_time_recovery.bogus",
            "unknown key; allowed keys: enabled, recovery_period_days",
        ),
        (
            lambda t: env_case(
                t,
                lambda e: e.update(
                    encryption={"kms_key_arn": f"arn:aws:kms:us-east-1:123456789012:key/{KEY_UUID}", "bogus": 1}
                ),
            ),
            "S001",
            "encryption.bogus",
            "unknown key",
        ),
        (
            lambda t: env_case(t, lambda e: e.update(account_id=123456789012)),
            "S003",
            "account_id",
            "Input should be a valid string (got 123456789012); quote it in YAML to make it a string",
        ),
        (
            lambda t: env_case(t, lambda e: e.update(ttl_days=1.5)),
            "S003",
            "ttl_days",
            "Input should be a valid integer (got 1.5)",
        ),
        (
            lambda t: env_case(t, lambda e: e.update(tags=["a"])),
            "S003",
            "tags",
            "Input should be a valid dictionary (got list)",
        ),
        (
            lambda t: env_case(t, lambda e: e["tags"].update(Team={"x": 1})),
            "S003",
            "tags.Team",
            "Input should be a valid string (got dict)",
        ),
        (
            lambda t: env_case(t, lambda e: e.update(table_class="1e3")),
            "S003",
            "table_class",
            "Input should be 'STANDARD' or 'STANDARD_INFREQUENT_ACCESS' (got '1e3')",
        ),
        (
            lambda t: env_case(t, lambda e: _traffic(e)["get-conversation"].update(item_kb="1e3")),
            "S003",
            "traffic.patterns.get-conversation.item_kb",
            "Input should be a valid number (got '1e3'); write it out (1000): YAML reads 1e3 as a string",
        ),
    ],
    ids=[
        "replica write",
        "replica stream",
        "replica encryption",
        "model under a list index",
        "model in a union",
        "number for a string",
        "float for an integer",
        "list shown by its type",
        "mapping shown by its type",
        "scientific string for a choice",
        "scientific string for a number",
    ],
)
def test_a_schema_error_says_exactly_what_is_wrong(
    make: Callable[[Path], list[Diagnostic]], rule_id: str, path: str, message: str, tmp_path: Path
) -> None:
    said = [(d.path, d.message) for d in make(tmp_path) if d.rule_id == rule_id]
    assert said == [(path, message)]


def test_a_tag_value_with_several_bad_characters_names_each(tmp_path: Path) -> None:
    said = [d.message for d in env_case(tmp_path, lambda e: e["tags"].update(Team="a\tb\nc")) if d.rule_id == "N304"]
    assert said == [
        "tag value has '\\t' (U+0009), '\\n' (U+000A); AWS allows only letters, digits, spaces and _ . : / = + - @"
    ]


def test_rule_ids_are_unique_across_the_rule_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    from templates_src.spec import rules

    modules = rules.rule_modules()
    monkeypatch.setattr(rules, "rule_modules", lambda: (*modules, modules[0]))
    with pytest.raises(AssertionError, match="^rule IDs must be unique$"):
        rules.spec_rules()


def _moved(x: dict[str, Any], old: str, new: str, **properties: Any) -> None:
    resource = x["Resources"].pop(old)
    resource["Properties"].update(properties)
    x["Resources"][new] = resource


@pytest.mark.parametrize(
    ("mutate", "renamed"),
    [
        (lambda x: _moved(x, "Table", "Renamed"), True),
        (lambda x: _moved(x, "Table", "Other", TableName="other-table"), False),
        (lambda x: _moved(x, "TableKey", "RenamedKey"), True),
        (lambda x: _moved(x, "TableKey", "OtherKey", Description="another key"), False),
        (lambda x: _moved(x, "TableKey", "GlobalKey", MultiRegion=True), False),
        (
            lambda x: (
                _moved(x, "Table", "Global"),
                x["Resources"]["Global"].update(Type="AWS::DynamoDB::GlobalTable"),
            ),
            False,
        ),
    ],
    ids=["table", "another table", "key", "another key", "a multi-Region key", "a global table of the same name"],
)
def test_g012_a_new_logical_id_is_a_rename_only_for_the_same_table_or_key(
    mutate: Callable[[dict[str, Any]], None], renamed: bool
) -> None:
    assert any(f.rule_id == "G012" for f in guard_case(mutate)) == renamed


def _g004(mutate: Callable[[dict[str, Any]], Any], env: str = "prod") -> list[tuple[str, ...]]:
    """G004's findings (resource, path, message, way forward) when mutate changes the new template."""
    old = read_json(fixture_build() / env / "data.template.json")
    new = copy.deepcopy(old)
    mutate(new)
    found = plan_stack("x", old, new).findings
    return [(f.where, f.path, f.message, f.way_forward) for f in found if f.rule_id == "G004"]


KEEP_RETAIN = "keep Retain; if the data really may go, take a backup first and allow G004 for this deploy"
KEEP_PROTECTION = "keep it on; turn it off only in the deploy right before an intended deletion"
KEEP_KEY = "keep encryption: customer_managed"
KEEP_KEY_ENABLED = "keep the key enabled while any table or backup is encrypted with it"


def _resources(x: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = x["Resources"]
    return resources


def _pitr(x: dict[str, Any]) -> dict[str, Any]:
    pitr: dict[str, Any] = _table(x)["PointInTimeRecoverySpecification"]
    return pitr


@pytest.mark.parametrize(
    ("mutate", "env", "expected"),
    [
        (
            lambda x: _resources(x)["Table"].update(DeletionPolicy="Delete"),
            "prod",
            [("Table", "DeletionPolicy", "DeletionPolicy leaves Retain (now Delete)", KEEP_RETAIN)],
        ),
        (
            lambda x: _resources(x)["Table"].pop("UpdateReplacePolicy"),
            "prod",
            [("Table", "UpdateReplacePolicy", "UpdateReplacePolicy leaves Retain (now Delete (default))", KEEP_RETAIN)],
        ),
        (
            lambda x: _table(x).update(DeletionProtectionEnabled=False),
            "prod",
            [("Table", "DeletionProtectionEnabled", "deletion protection would be turned off", KEEP_PROTECTION)],
        ),
        (
            lambda x: _pitr(x).update(PointInTimeRecoveryEnabled=False),
            "prod",
            [
                (
                    "Table",
                    "PointInTimeRecoverySpecification",
                    "point-in-time recovery would be turned off (its history is lost)",
                    "keep PITR on; its 35-day history cannot be recovered once disabled",
                )
            ],
        ),
        (
            lambda x: _pitr(x).update(RecoveryPeriodInDays=7),
            "prod",
            [
                (
                    "Table",
                    "PointInTimeRecoverySpecification.RecoveryPeriodInDays",
                    "the PITR window shrinks from 35 to 7 days (older restore points are gone at once)",
                    "keep the window; shorten it only after a backup, allowing G004 for that deploy",
                )
            ],
        ),
        (lambda x: _pitr(x).pop("RecoveryPeriodInDays"), "prod", []),  # the default is 35 days
        (lambda x: _pitr(x).update(RecoveryPeriodInDays=34 + 2), "prod", []),
        (
            lambda x: _table(x)["SSESpecification"].pop("KMSMasterKeyId"),
            "prod",
            [("Table", "SSESpecification.KMSMasterKeyId", "the customer managed key would be turned off", KEEP_KEY)],
        ),
        (
            lambda x: _table(x).update(SSESpecification={"SSEEnabled": False}),
            "prod",
            [
                ("Table", "SSESpecification.KMSMasterKeyId", "the customer managed key would be turned off", KEEP_KEY),
                (
                    "Table",
                    "SSESpecification.SSEEnabled",
                    "KMS encryption would be turned off (AWS owned key)",
                    "keep encryption: customer_managed (or aws_managed)",
                ),
            ],
        ),
        (
            lambda x: _resources(x)["TableKey"]["Properties"].update(Enabled=False),
            "prod",
            [
                (
                    "TableKey",
                    "Enabled",
                    "AWS::KMS::Key TableKey would be disabled: the table (or replica) it encrypts becomes inaccessible",
                    KEEP_KEY_ENABLED,
                )
            ],
        ),
        (lambda x: _resources(x)["TableKey"]["Properties"].update(Enabled=True), "prod", []),
        (
            lambda x: _table(x)["Replicas"][1].update(DeletionProtectionEnabled=False),
            "global",
            [
                (
                    "Table",
                    "Replicas[eu-west-1].DeletionProtectionEnabled",
                    "replica eu-west-1: deletion protection would be turned off",
                    KEEP_PROTECTION,
                )
            ],
        ),
        (
            lambda x: _table(x)["Replicas"][1]["SSESpecification"].pop("KMSMasterKeyId"),
            "global",
            [
                (
                    "Table",
                    "Replicas[eu-west-1].SSESpecification.KMSMasterKeyId",
                    "replica eu-west-1: the customer managed key would be turned off",
                    KEEP_KEY,
                )
            ],
        ),
        (lambda x: _resources(x)["ReadThrottleAlarm"].update(DeletionPolicy="Delete"), "prod", []),
    ],
    ids=[
        "deletion policy",
        "update replace policy",
        "deletion protection",
        "pitr off",
        "pitr window shrinks",
        "pitr window default",
        "pitr window grows",
        "key dropped",
        "encryption off",
        "key disabled",
        "key enabled",
        "replica deletion protection",
        "replica key dropped",
        "not a stateful resource",
    ],
)
def test_g004_names_each_protection_turned_off(
    mutate: Callable[[dict[str, Any]], Any], env: str, expected: list[tuple[str, ...]]
) -> None:
    assert _g004(mutate, env) == expected


def test_g004_the_pitr_window_defaults_to_35_days_on_both_sides() -> None:
    def window(days: int | None) -> Callable[[dict[str, Any]], Any]:
        return lambda x: (
            _pitr(x).pop("RecoveryPeriodInDays") if days is None else _pitr(x).update(RecoveryPeriodInDays=days)
        )

    old = read_json(fixture_build() / "prod" / "data.template.json")
    for old_days, new_days, shrinks_from in [(None, 7, 35), (None, 34, 35), (36, None, 36), (35, None, None)]:
        before, after = copy.deepcopy(old), copy.deepcopy(old)
        window(old_days)(before)
        window(new_days)(after)
        said = [f.message for f in plan_stack("x", before, after).findings if f.rule_id == "G004"]
        expected = (
            [
                f"the PITR window shrinks from {shrinks_from} to {new_days or 35} days (older restore points are gone at once)"
            ]
            if shrinks_from
            else []
        )
        assert said == expected, (old_days, new_days)


def test_g004_a_key_without_enabled_is_enabled() -> None:
    old = read_json(fixture_build() / "prod" / "data.template.json")
    new = copy.deepcopy(old)
    _resources(old)["TableKey"]["Properties"].pop("Enabled", None)
    _resources(new)["TableKey"]["Properties"]["Enabled"] = False
    assert [f.path for f in plan_stack("x", old, new).findings if f.rule_id == "G004"] == ["Enabled"]
    # Disabled before, disabled after (the key changes otherwise): not this deploy's doing.
    _resources(old)["TableKey"]["Properties"]["Enabled"] = False
    _resources(new)["TableKey"]["Properties"]["Description"] = "another description"
    assert [f.path for f in plan_stack("x", old, new).findings if f.rule_id == "G004"] == []


def test_g004_a_replaced_table_keeps_its_protections_too() -> None:
    def replaced_unprotected(x: dict[str, Any]) -> None:
        _new_key_schema_and_name(x)
        _table(x)["DeletionProtectionEnabled"] = False

    found = guard_case(replaced_unprotected)
    assert "G001" in {f.rule_id for f in found}
    assert [f.path for f in found if f.rule_id == "G004"] == ["DeletionProtectionEnabled"]


def _way_forward(
    rule_id: str, env: str, mutate_old: Callable[[dict[str, Any]], Any], mutate_new: Callable[[dict[str, Any]], Any]
) -> list[str]:
    old = read_json(fixture_build() / env / "data.template.json")
    mutate_old(old)
    new = copy.deepcopy(old)
    mutate_new(new)
    return [f.way_forward for f in plan_stack("x", old, new).findings if f.rule_id == rule_id]


def test_g002_stages_deletions_one_per_deploy_down_to_none() -> None:
    staged = (
        "(with the access stack where it belongs, as the plan of the environment lists), each waited for and verified"
    )
    assert _way_forward(
        "G002", "prod", lambda x: _add_gsis(x, "ByA"), lambda x: _table(x).update(GlobalSecondaryIndexes=[])
    ) == [f"nothing to do: the table's updates are 1. delete GSI ByUserUpdated; 2. delete GSI ByA {staged}"]
    assert _way_forward(
        "G002",
        "prod",
        lambda x: _add_gsis(x, "ByA", "ByB", "ByC"),
        lambda x: _table(x).update(GlobalSecondaryIndexes=_table(x)["GlobalSecondaryIndexes"][:2]),
    ) == [f"nothing to do: the table's updates are 1. delete GSI ByB; 2. delete GSI ByC {staged}"]


def test_g014_stages_removals_one_per_deploy_down_to_none() -> None:
    removed = "its copy of the table is deleted, see G015"
    assert _way_forward("G014", "global", lambda x: None, lambda x: _table(x).update(Replicas=[])) == [
        "stage it (one replica per deploy, in the replicas: list of the environment): "
        f"deploy 1: remove replica us-east-1, {removed} (replicas then: eu-west-1, ap-southeast-2); "
        f"deploy 2: remove replica eu-west-1, {removed} (replicas then: ap-southeast-2); "
        f"deploy 3: remove replica ap-southeast-2, {removed} (replicas then: none)"
    ]


def _findings(
    rule_id: str, env: str, old_change: Callable[[dict[str, Any]], Any], new_change: Callable[[dict[str, Any]], Any]
) -> list[tuple[str, str]]:
    """(path, message) of rule_id's findings from old (the fixture, changed) to new (old, changed again)."""
    old = read_json(fixture_build() / env / "data.template.json")
    old_change(old)
    new = copy.deepcopy(old)
    new_change(new)
    return [(f.path, f.message) for f in plan_stack("x", old, new).findings if f.rule_id == rule_id]


SWITCH = "DynamoDB allows this switch at most four times in a rolling 24 hours; the plan cannot see earlier switches"


def test_g010_a_table_without_billing_mode_is_provisioned() -> None:
    def on_demand(x: dict[str, Any]) -> None:
        _table(x).update(BillingMode="PAY_PER_REQUEST")
        _table(x).pop("ProvisionedThroughput")

    assert _findings("G010", "staging", lambda x: _table(x).pop("BillingMode"), on_demand) == [
        ("BillingMode", f"billing mode PROVISIONED -> PAY_PER_REQUEST: {SWITCH}")
    ]
    # Back to provisioned (BillingMode left out) is not this switch.
    assert _findings("G010", "staging", on_demand, lambda x: _table(x).pop("BillingMode")) == []


def _index_warm(x: dict[str, Any], reads: int) -> None:
    _table(x)["GlobalSecondaryIndexes"][0]["WarmThroughput"] = {"ReadUnitsPerSecond": reads}


REFUSED = "warm throughput only increases, so DynamoDB refuses the update and the stack rolls back"


def test_g019_names_the_index_whose_warm_throughput_decreases() -> None:
    assert _findings("G019", "global", lambda x: _index_warm(x, 5000), lambda x: _index_warm(x, 4500)) == [
        (
            "GlobalSecondaryIndexes[ByUserUpdated].WarmThroughput.ReadUnitsPerSecond",
            f"GSI ByUserUpdated's warm read throughput 5000 -> 4500 units per second: {REFUSED}",
        )
    ]


def test_g019_an_index_that_gets_its_first_warm_throughput_is_no_decrease() -> None:
    assert _findings("G019", "global", lambda x: None, lambda x: _index_warm(x, 4500)) == []
    assert (
        _findings(
            "G019",
            "global",
            lambda x: _index_warm(x, 4500),
            lambda x: _table(x)["GlobalSecondaryIndexes"][0].pop("WarmThroughput"),
        )
        == []
    )


def test_g019_and_g021_judge_an_update_never_a_replacement() -> None:
    """A table replaced (a new key schema) is G001's: it starts with what its template says."""

    def replaced(x: dict[str, Any]) -> None:
        _table(x)["KeySchema"] = [{"AttributeName": "other", "KeyType": "HASH"}]
        _attr(x, "other", "S")

    def fewer_warm_units_and_two_replicas(x: dict[str, Any]) -> None:
        replaced(x)
        _table(x)["WarmThroughput"]["ReadUnitsPerSecond"] = 100
        _table(x)["Replicas"] += [{"Region": "sa-east-1"}, {"Region": "ca-central-1"}]

    old = read_json(fixture_build() / "global" / "data.template.json")
    new = copy.deepcopy(old)
    fewer_warm_units_and_two_replicas(new)
    found = {f.rule_id for f in plan_stack("x", old, new).findings}
    assert "G001" in found and not found & {"G019", "G021"}


def test_g002_g003_g008_and_g009_judge_an_update_never_a_replacement() -> None:
    def replaced_with_new_indexes_and_ttl(x: dict[str, Any]) -> None:
        _new_key_schema_and_name(x)
        _table(x)["TimeToLiveSpecification"]["AttributeName"] = "ttl"
        _table(x)["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "ALL"}
        _add_gsis(x, "ByA", "ByB")
        _table(x)["StreamSpecification"]["StreamViewType"] = "KEYS_ONLY"
        _table(x)["SSESpecification"]["KMSMasterKeyId"] = "arn:other"

    found = {f.rule_id for f in guard_case(replaced_with_new_indexes_and_ttl)}
    assert "G001" in found and not found & {"G002", "G003", "G005", "G008", "G009"}


def test_g014_g015_and_g017_judge_a_global_table_update_never_a_replacement() -> None:
    def replaced_with_other_replicas_and_witnesses(x: dict[str, Any]) -> None:
        _new_key_schema_and_name(x)
        _table(x)["Replicas"] = _table(x)["Replicas"][:1] + [{"Region": "sa-east-1"}]
        _table(x)["GlobalTableWitnesses"] = [{"Region": "eu-west-2"}, {"Region": "eu-west-3"}]

    found = {f.rule_id for f in guard_case(replaced_with_other_replicas_and_witnesses, env="global")}
    assert "G001" in found and not found & {"G014", "G015", "G017"}


def test_g012_a_table_that_stays_is_never_renamed() -> None:
    """A table kept (and changed) beside a removed or an added one of the same name: no rename."""

    def copy_of_the_table(x: dict[str, Any]) -> None:
        x["Resources"]["Copy"] = copy.deepcopy(x["Resources"]["Table"])

    def changed(x: dict[str, Any]) -> None:
        _table(x)["DeletionProtectionEnabled"] = False

    def changed_and_copied(x: dict[str, Any]) -> None:
        changed(x)
        copy_of_the_table(x)

    assert [f for f in guard_case(changed_and_copied) if f.rule_id == "G012"] == []
    old = read_json(fixture_build() / "prod" / "data.template.json")
    copy_of_the_table(old)
    new = copy.deepcopy(old)
    new["Resources"].pop("Copy")
    changed(new)
    assert [f for f in plan_stack("x", old, new).findings if f.rule_id == "G012"] == []


def test_g003_a_table_that_had_no_properties() -> None:
    old = read_json(fixture_build() / "prod" / "data.template.json")
    new = copy.deepcopy(old)
    del old["Resources"]["Table"]["Properties"]
    assert [f for f in plan_stack("x", old, new).findings if f.rule_id == "G003"] == []
    assert [f for f in plan_stack("x", new, old).findings if f.rule_id == "G003"] == []


def _said(
    rule_id: str,
    env: str,
    new_change: Callable[[dict[str, Any]], Any],
    old_change: Callable[[dict[str, Any]], Any] = lambda x: None,
) -> list[tuple[str, ...]]:
    """(resource, path, message, way forward) of rule_id's findings."""
    old = read_json(fixture_build() / env / "data.template.json")
    old_change(old)
    new = copy.deepcopy(old)
    new_change(new)
    return [
        (f.where, f.path, f.message, f.way_forward) for f in plan_stack("x", old, new).findings if f.rule_id == rule_id
    ]


def _new_key_schema_and_name(x: dict[str, Any]) -> None:
    _table(x)["TableName"] = "other"
    _table(x)["KeySchema"] = [{"AttributeName": "o", "KeyType": "HASH"}]
    _attr(x, "o", "S")


def test_g001_a_removed_table_and_every_reason_of_a_replacement() -> None:
    assert _said("G001", "prod", lambda x: _resources(x).pop("Table")) == [
        (
            "Table",
            "(resource)",
            "AWS::DynamoDB::Table Table would be removed from the stack",
            "keep the resource; to retire it, first set DeletionPolicy Retain in its own deploy, then remove it, "
            "and delete the data by hand after a backup",
        )
    ]
    assert _said("G001", "prod", _new_key_schema_and_name) == [
        (
            "Table",
            "KeySchema, TableName",
            "AWS::DynamoDB::Table Table would be REPLACED (a new, empty resource) because KeySchema, TableName changed; "
            "CloudFormation cannot change it in place",
            "raise the design's generation and declare how items move (migration:); the plan then shows a new data "
            "stack beside this one, and make migrate fills it, freezes and retires the old (docs/migrations.md)",
        )
    ]
    assert _said("G001", "prod", lambda x: _resources(x).pop("ReadThrottleAlarm")) == []


def test_g005_a_replicas_key_change_and_no_key_before() -> None:
    def other_key(x: dict[str, Any]) -> None:
        _table(x)["Replicas"][1]["SSESpecification"]["KMSMasterKeyId"] = "arn:other"

    assert _said("G005", "global", other_key) == [
        (
            "Table",
            "Replicas[eu-west-1].SSESpecification.KMSMasterKeyId",
            "replica eu-west-1: the table's encryption key changes from "
            "arn:${AWS::Partition}:kms:eu-west-1:${AWS::AccountId}:key/${GlobalTableKey} to arn:other",
            "add the new key and grant it to every role first, switch the table in its own deploy, and keep the old "
            "key enabled until DynamoDB reports the switch done",
        )
    ]
    # A key where there was none is a key added (G004 guards the reverse).
    assert _said("G005", "prod", lambda x: None, lambda x: _table(x)["SSESpecification"].pop("KMSMasterKeyId")) == []


def test_g011_another_stateful_type_is_moved_by_import_and_a_stateless_one_passes() -> None:
    assert _said("G011", "prod", lambda x: _resources(x)["TableKey"].update(Type="AWS::KMS::ReplicaKey")) == [
        (
            "TableKey",
            "Type",
            "TableKey changes type AWS::KMS::Key -> AWS::KMS::ReplicaKey: CloudFormation creates a new resource and "
            "deletes the old one (the table's data with it)",
            "keep the resource Retained; deploy its removal from the stack (it stays, unmanaged); import it into the "
            "stack as the new type with an IMPORT change set; then change it in later, reviewed deploys",
        )
    ]
    assert _said("G011", "prod", lambda x: _resources(x)["ReadThrottleAlarm"].update(Type="AWS::SNS::Topic")) == []


def test_g015_the_stacks_own_replica_and_one_without_deletion_protection() -> None:
    assert _said("G015", "global", lambda x: _table(x)["Replicas"].pop(0)) == [
        (
            "Table",
            "Replicas[us-east-1]",
            "the replica in the stack's own Region us-east-1 would be removed: CloudFormation requires the stack's "
            "Region in Replicas and cannot remove it (the update fails, or deletes the table there)",
            "keep the us-east-1 replica; a table that must leave us-east-1 is a new stack in another Region (a new "
            "environment), with the data migrated to it",
        )
    ]

    def unprotected(x: dict[str, Any]) -> None:
        _table(x)["Replicas"][2]["DeletionProtectionEnabled"] = False

    (finding,) = _said("G015", "global", lambda x: _table(x)["Replicas"].pop(2), unprotected)
    assert finding[2] == (
        "replica ap-southeast-2 would be removed: DynamoDB deletes the table's copy in ap-southeast-2 "
        "(DeletionPolicy Retain does not keep a removed replica)"
    )


def test_g007_names_every_key_attribute_whose_type_changes() -> None:
    def binary_keys(x: dict[str, Any]) -> None:
        for definition in _table(x)["AttributeDefinitions"]:
            if definition["AttributeName"] in ("userId", "sk"):
                definition["AttributeType"] = "B"

    ((_, path, message, _),) = _said("G007", "prod", binary_keys)
    assert (path, message) == (
        "AttributeDefinitions",
        "key attribute type changes (userId S -> B, sk S -> B): CloudFormation would REPLACE Table with a new, empty table",
    )


def test_g009_only_a_view_type_changed_on_an_enabled_stream_of_a_table_not_replicated() -> None:
    assert _said("G009", "prod", lambda x: _table(x).pop("StreamSpecification")) == []
    assert _said("G009", "prod", lambda x: None, lambda x: _table(x).pop("StreamSpecification")) == []
    # A global table with replicas: G018's.
    assert _said("G009", "global", lambda x: _table(x)["StreamSpecification"].update(StreamViewType="KEYS_ONLY")) == []


def _one_replica(x: dict[str, Any]) -> None:
    _table(x)["Replicas"] = _table(x)["Replicas"][:1]


def test_g018_with_one_replica_now_change_the_stream_first() -> None:
    def keys_only_and_a_replica(x: dict[str, Any]) -> None:
        _table(x)["StreamSpecification"]["StreamViewType"] = "KEYS_ONLY"
        _table(x)["Replicas"].append({"Region": "eu-west-1"})

    assert _said("G018", "global", keys_only_and_a_replica, _one_replica) == [
        (
            "Table",
            "StreamSpecification",
            "stream NEW_AND_OLD_IMAGES -> KEYS_ONLY on a global table with 2 replicas: CloudFormation changes a global "
            "table's stream only while it has one replica, so the update fails",
            "deploy 1: change the stream while the table has its one replica; deploy 2: add the replica (one per "
            "deploy, G014)",
        )
    ]


def test_g018_a_stream_removed_from_a_replicated_table() -> None:
    ((_, _, message, way),) = _said("G018", "global", lambda x: _table(x).pop("StreamSpecification"))
    assert message.startswith("stream NEW_AND_OLD_IMAGES -> none on a global table with 3 replicas:")
    assert way.startswith("keep stream_view_type: NEW_AND_OLD_IMAGES (global table replication needs the stream);")


def test_g020_either_direction() -> None:
    ((_, path, message, _),) = _said(
        "G020", "global", lambda x: _resources(x)["GlobalTableKey"]["Properties"].update(MultiRegion=False)
    )
    assert (path, message) == (
        "MultiRegion",
        "GlobalTableKey: MultiRegion true -> false: a key cannot change it, so CloudFormation refuses the update and "
        "the stack rolls back",
    )


G018_ONE_REPLICA_ONLY = (
    "CloudFormation changes a global table's stream only while it has one replica, so the update fails"
)
G018_DOWN_TO_ONE = (
    "(global table replication needs the stream); to change it, the table must first be down to one replica "
    "(removing replicas deletes their copies, G015), then the stream changes (a new stream ARN: move consumers), then "
    "the replicas are added back one per deploy"
)


def test_g018_two_replicas_now_are_already_too_many() -> None:
    def two_replicas(x: dict[str, Any]) -> None:
        _table(x)["Replicas"] = _table(x)["Replicas"][:2]

    assert _said(
        "G018", "global", lambda x: _table(x)["StreamSpecification"].update(StreamViewType="KEYS_ONLY"), two_replicas
    ) == [
        (
            "Table",
            "StreamSpecification",
            f"stream NEW_AND_OLD_IMAGES -> KEYS_ONLY on a global table with 2 replicas: {G018_ONE_REPLICA_ONLY}",
            f"keep stream_view_type: NEW_AND_OLD_IMAGES {G018_DOWN_TO_ONE}",
        )
    ]


def test_g018_a_stream_added_to_a_replicated_table() -> None:
    assert _said(
        "G018",
        "global",
        lambda x: _table(x).update(StreamSpecification={"StreamViewType": "KEYS_ONLY"}),
        lambda x: _table(x).pop("StreamSpecification"),
    ) == [
        (
            "Table",
            "StreamSpecification",
            f"stream none -> KEYS_ONLY on a global table with 3 replicas: {G018_ONE_REPLICA_ONLY}",
            f"keep stream_view_type: none {G018_DOWN_TO_ONE}",
        )
    ]


def test_g018_not_while_strong_before_or_after() -> None:
    """Multi-Region strong consistency is G016's (a table keeps the mode it was created with)."""

    def mode_and_stream(mode: str) -> Callable[[dict[str, Any]], None]:
        return lambda x: _table(x).update(
            MultiRegionConsistency=mode, StreamSpecification={"StreamViewType": "KEYS_ONLY"}
        )

    assert _said("G018", "strong", mode_and_stream("EVENTUAL")) == []
    assert _said("G018", "global", mode_and_stream("STRONG")) == []


def test_g017_names_every_witness_before_and_after_or_none() -> None:
    def two(x: dict[str, Any]) -> None:
        _table(x)["GlobalTableWitnesses"] = [{"Region": "eu-west-2"}, {"Region": "eu-west-3"}]

    def none(x: dict[str, Any]) -> None:
        _table(x).pop("GlobalTableWitnesses")

    one_per_update = "DynamoDB creates or deletes one witness per update"
    assert _said("G017", "strong", two, none) == [
        (
            "Table",
            "GlobalTableWitnesses",
            f"2 witness creations/deletions in one update (none -> eu-west-2, eu-west-3); {one_per_update}",
            "stage it: deploy 1: create the witness in eu-west-2; deploy 2: create the witness in eu-west-3",
        )
    ]
    assert _said("G017", "strong", none, two) == [
        (
            "Table",
            "GlobalTableWitnesses",
            f"2 witness creations/deletions in one update (eu-west-2, eu-west-3 -> none); {one_per_update}",
            "stage it: deploy 1: delete the witness in eu-west-2; deploy 2: delete the witness in eu-west-3",
        )
    ]


G011_BY_IMPORT = (
    "keep the resource Retained; deploy its removal from the stack (it stays, unmanaged); import it into the stack as "
    "the new type with an IMPORT change set; then change it in later, reviewed deploys"
)


@pytest.mark.parametrize(
    ("logical_id", "old_type", "new_type"),
    [
        ("Table", "AWS::DynamoDB::Table", "AWS::SNS::Topic"),
        ("ReadThrottleAlarm", "AWS::CloudWatch::Alarm", "AWS::DynamoDB::Table"),
    ],
    ids=["from a table", "into a table"],
)
def test_g011_a_type_change_from_or_into_a_stateful_type(logical_id: str, old_type: str, new_type: str) -> None:
    assert _said("G011", "prod", lambda x: _resources(x)[logical_id].update(Type=new_type)) == [
        (
            logical_id,
            "Type",
            f"{logical_id} changes type {old_type} -> {new_type}: CloudFormation creates a new resource and deletes "
            "the old one (the table's data with it)",
            G011_BY_IMPORT,
        )
    ]


def test_g015_the_stacks_own_replica_and_another_both_removed() -> None:
    found = _said("G015", "global", lambda x: _table(x).update(Replicas=_table(x)["Replicas"][1:2]))
    assert [path for _, path, _, _ in found] == ["Replicas[us-east-1]", "Replicas[ap-southeast-2]"]


# -- each spec rule's edges: the last value it accepts and the first it refuses, written out --------------


def _check_role(role_name: str, policy_chars: int) -> list[tuple[str, str]]:
    from templates_src.spec.rules.access_limits import check_role

    source = load_spec(FIXTURE_ENVIRONMENTS / "prod.yaml", FIXTURE_DESIGNS).source
    return [(d.rule_id, d.path) for d in check_role(source, "app", role_name, policy_chars)]


def test_a001_a002_a_role_name_of_64_characters_and_a_policy_of_10240_are_allowed() -> None:
    assert _check_role("r" * 64, 10240) == []
    assert _check_role("r" * 65, 10240) == [("A001", "stack_prefix")]
    assert _check_role("r" * 64, 10241) == [("A002", "access.roles.app")]


@pytest.mark.parametrize("name", ["a", "qa", "qa1", "prod-eu-2", "x-"])
def test_f002_lowercase_letters_digits_and_hyphens_after_a_letter(name: str) -> None:
    from templates_src.spec.rules.files import valid_environment_name

    assert valid_environment_name(name)


@pytest.mark.parametrize("name", ["", "1qa", "-qa", "Prod", "pRod", "qa_1", "qa.1", "qa 1"])
def test_f002_refused_environment_names(name: str) -> None:
    from templates_src.spec.rules.files import valid_environment_name

    assert not valid_environment_name(name)


def test_d103_a_sample_items_key_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    def numbers_as_sort_key(d: Design) -> None:
        d["sort_key"] = {"name": "sk", "type": "N"}
        d["sample_items"] = [
            {"userId": "u-1", "sk": 7},
            {"userId": "u-1", "sk": "CONV#c-1"},
            {"userId": "u", "sk": True},
        ]

    found = [d for d in design_case(tmp_path, numbers_as_sort_key) if d.rule_id == "D103"]
    assert [(d.path, d.message) for d in found] == [
        (
            "sample_items[1].sk",
            "the key attribute 'sk' (N): the sample item holds 'CONV#c-1', not of type N; DynamoDB refuses such a put "
            "(make local would stop on it)",
        ),
        (
            "sample_items[2].sk",
            "the key attribute 'sk' (N): the sample item holds True, not of type N; DynamoDB refuses such a put "
            "(make local would stop on it)",
        ),
    ]


def test_d103_each_key_attribute_of_each_sample_item_and_binary_keys_unchecked(tmp_path: Path) -> None:
    def keys(d: Design) -> None:
        d["partition_key"] = {"name": "userId", "type": "B"}
        d["global_secondary_indexes"] = []
        d["sort_key"] = {"name": "sk", "type": "N"}
        d["sample_items"] = [
            {"userId": "u", "sk": 1.5},
            {"sk": False},
            {"userId": 3, "sk": None},
            {"userId": "x", "sk": 2},
        ]

    found = [(d.path, d.message) for d in design_case(tmp_path, keys) if d.rule_id == "D103"]
    assert found == [
        (
            "sample_items[1].userId",
            "the key attribute 'userId' (B): the sample item lacks it; DynamoDB refuses such a put (make local would "
            "stop on it)",
        ),
        (
            "sample_items[1].sk",
            "the key attribute 'sk' (N): the sample item holds False, not of type N; DynamoDB refuses such a put "
            "(make local would stop on it)",
        ),
        (
            "sample_items[2].sk",
            "the key attribute 'sk' (N): the sample item lacks it; DynamoDB refuses such a put (make local would stop "
            "on it)",
        ),
    ]


def test_d505_names_each_use_of_a_renamed_or_dropped_attribute_but_not_a_reused_name(tmp_path: Path) -> None:
    def renames(d: Design) -> None:
        d["generation"] = 2
        d["local_secondary_indexes"] = [
            {
                "name": "ByTitle",
                "sort_key": {"name": "subject", "type": "S"},
                "projection": "INCLUDE",
                "non_key_attributes": ["role", "title"],
            }
        ]
        # title is renamed away, and content renamed to it: the new items carry a title.
        d["migration"] = {
            "keys": {"userId": "{userId}", "sk": "{sk}"},
            "rename": {"title": "subject", "role": "author", "content": "title"},
            "drop": ["messageCount"],
        }

    found = [(d.path, d.message) for d in design_case(tmp_path, renames) if d.rule_id == "D505"]
    tail = "by migration: the new table's items do not carry it; name the new attribute here (or none)"
    assert found == [
        ("global_secondary_indexes[ByUserUpdated].non_key_attributes[2]", f"'messageCount' is dropped {tail}"),
        ("local_secondary_indexes[ByTitle].non_key_attributes[0]", f"'role' is renamed to 'author' {tail}"),
        ("access_patterns[get-conversation].attributes[3]", f"'messageCount' is dropped {tail}"),
        ("access_patterns[list-messages].attributes[0]", f"'role' is renamed to 'author' {tail}"),
        ("access_patterns[list-messages].attributes[1]", f"'content' is renamed to 'title' {tail}"),
        ("access_patterns[list-my-conversations].attributes[3]", f"'messageCount' is dropped {tail}"),
        ("access_patterns[add-my-message].attributes[0]", f"'content' is renamed to 'title' {tail}"),
        ("protected_attributes[1]", f"'role' is renamed to 'author' {tail}"),
        ("protected_attributes[2]", f"'messageCount' is dropped {tail}"),
    ]


def test_n701_n702_each_replica_under_an_existing_key_after_one_without_a_key(tmp_path: Path) -> None:
    def keys(e: Env) -> None:
        e["encryption"] = {"kms_key_arn": f"arn:aws:kms:us-east-1:444444444444:key/{KEY_UUID}"}
        e["replicas"][1]["kms_key_arn"] = f"arn:aws:kms:us-west-2:444444444444:key/{KEY_UUID}"

    found = [(d.rule_id, d.path, d.message) for d in env_case(tmp_path, keys, base="global")]
    assert found == [
        (
            "N702",
            "replicas[0].kms_key_arn",
            "the table is under an existing key, so the replica in eu-west-1 needs one of its own Region: name it "
            "(kms_key_arn: arn:aws:kms:eu-west-1:...), or use encryption: customer_managed (the project creates a "
            "multi-Region key and its replicas) or aws_managed",
        ),
        (
            "N701",
            "replicas[1].kms_key_arn",
            "the key is in us-west-2, the replica in ap-southeast-2: DynamoDB uses a key of the replica's own Region",
        ),
    ]


def _strong_replicas(*regions: str) -> list[dict[str, Any]]:
    return [{"region": r, "read": {"min": 10, "max": 200}} for r in regions]


@pytest.mark.parametrize(
    ("mutate", "said"),
    [
        (
            lambda e: e.update(region="sa-east-1"),
            [
                (
                    "N603",
                    "region",
                    "sa-east-1 is in no multi-Region strong consistency Region set (sets: us-east-1, us-east-2, "
                    "us-west-2; eu-west-1, eu-west-2, eu-west-3, eu-central-1; ap-northeast-1, ap-northeast-2, "
                    "ap-northeast-3)",
                )
            ],
        ),
        (
            lambda e: e.update(replicas=_strong_replicas("eu-west-3", "eu-central-1")),
            [
                (
                    "N604",
                    "replicas",
                    "3 replica(s) counting the environment's region and a witness: STRONG needs 3 replicas, "
                    "or 2 and a witness_region",
                )
            ],
        ),
        (lambda e: (e.pop("witness_region"), e.update(replicas=_strong_replicas("eu-west-3", "eu-central-1"))), []),
    ],
    ids=["home in no Region set", "witness counted among the Regions used", "three replicas, no witness"],
)
def test_strong_consistency_regions_say_exactly_what_is_wrong(
    mutate: Callable[[Env], Any], said: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    found = env_case(tmp_path, mutate, base="strong")
    assert [(d.rule_id, d.path, d.message) for d in found if d.rule_id in ("N603", "N604")] == said


@pytest.mark.parametrize(
    ("mutate", "said"),
    [
        (
            lambda e: _traffic(e)["append-message"].update(consistent_read=True),
            [
                (
                    "N502",
                    "traffic.patterns.append-message.consistent_read",
                    "TransactWriteItems is a write; consistency applies to reads",
                )
            ],
        ),
        (lambda e: _traffic(e)["get-conversation"].update(items=1), []),
        # 730 hours of 3600 s: 2628000 a month is 1/s on average.
        (lambda e: _traffic(e)["get-conversation"].update(per_month=2628000, peak_per_second=1), []),
        (
            lambda e: _traffic(e)["get-conversation"].update(per_month=2628000, peak_per_second=0.5),
            [
                (
                    "N504",
                    "traffic.patterns.get-conversation.peak_per_second",
                    "0.5/s is below the average of per_month (1/s)",
                )
            ],
        ),
    ],
    ids=["consistent write", "items at the most", "peak at the average", "peak below the average"],
)
def test_a_patterns_traffic_is_checked_against_its_operation_at_the_limits(
    mutate: Callable[[Env], Any], said: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    found = env_case(tmp_path, mutate)
    assert [(d.rule_id, d.path, d.message) for d in found if d.rule_id in ("N502", "N503", "N504")] == said


def test_a_per_user_pattern_on_an_unknown_index_is_told_the_index_alone(tmp_path: Path) -> None:
    found = design_case(tmp_path, lambda d: _pattern(d, "list-my-conversations").update(index="ByNothing"))
    assert [(d.rule_id, d.path, d.message) for d in found] == [
        ("D303", "access_patterns[list-my-conversations].index", "unknown index 'ByNothing'; allowed: ByUserUpdated")
    ]


def _second_gsi(d: Design) -> None:
    gsi = copy.deepcopy(d["global_secondary_indexes"][0])
    gsi["name"] = "ByTitle"
    d["global_secondary_indexes"].append(gsi)


@pytest.mark.parametrize(
    ("mutate", "said"),
    [
        (
            lambda d: _pattern(d, "add-my-message").update(item_operations=["PutItem", "UpdateItem"]),
            [
                (
                    "D315",
                    "access_patterns[add-my-message].operation",
                    "a PutItem replaces the whole item and would drop protected attributes (expiresAt, role, "
                    "messageCount); give per_user an UpdateItem (SET) pattern instead",
                )
            ],
        ),
        (
            lambda d: _pattern(d, "start-my-conversation").update(
                attributes=["conversationId", "title", "role", "messageCount"]
            ),
            [
                (
                    "D314",
                    "access_patterns[start-my-conversation].attributes",
                    "messageCount, role: protected (protected_attributes); a per_user client must never write it",
                )
            ],
        ),
        (
            lambda d: _pattern(d, "get-conversation").update(index_writes={"ByUserUpdated": 1}),
            [("D316", "access_patterns[get-conversation].index_writes", "GetItem writes no index")],
        ),
        (lambda d: _pattern(d, "create-conversation").update(index_writes={"ByUserUpdated": 0}), []),
        (lambda d: _pattern(d, "create-conversation").update(index_writes={"ByUserUpdated": 2}), []),
        (
            lambda d: _pattern(d, "create-conversation").update(index_writes={"ByUserUpdated": 3}),
            [
                (
                    "D316",
                    "access_patterns[create-conversation].index_writes.ByUserUpdated",
                    "3.0 writes per item; allowed 0 to 2",
                )
            ],
        ),
        (
            lambda d: (_second_gsi(d), _pattern(d, "create-conversation").update(index_writes={"ByNothing": 1})),
            [
                (
                    "D316",
                    "access_patterns[create-conversation].index_writes.ByNothing",
                    "unknown GSI 'ByNothing'; allowed: ByUserUpdated, ByTitle",
                )
            ],
        ),
        (
            lambda d: (
                d.update(global_secondary_indexes=[]),
                _pattern(d, "create-conversation").update(index_writes={"ByNothing": 1}),
            ),
            [
                (
                    "D316",
                    "access_patterns[create-conversation].index_writes.ByNothing",
                    "unknown GSI 'ByNothing'; allowed: (the design has no GSIs)",
                )
            ],
        ),
    ],
    ids=[
        "per_user put in a transaction",
        "per_user writes protected attributes",
        "index writes of a read",
        "no index writes",
        "index writes at the most",
        "index writes over the most",
        "index writes of an unknown GSI",
        "index writes without GSIs",
    ],
)
def test_a_patterns_writes_say_exactly_what_is_wrong(
    mutate: Callable[[Design], Any], said: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    found = design_case(tmp_path, mutate)
    assert [(d.rule_id, d.path, d.message) for d in found if d.rule_id in ("D314", "D315", "D316")] == said


@pytest.mark.parametrize(
    ("mutate", "said"),
    [
        (
            lambda d: _pattern(d, "rename-conversation").update(item_operations=["UpdateItem"]),
            [
                (
                    "D304",
                    "access_patterns[rename-conversation].item_operations",
                    "only TransactWriteItems takes item_operations",
                )
            ],
        ),
        (
            lambda d: (_second_gsi(d), _pattern(d, "list-my-conversations").update(index="ByNothing")),
            [
                (
                    "D303",
                    "access_patterns[list-my-conversations].index",
                    "unknown index 'ByNothing'; allowed: ByUserUpdated, ByTitle",
                )
            ],
        ),
        (
            lambda d: (
                d.update(global_secondary_indexes=[]),
                _pattern(d, "list-user-conversations").update(index="ByNothing"),
            ),
            [
                (
                    "D303",
                    "access_patterns[list-user-conversations].index",
                    "unknown index 'ByNothing'; allowed: (the design has no indexes)",
                )
            ],
        ),
    ],
    ids=["item operations outside a transaction", "unknown index of two", "unknown index of none"],
)
def test_a_patterns_operation_and_index_say_exactly_what_is_wrong(
    mutate: Callable[[Design], Any], said: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    found = design_case(tmp_path, mutate)
    got = [(d.rule_id, d.path, d.message) for d in found if d.rule_id in ("D303", "D304")]
    assert [g for g in got if g[1] == said[0][1]] == said


@pytest.mark.parametrize(
    ("mutate", "said"),
    [
        (
            lambda d: _pattern(d, "list-messages").pop("key_condition"),
            [("D307", "Query needs a key_condition")],
        ),
        (
            lambda d: _pattern(d, "list-messages").update(key_condition="title = :userId"),
            [("D309", "partition attribute 'title' is not the partition key of the table ('userId')")],
        ),
        (
            lambda d: d.pop("sort_key"),
            [("D309", "the table has no sort key; drop the sort-key part")],
        ),
    ],
    ids=["query without a key condition", "partition attribute not the key", "sort part without a sort key"],
)
def test_a_patterns_key_condition_says_exactly_what_is_wrong(
    mutate: Callable[[Design], Any], said: list[tuple[str, str]], tmp_path: Path
) -> None:
    found = design_case(tmp_path, mutate)
    path = "access_patterns[list-messages].key_condition"
    assert [(d.rule_id, d.message) for d in found if d.path == path] == said


@pytest.mark.parametrize(
    ("projection", "attributes", "expected"),
    [
        ("INCLUDE", None, ["projection INCLUDE needs at least one non_key_attributes entry"]),
        ("INCLUDE", [], ["projection INCLUDE needs at least one non_key_attributes entry"]),
        ("ALL", None, []),
        ("KEYS_ONLY", None, []),
        (
            "KEYS_ONLY",
            ["title"],
            ["non_key_attributes is only allowed with projection INCLUDE (this index projects KEYS_ONLY)"],
        ),
    ],
)
def test_d205_include_needs_its_attributes_and_only_include_takes_any(
    projection: str, attributes: list[str] | None, expected: list[str], tmp_path: Path
) -> None:
    def index(d: Design) -> None:
        gsi = d["global_secondary_indexes"][0]
        gsi["projection"] = projection
        if attributes is None:
            del gsi["non_key_attributes"]
        else:
            gsi["non_key_attributes"] = attributes

    found = [d for d in design_case(tmp_path, index) if d.rule_id.startswith("D2")]
    assert [(d.rule_id, d.path, d.message) for d in found] == [
        ("D205", "global_secondary_indexes[ByUserUpdated].non_key_attributes", message) for message in expected
    ]


@pytest.mark.parametrize(("gsis", "lsis", "expected"), [(20, 5, []), (21, 5, ["D201"]), (20, 6, ["D202"])])
def test_d201_d202_the_index_quotas_allow_exactly_their_limit(
    gsis: int, lsis: int, expected: list[str], tmp_path: Path
) -> None:
    """20 GSIs and 5 LSIs per table (DynamoDB service quotas); one more of either is refused."""

    def indexes(d: Design) -> None:
        first = d["global_secondary_indexes"][0]
        d["global_secondary_indexes"] += [{**first, "name": f"Extra{i}"} for i in range(1, gsis)]
        d["local_secondary_indexes"] = [
            {"name": f"Local{i}", "sort_key": {"name": f"at{i}", "type": "S"}, "projection": "KEYS_ONLY"}
            for i in range(lsis)
        ]

    found = [d.rule_id for d in design_case(tmp_path, indexes) if d.rule_id in ("D201", "D202")]
    assert found == expected


def test_d203_a_table_without_a_sort_key_may_have_no_lsi_but_needs_none(tmp_path: Path) -> None:
    def without_sort_key(d: Design) -> None:
        del d["sort_key"]

    assert [d for d in design_case(tmp_path, without_sort_key) if d.rule_id == "D203"] == []


def test_d2xx_an_lsis_problem_is_named_by_its_path_among_the_lsis(tmp_path: Path) -> None:
    def lsi(d: Design) -> None:
        d["local_secondary_indexes"] = [
            {"name": "ByTitle", "sort_key": {"name": "title", "type": "S"}, "projection": "INCLUDE"}
        ]

    found = [(d.rule_id, d.path) for d in design_case(tmp_path, lsi) if d.rule_id == "D205"]
    assert found == [("D205", "local_secondary_indexes[ByTitle].non_key_attributes")]


def test_n613_transactions_and_lsis_of_one_design(tmp_path: Path) -> None:
    found = [
        d.message
        for d in design_env_case(tmp_path, "conversations", _with_an_lsi, "strong", lambda e: None)
        if d.rule_id == "N613"
    ]
    assert found == [
        "design 'conversations' uses transactions (access patterns add-my-message, append-message) and local "
        "secondary indexes, which multi-Region strong consistency does not support; use EVENTUAL, or a design "
        "without them"
    ]


def test_n613_ttl_alone_is_the_environments_to_remove(tmp_path: Path) -> None:
    found = env_case(tmp_path, lambda e: e.update(ttl_days=30), base="strong")
    assert [d.message for d in found if d.rule_id == "N613"] == [
        "ttl_days sets TTL, which multi-Region strong consistency does not support; use EVENTUAL, or no ttl_days"
    ]


def test_n613_names_each_feature_strong_consistency_lacks(tmp_path: Path) -> None:
    """An LSI in the design and TTL in the environment: both named, in one finding."""
    found = design_env_case(tmp_path, "messages", _with_an_lsi, "strong", lambda e: e.update(ttl_days=30))
    found = [d for d in found if d.rule_id == "N613"]
    assert [(d.path, d.message) for d in found] == [
        (
            "multi_region_consistency",
            "design 'messages' uses local secondary indexes and ttl_days sets TTL, which multi-Region strong "
            "consistency does not support; use EVENTUAL, or a design without them and no ttl_days",
        )
    ]


def test_n404_names_every_whole_account_principal_of_a_role_after_a_role_left_out(tmp_path: Path) -> None:
    """An account id and an account's root ARN, on the reader, with no app role before it."""

    def trust(e: Env) -> None:
        del e["access"]["roles"]["app"]
        e["access"]["roles"]["reader"]["trusted"] = [
            "arn:aws:iam::333333333333:role/support-analytics",
            "arn:aws:iam::333333333333:root",
            "444444444444",
        ]

    found = [(d.path, d.message) for d in env_case(tmp_path, trust) if d.rule_id == "N404"]
    assert found == [
        (
            "access.roles.reader.trusted",
            "arn:aws:iam::333333333333:root, 444444444444: trusts every principal of the account; name the role "
            "(arn:...:role/...) or set trust_whole_account: true",
        )
    ]


def test_n501_an_unknown_pattern_does_not_hide_the_next_patterns_problem(tmp_path: Path) -> None:
    def traffic(e: Env) -> None:
        e["traffic"]["patterns"] = {"no-such": {"per_month": 1, "item_kb": 1}, **_traffic(e)}
        _traffic(e)["get-conversation"]["items"] = 2

    found = [(d.rule_id, d.path) for d in env_case(tmp_path, traffic) if d.rule_id.startswith("N5")]
    assert found == [("N501", "traffic.patterns.no-such"), ("N503", "traffic.patterns.get-conversation.items")]


@pytest.mark.parametrize(
    ("gsis", "allowed"),
    [(["ByUserUpdated", "ByTitle"], "ByUserUpdated, ByTitle"), ([], "(the design has no GSIs)")],
)
def test_n505_an_unknown_index_is_told_the_designs_gsis_or_that_it_has_none(
    gsis: list[str], allowed: str, tmp_path: Path
) -> None:
    def indexes(d: Design) -> None:
        first = d["global_secondary_indexes"][0]
        d["global_secondary_indexes"] = [{**first, "name": name} for name in gsis]
        if not gsis:  # and the patterns that query one
            d["access_patterns"] = [p for p in d["access_patterns"] if "index" not in p]

    def traffic(e: Env) -> None:
        e["traffic"]["index_gb"] = {"ByNothing": 1}

    found = [
        (d.path, d.message)
        for d in design_env_case(tmp_path, "conversations", indexes, "prod", traffic)
        if d.rule_id == "N505"
    ]
    assert found == [("traffic.index_gb.ByNothing", f"unknown GSI 'ByNothing'; allowed: {allowed}")]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"k" * 128: "v" * 256, "a": ""}, []),  # each at its limit: allowed
        ({"": "v"}, [("N301", "tags.", "tag key length must be 1..128 (got 0)")]),
        ({"k" * 129: "v"}, [("N301", "tags." + "k" * 129, "tag key length must be 1..128 (got 129)")]),
        ({"a": "v" * 257}, [("N303", "tags.a", "tag value length must be 0..256 (got 257)")]),
        (
            {"bad*key": "v"},
            [
                (
                    "N304",
                    "tags.bad*key",
                    "tag key has '*' (U+002A); AWS allows only letters, digits, spaces and _ . : / = + - @",
                )
            ],
        ),
        ({f"T{i}": "v" for i in range(47)}, []),  # 47 and the 3 standard tags: 50, the most
        (
            {f"T{i}": "v" for i in range(48)},
            [("N305", "tags", "48 tags plus 3 standard ones; at most 50 per resource: remove 1")],
        ),
    ],
    ids=["at the limits", "empty key", "long key", "long value", "key character", "50 tags", "51 tags"],
)
def test_n3xx_tags_at_and_past_each_limit(
    tags: dict[str, str], expected: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    found = env_case(tmp_path, lambda e: e.update(tags=tags))
    assert [(d.rule_id, d.path, d.message) for d in found if d.rule_id.startswith("N3")] == expected


def test_n3xx_a_replicas_own_tags_are_checked_once_and_counted_with_the_environments(tmp_path: Path) -> None:
    """A replica carries the environment's tags and its own: its own are checked at its path (the
    environment's once, at theirs), and the count is of both together."""

    def tags(e: Env) -> None:
        e["tags"] = {"bad*": "x", **{f"T{i}": "v" for i in range(40)}}
        e["replicas"][0]["tags"] = {"aws:mine": "x", **{f"R{i}": "v" for i in range(7)}}

    found = env_case(tmp_path, lambda e: tags(e), base="global")
    assert [(d.rule_id, d.path) for d in found if d.rule_id.startswith("N3")] == [
        ("N304", "tags.bad*"),
        ("N302", "replicas[0].tags.aws:mine"),
        ("N305", "replicas[0].tags"),
    ]
    count = next(d for d in found if d.rule_id == "N305")
    assert count.message == (
        "the environment's and the replica's own together: 49 tags plus 3 standard ones; at most 50 per resource: "
        "remove 2"
    )


def test_n601_each_global_setting_on_a_table_that_is_not_global_is_named(tmp_path: Path) -> None:
    def settings(e: Env) -> None:
        e.update(multi_region_consistency="STRONG", witness_region="eu-west-2", replicas=[{"region": "eu-west-1"}])

    found = [d.path for d in env_case(tmp_path, settings) if d.rule_id == "N601"]
    assert found == ["replicas", "multi_region_consistency", "witness_region"]


def test_n602_the_own_region_as_a_replica_and_a_region_listed_twice_say_which(tmp_path: Path) -> None:
    def replicas(e: Env) -> None:
        e["replicas"] += [{"region": "us-east-1"}, {"region": "ap-southeast-2"}]

    found = [(d.path, d.message) for d in env_case(tmp_path, replicas, base="global") if d.rule_id == "N602"]
    assert found == [
        (
            "replicas[2].region",
            "us-east-1 is the environment's own region, always the first replica; remove this entry (its settings "
            "are the environment's)",
        ),
        ("replicas[3].region", "ap-southeast-2 is already listed (replicas.1.region); remove one of them"),
    ]


@pytest.mark.parametrize("witness", ["eu-central-1", "eu-west-1"], ids=["a replica's Region", "the own Region"])
def test_n605_a_witness_in_a_region_that_holds_a_replica(witness: str, tmp_path: Path) -> None:
    found = env_case(tmp_path, lambda e: e.update(witness_region=witness), base="strong")
    assert [(d.path, d.message) for d in found if d.rule_id == "N605"] == [
        ("witness_region", f"{witness} holds a replica; the witness must be a third Region")
    ]


def test_n606_a_replicas_read_capacity_with_min_over_max(tmp_path: Path) -> None:
    found = env_case(tmp_path, lambda e: e["replicas"][0].update(read={"min": 300, "max": 200}), base="strong")
    assert [(d.rule_id, d.path, d.message) for d in found if d.rule_id.startswith("N6")] == [
        ("N606", "replicas[0].read.min", "min (300) is greater than max (200)")
    ]


@pytest.mark.parametrize(
    ("base", "change", "path"),
    [
        ("global", {"region": "eu-west-9"}, "region"),
        ("strong", {"witness_region": "eu-west-9"}, "witness_region"),
        ("prod", {"test_regions": ["us-west-2", "eu-west-9"]}, "test_regions[1]"),
    ],
    ids=["own region", "witness", "test region"],
)
def test_n614_every_region_an_environment_names_is_a_known_one(
    base: str, change: dict[str, Any], path: str, tmp_path: Path
) -> None:
    found = env_case(tmp_path, lambda e: e.update(change), base=base)
    assert [(d.path, d.message) for d in found if d.rule_id == "N614"] == [
        (path, "'eu-west-9' is not an AWS Region (botocore knows of none by that name)")
    ]


def test_n612_read_warm_throughput_at_the_on_demand_default_is_named_by_its_field(tmp_path: Path) -> None:
    found = env_case(tmp_path, lambda e: e.update(warm_throughput={"read_units_per_second": 12000}))
    assert [(d.path, d.message) for d in found if d.rule_id == "N612"] == [
        (
            "warm_throughput.read_units_per_second",
            "12000 is not above the 12000 a new on-demand table starts with: it pre-warms nothing (warm throughput "
            "only ever rises)",
        )
    ]


def test_n610_a_stream_in_another_account_of_the_same_region(tmp_path: Path) -> None:
    arn = "arn:aws:kinesis:us-east-1:444444444444:stream/chat-changes"
    found = env_case(tmp_path, lambda e: e.update(kinesis_stream={"stream_arn": arn}))
    assert [d.message for d in found if d.rule_id == "N610"] == [
        "the stream is in 444444444444/us-east-1; DynamoDB sends changes only to a stream in the table's account "
        "and Region (333333333333/us-east-1)"
    ]


@pytest.mark.parametrize(
    ("base", "change", "expected"),
    [
        # A customer managed key needs its administrators: said once, for the key.
        (
            "prod",
            {},
            "customer_managed encryption needs key_admins: the role ARNs that may manage (not use) the key, the role "
            "that deploys the data stack among them",
        ),
        # An unprotected environment that asks for a backup plan: the vault's key needs them too.
        (
            "dev",
            {"backup": {"enabled": True}},
            "a backup plan encrypts its vault with its own key: name its administrators in key_admins",
        ),
        ("dev", {}, None),  # no plan, no key of ours
        # Named where nothing uses them.
        (
            "dev",
            {"key_admins": ["arn:aws:iam::111111111111:role/key-admins"]},
            "key_admins is only used with customer_managed or a backup: remove it",
        ),
    ],
    ids=["customer managed", "backup asked for", "neither", "named for nothing"],
)
def test_n202_key_admins_are_asked_for_once_for_what_needs_them(
    base: str, change: dict[str, Any], expected: str | None, tmp_path: Path
) -> None:
    def without_admins(e: Env) -> None:
        e.pop("key_admins", None)
        e.update(change)

    found = [(d.path, d.message) for d in env_case(tmp_path, without_admins, base=base) if d.rule_id == "N202"]
    assert found == ([("key_admins", expected)] if expected else [])


@pytest.mark.parametrize(
    ("change", "path", "wanted"),
    [
        ({"deletion_protection": False}, "deletion_protection", "true"),
        ({"point_in_time_recovery": {"enabled": False}}, "point_in_time_recovery.enabled", "true"),
        ({"retention": "Delete"}, "retention", "Retain"),
    ],
)
def test_n201_a_protected_environment_is_told_the_value_it_needs(
    change: dict[str, Any], path: str, wanted: str, tmp_path: Path
) -> None:
    found = env_case(tmp_path, lambda e: e.update(change))
    assert [(d.path, d.message) for d in found if d.rule_id == "N201"] == [
        (path, f"a protected environment needs {wanted} (set protected: false to opt out)")
    ]


@pytest.mark.parametrize(
    ("lock", "retention", "expected"),
    [
        ({"mode": "governance", "min_retention_days": 7}, 35, []),
        ({"mode": "compliance", "min_retention_days": 7, "changeable_for_days": 3}, 35, []),
        (
            {"mode": "governance", "min_retention_days": 7, "changeable_for_days": 3},
            35,
            [
                (
                    "N207",
                    "backup.vault_lock.changeable_for_days",
                    "changeable_for_days makes the lock immutable after it (compliance mode): set mode: compliance, "
                    "or remove it",
                )
            ],
        ),
        ({"mode": "governance", "min_retention_days": 35, "max_retention_days": 35}, 35, []),  # min = max = plan
        (
            {"mode": "governance", "min_retention_days": 36, "max_retention_days": 35},
            35,
            [
                (
                    "N208",
                    "backup.vault_lock.max_retention_days",
                    "35 is below min_retention_days (36): raise it, or lower min_retention_days",
                )
            ],
        ),
        (
            {"mode": "governance", "min_retention_days": 7, "max_retention_days": 30},
            35,
            [
                (
                    "N208",
                    "backup.retention_days",
                    "35 days is outside the vault lock's retention (7..30 days): the vault would fail every backup job; "
                    "set retention_days within it, or change the lock",
                )
            ],
        ),
    ],
    ids=["governance", "compliance", "governance with a cooling-off", "min = max", "min over max", "plan over max"],
)
def test_n207_n208_a_vault_lock_and_its_plan(
    lock: dict[str, Any], retention: int, expected: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    found = env_case(tmp_path, lambda e: e.update(backup={"retention_days": retention, "vault_lock": lock}))
    assert [(d.rule_id, d.path, d.message) for d in found if d.rule_id in ("N207", "N208")] == expected


@pytest.mark.parametrize(("base", "rule"), [("prod", "N206"), ("dev", "N407")])
def test_n206_n407_a_deny_turned_off_is_an_error_when_protected_and_a_warning_otherwise_never_both(
    base: str, rule: str, tmp_path: Path
) -> None:
    found = env_case(tmp_path, lambda e: e.update(resource_policy={"deny_other_accounts": False}), base=base)
    assert [(d.rule_id, d.path) for d in found if d.rule_id in ("N206", "N407")] == [
        (rule, "resource_policy.deny_other_accounts")
    ]


@pytest.mark.parametrize(("first", "second", "expected"), [(50, 50, []), (50, 51, [101])])
def test_d208_the_projected_attributes_of_every_index_count_together(
    first: int, second: int, expected: list[int], tmp_path: Path
) -> None:
    def indexes(d: Design) -> None:
        gsi = d["global_secondary_indexes"][0]
        gsi["non_key_attributes"] = [f"a{i}" for i in range(first)]
        d["global_secondary_indexes"].append(
            {**gsi, "name": "Second", "non_key_attributes": [f"b{i}" for i in range(second)]}
        )

    found = [d.message for d in design_case(tmp_path, indexes) if d.rule_id == "D208"]
    assert found == [f"{n} projected non-key attributes across all indexes; at most 100 per table" for n in expected]


@pytest.mark.parametrize(
    ("pitr", "expected"),
    [({"enabled": False}, ["replicas[0].point_in_time_recovery.enabled"]), ({"enabled": True}, [])],
)
def test_n607_a_protected_replica_keeps_point_in_time_recovery(
    pitr: dict[str, bool], expected: list[str], tmp_path: Path
) -> None:
    found = env_case(tmp_path, lambda e: e["replicas"][0].update(point_in_time_recovery=pitr), base="global")
    assert [d.path for d in found if d.rule_id == "N607"] == expected


def test_n614_a_replica_in_another_partition_names_both_partitions(tmp_path: Path) -> None:
    found = env_case(tmp_path, lambda e: e["replicas"].append({"region": "cn-north-1"}), base="global")
    assert [(d.path, d.message) for d in found if d.rule_id == "N614"] == [
        (
            "replicas[2].region",
            "cn-north-1 is in partition aws-cn, the environment's region us-east-1 in aws: a table, its replicas and "
            "its tests stay within one partition",
        )
    ]


def test_n614_an_arn_of_another_partition_is_named_by_its_path(tmp_path: Path) -> None:
    """An environment in us-east-1 (aws) naming a role of aws-cn: nothing there has that ARN."""

    def arns(e: Env) -> None:
        e["key_admins"].append("arn:aws-cn:iam::333333333333:role/key-admins")
        e["access"]["roles"]["reader"]["trusted"] = ["arn:aws-us-gov:iam::333333333333:role/support-analytics"]
        e["tags"]["Upstream"] = "arn:aws-cn:sns:cn-north-1:333333333333:feed"  # free text: may name anything

    found = [(d.path, d.message) for d in env_case(tmp_path, arns) if d.rule_id == "N614"]
    count = len(_env("prod")["key_admins"])
    assert found == [
        (
            f"key_admins[{count}]",
            "arn:aws-cn:iam::333333333333:role/key-admins is in partition aws-cn, the environment's region us-east-1 "
            "in aws: an ARN of another partition names nothing there (arn:aws:...)",
        ),
        (
            "access.roles.reader.trusted[0]",
            "arn:aws-us-gov:iam::333333333333:role/support-analytics is in partition aws-us-gov, the environment's "
            "region us-east-1 in aws: an ARN of another partition names nothing there (arn:aws:...)",
        ),
    ]
