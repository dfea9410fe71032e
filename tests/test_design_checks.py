"""Design validation per concern: each rule fires with its field path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.errors import SpecError
from templates_src.spec import limits
from templates_src.spec.key_condition import KeyConditionSyntaxError, parse_key_condition
from templates_src.spec.loader import load_design

from .conftest import FIXTURE_DESIGNS


def base() -> dict[str, Any]:
    return yaml.safe_load((FIXTURE_DESIGNS / "conversations.yaml").read_text())


def problems_for(tmp_path: Path, design: dict[str, Any]) -> list[str]:
    path = tmp_path / f"{design['name']}.yaml"
    path.write_text(yaml.safe_dump(design))
    try:
        _, warnings = load_design(path)
    except SpecError as exc:
        return [f"{p.path}: {p.severity}: {p.message}" for p in exc.problems]
    return [f"{p.path}: {p.severity}: {p.message}" for p in warnings]


def pattern_index(d: dict[str, Any], name: str) -> int:
    return next(i for i, p in enumerate(d["access_patterns"]) if p["name"] == name)


def gsi(i: int) -> dict[str, Any]:
    return {"name": f"Index{i:03d}", "partition_key": {"name": f"a{i}", "type": "S"}}


def test_default_design_is_clean(tmp_path: Path) -> None:
    assert problems_for(tmp_path, base()) == []


def test_attribute_typed_twice(tmp_path: Path) -> None:
    d = base()
    d["global_secondary_indexes"][0]["partition_key"]["type"] = "N"
    (line,) = [p for p in problems_for(tmp_path, d) if "typed" in p]
    assert line.startswith("global_secondary_indexes[ByUserUpdated].partition_key.type: error:")
    assert "typed N here but S at partition_key" in line


def test_too_many_gsis(tmp_path: Path) -> None:
    d = base()
    d["global_secondary_indexes"] += [gsi(i) for i in range(limits.MAX_GLOBAL_SECONDARY_INDEXES)]
    out = problems_for(tmp_path, d)
    assert any(p.startswith("global_secondary_indexes: error: 21 indexes; at most 20") for p in out), out


def test_too_many_lsis_and_lsi_needs_sort_key(tmp_path: Path) -> None:
    d = base()
    d.pop("sort_key")
    d["local_secondary_indexes"] = [{"name": f"Local{i}", "sort_key": {"name": f"l{i}", "type": "S"}} for i in range(6)]
    d["access_patterns"] = [p for p in d["access_patterns"] if "sk" not in p.get("key_condition", "sk")]
    out = problems_for(tmp_path, d)
    assert any("local_secondary_indexes: error: 6 indexes; at most 5" in p for p in out), out
    assert any("need a table sort_key" in p for p in out), out


def test_ttl_attribute_cannot_be_a_key(tmp_path: Path) -> None:
    d = base()
    d["ttl_attribute"] = "updatedAt"
    assert "ttl_attribute: error: 'updatedAt' is a key attribute" in problems_for(tmp_path, d)[0]


def test_index_name_rules(tmp_path: Path) -> None:
    d = base()
    d["global_secondary_indexes"][0]["name"] = "ab"
    (line,) = problems_for(tmp_path, d)
    assert line.startswith("global_secondary_indexes[ab].name: error: String should have at least 3 characters")


def test_bad_attribute_type_lists_allowed(tmp_path: Path) -> None:
    d = base()
    d["sort_key"]["type"] = "SS"
    (line,) = problems_for(tmp_path, d)
    assert line == "sort_key.type: error: Input should be 'S', 'N' or 'B' (got 'SS')"


def test_projection_rules(tmp_path: Path) -> None:
    d = base()
    d["global_secondary_indexes"][0]["non_key_attributes"] = ["title", "userId"]
    d["global_secondary_indexes"].append(dict(gsi(1), projection="ALL", non_key_attributes=["x"]))
    d["access_patterns"].append(
        {"name": "by-a1", "operation": "Query", "index": "Index001", "key_condition": "a1 = :v", "roles": ["app"]}
    )
    out = problems_for(tmp_path, d)
    assert any(
        "non_key_attributes: error: 'userId' is a key of the table or of index 'ByUserUpdated'" in p for p in out
    ), out
    assert any("only allowed with projection INCLUDE" in p for p in out), out


def test_too_many_projected_attributes(tmp_path: Path) -> None:
    d = base()
    d["global_secondary_indexes"][0]["non_key_attributes"] = [f"x{i}" for i in range(101)]
    assert any("101 projected non-key attributes" in p for p in problems_for(tmp_path, d))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"index": "Nope"},
            "access_patterns[list-user-conversations].index: error: unknown index 'Nope'; allowed: ByUserUpdated",
        ),
        (
            {"key_condition": "title = :t"},
            "partition attribute 'title' is not the partition key of index 'ByUserUpdated'",
        ),
        ({"key_condition": "userId = :u AND sk = :s"}, "sort attribute 'sk' is not the sort key"),
        ({"key_condition": "userId > :u"}, "must start with '<partition key> = :value'"),
        ({"operation": "Scan"}, "access_patterns[list-user-conversations].operation: error: Input should be"),
        ({"roles": []}, "access_patterns[list-user-conversations].roles: error: List should have at least 1 item"),
        (
            {"roles": ["admin"]},
            "access_patterns[list-user-conversations].roles[0]: error: Input should be 'app', 'reader' or 'per_user'",
        ),
    ],
)
def test_access_pattern_rules(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    d = base()
    i = pattern_index(d, "list-user-conversations")
    assert d["access_patterns"][i]["index"] == "ByUserUpdated"
    d["access_patterns"][i].update(change)
    out = problems_for(tmp_path, d)
    assert any(expected in p for p in out), out


def test_single_item_operations_need_the_whole_key(tmp_path: Path) -> None:
    d = base()
    d["access_patterns"][pattern_index(d, "get-conversation")]["key_condition"] = "userId = :c AND begins_with(sk, :p)"
    out = problems_for(tmp_path, d)
    assert any(
        p.startswith("access_patterns[get-conversation].key_condition: error: GetItem addresses one item") for p in out
    ), out


def test_reader_cannot_write_and_transactions_name_their_items(tmp_path: Path) -> None:
    d = base()
    d["access_patterns"][pattern_index(d, "create-conversation")]["roles"] = ["app", "reader"]
    d["access_patterns"][pattern_index(d, "append-message")]["item_operations"] = []
    out = problems_for(tmp_path, d)
    assert any("access_patterns[create-conversation].roles: error: the reader role is read-only" in p for p in out), out
    assert any("access_patterns[append-message].item_operations: error: TransactWriteItems needs" in p for p in out), (
        out
    )


def test_per_user_queries_only_indexes_keyed_by_the_tenant(tmp_path: Path) -> None:
    d = base()
    mine = d["access_patterns"][pattern_index(d, "list-user-conversations")]
    mine.update(roles=["app", "per_user"], attributes=["title"])
    assert not [p for p in problems_for(tmp_path, d) if "error" in p], "ByUserUpdated is keyed by userId: fine"
    d["global_secondary_indexes"].append(
        {"name": "ByConversation", "partition_key": {"name": "conversationId", "type": "S"}}
    )
    d["access_patterns"].append(
        {
            "name": "by-conversation",
            "operation": "Query",
            "index": "ByConversation",
            "key_condition": "conversationId = :c",
            "roles": ["per_user"],
            "attributes": ["title"],
        }
    )
    out = problems_for(tmp_path, d)
    assert any(
        p.startswith("access_patterns[by-conversation].roles: error: per_user patterns need dynamodb:LeadingKeys")
        and "partitioned by 'conversationId', not the tenant key 'userId'" in p
        for p in out
    ), out


def test_per_user_writes_name_attributes_never_protected_ones_and_never_put(tmp_path: Path) -> None:
    d = base()
    start = d["access_patterns"][pattern_index(d, "start-my-conversation")]
    start["attributes"] = ["title", "messageCount"]
    d["access_patterns"][pattern_index(d, "list-messages")]["attributes"] = []
    d["access_patterns"][pattern_index(d, "create-conversation")]["roles"] = ["app", "per_user"]
    d["access_patterns"][pattern_index(d, "create-conversation")]["attributes"] = ["title"]
    out = problems_for(tmp_path, d)
    assert any(
        p.startswith("access_patterns[start-my-conversation].attributes: error: messageCount: protected") for p in out
    ), out
    assert any(p.startswith("access_patterns[list-messages].attributes: error: a per_user pattern lists") for p in out)
    assert any(
        p.startswith("access_patterns[create-conversation].operation: error: a PutItem replaces the whole item")
        for p in out
    ), out


def test_duplicate_names(tmp_path: Path) -> None:
    d = base()
    d["access_patterns"][1]["name"] = d["access_patterns"][0]["name"]
    d["global_secondary_indexes"].append(dict(d["global_secondary_indexes"][0]))
    out = problems_for(tmp_path, d)
    assert any(
        "access_patterns[get-conversation].name: error: pattern name 'get-conversation' is already used" in p
        for p in out
    )
    assert any(
        "global_secondary_indexes[ByUserUpdated].name: error: index name 'ByUserUpdated' is already used" in p
        for p in out
    )


def test_design_smells_are_warnings(tmp_path: Path) -> None:
    d = base()
    d["message_storage"] = "list_in_item"
    d["access_patterns"] = [p for p in d["access_patterns"] if p.get("index") is None]
    out = problems_for(tmp_path, d)
    assert any(
        p.startswith("global_secondary_indexes[ByUserUpdated].name: warning: index 'ByUserUpdated' is queried by no")
        for p in out
    )
    assert any(p.startswith("message_storage: warning:") and "400 KB" in p for p in out)


def test_name_must_match_file(tmp_path: Path) -> None:
    d = base()
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(d))
    with pytest.raises(SpecError) as exc:
        load_design(path)
    ((rule_id, path, line),) = [(p.rule_id, p.path, p.line) for p in exc.value.problems]
    assert (rule_id, path) == ("F001", "name") and line is not None
    assert "must equal the file name stem 'other'" in exc.value.problems[0].message


def test_key_condition_parser() -> None:
    c = parse_key_condition("pk = :p AND sk BETWEEN :a AND :b")
    assert (c.partition_attribute, c.sort.operator, c.sort.values) == ("pk", "BETWEEN", (":a", ":b"))
    c = parse_key_condition("pk = :p AND begins_with(sk, :x)")
    assert c.expression({"pk": "#a", "sk": "#b"}) == "#a = :p AND begins_with(#b, :x)"
    assert parse_key_condition("pk = :p").sort is None
    assert parse_key_condition("pk = :p AND sk >= :s").sort.operator == ">="
    with pytest.raises(KeyConditionSyntaxError):
        parse_key_condition("pk = :p AND contains(sk, :x)")
