"""The live-table reader against DynamoDB's own responses, written out here.

adopt writes an environment from what the reader returns and drift compares
it with the template, so a reader that dropped a setting would make adopt
lose it and drift call a drifted table in sync. Each setting is read from a
raw DescribeTable/DescribeTimeToLive/DescribeContinuousBackups/
ListTagsOfResource/DescribeContributorInsights/DescribeKey response (checked
by botocore's Stubber against the service models), never from the reader's
own output.
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from templates_src.deploy.live import (
    Difference,
    Facts,
    differences,
    not_reconcilable,
    read_live,
    shown,
    template_facts,
)

from .conftest import fixture_build, read_json

ARN = "arn:aws:dynamodb:us-east-1:333333333333:table/conversations-prod"
KEY = "arn:aws:kms:us-east-1:333333333333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
# The fixture prod table as DynamoDB describes it once deployed.
TABLE: dict[str, Any] = {
    "TableName": "conversations-prod",
    "TableArn": ARN,
    "TableStatus": "ACTIVE",
    "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "userId", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "updatedAt", "AttributeType": "S"},
    ],
    "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "ByUserUpdated",
            "KeySchema": [
                {"AttributeName": "userId", "KeyType": "HASH"},
                {"AttributeName": "updatedAt", "KeyType": "RANGE"},
            ],
            "Projection": {
                "ProjectionType": "INCLUDE",
                "NonKeyAttributes": ["conversationId", "title", "messageCount"],
            },
            "IndexStatus": "ACTIVE",
        }
    ],
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    "DeletionProtectionEnabled": True,
    "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEY},
}
TAGS = {
    "CostCenter": "chat-prod",
    "DataClassification": "confidential",
    "Design": "conversations",
    "Environment": "prod",
    "ManagedBy": "conversation-table-iac",
    "Team": "chat-platform",
}


def _read(table: dict[str, Any], ttl: str = "ENABLED", pitr_days: int = 35) -> Any:
    ddb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    kms = boto3.client("kms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    name = {"TableName": "conversations-prod"}
    with Stubber(ddb) as d, Stubber(kms) as k:
        d.add_response("describe_table", {"Table": table}, name)
        d.add_response(
            "describe_time_to_live",
            {"TimeToLiveDescription": {"TimeToLiveStatus": ttl, "AttributeName": "expiresAt"}},
            name,
        )
        d.add_response(
            "describe_continuous_backups",
            {
                "ContinuousBackupsDescription": {
                    "ContinuousBackupsStatus": "ENABLED",
                    "PointInTimeRecoveryDescription": {
                        "PointInTimeRecoveryStatus": "ENABLED",
                        "RecoveryPeriodInDays": pitr_days,
                    },
                }
            },
            name,
        )
        d.add_response(
            "list_tags_of_resource",
            {"Tags": [{"Key": key, "Value": value} for key, value in TAGS.items()]},
            {"ResourceArn": ARN},
        )
        d.add_response(
            "describe_contributor_insights",
            {"TableName": "conversations-prod", "ContributorInsightsStatus": "ENABLED"},
            name,
        )
        k.add_response(
            "describe_key", {"KeyMetadata": {"KeyId": KEY.rsplit("/", 1)[1], "KeyManager": "CUSTOMER"}}, {"KeyId": KEY}
        )
        _, facts = read_live("conversations-prod", ddb, kms)
        d.assert_no_pending_responses()
    return facts


def _template() -> Any:
    return template_facts(read_json(fixture_build() / "prod" / "data.template.json")["Resources"]["Table"])


def test_every_setting_is_read_from_the_responses() -> None:
    facts = _read(TABLE)
    assert facts.values == {
        "TableName": "conversations-prod",
        "KeySchema": [["userId", "HASH"], ["sk", "RANGE"]],
        "AttributeDefinitions": [["sk", "S"], ["updatedAt", "S"], ["userId", "S"]],
        "BillingMode": "PAY_PER_REQUEST",
        "ProvisionedThroughput": None,
        "GlobalSecondaryIndexes": {
            "ByUserUpdated": {
                "KeySchema": [["userId", "HASH"], ["updatedAt", "RANGE"]],
                "ProjectionType": "INCLUDE",
                "NonKeyAttributes": ["conversationId", "messageCount", "title"],
            }
        },
        "LocalSecondaryIndexes": {},
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "TimeToLiveAttribute": "expiresAt",
        "PointInTimeRecovery": [True, 35],
        "Encryption": "customer_managed",
        "DeletionProtectionEnabled": True,
        "TableClass": "STANDARD",
        "ContributorInsights": True,
        "Tags": TAGS,
        "Replicas": [],
        "KmsKeyArn": "arn:aws:kms:us-east-1:333333333333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "MultiRegionConsistency": "EVENTUAL",
        "Witnesses": [],
        "ReplicaSettings": {},
    }


def test_the_table_as_deployed_is_in_sync_with_its_template() -> None:
    assert differences(_template(), _read(TABLE)) == []


def _changed(**changes: Any) -> dict[str, Any]:
    table = copy.deepcopy(TABLE)
    table.update(changes)
    return table


@pytest.mark.parametrize(
    ("table", "kwargs", "property"),
    [
        (_changed(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}), {}, "StreamViewType"),
        (_changed(StreamSpecification={"StreamEnabled": False}), {}, "StreamViewType"),
        (_changed(DeletionProtectionEnabled=False), {}, "DeletionProtectionEnabled"),
        (TABLE, {"ttl": "DISABLED"}, "TimeToLiveAttribute"),
        (TABLE, {"pitr_days": 7}, "PointInTimeRecovery"),
        (_changed(TableClassSummary={"TableClass": "STANDARD_INFREQUENT_ACCESS"}), {}, "TableClass"),
        (
            _changed(
                BillingModeSummary={"BillingMode": "PROVISIONED"},
                ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            ),
            {},
            "BillingMode",
        ),
    ],
    ids=["stream view", "stream off", "deletion protection", "ttl", "pitr window", "table class", "billing"],
)
def test_each_out_of_band_change_is_drift(table: dict[str, Any], kwargs: dict[str, Any], property: str) -> None:
    found = {d.property for d in differences(_template(), _read(table, **kwargs))}
    assert property in found


def test_access_denied_is_a_failure_not_an_endpoint_gap() -> None:
    """Only an endpoint that lacks an operation (the local server's HTTP 500) is taken as 'cannot tell'."""
    from botocore.exceptions import ClientError

    ddb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    kms = boto3.client("kms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    name = {"TableName": "conversations-prod"}
    with Stubber(ddb) as d:
        d.add_response("describe_table", {"Table": TABLE}, name)
        d.add_response("describe_time_to_live", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}, name)
        d.add_response(
            "describe_continuous_backups",
            {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}},
            name,
        )
        d.add_response("list_tags_of_resource", {"Tags": []}, {"ResourceArn": ARN})
        d.add_client_error("describe_contributor_insights", "AccessDeniedException", "not authorized")
        with pytest.raises(ClientError, match="AccessDeniedException"):
            read_live("conversations-prod", ddb, kms)


