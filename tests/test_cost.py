"""The cost model against hand-computed cases, one per metering rule.

Prices: us-east-1 Standard on-demand, $0.625 per million WRU, $0.125 per
million RRU, $0.25 per GB-month, PITR $0.20, backups $0.10 (price_book.json).
Every expected figure below is worked out by hand in its comment.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.change.cost.model import Estimate, estimate
from templates_src.change.cost.prices import prices_for
from templates_src.change.cost.units import Gsi, ItemWrite, gsi_writes, pattern_units, read_units, write_units
from templates_src.cli import main as cli_main
from templates_src.spec.design import Design
from templates_src.spec.traffic import PatternTraffic, Traffic

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, fixture_cli_args

_PRICES = prices_for("us-east-1")
assert _PRICES is not None
US_EAST_1 = _PRICES
BY_STATUS = Gsi("ByStatus", frozenset({"status", "updatedAt"}), "KEYS_ONLY", frozenset())
BY_OWNER = Gsi("ByOwner", frozenset({"owner"}), "INCLUDE", frozenset({"title"}))


def _design(*patterns: dict[str, Any], samples: list[dict[str, Any]] | None = None) -> Design:
    return Design.model_validate(
        {
            "name": "t",
            "table_name": "t-table",
            "partition_key": {"name": "pk", "type": "S"},
            "sort_key": {"name": "sk", "type": "S"},
            "sample_items": samples or [],
            "access_patterns": list(patterns),
        }
    )


def _units(pattern: dict[str, Any], traffic: dict[str, Any], gsis: tuple[Gsi, ...] = (), **design: Any) -> Fraction:
    d = _design(pattern, **design)
    return pattern_units(d, list(gsis), d.access_patterns[0], PatternTraffic.model_validate(traffic)).total


GET = {"name": "get", "operation": "GetItem", "key_condition": "pk = :p AND sk = :s", "roles": ["app"]}
QUERY = {"name": "q", "operation": "Query", "key_condition": "pk = :p", "roles": ["app"]}
BATCH_GET = {"name": "bg", "operation": "BatchGetItem", "roles": ["app"]}
TGET = {"name": "tg", "operation": "TransactGetItems", "roles": ["app"]}
PUT = {"name": "put", "operation": "PutItem", "roles": ["app"]}


# -- request units ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kb", "wru", "rru"), [(0.1, 1, 1), (1, 1, 1), (1.01, 2, 1), (4, 4, 1), (4.5, 5, 2), (400, 400, 100)]
)
def test_units_round_up_per_kb_and_per_4_kb(kb: float, wru: int, rru: int) -> None:
    assert (write_units(kb), read_units(kb)) == (wru, rru)


def test_eventually_consistent_reads_cost_half() -> None:
    # 5 KB: 2 read units strongly consistent, half of that eventually consistent.
    assert _units(GET, {"per_month": 1, "item_kb": 5, "consistent_read": True}) == 2
    assert _units(GET, {"per_month": 1, "item_kb": 5}) == 1


def test_a_query_sums_its_items_before_rounding_and_a_batch_does_not() -> None:
    # 10 items of 0.5 KB: a Query reads 5 KB -> 2 RRU (1 eventual); a batch rounds each item -> 10 (5 eventual).
    assert _units(QUERY, {"per_month": 1, "item_kb": 0.5, "items": 10, "consistent_read": True}) == 2
    assert _units(QUERY, {"per_month": 1, "item_kb": 0.5, "items": 10}) == 1
    assert _units(BATCH_GET, {"per_month": 1, "item_kb": 0.5, "items": 10, "consistent_read": True}) == 10
    assert _units(BATCH_GET, {"per_month": 1, "item_kb": 0.5, "items": 10}) == 5


def test_transactions_cost_double() -> None:
    # TransactGetItems: 2 items of 3 KB -> 2 x 1 x 2 = 4. TransactWriteItems: 2 items of 1.5 KB -> 2 x 2 x 2 = 8.
    assert _units(TGET, {"per_month": 1, "item_kb": 3, "items": 2}) == 4
    twrite = {"name": "tw", "operation": "TransactWriteItems", "item_operations": ["PutItem"], "roles": ["app"]}
    assert _units(twrite, {"per_month": 1, "item_kb": 1.5, "items": 2}) == 8


def test_gsi_writes_follow_the_documented_cases() -> None:
    known = frozenset({"pk", "sk", "status", "updatedAt", "title"})
    unindexed = frozenset({"pk", "sk", "title"})
    cases = [
        (ItemWrite("put", frozenset({"pk", "sk", "status", "updatedAt"})), 1),  # new item with the index keys
        (ItemWrite("put", frozenset({"pk", "sk", "title"})), 0),  # sparse: lacks them
        (ItemWrite("update", frozenset({"updatedAt"}), prior=known), 2),  # key value changes: delete + put
        (ItemWrite("update", frozenset({"status"}), prior=unindexed | {"updatedAt"}), 1),  # enters the index
        (ItemWrite("update", removed=frozenset({"status"}), prior=known), 1),  # leaves it
        (ItemWrite("update", frozenset({"title"}), prior=known), 0),  # KEYS_ONLY: title not projected
        (ItemWrite("update", frozenset({"title"}), prior=unindexed), 0),  # in the index neither before nor after
        (ItemWrite("delete", prior=known), 1),
        (ItemWrite("delete", prior=unindexed), 0),
        (ItemWrite("delete"), 1),  # unknown item: assumed indexed (upper bound)
        (ItemWrite("check"), 0),
    ]
    assert [gsi_writes(BY_STATUS, w) for w, _ in cases] == [n for _, n in cases]
    # A projected non-key attribute changes: one write to update the entry.
    assert gsi_writes(BY_OWNER, ItemWrite("update", frozenset({"title"}), prior=frozenset({"pk", "sk", "owner"}))) == 1


def test_index_writes_come_from_the_example_or_the_design() -> None:
    put = {**PUT, "example": {"item": {"pk": "a", "sk": "b", "status": "s", "updatedAt": "t", "owner": "o"}}}
    # 2 KB: 2 WRU on the table + 2 on each GSI the item enters.
    assert _units(put, {"per_month": 1, "item_kb": 2}, (BY_STATUS, BY_OWNER)) == 6
    # Declared: half of the writes touch ByStatus, none ByOwner -> 2 + 0.5 x 2 = 3.
    declared = {**put, "index_writes": {"ByStatus": 0.5, "ByOwner": 0}}
    assert _units(declared, {"per_month": 1, "item_kb": 2}, (BY_STATUS, BY_OWNER)) == 3
    # The update of a sample item that has the index keys: moving updatedAt is 2 index writes.
    update = {
        "name": "touch",
        "operation": "UpdateItem",
        "key_condition": "pk = :p AND sk = :s",
        "roles": ["app"],
        "example": {"values": {":p": "a", ":s": "b", ":t": "x"}, "update": "SET #u = :t", "names": {"#u": "updatedAt"}},
    }
    sample = [{"pk": "a", "sk": "b", "status": "s", "updatedAt": "t"}]
    assert _units(update, {"per_month": 1, "item_kb": 1}, (BY_STATUS,), samples=sample) == 3


# -- the estimate --------------------------------------------------------------------------


def _table(**props: Any) -> dict[str, Any]:
    base = {"BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}
    return {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {**base, **props}}}}


def _estimate(template: dict[str, Any], traffic: dict[str, Any], *patterns: dict[str, Any]) -> Estimate:
    return estimate(template, _design(*(patterns or (PUT,))), Traffic.model_validate(traffic), US_EAST_1)


def _line(est: Estimate, name: str) -> float:
    return next(line.usd for line in est.lines if line.name == name)


def test_a_million_one_kb_writes_and_reads_cost_the_published_prices() -> None:
    est = _estimate(
        _table(),
        {
            "patterns": {
                "put": {"per_month": 1_000_000, "item_kb": 1},
                "get": {"per_month": 1_000_000, "item_kb": 4, "consistent_read": True},
            }
        },
        PUT,
        GET,
    )
    assert _line(est, "put") == pytest.approx(0.625)
    assert _line(est, "get") == pytest.approx(0.125)
    assert est.monthly_usd == pytest.approx(0.75)


def test_storage_pitr_and_backups() -> None:
    template = _table(
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByOwner",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    template["Resources"]["Plan"] = {
        "Type": "AWS::Backup::BackupPlan",
        "Properties": {
            "BackupPlan": {
                "BackupPlanRule": [
                    {
                        "RuleName": "daily",
                        "ScheduleExpression": "cron(0 3 * * ? *)",
                        "Lifecycle": {"DeleteAfterDays": 7},
                    }
                ]
            }
        },
    }
    est = _estimate(template, {"table_gb": 10, "index_gb": {"ByOwner": 2}})
    assert _line(est, "table") == pytest.approx(2.50)  # 10 GB x $0.25
    assert _line(est, "GSI ByOwner") == pytest.approx(0.50)  # 2 GB x $0.25
    assert _line(est, "point-in-time recovery") == pytest.approx(2.00)  # 10 GB x $0.20
    assert _line(est, "backups (daily)") == pytest.approx(7.00)  # 7 full copies x 10 GB x $0.10


def test_an_unstated_index_is_sized_from_the_sample_items() -> None:
    samples = [{"pk": "a", "sk": "1", "owner": "o", "body": "x" * 94}, {"pk": "a", "sk": "2", "body": "x" * 100}]
    d = _design(PUT, samples=samples)
    template = _table(
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByOwner",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    )
    # Each sample is 110 bytes (pk 2+1, sk 2+1, owner 5+1, body 4+94; the second 3 + 3 + 4+100);
    # only the first carries the index key: half the table's bytes. 10 GB -> 5 GB -> $1.25,
    # plus 100 bytes for each of 1e9 x 1/2 indexed items: 50 GB -> $12.50.
    est = estimate(template, d, Traffic.model_validate({"table_gb": 10, "table_items": 1_000_000_000}), US_EAST_1)
    assert _line(est, "GSI ByOwner") == pytest.approx(1.25 + 12.50)


def test_standard_ia_is_recommended_when_storage_dominates_and_not_otherwise() -> None:
    # 1,000 GB: Standard $250, Standard-IA $100 of storage; a million writes barely differ.
    heavy = _estimate(_table(), {"table_gb": 1000, "patterns": {"put": {"per_month": 1_000_000, "item_kb": 1}}})
    assert any("STANDARD_INFREQUENT_ACCESS would cost $100.78" in w for w in heavy.warnings)
    # An IA table with a billion writes and 1 GB: Standard is cheaper ($625.25 against $780.10).
    busy = _estimate(
        _table(TableClass="STANDARD_INFREQUENT_ACCESS"),
        {"table_gb": 1, "patterns": {"put": {"per_month": 1_000_000_000, "item_kb": 1}}},
    )
    assert any("STANDARD would cost $625.25" in w for w in busy.warnings)
    light = _estimate(_table(), {"table_gb": 1, "patterns": {"put": {"per_month": 1_000_000_000, "item_kb": 1}}})
    assert not any("table class" in w for w in light.warnings)


def test_provisioned_break_even_and_hot_partitions() -> None:
    est = _estimate(
        _table(),
        {"patterns": {"put": {"per_month": 2_628_000, "item_kb": 1, "peak_per_second": 2000, "hot_key_share": 0.6}}},
    )
    assert est.capacity is not None
    # $0.00065 per WCU-hour against $0.625 per million WRU: 0.00065 / (0.000000625 x 3600) = 28.9%.
    assert est.capacity.break_even_utilization == pytest.approx(0.28889, rel=1e-4)
    # One write per second on average: 1 / 0.7 WCU -> x 730 h x $0.00065 + 1 RCU x 730 x $0.00013.
    assert est.capacity.provisioned_average_usd == pytest.approx(1 / 0.7 * 730 * 0.00065 + 730 * 0.00013)
    # 2,000/s x 60% on one key = 1,200 WCU/s > 1,000.
    assert any("hot partition" in w and "1,200 write units/s" in w for w in est.warnings)
    cooler = _estimate(
        _table(), {"patterns": {"put": {"per_month": 1, "item_kb": 1, "peak_per_second": 2000, "hot_key_share": 0.4}}}
    )
    assert not any("hot partition" in w for w in cooler.warnings)


def test_a_peak_above_the_on_demand_cap_is_flagged() -> None:
    capped = _table(OnDemandThroughput={"MaxWriteRequestUnits": 100})
    # 50 puts/s at peak of 3 KB: 150 write units/s against a cap of 100.
    traffic = {"patterns": {"put": {"per_month": 1_000_000, "item_kb": 3, "peak_per_second": 50}}}
    assert any("on-demand cap of 100" in w and "150.0 write units/s" in w for w in _estimate(capped, traffic).warnings)
    under = {"patterns": {"put": {"per_month": 1_000_000, "item_kb": 3, "peak_per_second": 30}}}
    assert not any("on-demand cap" in w for w in _estimate(capped, under).warnings)


def test_a_list_in_item_conversation_past_400_kb_is_flagged() -> None:
    d = _design(PUT).model_copy(update={"message_storage": "list_in_item"})
    grows = Traffic.model_validate({"conversations": {"messages": 300, "message_kb": 1.5}})
    fits = Traffic.model_validate({"conversations": {"messages": 200, "message_kb": 1.5}})
    assert any("450 KB" in w and "266 messages" in w for w in estimate(_table(), d, grows, US_EAST_1).warnings)
    assert not any("item size" in w for w in estimate(_table(), d, fits, US_EAST_1).warnings)


def test_the_fixture_environment_costs_what_its_comment_computes() -> None:
    # get 8M x 0.5 RRU = $0.50; list 4M x ceil(10 KB / 4) = 12M RRU = $1.50; append 1M x (2 items x 2 WRU x 2
    # + ByUserUpdated: put 0, header update 2 -> 1 per item x 2 items x 2 WRU) = 12M WRU = $7.50; table $25;
    # GSI 4 GB $1; PITR $20; 35 daily backups of 100 GB $350; two KMS keys $2. Total $407.50.
    args = _cost_args("prod") + ["--format", "json"]
    out = _run_json(args)
    assert out["monthly_usd"] == pytest.approx(407.50)
    lines = {line["name"]: line["usd"] for line in out["lines"]}
    assert lines["append-message"] == pytest.approx(7.50) and lines["backups (daily)"] == pytest.approx(350)


def _cost_args(env: str) -> list[str]:
    return fixture_cli_args("cost", env, build=False)


def _run_json(args: list[str]) -> Any:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert cli_main(args) == 0
    return json.loads(buffer.getvalue())


def test_amounts_are_shown_so_small_lines_do_not_read_zero() -> None:
    from templates_src.change.cost.render import usd

    assert [usd(x) for x in (1234.5, 1, 0.5, 0.00001875, 0)] == ["$1,234.50", "$1.00", "$0.5000", "$0.000019", "$0.00"]


# -- bad input, the command, the plan --------------------------------------------------------


def test_an_environment_without_a_profile_and_an_unpriced_region_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(_cost_args("dev")) == 2
    assert "dev.yaml: traffic: no traffic profile" in capsys.readouterr().err
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())
    env["region"] = "eu-west-3"
    path = tmp_path / "paris.yaml"
    path.write_text(yaml.safe_dump(env))
    assert cli_main(["cost", "--env-file", str(path), "--designs-dir", str(FIXTURE_DESIGNS)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and ": region: no prices for 'eu-west-3'" in err and "price_book.json" in err


def test_bad_traffic_names_the_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())
    env["traffic"]["patterns"]["get-conversation"]["item_kb"] = 401
    env["traffic"]["patterns"]["no-such"] = {"per_month": 1, "item_kb": 1}
    path = tmp_path / "qa.yaml"
    path.write_text(yaml.safe_dump(env))
    assert cli_main(["cost", "--env-file", str(path), "--designs-dir", str(FIXTURE_DESIGNS)]) == 2
    err = capsys.readouterr().err
    assert "traffic.patterns.get-conversation.item_kb" in err and str(path) in err and "Traceback" not in err


def test_the_plan_prices_an_added_gsi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(fixture_build(), repo / "build")
    shutil.copytree(FIXTURE_ENVIRONMENTS, repo / "environments")
    shutil.copytree(FIXTURE_DESIGNS, repo / "designs")
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    design = repo / "designs" / "conversations.yaml"
    text = design.read_text()
    design.write_text(
        text.replace(
            "ttl_attribute: expiresAt",
            "  - name: ByRole\n    partition_key: {name: role, type: S}\n    projection: KEYS_ONLY\nttl_attribute: expiresAt",
            1,
        )
    )
    monkeypatch.chdir(repo)
    common = ["--environments-dir", "environments", "--designs-dir", "designs"]
    assert cli_main(["synth", *common, "--out", "build"]) == 0
    capsys.readouterr()
    assert cli_main(["plan", "--env", "prod", *common]) == 0
    out = capsys.readouterr().out
    # append-message puts a message item that carries `role`: +1 index write per message put (1.5 KB -> 2 WRU),
    # 1M a month -> +2M WRU = +$1.25; the index's storage from the samples: role is on 3 of 6 samples.
    assert "monthly cost (traffic profile in environments/prod.yaml): $407.50 -> " in out
    assert "append-message: $7.50 -> $8.75 (+$1.25)" in out
    assert "GSI ByRole: $0.00 -> $" in out
    assert (
        "GSI ByRole: $0.00 -> $" in out and "(size estimated from sample items: state traffic.index_gb.ByRole)" in out
    )
    assert cli_main(["plan", "--env", "prod", "--format", "markdown", *common]) == 0
    assert "- append-message: $7.50 -> $8.75 (+$1.25)" in capsys.readouterr().out
    # A region the price book lacks: the plan and its guards still run; the cost says why it is missing.
    env = repo / "environments" / "prod.yaml"
    env.write_text(env.read_text().replace("region: us-east-1", "region: eu-west-3"))
    assert cli_main(["synth", *common, "--out", "build"]) == 0
    capsys.readouterr()
    # Its keys' policies now name eu-west-3's endpoints: G022 (use through us-east-1 gone) blocks; allowed here.
    assert cli_main(["plan", "--env", "prod", *common, "--allow", "G022"]) == 0
    out = capsys.readouterr().out
    assert "cost not shown:" in out and "no prices for 'eu-west-3'" in out and "~ Modify  BackupVaultKey" in out


def test_the_shipped_price_book_is_well_formed(monkeypatch: pytest.MonkeyPatch) -> None:
    """About the user-editable book itself: every Region it names is priced in full (the engine's
    tests use tests/fixtures/price_book.json, so adding a Region here changes none of them)."""
    from templates_src.change.cost.prices import priced_regions, prices_for

    monkeypatch.delenv("PRICE_BOOK")
    regions = priced_regions()
    assert "us-east-1" in regions
    for region in regions:
        prices = prices_for(region)
        assert prices is not None and prices.kms_key_month > 0, region
