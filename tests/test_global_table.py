"""Global tables: the GlobalTable resource, its replica key stacks, and access in every replica Region.

Built from the engine's fixtures (tests/fixtures/environments/global.yaml:
us-east-1 with eu-west-1 and ap-southeast-2 replicas and a customer managed
key; strong.yaml: STRONG consistency, two replicas and a witness, provisioned).
moto has no GlobalTable: these are checks of the templates and, for access,
of IAM's decisions in the simulator.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.change.plan import plan_stack
from templates_src.cli import main as cli_main
from templates_src.stacks.artifacts import template_file
from templates_src.stacks.names import ACCESS, DATA, replica_key_kind
from templates_src.stacks.registry import schema

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, fixture_spec, read_json
from .iam_support import Arns, resolve, role_policies, simulate

REPLICAS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def _template(env: str, kind: str = DATA) -> dict[str, Any]:
    return read_json(fixture_build() / env / template_file(kind))


def _replicas(env: str) -> dict[str, dict[str, Any]]:
    table = _template(env)["Resources"]["Table"]
    assert table["Type"] == "AWS::DynamoDB::GlobalTable"
    return {r["Region"]: r for r in table["Properties"]["Replicas"]}


def test_global_table_has_the_stack_region_first_and_every_replica() -> None:
    table = _template("global")["Resources"]["Table"]
    props = table["Properties"]
    assert [r["Region"] for r in props["Replicas"]] == REPLICAS
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert props["MultiRegionConsistency"] == "EVENTUAL"
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert props["WarmThroughput"] == {"ReadUnitsPerSecond": 20000, "WriteUnitsPerSecond": 8000}
    assert "GlobalTableWitnesses" not in props
    # A global table scales itself: no Application Auto Scaling resources.
    assert not [r for r in _template("global")["Resources"].values() if "ApplicationAutoScaling" in r["Type"]]


def test_each_replica_keeps_protection_and_takes_its_overrides() -> None:
    replicas = _replicas("global")
    for region, replica in replicas.items():
        assert replica["DeletionProtectionEnabled"] is True, region
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, region
    assert replicas["ap-southeast-2"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert replicas["eu-west-1"]["TableClass"] == replicas["us-east-1"]["TableClass"] == "STANDARD"
    eu_tags = {t["Key"]: t["Value"] for t in replicas["eu-west-1"]["Tags"]}
    home_tags = {t["Key"]: t["Value"] for t in replicas["us-east-1"]["Tags"]}
    assert eu_tags == {**home_tags, "DataResidency": "eu"}


def test_each_replica_is_encrypted_with_its_own_regions_key() -> None:
    replicas = _replicas("global")
    # The multi-Region key has its own logical ID: a single-Region TableKey cannot become one (G020).
    assert replicas["us-east-1"]["SSESpecification"] == {"KMSMasterKeyId": {"Fn::GetAtt": ["GlobalTableKey", "Arn"]}}
    for region in REPLICAS[1:]:
        assert replicas[region]["SSESpecification"] == {
            "KMSMasterKeyId": {
                "Fn::Sub": f"arn:${{AWS::Partition}}:kms:{region}:${{AWS::AccountId}}:key/${{GlobalTableKey}}"
            }
        }
    key = _template("global")["Resources"]["GlobalTableKey"]["Properties"]
    assert key["MultiRegion"] is True
    assert not {"TableKey", "TableKeyId"} & set(_template("global")["Resources"])
    assert _template("global")["Outputs"]["KeyId"]["Value"] == {"Ref": "GlobalTableKey"}
    assert _template("global")["Outputs"]["KeyArn"]["Value"] == {"Fn::GetAtt": ["GlobalTableKey", "Arn"]}
    assert _template("global")["Resources"]["TableKeyAlias"]["Properties"]["TargetKeyId"] == {"Ref": "GlobalTableKey"}
    # A single-Region environment keeps TableKey.
    assert "TableKey" in _template("prod")["Resources"] and "GlobalTableKey" not in _template("prod")["Resources"]


def test_each_replica_policy_names_its_own_regions_table() -> None:
    for region, replica in _replicas("global").items():
        where = "${AWS::Region}" if region == "us-east-1" else region
        for statement in replica["ResourcePolicy"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Deny"
            assert statement["Resource"][0] == {
                "Fn::Sub": f"arn:${{AWS::Partition}}:dynamodb:{where}:${{AWS::AccountId}}:table/conversations-global"
            }
        stream = replica["ReplicaStreamSpecification"]["ResourcePolicy"]["PolicyDocument"]["Statement"]
        assert {s["Sid"] for s in stream} == {"DenyInsecureTransport", "DenyOtherAccounts"}
        assert all(
            s["Action"] == ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
            for s in stream
        )


@pytest.mark.parametrize("region", REPLICAS[1:])
def test_replica_key_stack_per_other_region_with_the_same_key_policy(region: str) -> None:
    template = _template("global", replica_key_kind(region))
    key = template["Resources"]["ReplicaKey"]
    assert key["Type"] == "AWS::KMS::ReplicaKey"
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["PrimaryKeyArn"] == {"Ref": "PrimaryKeyArn"}
    assert key["Properties"]["PendingWindowInDays"] == 30
    primary = _template("global")["Resources"]["GlobalTableKey"]["Properties"]["KeyPolicy"]
    replica = key["Properties"]["KeyPolicy"]
    # The same statements, for this Region's DynamoDB endpoint.
    expected = yaml.safe_load(yaml.safe_dump(primary).replace("dynamodb.us-east-1.", f"dynamodb.{region}."))
    assert replica == expected
    assert template["Resources"]["ReplicaKeyAlias"]["Properties"]["AliasName"] == "alias/conversations-global"


def test_no_key_stacks_without_a_customer_managed_key_or_replicas() -> None:
    assert sorted(p.name for p in (fixture_build() / "strong").glob("key-*")) == []
    assert sorted(p.name for p in (fixture_build() / "prod").glob("key-*")) == []
    names = sorted(p.name for p in (fixture_build() / "global").glob("key-*.template.json"))
    assert names == ["key-ap-southeast-2.template.json", "key-eu-west-1.template.json"]


def test_strong_consistency_has_its_witness_and_global_write_per_replica_read_capacity() -> None:
    props = _template("strong")["Resources"]["Table"]["Properties"]
    assert props["MultiRegionConsistency"] == "STRONG"
    assert props["GlobalTableWitnesses"] == [{"Region": "eu-west-2"}]
    scaling = props["WriteProvisionedThroughputSettings"]["WriteCapacityAutoScalingSettings"]
    assert (scaling["MinCapacity"], scaling["MaxCapacity"]) == (5, 50)
    assert [g["WriteProvisionedThroughputSettings"] for g in props["GlobalSecondaryIndexes"]] == [
        props["WriteProvisionedThroughputSettings"]
    ]
    reads = {
        r["Region"]: r["ReadProvisionedThroughputSettings"]["ReadCapacityAutoScalingSettings"]["MaxCapacity"]
        for r in props["Replicas"]
    }
    assert reads == {"eu-west-1": 100, "eu-central-1": 200}  # eu-central-1 has its own read capacity


def _decide(requests: list[tuple[str, str, dict[str, Any]]], role: str) -> list[str]:
    spec = fixture_spec("global")
    arns = Arns.for_spec(spec)
    policy = role_policies(_template("global", ACCESS), spec, arns)[role]
    # KMS decides with the key's own policy too: the eu-west-1 replica key's.
    replica_key = _template("global", replica_key_kind("eu-west-1"))["Resources"]["ReplicaKey"]
    key_policy = resolve(replica_key["Properties"]["KeyPolicy"], spec, arns)
    cases = [
        {
            "policy": policy,
            "principal": f"arn:aws:iam::{arns.account}:role/app",
            "action": action,
            "resource": resource,
            "accountId": arns.account,
            "context": context,
            **({"resourcePolicy": key_policy} if action.startswith("kms:") else {}),
        }
        for action, resource, context in requests
    ]
    return [r["decision"] for r in simulate(cases)]


def test_roles_reach_every_replica_and_no_other_region() -> None:
    arns = Arns.for_spec(fixture_spec("global"))
    key_id = arns.key.rsplit("/", 1)[1]

    def table(region: str) -> str:
        return arns.table.replace(f":{arns.region}:", f":{region}:")

    def key(region: str) -> str:
        return f"arn:aws:kms:{region}:{arns.account}:key/{key_id}"

    def via(region: str) -> dict[str, Any]:
        return {"kms:ViaService": f"dynamodb.{region}.amazonaws.com", "kms:CallerAccount": arns.account}

    requests = [
        ("dynamodb:GetItem", table("eu-west-1"), {}),
        ("dynamodb:Query", table("ap-southeast-2") + "/index/ByUserUpdated", {}),
        ("kms:Decrypt", key("eu-west-1"), via("eu-west-1")),
        # An unrelated Region: no replica there, so no access.
        ("dynamodb:GetItem", table("us-west-2"), {}),
        ("kms:Decrypt", key("us-west-2"), via("us-west-2")),
        # The key in a replica Region, but not through DynamoDB.
        ("kms:Decrypt", key("eu-west-1"), {"kms:CallerAccount": arns.account}),
    ]
    assert _decide(requests, "AppRole") == [
        "Allowed",
        "Allowed",
        "Allowed",
        "ImplicitlyDenied",
        "ImplicitlyDenied",
        "ImplicitlyDenied",
    ]


def test_access_report_names_every_replica_region() -> None:
    report = (fixture_build() / "global" / "access-report.md").read_text()
    assert "`table/conversations-global in us-east-1, eu-west-1, ap-southeast-2`" in report
    assert "`key (alias/conversations-global) in us-east-1, eu-west-1, ap-southeast-2`" in report


BAD_REPLICAS = {
    "replica twice": (lambda e: e["replicas"].append({"region": "eu-west-1"}), "replicas[2].region", "N602"),
    "own region as replica": (lambda e: e["replicas"].append({"region": "us-east-1"}), "replicas[2].region", "N602"),
    "witness with eventual": (lambda e: e.update(witness_region="us-west-2"), "witness_region", "N605"),
    "strong across region sets": (
        lambda e: e.update(multi_region_consistency="STRONG"),
        "replicas[0].region",
        "N603",
    ),
    "not a region": (lambda e: e["replicas"].append({"region": "${AWS::Region}"}), "replicas[2].region", "S003"),
    "write capacity per replica": (
        lambda e: e["replicas"][0].update(write={"min": 1, "max": 2}),
        "replicas[0].write",
        "S",
    ),
    "no global_table": (lambda e: e.pop("global_table"), "replicas", "N601"),
    "replica in another partition": (
        lambda e: e["replicas"].append({"region": "cn-north-1"}),
        "replicas[2].region",
        "N614",
    ),
    "test regions on a global table": (lambda e: e.update(test_regions=["us-west-2"]), "test_regions", "N615"),
}


@pytest.mark.parametrize("case", sorted(BAD_REPLICAS))
def test_each_invalid_replica_configuration_exits_2_naming_the_field(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mutate, field, rule = BAD_REPLICAS[case]
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "global.yaml").read_text())
    mutate(env)
    path = tmp_path / "qa.yaml"
    path.write_text(yaml.safe_dump(env, sort_keys=False))
    out = tmp_path / "out"
    code = cli_main(["synth", "--env-file", str(path), "--designs-dir", str(FIXTURE_DESIGNS), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "qa.yaml:" in err and f" {field}" in err and f"[{rule}" in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_replication_lag_to_each_other_replica_raises_an_alarm() -> None:
    resources = _template("global")["Resources"]
    alarms = {k: v["Properties"] for k, v in resources.items() if k.startswith("ReplicationLatency")}
    receiving = {
        next(d["Value"] for d in props["Dimensions"] if d["Name"] == "ReceivingRegion"): props
        for props in alarms.values()
    }
    assert sorted(receiving) == ["ap-southeast-2", "eu-west-1"]
    for props in receiving.values():
        assert props["MetricName"] == "ReplicationLatency" and props["Namespace"] == "AWS/DynamoDB"
        assert {"Name": "TableName", "Value": {"Ref": "Table"}} in props["Dimensions"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]


# The newer properties update a table in place (registry schemas: none is create-only),
# so the plan shows a Modify and no guard fires when they are added or changed.
IN_PLACE = {
    "WarmThroughput": {"ReadUnitsPerSecond": 30000},
    "KinesisStreamSpecification": {"StreamArn": "arn:aws:kinesis:us-east-1:111111111111:stream/other"},
    "ResourcePolicy": None,  # removed
    "OnDemandThroughput": {"MaxReadRequestUnits": 100},
    "ContributorInsightsSpecification": {"Enabled": True, "Mode": "THROTTLED_KEYS"},
}


@pytest.mark.parametrize("prop", sorted(IN_PLACE))
def test_newer_table_properties_update_in_place(prop: str) -> None:
    assert f"/properties/{prop}" not in schema("AWS::DynamoDB::Table").get("createOnlyProperties", [])
    old = _template("dev")
    new = copy.deepcopy(old)
    props = new["Resources"]["Table"]["Properties"]
    if IN_PLACE[prop] is None:
        props.pop(prop, None)
        old["Resources"]["Table"]["Properties"][prop] = {"PolicyDocument": {"Version": "2012-10-17", "Statement": []}}
    else:
        props[prop] = IN_PLACE[prop]
    plan = plan_stack("dev-data", old, new)
    (change,) = [c for c in plan.changes if c.logical_id == "Table"]
    assert change.action == "Modify" and change.replacing == []
    assert plan.findings == []


def test_lowering_warm_throughput_is_refused_by_the_plan() -> None:
    old = _template("dev")
    new = copy.deepcopy(old)
    new["Resources"]["Table"]["Properties"]["WarmThroughput"] = {"ReadUnitsPerSecond": 13000}
    assert [f.rule_id for f in plan_stack("dev-data", old, new).findings] == ["G019"]


def test_key_administrators_may_replicate_the_key_into_replica_regions_only() -> None:
    spec = fixture_spec("global")
    arns = Arns.for_spec(spec)
    policy = resolve(_template("global")["Resources"]["GlobalTableKey"]["Properties"]["KeyPolicy"], spec, arns)
    admin, deployer_admin = spec.env.key_admins
    other = f"arn:aws:iam::{arns.account}:role/platform-ops"
    cases = [
        (admin, "kms:ReplicateKey", {"kms:ReplicaRegion": "eu-west-1"}),
        (deployer_admin, "kms:ReplicateKey", {"kms:ReplicaRegion": "ap-southeast-2"}),
        (admin, "kms:ReplicateKey", {"kms:ReplicaRegion": "us-west-2"}),  # not a replica Region
        (other, "kms:ReplicateKey", {"kms:ReplicaRegion": "eu-west-1"}),  # not an administrator
        (admin, "kms:UpdatePrimaryRegion", {"kms:PrimaryRegion": "eu-west-1"}),
        (admin, "kms:UpdatePrimaryRegion", {"kms:PrimaryRegion": "sa-east-1"}),
    ]
    requests = [
        {
            "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]},
            "principal": principal,
            "action": action,
            "resource": arns.key,
            "accountId": arns.account,
            "context": context,
            "resourcePolicy": policy,
        }
        for principal, action, context in cases
    ]
    decisions = [r["decision"] for r in simulate(requests)]
    assert decisions == ["Allowed", "Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "Allowed", "ImplicitlyDenied"]
    # A single-Region key's administrators, and the backup vault's key, get no such right.
    prod = _template("prod")["Resources"]["TableKey"]["Properties"]["KeyPolicy"]
    vault = _template("global")["Resources"]["BackupVaultKey"]["Properties"]["KeyPolicy"]
    assert "kms:ReplicateKey" not in json.dumps(prod) and "kms:ReplicateKey" not in json.dumps(vault)


def test_the_deploy_role_may_create_the_replication_service_linked_role() -> None:
    role = _template("global", "deploy-role")["Resources"]["DeployRole"]["Properties"]
    (statement,) = [
        s for s in role["Policies"][0]["PolicyDocument"]["Statement"] if s.get("Sid") == "ServiceLinkedRoles"
    ]
    assert "replication.dynamodb.amazonaws.com" in statement["Condition"]["StringEquals"]["iam:AWSServiceName"]
    prod = _template("prod", "deploy-role")["Resources"]["DeployRole"]["Properties"]
    assert "replication.dynamodb.amazonaws.com" not in json.dumps(prod)


def test_a_strong_table_with_a_region_too_many_is_told_the_count_without_naming_its_witness_as_spare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three replicas and a witness fill eu-west-1's Region set: no Region is spare, the witness's included."""
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "strong.yaml").read_text())
    env["replicas"].append({"region": "eu-west-3"})
    path = tmp_path / "qa.yaml"
    path.write_text(yaml.safe_dump(env, sort_keys=False))
    code = cli_main(
        ["synth", "--env-file", str(path), "--designs-dir", str(FIXTURE_DESIGNS), "--out", str(tmp_path / "out")]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert (
        "replicas: error: 3 replica(s) counting the environment's region and a witness: STRONG needs 3 replicas, "
        "or 2 and a witness_region [N604]"
    ) in err, err