def test_drift_detection_denied_is_a_failure_not_unsupported() -> None:
    from botocore.exceptions import ClientError

    from templates_src.deploy.drift import cloudformation_drift

    cf = boto3.client("cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(cf) as stub:
        stub.add_client_error("detect_stack_drift", "AccessDenied", "not authorized")
        with pytest.raises(ClientError, match="AccessDenied"):
            cloudformation_drift(cf, "conversations-prod-data", sleep=lambda _: None)
    with Stubber(cf) as stub:  # the local endpoint's HTTP 500 for an operation it lacks
        stub.add_client_error("detect_stack_drift", "500", "Internal Server Error", http_status_code=500)
        assert cloudformation_drift(cf, "conversations-prod-data", sleep=lambda _: None) == [
            "DetectStackDrift unavailable for conversations-prod-data: the endpoint does not support it"
        ]


def _client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_provisioned_capacity_is_read_for_the_table_and_each_index() -> None:
    gsi = copy.deepcopy(TABLE["GlobalSecondaryIndexes"][0])
    gsi["ProvisionedThroughput"] = {"ReadCapacityUnits": 3, "WriteCapacityUnits": 2}
    table = _changed(
        BillingModeSummary={"BillingMode": "PROVISIONED"},
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
        GlobalSecondaryIndexes=[gsi],
    )
    facts = _read(table)
    assert facts.values["ProvisionedThroughput"] == [5, 7]
    assert facts.values["GlobalSecondaryIndexes"]["ByUserUpdated"]["ProvisionedThroughput"] == [3, 2]


@pytest.mark.parametrize(
    ("throughput", "expected"),
    [({"ReadCapacityUnits": 4}, [4, 0]), ({"WriteCapacityUnits": 6}, [0, 6]), ({}, None)],
    ids=["write missing", "read missing", "none"],
)
def test_a_template_capacity_left_out_reads_as_zero(throughput: dict[str, int], expected: list[int] | None) -> None:
    resource = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {"BillingMode": "PROVISIONED", "ProvisionedThroughput": throughput},
    }
    assert template_facts(resource).values["ProvisionedThroughput"] == expected


