"""A global table's replicas, each read in its own Region: adopt writes every setting a replica does not
share with the table (protection, PITR, class, contributor insights, tags, read capacity, its key) and
the table's consistency mode and witness; drift compares each replica's settings with the template.

moto keeps no replica tables in other Regions (its DescribeTable lists Replicas, but no Region holds
their tables, protection, PITR, tags or keys), so every Region's responses are botocore Stubber
responses, written out here and checked against the service models. Every expected value is written
out; the template side comes from synth, never from the reader.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from templates_src.deploy.adopt import adoption, write_adoption
from templates_src.deploy.live import Difference, Facts, differences, read_live, template_facts
from templates_src.errors import BadInput
from templates_src.stacks.synth import Target, render_all

from .test_live_reader import TABLE, TAGS

HOME, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-2"
ACCOUNT = "333333333333"
NAME = "conversations-prod"
HOME_KEY = TABLE["SSEDescription"]["KMSMasterKeyArn"]
EAST2, WITNESS = "us-east-2", "us-west-2"
KEYS = {
    EAST2: f"arn:aws:kms:{EAST2}:{ACCOUNT}:key/3d4e5f60-7182-4c9d-8e0f-2a3b4c5d6e7f",
    EU: f"arn:aws:kms:{EU}:{ACCOUNT}:key/1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
    AP: f"arn:aws:kms:{AP}:{ACCOUNT}:key/2c3d4e5f-6071-4b8c-9d0e-1f2a3b4c5d6e",
}
# The home Region's DescribeTable of a 2019.11.21 global table: its replicas, consistency mode.
GLOBAL: dict[str, Any] = {
    **copy.deepcopy(TABLE),
    "GlobalTableVersion": "2019.11.21",
    "MultiRegionConsistency": "EVENTUAL",
    "Replicas": [
        {"RegionName": HOME, "ReplicaStatus": "ACTIVE"},
        {"RegionName": EU, "ReplicaStatus": "ACTIVE", "KMSMasterKeyId": KEYS[EU]},
        {"RegionName": AP, "ReplicaStatus": "ACTIVE", "KMSMasterKeyId": KEYS[AP]},
    ],
}


def _replica_table(region: str, **changes: Any) -> dict[str, Any]:
    """DescribeTable of the replica, in its Region: the same table, its own ARN and key."""
    table = copy.deepcopy(GLOBAL)
    table["TableArn"] = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{NAME}"
    table["SSEDescription"] = {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEYS[region]}
    table.update(changes)
    return table


# What each Region answers besides DescribeTable (the home Region's as test_live_reader's TABLE).
HOME_ANSWERS: dict[str, Any] = {"pitr": ("ENABLED", 35), "tags": TAGS, "insights": "ENABLED", "manager": "CUSTOMER"}
# eu-west-1 differs from the table in every setting a replica has; ap-southeast-2 in its key only.
EU_ANSWERS: dict[str, Any] = {
    "table": _replica_table(
        EU, DeletionProtectionEnabled=False, TableClassSummary={"TableClass": "STANDARD_INFREQUENT_ACCESS"}
    ),
    "pitr": ("ENABLED", 7),
    "tags": {**TAGS, "DataResidency": "eu"},
    "insights": "DISABLED",
    "manager": "CUSTOMER",
}
AP_ANSWERS: dict[str, Any] = {"table": _replica_table(AP), **HOME_ANSWERS}


def _client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")


def _answer(
    ddb: Stubber, kms: Stubber, table: dict[str, Any], answers: dict[str, Any], home: bool, ttl: str = "ENABLED"
) -> None:
    name = {"TableName": NAME}
    ddb.add_response("describe_table", {"Table": table}, name)
    if home:
        ddb.add_response(
            "describe_time_to_live",
            {"TimeToLiveDescription": {"TimeToLiveStatus": ttl, "AttributeName": "expiresAt"}},
            name,
        )
    status, days = answers["pitr"]
    ddb.add_response(
        "describe_continuous_backups",
        {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": status, "RecoveryPeriodInDays": days},
            }
        },
        name,
    )
    ddb.add_response(
        "list_tags_of_resource",
        {"Tags": [{"Key": k, "Value": v} for k, v in answers["tags"].items()]},
        {"ResourceArn": table["TableArn"]},
    )
    ddb.add_response("describe_contributor_insights", {"ContributorInsightsStatus": answers["insights"]}, name)
    key = table["SSEDescription"]["KMSMasterKeyArn"]
    kms.add_response(
        "describe_key",
        {"KeyMetadata": {"KeyId": key.rsplit("/", 1)[1], "KeyManager": answers["manager"]}},
        {"KeyId": key},
    )


def read_global(
    home: dict[str, Any] = GLOBAL,
    eu: dict[str, Any] | None = None,
    ap: dict[str, Any] | None = None,
    *,
    replicas: dict[str, dict[str, Any]] | None = None,
    ttl: str = "ENABLED",
) -> Facts:
    """read_live of the global table: the home Region's clients, and each replica Region's own
    (replicas: each Region's answers, in the order the reader asks: sorted)."""
    replicas = replicas or {AP: ap or AP_ANSWERS, EU: eu or EU_ANSWERS}
    clients = {r: (_client("dynamodb", r), _client("kms", r)) for r in (HOME, *replicas)}
    stubs = {r: (Stubber(d), Stubber(k)) for r, (d, k) in clients.items()}
    _answer(*stubs[HOME], home, HOME_ANSWERS, home=True, ttl=ttl)
    for region, answers in replicas.items():
        _answer(*stubs[region], answers["table"], answers, home=False)
    for ddb, kms in stubs.values():
        ddb.activate()
        kms.activate()
    _, facts = read_live(NAME, *clients[HOME], replicas=lambda region: clients[region])
    for ddb, kms in stubs.values():
        ddb.assert_no_pending_responses()
        kms.assert_no_pending_responses()
    return facts


def test_each_replicas_settings_are_read_in_its_own_region() -> None:
    facts = read_global()
    assert facts.values["MultiRegionConsistency"] == "EVENTUAL"
    assert facts.values["Witnesses"] == []
    assert facts.values["ReplicaSettings"] == {
        AP: {
            "DeletionProtectionEnabled": True,
            "PointInTimeRecovery": [True, 35],
            "TableClass": "STANDARD",
            "ContributorInsights": True,
            "Tags": TAGS,
            "Encryption": "customer_managed",
            "KmsKeyArn": KEYS[AP],
        },
        EU: {
            "DeletionProtectionEnabled": False,
            "PointInTimeRecovery": [True, 7],
            "TableClass": "STANDARD_INFREQUENT_ACCESS",
            "ContributorInsights": False,
            "Tags": {**TAGS, "DataResidency": "eu"},
            "Encryption": "customer_managed",
            "KmsKeyArn": KEYS[EU],
        },
    }


def test_adopt_writes_each_replicas_own_settings_and_the_consistency_mode() -> None:
    result = adoption(read_global(), HOME, ACCOUNT, "conversations")
    env = result.environment
    assert env["global_table"] is True
    assert env["multi_region_consistency"] == "EVENTUAL"
    assert "witness_region" not in env
    assert env["encryption"] == {"kms_key_arn": HOME_KEY}
    assert env["replicas"] == [
        {"region": AP, "kms_key_arn": KEYS[AP]},
        {
            "region": EU,
            "deletion_protection": False,
            "point_in_time_recovery": {"enabled": True, "recovery_period_days": 7},
            "table_class": "STANDARD_INFREQUENT_ACCESS",
            "contributor_insights": False,
            "tags": {"DataResidency": "eu"},
            "kms_key_arn": KEYS[EU],
        },
    ]


def _synth_adopted(tmp_path: Path, facts: Facts, env_name: str = "prod") -> dict[str, Any]:
    """The adopted files written, then synthesised: the data template's Table."""
    result = adoption(facts, HOME, ACCOUNT, "conversations")
    designs, environments = tmp_path / "designs", tmp_path / "environments"
    design_path, env_path = designs / "conversations.yaml", environments / f"{env_name}.yaml"
    write_adoption(result, design_path, env_path, NAME, force=False)
    build = render_all([Target(env_path, env_name)], designs, with_taskcat=False).tree
    data = json.loads(build[env_name]["data.template.json"])
    table: dict[str, Any] = data["Resources"]["Table"]
    return table


def test_the_adopted_global_table_synthesises_each_replica_as_it_is_and_drift_finds_it_in_sync(
    tmp_path: Path,
) -> None:
    table = _synth_adopted(tmp_path, read_global())
    assert table["Type"] == "AWS::DynamoDB::GlobalTable"
    props = table["Properties"]
    assert props["MultiRegionConsistency"] == "EVENTUAL"
    by_region = {r["Region"]: r for r in props["Replicas"]}
    # Written out: what CloudFormation is told for each replica (not the reader's shape).
    assert by_region[EU]["DeletionProtectionEnabled"] is False
    assert by_region[EU]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True,
        "RecoveryPeriodInDays": 7,
    }
    assert by_region[EU]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert "ContributorInsightsSpecification" not in by_region[EU], "off: none"
    assert by_region[AP]["ContributorInsightsSpecification"] == {"Enabled": True}
    assert {"Key": "DataResidency", "Value": "eu"} in by_region[EU]["Tags"]
    assert by_region[EU]["SSESpecification"] == {"KMSMasterKeyId": KEYS[EU]}
    assert by_region[AP]["SSESpecification"] == {"KMSMasterKeyId": KEYS[AP]}
    assert by_region[AP]["DeletionProtectionEnabled"] is True and by_region[AP]["TableClass"] == "STANDARD"
    assert by_region[HOME]["SSESpecification"] == {"KMSMasterKeyId": HOME_KEY}
    assert differences(template_facts(table), read_global(), standard_tags_pending=True) == []


