"""Global tables in the cost model, against hand-computed figures.

Rule (price_book.json, global_tables; developer guide "Understanding Amazon
DynamoDB billing for global tables", read 2026-12-01): every write, GSI
writes included, is billed again in every other replica as replicated write
units, priced the same as that Region's write units; storage, PITR and the
table class are each replica's own; the profile's reads are priced in the
home Region. A replica Region the book lacks: nothing is priced.

Prices: us-east-1 (and us-east-2, us-west-2, which the book prices the same):
Standard $0.625 per million WRU, $0.125 per million RRU, $0.25 per GB-month;
Standard-IA $0.78 per million WRU, $0.10 per GB-month; PITR $0.20; backups
$0.10; a KMS key $1 a month; provisioned WCU $0.00065, RCU $0.00013 an hour.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.change.cost import estimate_spec
from templates_src.change.cost.model import UnpricedRegions, estimate
from templates_src.change.cost.prices import prices_for
from templates_src.cli import main as cli_main
from templates_src.errors import BadInput
from templates_src.spec.design import Design
from templates_src.spec.loader import load_spec
from templates_src.spec.traffic import Traffic
from templates_src.stacks.data_stack import build_data_stack

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS

_US = prices_for("us-east-1")
assert _US is not None
US_EAST_1 = _US


def _fixture(name: str, tmp_path: Path, **changes: Any) -> Path:
    """A fixture environment with the prod fixture's traffic profile (round numbers tests/test_cost.py uses)."""
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / f"{name}.yaml").read_text())
    env["traffic"] = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())["traffic"]
    env.update(changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(env, sort_keys=False))
    return path


def _json(path: Path) -> Any:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert (
            cli_main(["cost", "--env-file", str(path), "--designs-dir", str(FIXTURE_DESIGNS), "--format", "json"]) == 0
        )
    return json.loads(buffer.getvalue())


def _replicas_in(name: str, *regions: str) -> list[dict[str, Any]]:
    """The fixture's replicas, each moved to a Region (its table class and settings kept)."""
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / f"{name}.yaml").read_text())
    return [{**r, "region": region} for r, region in zip(env["replicas"], regions, strict=True)]


# -- the fixture global environment ---------------------------------------------------------


def test_the_fixture_global_environment_is_refused_for_its_unpriced_replica_regions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # eu-west-1 and ap-southeast-2 are not in the price book: a total without them would understate by two
    # replicas' writes, storage and PITR, so no total is given; the error names the first replica's line.
    path = _fixture("global", tmp_path)
    assert cli_main(["cost", "--env-file", str(path), "--designs-dir", str(FIXTURE_DESIGNS)]) == 2
    err = capsys.readouterr().err
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "region: eu-west-1" in text)
    assert f"{path}:{line}: replicas: no prices for 'eu-west-1', 'ap-southeast-2'" in err
    assert "price_book.json" in err and "priced in all of them or not at all" in err and "Traceback" not in err


def test_the_fixture_global_environment_costs_what_its_comment_computes(tmp_path: Path) -> None:
    # The fixture global environment with its replicas in us-east-2 (Standard) and us-west-2 (Standard-IA, as
    # the fixture's second replica), Regions the book prices like us-east-1:
    # home us-east-1, as tests/test_cost.py's prod: get 8M x 0.5 RRU = $0.50; list 4M x 3 RRU = $1.50;
    #   append 1M x (2 items x 2 WRU x 2, transactional + 2 x 2 WRU on ByUserUpdated) = 12M WRU = $7.50;
    #   table 100 GB $25; GSI 4 GB $1; PITR 100 GB x $0.20 = $20; 35 daily backups of 100 GB $350;
    #   two KMS keys (table, backup vault) $2. Home $407.50.
    # us-east-2: replicated writes 12M x $0.625 = $7.50; table $25; GSI $1; PITR $20; replica key $1. $54.50.
    # us-west-2 (Standard-IA): 12M x $0.78 = $9.36; table 100 x $0.10 = $10; GSI 4 x $0.10 = $0.40;
    #   PITR $20; replica key $1. $40.76.
    # Total $407.50 + $54.50 + $40.76 = $502.76; a single-Region table would be $407.50.
    path = _fixture("global", tmp_path, replicas=_replicas_in("global", "us-east-2", "us-west-2"))
    out = _json(path)
    lines = {line["name"]: line["usd"] for line in out["lines"]}
    assert out["monthly_usd"] == pytest.approx(502.76)
    assert out["replica_regions"] == ["us-east-2", "us-west-2"] and out["witness_region"] is None
    home = ["get-conversation", "list-messages", "append-message", "table", "GSI ByUserUpdated"]
    home += ["point-in-time recovery", "backups (daily)", "KMS keys"]
    assert sum(lines[n] for n in home) == pytest.approx(407.50)
    assert sum(v for n, v in lines.items() if n.endswith("(us-east-2)")) == pytest.approx(54.50)
    assert sum(v for n, v in lines.items() if n.endswith("(us-west-2)")) == pytest.approx(40.76)
    assert lines["replicated writes (us-east-2)"] == pytest.approx(7.50)
    assert lines["replicated writes (us-west-2)"] == pytest.approx(9.36)
    assert lines["table (us-west-2)"] == pytest.approx(10.00)
    assert not any(n.startswith(("get-conversation (", "list-messages (")) for n in lines)  # reads: home only
    notes = " ".join(out["notes"])
    assert "priced in the home Region us-east-1" in notes and "cross-Region data transfer" in notes
    assert "global-tables-billing.html" in out["price_book"]["global_tables"]["source"]