def _read_with_key_error(code: str) -> Any:
    ddb, kms = _client("dynamodb"), _client("kms")
    name = {"TableName": "conversations-prod"}
    with Stubber(ddb) as d, Stubber(kms) as k:
        d.add_response("describe_table", {"Table": TABLE}, name)
        d.add_response("describe_time_to_live", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}, name)
        d.add_response(
            "describe_continuous_backups",
            {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}},
            name,
        )
        d.add_response("list_tags_of_resource", {"Tags": []}, {"ResourceArn": ARN})
        d.add_response("describe_contributor_insights", {"ContributorInsightsStatus": "DISABLED"}, name)
        k.add_client_error("describe_key", code, "no such key")
        return read_live("conversations-prod", ddb, kms)[1]


def test_a_key_kms_does_not_know_is_taken_as_the_aws_managed_key() -> None:
    """The local endpoint invents the AWS managed key's ARN and cannot describe it."""
    facts = _read_with_key_error("NotFoundException")
    assert facts.values["Encryption"] == "aws_managed"
    assert facts.notes == (f"{KEY}: KMS does not describe the table's key; taken as the AWS managed key",)


def test_a_key_kms_refuses_to_describe_is_a_failure() -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="AccessDeniedException"):
        _read_with_key_error("AccessDeniedException")


def _facts(**values: Any) -> Facts:
    return Facts(values)


INDEX = {"KeySchema": [["userId", "HASH"], ["at", "RANGE"]], "ProjectionType": "ALL", "NonKeyAttributes": []}


def test_an_index_added_or_removed_is_one_difference_and_the_next_index_is_still_compared() -> None:
    template = _facts(GlobalSecondaryIndexes={"A": INDEX, "B": INDEX})
    live = _facts(GlobalSecondaryIndexes={"B": {**INDEX, "ProjectionType": "KEYS_ONLY"}, "C": INDEX})
    assert differences(template, live) == [
        Difference("GlobalSecondaryIndexes[A]", INDEX, None),
        Difference("GlobalSecondaryIndexes[B].ProjectionType", "ALL", "KEYS_ONLY"),
        Difference("GlobalSecondaryIndexes[C]", None, INDEX),
    ]


def test_a_setting_of_an_index_on_one_side_only_is_a_difference() -> None:
    """The template provisions the index, the live table bills it on demand (no capacity)."""
    template = _facts(GlobalSecondaryIndexes={"A": {**INDEX, "ProvisionedThroughput": [1, 1]}})
    live = _facts(GlobalSecondaryIndexes={"A": INDEX})
    assert differences(template, live) == [Difference("GlobalSecondaryIndexes[A].ProvisionedThroughput", [1, 1], None)]


def test_a_local_index_compares_setting_by_setting_and_is_not_reconcilable() -> None:
    template = _facts(LocalSecondaryIndexes={"L": INDEX}, TableName="t")
    live = _facts(LocalSecondaryIndexes={"L": {**INDEX, "NonKeyAttributes": ["title"]}}, TableName="t")
    found = differences(template, live)
    assert found == [Difference("LocalSecondaryIndexes[L].NonKeyAttributes", [], ["title"])]
    assert not_reconcilable(found) == found


def test_what_an_import_reconciles_and_what_it_cannot() -> None:
    found = [
        Difference("TableName", "a", "b"),
        Difference("KeySchema", [], []),
        Difference("AttributeDefinitions", [], []),
        Difference("LocalSecondaryIndexes[L]", None, {}),
        Difference("GlobalSecondaryIndexes[G]", None, {}),
        Difference("Tags[Team]", "a", None),
        Difference("BillingMode", "PROVISIONED", "PAY_PER_REQUEST"),
    ]
    assert not_reconcilable(found) == found[:4]


def test_a_tag_on_one_side_only_is_a_difference_and_a_missing_standard_tag_too_unless_pending() -> None:
    template = _facts(Tags={"Team": "chat", "ManagedBy": "conversation-table-iac"})
    live = _facts(Tags={"Owner": "ops"})
    assert differences(template, live) == [
        Difference("Tags[ManagedBy]", "conversation-table-iac", None),
        Difference("Tags[Owner]", None, "ops"),
        Difference("Tags[Team]", "chat", None),
    ]
    # A stack that has not applied its standard tags yet (none, or just imported): theirs are not drift.
    assert differences(template, live, standard_tags_pending=True) == [
        Difference("Tags[Owner]", None, "ops"),
        Difference("Tags[Team]", "chat", None),
    ]


