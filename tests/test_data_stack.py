"""What each environment's data stack must contain, read from build/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.spec.loader import load_spec
from templates_src.stacks.data_stack import build_data_stack

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, read_json, resources_of
from .conftest import FIXTURE_ENV_NAMES as ENV_NAMES
from .conftest import fixture_spec as spec_for


def template(env: str) -> dict[str, Any]:
    return read_json(fixture_build() / env / "data.template.json")


def table(env: str) -> dict[str, Any]:
    """The environment's table: a Table, or a GlobalTable (tests/test_global_table.py has its own checks)."""
    (resource,) = [
        *resources_of(template(env), "AWS::DynamoDB::Table").values(),
        *resources_of(template(env), "AWS::DynamoDB::GlobalTable").values(),
    ]
    return resource


def test_prod_is_protected_in_every_way() -> None:
    t = table("prod")
    props = t["Properties"]
    assert t["DeletionPolicy"] == t["UpdateReplacePolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True,
        "RecoveryPeriodInDays": 35,
    }
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Fn::GetAtt": ["TableKey", "Arn"]},
    }
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    # TLS only and this account only, on the table and on its stream (prod's file names neither policy).
    for policy in (props["ResourcePolicy"], props["StreamSpecification"]["ResourcePolicy"]):
        assert [s["Sid"] for s in policy["PolicyDocument"]["Statement"]] == [
            "DenyInsecureTransport",
            "DenyOtherAccounts",
        ]
    key = template("prod")["Resources"]["TableKey"]
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_key_policy_separates_duties_and_has_no_unconditioned_wildcard(env: str) -> None:
    policy = template(env)["Resources"]["TableKey"]["Properties"]["KeyPolicy"]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    spec = spec_for(env)
    deployed_by_ci = spec.env.ci is not None
    assert sorted(by_sid) == sorted(
        [
            "AccountRecoveryOnly",
            "GrantsOnlyForDynamoDB",
            "GrantsRetiredOnlyThroughDynamoDB",
            "KeyAdministratorsManageNeverUse",
            "KeyAdministratorsNameTheKey",
            "NoOneBypassesTheLockoutCheck",
            "OnlyAdministratorsDisableRevokeDeleteOrRepolicy",
            "UseOnlyThroughDynamoDB",
        ]
        + (
            [
                "DeployRoleOnlyThroughCloudFormation",
                "DeployRoleThroughCloudFormationManageNeverUse",
                "DeployRoleThroughCloudFormationNameTheKey",
            ]
            if deployed_by_ci
            else []
        )
    )
    for statement in policy["Statement"]:
        if statement["Principal"] == {"AWS": "*"}:
            assert statement["Effect"] == "Deny" and statement["Condition"], statement
    admins: list[Any] = list(spec.env.key_admins)
    assert by_sid["KeyAdministratorsManageNeverUse"]["Principal"] == {"AWS": admins}
    assert "Condition" not in by_sid["KeyAdministratorsManageNeverUse"]
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant"} & set(
        by_sid["KeyAdministratorsManageNeverUse"]["Action"]
    )
    assert by_sid["KeyAdministratorsNameTheKey"]["Action"] == ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    assert by_sid["UseOnlyThroughDynamoDB"]["Condition"] == {
        "StringEquals": {
            "kms:CallerAccount": spec_for(env).env.account_id,
            "kms:ViaService": "dynamodb.us-east-1.amazonaws.com",
        }
    }
    assert by_sid["GrantsOnlyForDynamoDB"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    deny = by_sid["OnlyAdministratorsDisableRevokeDeleteOrRepolicy"]
    assert deny["Action"] == [
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:PutKeyPolicy",
        "kms:RevokeGrant",
        "kms:ScheduleKeyDeletion",
    ]
    deployer = {
        "Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/conversations/{spec.stack_prefix}-deploy"
    }
    assert deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"][:-1] == admins + ([deployer] if deployed_by_ci else [])
    if deployed_by_ci:  # the deploy role manages the key only through CloudFormation
        via = {"ForAnyValue:StringEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]}}
        assert by_sid["DeployRoleThroughCloudFormationManageNeverUse"]["Principal"] == {"AWS": [deployer]}
        assert by_sid["DeployRoleThroughCloudFormationManageNeverUse"]["Condition"] == via
        assert by_sid["DeployRoleOnlyThroughCloudFormation"]["Condition"] == {
            "ArnEquals": {"aws:PrincipalArn": deployer},
            "ForAllValues:StringNotEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]},
        }


def test_dev_differs_as_its_config_says() -> None:
    t = table("dev")
    props = t["Properties"]
    assert t["DeletionPolicy"] == t["UpdateReplacePolicy"] == "Delete"
    assert props["DeletionProtectionEnabled"] is False
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert props["SSESpecification"] == {"SSEEnabled": False}
    assert "TableKey" not in template("dev")["Resources"]
    assert "KeyArn" not in template("dev")["Outputs"]


def test_staging_scales_table_and_every_gsi() -> None:
    targets = resources_of(template("staging"), "AWS::ApplicationAutoScaling::ScalableTarget")
    dims = sorted(t["Properties"]["ScalableDimension"] for t in targets.values())
    gsi_count = len(table("staging")["Properties"]["GlobalSecondaryIndexes"])
    assert dims.count("dynamodb:table:ReadCapacityUnits") == 1
    assert dims.count("dynamodb:index:WriteCapacityUnits") == gsi_count
    policies = resources_of(template("staging"), "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert len(policies) == len(targets) == 2 * (1 + gsi_count)
    assert table("staging")["Properties"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 5,
        "WriteCapacityUnits": 5,
    }
    for gsi in table("staging")["Properties"]["GlobalSecondaryIndexes"]:
        assert "ProvisionedThroughput" in gsi
    assert "AlarmTopicArn" not in template("staging").get("Parameters", {})
    # staging has no alarm topic: no alarms either
    assert not resources_of(template("staging"), "AWS::CloudWatch::Alarm")


def test_prod_alarms_go_to_the_topic_parameter() -> None:
    alarms = resources_of(template("prod"), "AWS::CloudWatch::Alarm")
    assert sorted(alarms) == ["ReadThrottleAlarm", "SystemErrorsAlarm", "WriteThrottleAlarm"]
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]
    params = read_json(fixture_build() / "prod" / "data.parameters.json")
    assert params == [
        {
            "ParameterKey": "AlarmTopicArn",
            "ParameterValue": "arn:aws:sns:us-east-1:333333333333:chat-platform-oncall",
        }
    ]
    ops = {
        d["Value"]
        for m in alarms["SystemErrorsAlarm"]["Properties"]["Metrics"]
        if "MetricStat" in m
        for d in m["MetricStat"]["Metric"]["Dimensions"]
        if d["Name"] == "Operation"
    }
    assert ops == {p.operation for p in spec_for("prod").design.access_patterns}


@pytest.mark.parametrize("env", ENV_NAMES)
def test_keys_and_attribute_definitions_come_from_the_design(env: str) -> None:
    design = spec_for(env).design
    props = table(env)["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": design.partition_key.name, "KeyType": "HASH"},
        *([{"AttributeName": design.sort_key.name, "KeyType": "RANGE"}] if design.sort_key else []),
    ]
    used = {k["AttributeName"] for k in props["KeySchema"]} | {
        k["AttributeName"] for g in props.get("GlobalSecondaryIndexes", []) for k in g["KeySchema"]
    }
    defined = {a["AttributeName"] for a in props["AttributeDefinitions"]}
    assert defined == used, "AttributeDefinitions must list exactly the key attributes"
    assert [g["IndexName"] for g in props.get("GlobalSecondaryIndexes", [])] == [
        g.name for g in design.global_secondary_indexes
    ]
    if spec_for(env).env.multi_region_consistency == "STRONG":
        assert "TimeToLiveSpecification" not in props  # MRSC supports no TTL (N613)
        return
    ttl_on = spec_for(env).env.ttl_days is not None
    assert props["TimeToLiveSpecification"] == {"AttributeName": design.ttl_attribute, "Enabled": ttl_on}


@pytest.mark.parametrize("env", ENV_NAMES)
def test_tags_on_every_taggable_resource_and_in_tags_file(env: str) -> None:
    spec = spec_for(env)
    expected = sorted(({"Key": k, "Value": v} for k, v in spec.tags.items()), key=lambda t: t["Key"])
    assert read_json(fixture_build() / env / "data.tags.json") == expected
    for name, resource in template(env)["Resources"].items():
        if resource["Type"] in ("AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::CloudWatch::Alarm"):
            tags = sorted(resource["Properties"]["Tags"], key=lambda t: t["Key"])
            assert tags == expected, name
    assert spec.tags["Environment"] == env


@pytest.mark.parametrize("env", ENV_NAMES)
def test_outputs_are_exported_under_the_stack_name(env: str) -> None:
    spec = spec_for(env)
    outputs = template(env)["Outputs"]
    expected = {"TableName", "TableArn"}
    if spec.env.stream_view_type:
        expected.add("StreamArn")
    if spec.env.encryption == "customer_managed":
        expected.add("KeyArn")
        if spec.env.global_table:  # replica keys share the multi-Region key's id
            expected.add("KeyId")
    exported = {k for k, v in outputs.items() if "Export" in v}
    assert exported == expected
    for name in exported:
        assert outputs[name]["Export"] == {"Name": {"Fn::Sub": f"${{AWS::StackName}}-{name}"}}


def test_aws_managed_encryption_uses_the_dynamodb_alias(tmp_path) -> None:
    from templates_src.spec.loader import load_spec
    from templates_src.stacks.data_stack import build_data_stack

    from .conftest import FIXTURE_DESIGNS

    env_file = tmp_path / "qa.yaml"
    env_file.write_text(
        "design: conversations\naccount_id: '123456789012'\nregion: eu-west-1\n"
        "protected: false\nencryption: aws_managed\n"
    )
    props = build_data_stack(load_spec(env_file, FIXTURE_DESIGNS)).template.to_dict()["Resources"]["Table"][
        "Properties"
    ]
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    # Safe defaults when a setting is left out.
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_protected_environments_get_a_backup_plan_with_its_own_vault_key() -> None:
    resources = template("prod")["Resources"]
    vault, key = resources["BackupVault"], resources["BackupVaultKey"]
    assert vault["DeletionPolicy"] == vault["UpdateReplacePolicy"] == "Retain"
    assert vault["Properties"]["EncryptionKeyArn"] == {"Fn::GetAtt": ["BackupVaultKey", "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    sids = {s["Sid"] for s in key["Properties"]["KeyPolicy"]["Statement"]}
    assert {"UseOnlyThroughBackup", "GrantsOnlyForBackup", "OnlyAdministratorsDisableRevokeDeleteOrRepolicy"} <= sids
    assert "KeyAdministratorsNameTheKey" not in sids  # the vault key has no alias
    (rule,) = resources["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == "cron(0 3 * * ? *)" and rule["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rule["TargetBackupVault"] == {"Ref": "BackupVault"}
    selection = resources["BackupSelection"]["Properties"]["BackupSelection"]
    assert selection["Resources"] == [{"Fn::GetAtt": ["Table", "Arn"]}]
    trust = resources["BackupRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "333333333333"}}
    assert "RoleName" not in resources["BackupRole"]["Properties"], "unnamed: taskcat regions must not collide"
    assert not [r for r in template("dev")["Resources"].values() if r["Type"].startswith("AWS::Backup::")]


def test_backup_opt_out_needs_a_reason_and_copies_go_where_named(tmp_path: Path) -> None:
    from templates_src.errors import SpecError
    from templates_src.spec.loader import load_spec
    from templates_src.stacks.data_stack import build_data_stack

    from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS

    prod = (FIXTURE_ENVIRONMENTS / "prod.yaml").read_text()
    opted_out = tmp_path / "prod.yaml"
    opted_out.write_text(prod + "backup: {enabled: false}\n")
    with pytest.raises(SpecError) as exc:
        load_spec(opted_out, FIXTURE_DESIGNS)
    assert [(p.rule_id, p.path) for p in exc.value.problems] == [("N203", "backup.enabled")]
    opted_out.write_text(prod + "backup: {enabled: false, reason: restored from the EU copy instead}\n")
    assert "BackupVault" not in build_data_stack(load_spec(opted_out, FIXTURE_DESIGNS)).template_dict["Resources"]
    vault = "arn:aws:backup:us-west-2:333333333333:backup-vault:conversations-dr"
    copied = tmp_path / "prod.yaml"
    copied.write_text(prod + f"backup: {{retention_days: 90, copy_to_vault_arn: '{vault}'}}\n")
    resources = build_data_stack(load_spec(copied, FIXTURE_DESIGNS)).template_dict["Resources"]
    (rule,) = resources["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["Lifecycle"] == {"DeleteAfterDays": 90}
    assert rule["CopyActions"] == [{"DestinationBackupVaultArn": vault, "Lifecycle": {"DeleteAfterDays": 90}}]


def test_on_demand_caps_reach_the_table_and_every_gsi(tmp_path: Path) -> None:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())
    env["billing"].update(max_read_request_units=4000, max_write_request_units=1000)
    path = tmp_path / "capped.yaml"
    path.write_text(yaml.safe_dump(env))
    table = build_data_stack(load_spec(path, FIXTURE_DESIGNS)).template_dict["Resources"]["Table"]["Properties"]
    cap = {"MaxReadRequestUnits": 4000, "MaxWriteRequestUnits": 1000}
    assert table["OnDemandThroughput"] == cap
    assert [g["OnDemandThroughput"] for g in table["GlobalSecondaryIndexes"]] == [cap]


def test_contributor_insights_mode_on_the_table_and_every_gsi(tmp_path: Path) -> None:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text())
    env.update(contributor_insights=True, contributor_insights_mode="THROTTLED_KEYS")
    path = tmp_path / "insights.yaml"
    path.write_text(yaml.safe_dump(env))
    table = build_data_stack(load_spec(path, FIXTURE_DESIGNS)).template_dict["Resources"]["Table"]["Properties"]
    wanted = {"Enabled": True, "Mode": "THROTTLED_KEYS"}
    assert table["ContributorInsightsSpecification"] == wanted
    assert all(g["ContributorInsightsSpecification"] == wanted for g in table["GlobalSecondaryIndexes"])


def test_newer_table_properties_on_a_plain_table() -> None:
    props = table("dev")["Properties"]
    assert props["WarmThroughput"] == {"ReadUnitsPerSecond": 15000}
    assert props["KinesisStreamSpecification"] == {
        "StreamArn": "arn:aws:kinesis:us-east-1:111111111111:stream/chat-changes-dev",
        "ApproximateCreationDateTimePrecision": "MILLISECOND",
    }
    stream = props["StreamSpecification"]
    assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    # On by default: dev's file names no stream policy and gets both denies.
    denies = stream["ResourcePolicy"]["PolicyDocument"]["Statement"]
    assert [(d["Sid"], d["Effect"]) for d in denies] == [
        ("DenyInsecureTransport", "Deny"),
        ("DenyOtherAccounts", "Deny"),
    ]
    for deny in denies:
        assert deny["Resource"] == [
            {
                "Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}"
                ":table/conversations-dev/stream/*"
            }
        ]