def test_the_strong_fixture_prices_replica_capacity_and_names_its_witness(tmp_path: Path) -> None:
    # The STRONG fixture (design messages: no transactions; provisioned, reads min 5 and writes min 5 on the
    # table and on the GSI; the replica reads min 10 on each) moved to the US Region set: us-east-1, replica
    # us-east-2, witness us-west-2.
    # Writes: append-message, 1M PutItems of a 1.5 KB message item = 2 write units each; a message item has
    # no updatedAt, so the sparse ByUserUpdated index is not written: 2M units, replicated once.
    # Replicated writes: 2M units at 70% -> 2M / (3,600 x 0.7) WCU-hours x $0.00065 = $0.5159.
    # Replica write floor: 10 WCU x 730 h x $0.00065 = $4.745, of which $0.5159 is used: idle $4.2291.
    # Replica read floor: 20 RCU x 730 h x $0.00013 = $1.898, all idle (reads are priced at home).
    # Replica storage $25 + $1, PITR (the environment's, on) $20; no customer managed key.
    path = _fixture(
        "strong",
        tmp_path,
        region="us-east-1",
        witness_region="us-west-2",
        replicas=_replicas_in("strong", "us-east-2"),
    )
    out = _json(path)
    lines = {line["name"]: line["usd"] for line in out["lines"]}
    replicated = 2_000_000 / (3600 * 0.7) * 0.00065
    assert lines["replicated writes (us-east-2)"] == pytest.approx(replicated)
    assert lines["idle write capacity (us-east-2)"] == pytest.approx(10 * 730 * 0.00065 - replicated)
    assert lines["idle read capacity (us-east-2)"] == pytest.approx(20 * 730 * 0.00013)
    assert lines["point-in-time recovery (us-east-2)"] == pytest.approx(20.00)
    assert "KMS key (us-east-2)" not in lines
    replica = sum(v for n, v in lines.items() if n.endswith("(us-east-2)"))
    assert replica == pytest.approx(10 * 730 * 0.00065 + 20 * 730 * 0.00013 + 25 + 1 + 20)
    assert out["witness_region"] == "us-west-2"
    notes = " ".join(out["notes"])
    assert (
        "witness us-west-2" in notes and "not priced" in notes and "strong consistency: priced like eventual" in notes
    )


# -- the model on a template ----------------------------------------------------------------


def _global(*replicas: dict[str, Any], billing: str = "PAY_PER_REQUEST") -> dict[str, Any]:
    table = {
        "Type": "AWS::DynamoDB::GlobalTable",
        "Properties": {
            "BillingMode": billing,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "ByOwner",
                    "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            "Replicas": list(replicas),
        },
    }
    return {"Resources": {"Table": table}}


def _design() -> Design:
    return Design.model_validate(
        {
            "name": "t",
            "table_name": "t-table",
            "partition_key": {"name": "pk", "type": "S"},
            "access_patterns": [
                {
                    "name": "put",
                    "operation": "PutItem",
                    "roles": ["app"],
                    "example": {"item": {"pk": "a", "owner": "o"}},
                },
                {"name": "get", "operation": "GetItem", "key_condition": "pk = :p", "roles": ["app"]},
            ],
        }
    )


TRAFFIC = Traffic.model_validate(
    {
        "table_gb": 10,
        "index_gb": {"ByOwner": 2},
        "patterns": {"put": {"per_month": 2_000_000, "item_kb": 1}, "get": {"per_month": 10_000_000, "item_kb": 4}},
    }
)


def test_every_write_and_gsi_write_is_billed_again_in_each_other_replica() -> None:
    template = _global(
        {"Region": "us-east-1"},
        {"Region": "us-east-2", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
    )
    est = estimate(template, _design(), TRAFFIC, US_EAST_1, {"us-east-2": US_EAST_1})
    lines = {line.name: line.usd for line in est.lines}
    # Home: put 2M x (1 table + 1 ByOwner) WRU = 4M x $0.625 = $2.50; get 10M x 0.5 RRU = 5M x $0.125 = $0.625;
    # table 10 GB $2.50, GSI 2 GB $0.50; no PITR at home (the home replica does not enable it).
    assert lines["put"] == pytest.approx(2.50) and lines["get"] == pytest.approx(0.625)
    assert "point-in-time recovery" not in lines
    # us-east-2: the same 4M write units again $2.50; no reads; table $2.50, GSI $0.50; its own PITR 10 x $0.20.
    assert lines["replicated writes (us-east-2)"] == pytest.approx(2.50)
    assert lines["point-in-time recovery (us-east-2)"] == pytest.approx(2.00)
    assert est.monthly_usd == pytest.approx(2.50 + 0.625 + 2.50 + 0.50 + 2.50 + 2.50 + 0.50 + 2.00)
    assert est.replicas == ["us-east-2"]


def test_a_replica_region_without_prices_is_refused_not_left_out(tmp_path: Path) -> None:
    template = _global({"Region": "us-east-1"}, {"Region": "eu-west-1"}, {"Region": "us-east-2"})
    with pytest.raises(UnpricedRegions) as raised:
        estimate(template, _design(), TRAFFIC, US_EAST_1, {"us-east-2": US_EAST_1})
    assert raised.value.regions == ["eu-west-1"]
    spec = load_spec(_fixture("global", tmp_path), FIXTURE_DESIGNS)
    with pytest.raises(BadInput, match="no prices for 'eu-west-1', 'ap-southeast-2'"):
        estimate_spec(spec, build_data_stack(spec).template_dict)


def test_a_single_region_table_has_no_replica_lines() -> None:
    template = _global({"Region": "us-east-1"})
    template["Resources"]["Table"]["Type"] = "AWS::DynamoDB::Table"
    est = estimate(template, _design(), TRAFFIC, US_EAST_1)
    assert est.replicas == [] and not any("(" in line.name for line in est.lines)
    assert not any("global table" in n for n in est.notes)