def _read_statuses(
    table: dict[str, Any] = TABLE,
    *,
    ttl: str = "ENABLED",
    pitr: str = "ENABLED",
    insights: str | None = "ENABLED",
    key_manager: str = "CUSTOMER",
    pitr_days: int | None = 14,
) -> Any:
    """read_live over responses whose statuses are these (insights None: the endpoint lacks the call)."""
    window = {} if pitr_days is None else {"RecoveryPeriodInDays": pitr_days}
    ddb, kms = _client("dynamodb"), _client("kms")
    name = {"TableName": "conversations-prod"}
    with Stubber(ddb) as d, Stubber(kms) as k:
        d.add_response("describe_table", {"Table": table}, name)
        d.add_response(
            "describe_time_to_live",
            {"TimeToLiveDescription": {"TimeToLiveStatus": ttl, "AttributeName": "expiresAt"}},
            name,
        )
        d.add_response(
            "describe_continuous_backups",
            {
                "ContinuousBackupsDescription": {
                    "ContinuousBackupsStatus": "ENABLED",
                    "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": pitr, **window},
                }
            },
            name,
        )
        d.add_response("list_tags_of_resource", {"Tags": []}, {"ResourceArn": ARN})
        if insights is None:
            d.add_client_error("describe_contributor_insights", "500", "Internal Server Error", http_status_code=500)
        else:
            d.add_response("describe_contributor_insights", {"ContributorInsightsStatus": insights}, name)
        if table.get("SSEDescription", {}).get("Status") in ("ENABLED", "ENABLING", "UPDATING"):
            k.add_response("describe_key", {"KeyMetadata": {"KeyId": "k", "KeyManager": key_manager}}, {"KeyId": KEY})
        return read_live("conversations-prod", ddb, kms)[1]


@pytest.mark.parametrize(
    ("status", "on"), [("ENABLED", True), ("ENABLING", True), ("DISABLING", False), ("DISABLED", False)]
)
def test_contributor_insights_on_while_enabled_or_enabling(status: str, on: bool) -> None:
    facts = _read_statuses(insights=status)
    assert facts.values["ContributorInsights"] is on
    assert facts.unknown == () and facts.notes == ()


def test_contributor_insights_the_endpoint_cannot_describe_are_unknown_and_taken_as_off() -> None:
    facts = _read_statuses(insights=None)
    assert facts.values["ContributorInsights"] is False
    assert facts.unknown == ("ContributorInsights",)
    assert facts.notes == ("contributor insights: the endpoint cannot describe them; taken as off",)


@pytest.mark.parametrize(
    ("status", "attribute"),
    [("ENABLED", "expiresAt"), ("ENABLING", "expiresAt"), ("DISABLING", None), ("DISABLED", None)],
)
def test_ttl_attribute_while_enabled_or_enabling(status: str, attribute: str | None) -> None:
    assert _read_statuses(ttl=status).values["TimeToLiveAttribute"] == attribute


@pytest.mark.parametrize(("status", "window"), [("ENABLED", [True, 14]), ("DISABLED", [False, None])])
def test_pitr_and_its_window_only_while_enabled(status: str, window: list[Any]) -> None:
    assert _read_statuses(pitr=status).values["PointInTimeRecovery"] == window


