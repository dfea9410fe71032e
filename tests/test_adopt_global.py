"""A global table (version 2019.11.21) is read with its replicas, adopted as one, and drift compares the
replica Regions; a version 2017.11.29 (Legacy) global table is refused with the upgrade named."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from templates_src.deploy.adopt import adoption, refuse_legacy_global_table
from templates_src.deploy.live import differences, template_facts
from templates_src.errors import BadInput

from .conftest import fixture_build, read_json
from .test_live_reader import TABLE, _read

GLOBAL = {
    **copy.deepcopy(TABLE),
    "GlobalTableVersion": "2019.11.21",
    "Replicas": [
        {"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"},
        {"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE"},
        {"RegionName": "ap-southeast-2", "ReplicaStatus": "ACTIVE"},
    ],
}


def test_a_global_tables_replicas_are_read_and_compared_with_the_templates() -> None:
    facts = _read(GLOBAL)
    assert facts.values["Replicas"] == ["ap-southeast-2", "eu-west-1"], "the others than the home Region"
    template = template_facts(read_json(fixture_build() / "global" / "data.template.json")["Resources"]["Table"])
    assert template.values["Replicas"] == ["ap-southeast-2", "eu-west-1"]
    one_less = _read({**GLOBAL, "Replicas": GLOBAL["Replicas"][:2]})
    found = [d for d in differences(template, one_less) if d.property == "Replicas"]
    assert [(d.template, d.live) for d in found] == [(["ap-southeast-2", "eu-west-1"], ["eu-west-1"])]


def test_a_global_table_is_adopted_as_one_with_its_replicas() -> None:
    result = adoption(_read(GLOBAL), "us-east-1", "333333333333", None)
    assert result.environment["global_table"] is True
    assert result.environment["replicas"] == [{"region": "ap-southeast-2"}, {"region": "eu-west-1"}]
    assert result.environment["multi_region_consistency"] == "EVENTUAL"
    # Read without the replica Regions' clients: their own settings are not known (tests/test_adopt_replicas.py
    # reads them, each in its Region).
    assert any(
        line.startswith("global table (EVENTUAL): replicas in ap-southeast-2, eu-west-1; a setting a replica shares")
        for line in result.report
    )


def _dynamodb() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_a_legacy_global_table_is_refused_with_the_upgrade_named() -> None:
    ddb = _dynamodb()
    legacy = {k: v for k, v in TABLE.items()}
    with Stubber(ddb) as stub:
        stub.add_response(
            "describe_global_table",
            {"GlobalTableDescription": {"GlobalTableName": "conversations-prod", "GlobalTableStatus": "ACTIVE"}},
            {"GlobalTableName": "conversations-prod"},
        )
        with pytest.raises(
            BadInput, match=r"version 2017\.11\.29 \(Legacy\) global table; update it to version 2019\.11\.21"
        ):
            refuse_legacy_global_table(legacy, ddb)
    with Stubber(ddb) as stub:  # a table that is no legacy global table
        stub.add_client_error("describe_global_table", "GlobalTableNotFoundException", "not found")
        refuse_legacy_global_table(legacy, ddb)
    with Stubber(ddb):  # a current one: no call at all (a call would find no stubbed response)
        refuse_legacy_global_table(GLOBAL, ddb)
