"""The residual-path watch: EventBridge rules on CloudTrail events, matched by moto's EventBridge matcher.

The rules come from the fixtures' prod build (protected, alarms, ci:, a
customer managed key, a backup vault); their intrinsics are resolved to the
values CloudFormation would give them, written out here. The events are
CloudTrail management events as EventBridge delivers them, written by hand:
each says which rules must match it (none for the ones that must not alert).
moto.events.models.EventPattern is moto's implementation of EventBridge's
pattern matching ($or, prefix, anything-but, exists).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import fixture_build, fixture_spec, read_json, resources_of
from .iam_support import Arns, resolve

ACCOUNT = "333333333333"
TABLE_NAME = "conversations-prod"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE_NAME}"
KEY_ID = "11111111-2222-4333-8444-555555555555"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"
VAULT_KEY_ID = "66666666-7777-4888-8999-000000000000"
VAULT_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{VAULT_KEY_ID}"
VAULT = "conversations-prod-backups"
PLAN_ID = "8c2e1d4a-1b2c-4d3e-9f00-0a1b2c3d4e5f"
DATA_STACK, ACCESS_STACK = "conversations-prod-data", "conversations-prod-access"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/conversations/conversations-prod-deploy"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/platform-key-admins"
REFS = {
    "Table": TABLE_NAME,
    "TableKey": KEY_ID,
    "BackupVaultKey": VAULT_KEY_ID,
    "BackupVault": VAULT,
    "BackupPlan": PLAN_ID,
    "AWS::StackName": DATA_STACK,
}
ATTRIBUTES = {"Table.Arn": TABLE, "TableKey.Arn": KEY, "BackupVaultKey.Arn": VAULT_KEY}
RULES = ("BackupVaultChangeWatch", "KeyChangeWatch", "StackChangeWatch", "TableChangeWatch")


def _rules() -> dict[str, dict[str, Any]]:
    spec = fixture_spec("prod")
    template = read_json(fixture_build() / "prod" / "data.template.json")
    rules = resources_of(template, "AWS::Events::Rule")
    assert sorted(rules) == list(RULES)
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Ref": "AlarmTopicArn"}, "every rule sends to the environment's alarm topic"
        assert rule["Properties"]["State"] == "ENABLED"
    return {
        logical_id: resolve(rule["Properties"]["EventPattern"], spec, Arns.for_spec(spec), REFS, ATTRIBUTES)
        for logical_id, rule in rules.items()
    }


def _session(role: str) -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEID:session",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[1]}/session",
        "accountId": ACCOUNT,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role, "accountId": ACCOUNT}},
    }


ROOT = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}


def _event(service: str, name: str, parameters: dict[str, Any], who: dict[str, Any] | None = None) -> dict[str, Any]:
    """A CloudTrail management event as EventBridge delivers it."""
    return {
        "version": "0",
        "id": "6f9c1f2e-0000-4000-8000-000000000000",
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{service}",
        "account": ACCOUNT,
        "time": "2026-12-09T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": who or _session(ADMIN_ROLE),
            "eventTime": "2026-12-09T10:00:00Z",
            "eventSource": f"{service}.amazonaws.com",
            "eventName": name,
            "awsRegion": "us-east-1",
            "requestParameters": parameters,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": ACCOUNT,
        },
    }


def _via_cloudformation(event: dict[str, Any]) -> dict[str, Any]:
    event["detail"]["userIdentity"] = _session(DEPLOY_ROLE)
    event["detail"]["invokedBy"] = "cloudformation.amazonaws.com"
    return event


PITR_OFF = {"tableName": TABLE_NAME, "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": False}}
# (why, event, the rules that must match it)
CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    # Alerting.
    (
        "a template shipped with the deploy role turns PITR off",
        _via_cloudformation(_event("dynamodb", "UpdateContinuousBackups", PITR_OFF)),
        {"TableChangeWatch"},
    ),
    (
        "deletion protection turned off by hand, the table named by ARN",
        _event("dynamodb", "UpdateTable", {"tableName": TABLE, "deletionProtectionEnabled": False}),
        {"TableChangeWatch"},
    ),
    ("the table deleted", _event("dynamodb", "DeleteTable", {"tableName": TABLE_NAME}), {"TableChangeWatch"}),
    (
        "the stream's resource policy deleted",
        _event("dynamodb", "DeleteResourcePolicy", {"resourceArn": f"{TABLE}/stream/2026-01-01T00:00:00.000"}),
        {"TableChangeWatch"},
    ),
    (
        "the table's resource policy replaced",
        _event("dynamodb", "PutResourcePolicy", {"resourceArn": TABLE, "policy": "{}"}),
        {"TableChangeWatch"},
    ),
    (
        "the table key's policy replaced (by ARN)",
        _event("kms", "PutKeyPolicy", {"keyId": KEY, "policyName": "default", "policy": "{}"}),
        {"KeyChangeWatch"},
    ),
    ("the table key disabled (by id)", _event("kms", "DisableKey", {"keyId": KEY_ID}), {"KeyChangeWatch"}),
    (
        "the vault key scheduled for deletion",
        _event("kms", "ScheduleKeyDeletion", {"keyId": VAULT_KEY_ID, "pendingWindowInDays": 7}, ROOT),
        {"KeyChangeWatch"},
    ),
    ("key rotation turned off", _event("kms", "DisableKeyRotation", {"keyId": KEY}), {"KeyChangeWatch"}),
    (
        "a grant revoked",
        _event("kms", "RevokeGrant", {"keyId": KEY, "grantId": "abcdef"}),
        {"KeyChangeWatch"},
    ),
    (
        "an administrator sets the data stack's policy",
        _event("cloudformation", "SetStackPolicy", {"stackName": DATA_STACK, "stackPolicyBody": "{}"}),
        {"StackChangeWatch"},
    ),
    (
        "the root user sets the access stack's policy (by stack ARN)",
        _event(
            "cloudformation",
            "SetStackPolicy",
            {
                "stackName": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{ACCESS_STACK}/0a1b2c3d-0000-4000-8000-000000000000"
            },
            ROOT,
        ),
        {"StackChangeWatch"},
    ),
    (
        "termination protection turned off, even by the deploy role",
        _event(
            "cloudformation",
            "UpdateTerminationProtection",
            {"stackName": DATA_STACK, "enableTerminationProtection": False},
            _session(DEPLOY_ROLE),
        ),
        {"StackChangeWatch"},
    ),
    (
        "the vault's access policy deleted",
        _event("backup", "DeleteBackupVaultAccessPolicy", {"backupVaultName": VAULT}),
        {"BackupVaultChangeWatch"},
    ),
    (
        "the vault lock removed",
        _event("backup", "DeleteBackupVaultLockConfiguration", {"backupVaultName": VAULT}),
        {"BackupVaultChangeWatch"},
    ),
    (
        "the table moved to another key",
        _event(
            "dynamodb", "UpdateTable", {"tableName": TABLE_NAME, "sSESpecification": {"kMSMasterKeyId": "alias/other"}}
        ),
        {"TableChangeWatch"},
    ),
    (
        "the table's KMS encryption turned off",
        _event("dynamodb", "UpdateTable", {"tableName": TABLE_NAME, "sSESpecification": {"enabled": False}}),
        {"TableChangeWatch"},
    ),
    (
        "the PITR window shortened below prod's 35 days",
        _event(
            "dynamodb",
            "UpdateContinuousBackups",
            {
                "tableName": TABLE_NAME,
                "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": True, "recoveryPeriodInDays": 7},
            },
        ),
        {"TableChangeWatch"},
    ),
    (
        "the backup plan's retention changed",
        _via_cloudformation(_event("backup", "UpdateBackupPlan", {"backupPlanId": PLAN_ID, "backupPlan": {}})),
        {"BackupVaultChangeWatch"},
    ),
    (
        "the backup selection deleted",
        _event("backup", "DeleteBackupSelection", {"backupPlanId": PLAN_ID, "selectionId": "s-1"}),
        {"BackupVaultChangeWatch"},
    ),
    # Not alerting.
    (
        "another team's backup plan deleted",
        _event("backup", "DeleteBackupPlan", {"backupPlanId": "00000000-1111-4222-8333-444444444444"}),
        set(),
    ),
    (
        "the PITR window kept at 35 days",
        _event(
            "dynamodb",
            "UpdateContinuousBackups",
            {
                "tableName": TABLE_NAME,
                "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": True, "recoveryPeriodInDays": 35},
            },
        ),
        set(),
    ),
    (
        "PITR turned on",
        _event(
            "dynamodb",
            "UpdateContinuousBackups",
            {"tableName": TABLE_NAME, "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": True}},
        ),
        set(),
    ),
    (
        "deletion protection turned on",
        _event("dynamodb", "UpdateTable", {"tableName": TABLE_NAME, "deletionProtectionEnabled": True}),
        set(),
    ),
    (
        "an UpdateTable that leaves deletion protection alone",
        _event("dynamodb", "UpdateTable", {"tableName": TABLE_NAME, "billingMode": "PAY_PER_REQUEST"}),
        set(),
    ),
    (
        "PITR turned off on another table",
        _event("dynamodb", "UpdateContinuousBackups", {**PITR_OFF, "tableName": "payments"}),
        set(),
    ),
    (
        "a table whose name starts like this one's",
        _event("dynamodb", "DeleteResourcePolicy", {"resourceArn": f"{TABLE}-archive"}),
        set(),
    ),
    ("another key disabled", _event("kms", "DisableKey", {"keyId": "99999999-8888-4777-8666-555555555555"}), set()),
    ("the key only described", _event("kms", "DescribeKey", {"keyId": KEY}), set()),
    (
        "every deploy sets the stack policy as the CI deploy role",
        _event("cloudformation", "SetStackPolicy", {"stackName": DATA_STACK}, _session(DEPLOY_ROLE)),
        set(),
    ),
    (
        "the deploy turns termination protection on",
        _event(
            "cloudformation",
            "UpdateTerminationProtection",
            {"stackName": ACCESS_STACK, "enableTerminationProtection": True},
            _session(DEPLOY_ROLE),
        ),
        set(),
    ),
    (
        "another environment's stack",
        _event("cloudformation", "SetStackPolicy", {"stackName": "conversations-staging-data"}),
        set(),
    ),
    (
        "another vault's access policy",
        _event("backup", "DeleteBackupVaultAccessPolicy", {"backupVaultName": "someone-elses-vault"}),
        set(),
    ),
    (
        "the same call through another service's event source",
        {**_event("dynamodb", "DeleteTable", {"tableName": TABLE_NAME}), "source": "aws.cloudtrail"},
        set(),
    ),
]


@pytest.mark.parametrize(("why", "event", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_matches_exactly_the_events_that_weaken_a_protection(
    why: str, event: dict[str, Any], expected: set[str]
) -> None:
    from moto.events.models import EventPattern  # here, not at collection: every xdist worker collects this module

    matched = {
        rule for rule, pattern in _rules().items() if EventPattern.load(json.dumps(pattern)).matches_event(event)
    }
    assert matched == expected, why


def test_no_watch_where_nothing_is_protected_or_no_topic_is_configured() -> None:
    for env in ("dev", "staging"):  # dev is unprotected; staging is protected but has no alarms topic
        template = read_json(fixture_build() / env / "data.template.json")
        assert resources_of(template, "AWS::Events::Rule") == {}