@pytest.mark.parametrize(
    ("sse", "manager", "encryption"),
    [
        ({"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEY}, "CUSTOMER", "customer_managed"),
        ({"Status": "ENABLING", "SSEType": "KMS", "KMSMasterKeyArn": KEY}, "CUSTOMER", "customer_managed"),
        ({"Status": "UPDATING", "SSEType": "KMS", "KMSMasterKeyArn": KEY}, "CUSTOMER", "customer_managed"),
        ({"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEY}, "AWS", "aws_managed"),
        ({"Status": "DISABLING"}, "CUSTOMER", "aws_owned"),
        ({"Status": "DISABLED"}, "CUSTOMER", "aws_owned"),
        (None, "CUSTOMER", "aws_owned"),
    ],
    ids=["enabled", "enabling", "updating", "aws managed key", "disabling", "disabled", "no description"],
)
def test_encryption_is_read_from_the_status_and_the_keys_manager(
    sse: dict[str, Any] | None, manager: str, encryption: str
) -> None:
    table = {k: v for k, v in TABLE.items() if k != "SSEDescription"}
    if sse is not None:
        table["SSEDescription"] = sse
    assert _read_statuses(table, key_manager=manager).values["Encryption"] == encryption


def test_a_table_that_never_left_standard_and_has_no_stream_or_indexes() -> None:
    table = {
        k: v
        for k, v in TABLE.items()
        if k not in ("StreamSpecification", "GlobalSecondaryIndexes", "BillingModeSummary", "DeletionProtectionEnabled")
    }
    table["ProvisionedThroughput"] = {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}
    values = _read_statuses(table).values
    assert values["TableClass"] == "STANDARD"
    assert values["StreamViewType"] is None
    assert values["GlobalSecondaryIndexes"] == {} and values["LocalSecondaryIndexes"] == {}
    assert values["BillingMode"] == "PROVISIONED"  # DescribeTable omits the summary of a table never on demand
    assert values["ProvisionedThroughput"] == [2, 3]
    assert values["DeletionProtectionEnabled"] is False


def test_a_table_that_does_not_exist_reads_as_none_and_other_failures_raise() -> None:
    from botocore.exceptions import ClientError

    from templates_src.deploy.live import read_existing

    for code, expect_none in (("ResourceNotFoundException", True), ("AccessDeniedException", False)):
        ddb, kms = _client("dynamodb"), _client("kms")
        with Stubber(ddb) as d:
            d.add_client_error("describe_table", code, "no")
            if expect_none:
                assert read_existing("conversations-prod", ddb, kms) is None
            else:
                with pytest.raises(ClientError, match=code):
                    read_existing("conversations-prod", ddb, kms)


def test_a_template_table_that_sets_nothing_has_the_defaults() -> None:
    assert template_facts({"Type": "AWS::DynamoDB::Table", "Properties": {}}).values == {
        "TableName": None,
        "KeySchema": [],
        "AttributeDefinitions": [],
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": None,
        "GlobalSecondaryIndexes": {},
        "LocalSecondaryIndexes": {},
        "StreamViewType": None,
        "TimeToLiveAttribute": None,
        "PointInTimeRecovery": [False, None],
        "Encryption": "aws_owned",
        "DeletionProtectionEnabled": False,
        "TableClass": "STANDARD",
        "ContributorInsights": False,
        "Tags": {},
        "Replicas": [],
        "MultiRegionConsistency": "EVENTUAL",
        "Witnesses": [],
        "ReplicaSettings": {},
    }


@pytest.mark.parametrize(
    ("properties", "name", "value"),
    [
        ({"SSESpecification": {"SSEEnabled": True}}, "Encryption", "aws_managed"),
        ({"SSESpecification": {"SSEEnabled": True, "KMSMasterKeyId": "k"}}, "Encryption", "customer_managed"),
        ({"SSESpecification": {"SSEEnabled": False, "KMSMasterKeyId": "k"}}, "Encryption", "aws_owned"),
        ({"TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": True}}, "TimeToLiveAttribute", "exp"),
        ({"TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": False}}, "TimeToLiveAttribute", None),
        ({"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}, "PointInTimeRecovery", [True, 35]),
        (
            {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": False, "RecoveryPeriodInDays": 9}},
            "PointInTimeRecovery",
            [False, None],
        ),
        ({"StreamSpecification": {"StreamViewType": "KEYS_ONLY"}}, "StreamViewType", "KEYS_ONLY"),
        ({"ContributorInsightsSpecification": {"Enabled": True}}, "ContributorInsights", True),
        (
            {"BillingMode": "PAY_PER_REQUEST", "ProvisionedThroughput": {"ReadCapacityUnits": 1}},
            "ProvisionedThroughput",
            None,
        ),
        (
            {
                "LocalSecondaryIndexes": [
                    {
                        "IndexName": "L",
                        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["z", "b"]},
                    }
                ]
            },
            "LocalSecondaryIndexes",
            {"L": {"KeySchema": [["a", "HASH"]], "ProjectionType": "INCLUDE", "NonKeyAttributes": ["b", "z"]}},
        ),
    ],
    ids=[
        "aws managed key",
        "customer managed key",
        "encryption off",
        "ttl on",
        "ttl off",
        "pitr default window",
        "pitr off",
        "stream",
        "insights",
        "on demand has no capacity",
        "local index",
    ],
)
def test_a_template_setting_reads_as_the_live_one_would(properties: dict[str, Any], name: str, value: Any) -> None:
    assert template_facts({"Type": "AWS::DynamoDB::Table", "Properties": properties}).values[name] == value


def test_a_global_table_compares_as_its_home_replica_without_capacity() -> None:
    home = {
        "Region": "us-east-1",
        "DeletionProtectionEnabled": True,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "TableClass": "STANDARD_INFREQUENT_ACCESS",
        "Tags": [{"Key": "Team", "Value": "chat"}],
        "ContributorInsightsSpecification": {"Enabled": True},
        "SSESpecification": {"KMSMasterKeyId": "home-key"},
    }
    other = {"Region": "eu-west-1", "DeletionProtectionEnabled": False, "SSESpecification": {"KMSMasterKeyId": "k2"}}
    index = {
        "IndexName": "G",
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    resource = {
        "Type": "AWS::DynamoDB::GlobalTable",
        "Properties": {
            "TableName": "t",
            "BillingMode": "PROVISIONED",
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "GlobalSecondaryIndexes": [index],
            "Replicas": [home, other],
        },
    }
    assert template_facts(resource).values == {
        "TableName": "t",
        "KeySchema": [],
        "AttributeDefinitions": [],
        "BillingMode": "PROVISIONED",
        "GlobalSecondaryIndexes": {
            "G": {"KeySchema": [["a", "HASH"]], "ProjectionType": "KEYS_ONLY", "NonKeyAttributes": []}
        },
        "LocalSecondaryIndexes": {},
        "StreamViewType": None,
        "TimeToLiveAttribute": None,
        "PointInTimeRecovery": [True, 35],
        "Encryption": "customer_managed",
        "DeletionProtectionEnabled": True,
        "TableClass": "STANDARD_INFREQUENT_ACCESS",
        "ContributorInsights": True,
        "Tags": {"Team": "chat"},
        "Replicas": ["eu-west-1"],
        "MultiRegionConsistency": "EVENTUAL",
        "Witnesses": [],
        # The other replica's own settings, each as the template sets it or its default.
        "ReplicaSettings": {
            "eu-west-1": {
                "DeletionProtectionEnabled": False,
                "PointInTimeRecovery": [False, None],
                "TableClass": "STANDARD",
                "ContributorInsights": False,
                "Tags": {},
                "Encryption": "customer_managed",
            }
        },
    }
    on_demand = {**resource["Properties"], "BillingMode": "PAY_PER_REQUEST", "Replicas": [{"Region": "us-east-1"}]}
    facts = template_facts({"Type": "AWS::DynamoDB::GlobalTable", "Properties": on_demand}).values
    assert facts["ProvisionedThroughput"] is None and facts["Encryption"] == "aws_managed"
    assert facts["DeletionProtectionEnabled"] is False and facts["TableClass"] == "STANDARD"


def test_an_index_without_projection_projects_all() -> None:
    index = {"IndexName": "G", "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}]}
    resource = {"Type": "AWS::DynamoDB::Table", "Properties": {"GlobalSecondaryIndexes": [index]}}
    assert template_facts(resource).values["GlobalSecondaryIndexes"] == {
        "G": {
            "KeySchema": [["a", "HASH"]],
            "ProjectionType": "ALL",
            "NonKeyAttributes": [],
            "ProvisionedThroughput": None,
        }
    }


def test_a_table_without_tags_reads_as_no_tags() -> None:
    ddb, kms = _client("dynamodb"), _client("kms")
    name = {"TableName": "conversations-prod"}
    table = {k: v for k, v in TABLE.items() if k != "SSEDescription"}
    with Stubber(ddb) as d, Stubber(kms):
        d.add_response("describe_table", {"Table": table}, name)
        d.add_response("describe_time_to_live", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}, name)
        d.add_response(
            "describe_continuous_backups",
            {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}},
            name,
        )
        d.add_response("list_tags_of_resource", {}, {"ResourceArn": ARN})
        d.add_response("describe_contributor_insights", {}, name)
        facts = read_live("conversations-prod", ddb, kms)[1]
    assert facts.values["Tags"] == {}
    assert facts.values["PointInTimeRecovery"] == [False, None]
    assert facts.values["TimeToLiveAttribute"] is None
    assert facts.values["ContributorInsights"] is False


def test_a_provisioned_template_index_has_its_capacity_and_pitr_its_window() -> None:
    index = {
        "IndexName": "G",
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    }
    properties = {
        "BillingMode": "PROVISIONED",
        "GlobalSecondaryIndexes": [index],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 14},
    }
    values = template_facts({"Type": "AWS::DynamoDB::Table", "Properties": properties}).values
    assert values["GlobalSecondaryIndexes"]["G"]["ProvisionedThroughput"] == [3, 4]
    assert values["PointInTimeRecovery"] == [True, 14]


def test_what_the_endpoint_cannot_tell_is_skipped_and_the_rest_still_compared() -> None:
    template = Facts({"ContributorInsights": True, "Tags": {"Team": "chat"}, "TableClass": "STANDARD"})
    live = Facts({"ContributorInsights": False, "Tags": {}, "TableClass": "STANDARD"}, unknown=("ContributorInsights",))
    assert differences(template, live) == [Difference("Tags[Team]", "chat", None)]


def test_a_pitr_window_the_description_leaves_out_is_35_days() -> None:
    assert _read_statuses(pitr_days=None).values["PointInTimeRecovery"] == [True, 35]


def test_an_on_demand_table_has_no_capacity_though_described_with_zeros() -> None:
    table = _changed(ProvisionedThroughput={"ReadCapacityUnits": 0, "WriteCapacityUnits": 0})
    assert _read_statuses(table).values["ProvisionedThroughput"] is None


def test_a_stream_turned_off_has_no_view_type_though_described_with_one() -> None:
    table = _changed(StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"})
    assert _read_statuses(table).values["StreamViewType"] is None


def test_a_live_local_index_is_read_without_capacity() -> None:
    lsi = {
        "IndexName": "ByTitle",
        "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "title", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    values = _read_statuses(_changed(LocalSecondaryIndexes=[lsi])).values
    assert values["LocalSecondaryIndexes"] == {
        "ByTitle": {
            "KeySchema": [["userId", "HASH"], ["title", "RANGE"]],
            "ProjectionType": "KEYS_ONLY",
            "NonKeyAttributes": [],
        }
    }


def test_encryption_described_without_a_key_fails_before_asking_kms() -> None:
    from botocore.exceptions import ParamValidationError

    def never_sent(**_: Any) -> None:
        raise AssertionError("a request was sent to KMS")

    ddb, kms = _client("dynamodb"), _client("kms")
    kms.meta.events.register("before-send", never_sent)
    name = {"TableName": "conversations-prod"}
    with Stubber(ddb) as d:
        d.add_response(
            "describe_table", {"Table": _changed(SSEDescription={"Status": "ENABLED", "SSEType": "KMS"})}, name
        )
        d.add_response("describe_time_to_live", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}, name)
        d.add_response(
            "describe_continuous_backups",
            {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}},
            name,
        )
        d.add_response("list_tags_of_resource", {}, {"ResourceArn": ARN})
        d.add_response("describe_contributor_insights", {}, name)
        with pytest.raises(ParamValidationError, match="KeyId"):
            read_live("conversations-prod", ddb, kms)


def _replica_settings(table: dict[str, Any], *replicas: dict[str, Any]) -> dict[str, Any]:
    """template_facts' ReplicaSettings of a GlobalTable whose home replica is us-east-1."""
    resource = {
        "Type": "AWS::DynamoDB::GlobalTable",
        "Properties": {"TableName": "t", **table, "Replicas": [{"Region": "us-east-1"}, *replicas]},
    }
    settings: dict[str, Any] = template_facts(resource).values["ReplicaSettings"]
    return settings


def test_a_template_replica_that_sets_nothing_has_the_defaults_and_one_that_sets_each_has_them() -> None:
    bare = {"Region": "eu-west-1"}
    full = {
        "Region": "ap-southeast-2",
        "DeletionProtectionEnabled": True,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "TableClass": "STANDARD_INFREQUENT_ACCESS",
        "ContributorInsightsSpecification": {"Enabled": True},
        "Tags": [{"Key": "DataResidency", "Value": "ap"}],
        "ReadProvisionedThroughputSettings": {
            "ReadCapacityAutoScalingSettings": {
                "MinCapacity": 2,
                "MaxCapacity": 20,
                "TargetTrackingScalingPolicyConfiguration": {},
            }
        },
    }
    # Without SSESpecification the table is under the AWS owned key, and so is every replica.
    assert _replica_settings({}, bare, full) == {
        "eu-west-1": {
            "DeletionProtectionEnabled": False,
            "PointInTimeRecovery": [False, None],
            "TableClass": "STANDARD",
            "ContributorInsights": False,
            "Tags": {},
            "Encryption": "aws_owned",
        },
        "ap-southeast-2": {
            "DeletionProtectionEnabled": True,
            "PointInTimeRecovery": [True, 35],
            "TableClass": "STANDARD_INFREQUENT_ACCESS",
            "ContributorInsights": True,
            "Tags": {"DataResidency": "ap"},
            "Encryption": "aws_owned",
            "ReadCapacity": [2, 20],
        },
    }
    aws_managed = _replica_settings({"SSESpecification": {"SSEEnabled": True}}, bare)
    assert aws_managed["eu-west-1"]["Encryption"] == "aws_managed"
    existing = f"arn:aws:kms:eu-west-1:333333333333:key/{KEY.rsplit('/', 1)[1]}"
    named = _replica_settings(
        {"SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"}},
        {**bare, "SSESpecification": {"KMSMasterKeyId": existing}},
    )
    assert (named["eu-west-1"]["Encryption"], named["eu-west-1"]["KmsKeyArn"]) == ("customer_managed", existing)


def _replica_facts(settings: dict[str, Any], unknown: tuple[str, ...] = ()) -> Facts:
    return Facts({"Replicas": ["eu-west-1"], "ReplicaSettings": {"eu-west-1": settings}}, unknown)


def test_a_replicas_read_capacity_is_in_sync_anywhere_within_its_range() -> None:
    want = _replica_facts({"ReadCapacity": [2, 20]})
    for live, drifted in ((2, False), (5, False), (20, False), (1, True), (21, True)):
        found = differences(want, _replica_facts({"ReadCapacity": live}))
        assert found == ([Difference("ReplicaSettings[eu-west-1].ReadCapacity", [2, 20], live)] if drifted else [])


def test_a_replica_setting_the_endpoint_could_not_tell_is_skipped_and_the_next_still_compared() -> None:
    want = _replica_facts({"ContributorInsights": True, "Tags": {"Team": "chat"}, "TableClass": "STANDARD"})
    live = _replica_facts(
        {"ContributorInsights": False, "Tags": {}, "TableClass": "STANDARD_INFREQUENT_ACCESS"},
        unknown=("ReplicaSettings[eu-west-1].ContributorInsights",),
    )
    assert differences(want, live) == [
        Difference("ReplicaSettings[eu-west-1].Tags[Team]", "chat", None),
        Difference("ReplicaSettings[eu-west-1].TableClass", "STANDARD", "STANDARD_INFREQUENT_ACCESS"),
    ]


def test_a_replicas_missing_standard_tag_is_drift_unless_pending_and_its_own_tag_always() -> None:
    want = _replica_facts({"Tags": {"Team": "chat", "Design": "conversations", "Environment": "prod"}})
    live = _replica_facts({"Tags": {"Environment": "staging"}})
    where = "ReplicaSettings[eu-west-1].Tags"
    assert differences(want, live, standard_tags_pending=True) == [
        Difference(f"{where}[Environment]", "prod", "staging"),
        Difference(f"{where}[Team]", "chat", None),
    ]
    assert differences(want, live) == [
        Difference(f"{where}[Design]", "conversations", None),
        Difference(f"{where}[Environment]", "prod", "staging"),
        Difference(f"{where}[Team]", "chat", None),
    ]


def test_a_global_table_without_replicas_has_no_replica_settings() -> None:
    resource = {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"TableName": "t"}}
    values = template_facts(resource).values
    assert (values["Replicas"], values["ReplicaSettings"]) == ([], {})


def test_the_key_is_compared_after_the_replica_settings() -> None:
    want = Facts({"ReplicaSettings": {"eu-west-1": {"TableClass": "STANDARD"}}, "KmsKeyArn": KEY})
    live = Facts({"ReplicaSettings": {"eu-west-1": {"TableClass": "STANDARD"}}, "KmsKeyArn": "other"})
    assert differences(want, live) == [Difference("KmsKeyArn", KEY, "other")]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "absent"),
        ({"b": 1, "a": [2, 1]}, '{"a": [2, 1], "b": 1}'),
        ([{"z": True, "y": None}], '[{"y": null, "z": true}]'),
        (0, "0"),
        (False, "false"),
        ("", '""'),
    ],
    ids=["absent", "keys sorted", "nested keys sorted", "zero", "false", "empty string"],
)
def test_a_fact_is_shown_as_json_with_sorted_keys_or_as_absent(value: Any, text: str) -> None:
    """What drift and the deploy's refusals print for a template or live value."""
    assert shown(value) == text


def test_a_template_naming_an_existing_key_by_its_arn_compares_that_key_and_a_project_key_by_kind() -> None:
    def table(key: Any) -> dict[str, Any]:
        sse = {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
        return {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "t", "SSESpecification": sse}}

    existing = template_facts(table("arn:aws:kms:us-east-1:333333333333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"))
    assert existing.values["KmsKeyArn"] == "arn:aws:kms:us-east-1:333333333333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    assert existing.values["Encryption"] == "customer_managed"
    project = template_facts(table({"Fn::GetAtt": ["TableKey", "Arn"]}))
    assert "KmsKeyArn" not in project.values
    assert project.values["Encryption"] == "customer_managed"