def _eu(**changes: Any) -> dict[str, Any]:
    answers = copy.deepcopy(EU_ANSWERS)
    table_changes = changes.pop("table", {})
    answers["table"].update(table_changes)
    answers.update(changes)
    return answers


OTHER_KEY = f"arn:aws:kms:{EU}:{ACCOUNT}:key/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"


@pytest.mark.parametrize(
    ("eu", "found"),
    [
        (_eu(table={"DeletionProtectionEnabled": True}), [("DeletionProtectionEnabled", False, True)]),
        (_eu(pitr=("ENABLED", 14)), [("PointInTimeRecovery", [True, 7], [True, 14])]),
        (_eu(pitr=("DISABLED", 7)), [("PointInTimeRecovery", [True, 7], [False, None])]),
        (
            _eu(table={"TableClassSummary": {"TableClass": "STANDARD"}}),
            [("TableClass", "STANDARD_INFREQUENT_ACCESS", "STANDARD")],
        ),
        (_eu(insights="ENABLED"), [("ContributorInsights", False, True)]),
        (_eu(tags={**TAGS, "DataResidency": "us"}), [("Tags[DataResidency]", "eu", "us")]),
        (
            _eu(table={"SSEDescription": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": OTHER_KEY}}),
            [("KmsKeyArn", KEYS[EU], OTHER_KEY)],
        ),
        (
            _eu(manager="AWS"),
            [("Encryption", "customer_managed", "aws_managed")],
        ),
    ],
    ids=[
        "deletion protection",
        "pitr window",
        "pitr off",
        "table class",
        "insights",
        "tag",
        "another key",
        "aws managed key",
    ],
)
def test_each_replica_setting_changed_in_its_region_is_drift(
    tmp_path: Path, eu: dict[str, Any], found: list[tuple[str, Any, Any]]
) -> None:
    """A reader that dropped or misread any replica setting would leave one of these in sync."""
    table = _synth_adopted(tmp_path, read_global())
    live = read_global(eu=eu)
    got = differences(template_facts(table), live, standard_tags_pending=True)
    if found[0][0] == "Encryption":  # the AWS managed key: no customer managed key ARN either
        assert Difference(f"ReplicaSettings[{EU}].KmsKeyArn", KEYS[EU], None) in got
        got = [d for d in got if not d.property.endswith(".KmsKeyArn")]
    assert got == [Difference(f"ReplicaSettings[{EU}].{p}", want, have) for p, want, have in found]


def test_a_replica_added_or_another_consistency_mode_is_drift(tmp_path: Path) -> None:
    table = _synth_adopted(tmp_path, read_global())
    only_eu = {**GLOBAL, "Replicas": GLOBAL["Replicas"][:2]}
    clients = {r: (_client("dynamodb", r), _client("kms", r)) for r in (HOME, EU)}
    stubs = {r: (Stubber(d), Stubber(k)) for r, (d, k) in clients.items()}
    _answer(*stubs[HOME], only_eu, HOME_ANSWERS, home=True)
    _answer(*stubs[EU], EU_ANSWERS["table"], EU_ANSWERS, home=False)
    for ddb, kms in stubs.values():
        ddb.activate()
        kms.activate()
    _, live = read_live(NAME, *clients[HOME], replicas=lambda region: clients[region])
    assert differences(template_facts(table), live, standard_tags_pending=True) == [
        Difference("Replicas", [AP, EU], [EU])
    ]
    strong = copy.deepcopy(table)
    strong["Properties"]["MultiRegionConsistency"] = "STRONG"
    assert differences(template_facts(strong), read_global(), standard_tags_pending=True) == [
        Difference("MultiRegionConsistency", "STRONG", "EVENTUAL")
    ]


def test_without_the_replica_regions_clients_their_settings_are_unknown_not_in_sync() -> None:
    ddb, kms = _client("dynamodb", HOME), _client("kms", HOME)
    with Stubber(ddb) as d, Stubber(kms) as k:
        _answer(d, k, GLOBAL, HOME_ANSWERS, home=True)
        _, facts = read_live(NAME, ddb, kms)
    assert facts.values["ReplicaSettings"] == {}
    assert facts.unknown == ("ReplicaSettings",)


def test_a_replica_its_region_does_not_describe_yet_is_noted_and_left_unread() -> None:
    clients = {r: (_client("dynamodb", r), _client("kms", r)) for r in (HOME, EU, AP)}
    stubs = {r: (Stubber(d), Stubber(k)) for r, (d, k) in clients.items()}
    _answer(*stubs[HOME], GLOBAL, HOME_ANSWERS, home=True)
    stubs[AP][0].add_client_error("describe_table", "ResourceNotFoundException", "Requested resource not found")
    _answer(*stubs[EU], EU_ANSWERS["table"], EU_ANSWERS, home=False)
    for ddb, kms in stubs.values():
        ddb.activate()
        kms.activate()
    _, facts = read_live(NAME, *clients[HOME], replicas=lambda region: clients[region])
    assert sorted(facts.values["ReplicaSettings"]) == [EU]
    assert f"ReplicaSettings[{AP}]" in facts.unknown
    assert f"replica in {AP}: DescribeTable there finds no table yet; its settings are not read" in facts.notes
    result = adoption(facts, HOME, ACCOUNT, "conversations")
    assert {"region": AP} in result.environment["replicas"]


def test_a_replica_under_another_kind_of_key_is_refused_naming_it() -> None:
    facts = read_global(eu=_eu(manager="AWS"))
    with pytest.raises(BadInput, match=rf"the replica in {EU} is encrypted with the AWS managed key, the table in its"):
        adoption(facts, HOME, ACCOUNT, "conversations")


def test_a_replica_without_a_tag_of_the_tables_is_reported() -> None:
    facts = read_global(eu=_eu(tags={k: v for k, v in TAGS.items() if k != "Team"}))
    result = adoption(facts, HOME, ACCOUNT, "conversations")
    assert (
        f"replica {EU}: lacks the table's tag(s) Team; a replica's tags add to the environment's, so the first "
        "deploy tags it with them"
    ) in result.report


def _provisioned(table: dict[str, Any], read: int) -> dict[str, Any]:
    out = copy.deepcopy(table)
    out["BillingModeSummary"] = {"BillingMode": "PROVISIONED"}
    out["ProvisionedThroughput"] = {"ReadCapacityUnits": read, "WriteCapacityUnits": 5}
    for index in out["GlobalSecondaryIndexes"]:
        index["ProvisionedThroughput"] = {"ReadCapacityUnits": read, "WriteCapacityUnits": 5}
    return out


def test_a_provisioned_replicas_own_read_capacity_is_adopted_and_compared(tmp_path: Path) -> None:
    home = _provisioned(GLOBAL, 5)
    ap = {**AP_ANSWERS, "table": _provisioned(AP_ANSWERS["table"], 5)}
    eu = {**EU_ANSWERS, "table": _provisioned(EU_ANSWERS["table"], 9)}
    facts = read_global(home, eu=eu, ap=ap)
    assert facts.values["ReplicaSettings"][EU]["ReadCapacity"] == 9
    assert facts.values["ReplicaSettings"][AP]["ReadCapacity"] == 5
    result = adoption(facts, HOME, ACCOUNT, "conversations")
    assert result.environment["billing"] == {
        "mode": "PROVISIONED",
        "read": {"min": 5, "max": 5},
        "write": {"min": 5, "max": 5},
    }
    (eu_entry,) = [r for r in result.environment["replicas"] if r["region"] == EU]
    assert eu_entry["read"] == {"min": 9, "max": 9}
    table = _synth_adopted(tmp_path, facts)
    by_region = {r["Region"]: r for r in table["Properties"]["Replicas"]}
    assert by_region[EU]["ReadProvisionedThroughputSettings"]["ReadCapacityAutoScalingSettings"]["MinCapacity"] == 9
    assert by_region[EU]["ReadProvisionedThroughputSettings"]["ReadCapacityAutoScalingSettings"]["MaxCapacity"] == 9
    assert differences(template_facts(table), facts, standard_tags_pending=True) == []
    scaled = read_global(home, eu={**eu, "table": _provisioned(EU_ANSWERS["table"], 12)}, ap=ap)
    assert differences(template_facts(table), scaled, standard_tags_pending=True) == [
        Difference(f"ReplicaSettings[{EU}].ReadCapacity", [9, 9], 12)
    ]


def test_a_strongly_consistent_table_is_adopted_with_its_witness(tmp_path: Path) -> None:
    """MRSC: two replicas and a witness (us-east-1, us-east-2; witness us-west-2), no TTL, no stream needed."""
    home = {
        **copy.deepcopy(GLOBAL),
        "MultiRegionConsistency": "STRONG",
        "Replicas": [{"RegionName": HOME, "ReplicaStatus": "ACTIVE"}, {"RegionName": EAST2, "ReplicaStatus": "ACTIVE"}],
        "GlobalTableWitnesses": [{"RegionName": WITNESS, "WitnessStatus": "ACTIVE"}],
    }
    east2 = {**HOME_ANSWERS, "table": _replica_table(EAST2)}
    facts = read_global(home, replicas={EAST2: east2}, ttl="DISABLED")
    assert facts.values["MultiRegionConsistency"] == "STRONG"
    assert facts.values["Witnesses"] == [WITNESS]
    result = adoption(facts, HOME, ACCOUNT, "conversations")
    assert result.environment["multi_region_consistency"] == "STRONG"
    assert result.environment["witness_region"] == WITNESS
    assert result.environment["replicas"] == [{"region": EAST2, "kms_key_arn": KEYS[EAST2]}]
    table = _synth_adopted(tmp_path, facts)
    assert table["Properties"]["MultiRegionConsistency"] == "STRONG"
    assert table["Properties"]["GlobalTableWitnesses"] == [{"Region": WITNESS}]
    assert differences(template_facts(table), facts, standard_tags_pending=True) == []
    no_witness = copy.deepcopy(table)
    del no_witness["Properties"]["GlobalTableWitnesses"]
    assert differences(template_facts(no_witness), facts, standard_tags_pending=True) == [
        Difference("Witnesses", [], [WITNESS])
    ]


class _Session:
    """boto3's session as the command line uses it: one (stubbed) client per service and Region."""

    region_name = None

    def __init__(self, clients: dict[tuple[str, str], Any]) -> None:
        self.clients = clients

    def client(self, service: str, region_name: str) -> Any:
        return self.clients[(service, region_name)]


def test_the_adopt_command_reads_the_replicas_in_their_regions_and_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from templates_src.cli import main as cli_main
    from templates_src.deploy import aws

    clients = {(s, r): _client(s, r) for s in ("dynamodb", "kms") for r in (HOME, EU, AP)}
    clients[("sts", HOME)] = _client("sts", HOME)
    stubs = {k: Stubber(c) for k, c in clients.items()}
    stubs[("sts", HOME)].add_response("get_caller_identity", {"Account": ACCOUNT})
    _answer(stubs[("dynamodb", HOME)], stubs[("kms", HOME)], GLOBAL, HOME_ANSWERS, home=True)
    _answer(stubs[("dynamodb", AP)], stubs[("kms", AP)], AP_ANSWERS["table"], AP_ANSWERS, home=False)
    _answer(stubs[("dynamodb", EU)], stubs[("kms", EU)], EU_ANSWERS["table"], EU_ANSWERS, home=False)
    for stub in stubs.values():
        stub.activate()
    monkeypatch.setattr(aws, "session", lambda: _Session(clients))
    dirs = ["--environments-dir", str(tmp_path / "environments"), "--designs-dir", str(tmp_path / "designs")]
    args = ["adopt", "--table", NAME, "--region", HOME, "--env", "chat", "--design", "conversations", *dirs]
    assert cli_main(args) == 0, capsys.readouterr().err
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert (
        f"global table (EVENTUAL): replicas in {AP}, {EU}, each written with its own settings as read in its "
        f"Region ({AP}, {EU})"
    ) in out
    env = yaml.safe_load((tmp_path / "environments" / "chat.yaml").read_text())
    assert env["multi_region_consistency"] == "EVENTUAL"
    assert env["encryption"] == {"kms_key_arn": HOME_KEY}
    assert env["replicas"] == [
        {"region": AP, "kms_key_arn": KEYS[AP]},
        {
            "region": EU,
            "deletion_protection": False,
            "point_in_time_recovery": {"enabled": True, "recovery_period_days": 7},
            "table_class": "STANDARD_INFREQUENT_ACCESS",
            "contributor_insights": False,
            "tags": {"DataResidency": "eu"},
            "kms_key_arn": KEYS[EU],
        },
    ]


def test_a_replica_described_with_little_and_an_endpoint_that_cannot_tell_reads_as_the_defaults() -> None:
    """A replica whose DescribeTable leaves out protection and billing (so: provisioned, of no capacity),
    whose Region cannot describe contributor insights and whose key KMS does not know."""
    home = {**GLOBAL, "Replicas": GLOBAL["Replicas"][:2]}
    eu = _replica_table(EU)
    for left_out in ("DeletionProtectionEnabled", "BillingModeSummary", "ProvisionedThroughput"):
        eu.pop(left_out, None)
    clients = {r: (_client("dynamodb", r), _client("kms", r)) for r in (HOME, EU)}
    stubs = {r: (Stubber(d), Stubber(k)) for r, (d, k) in clients.items()}
    _answer(*stubs[HOME], home, HOME_ANSWERS, home=True)
    ddb, kms = stubs[EU]
    name = {"TableName": NAME}
    ddb.add_response("describe_table", {"Table": eu}, name)
    ddb.add_response(
        "describe_continuous_backups",
        {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
            }
        },
        name,
    )
    ddb.add_response("list_tags_of_resource", {"Tags": []}, {"ResourceArn": eu["TableArn"]})
    ddb.add_client_error("describe_contributor_insights", "NotImplemented", "not implemented")
    kms.add_client_error("describe_key", "NotFoundException", "no such key")
    for d, k in stubs.values():
        d.activate()
        k.activate()
    _, facts = read_live(NAME, *clients[HOME], replicas=lambda region: clients[region])
    assert facts.values["ReplicaSettings"] == {
        EU: {
            "DeletionProtectionEnabled": False,
            "PointInTimeRecovery": [False, None],
            "TableClass": "STANDARD",
            "ContributorInsights": False,
            "Tags": {},
            "Encryption": "aws_managed",
            "KmsKeyArn": None,
            "ReadCapacity": 0,
        }
    }
    assert facts.unknown == (f"ReplicaSettings[{EU}].ContributorInsights",)
    assert facts.notes == (
        f"contributor insights ({EU}): the endpoint cannot describe them; taken as off",
        f"{KEYS[EU]}: KMS does not describe the table's key; taken as the AWS managed key",
    )
