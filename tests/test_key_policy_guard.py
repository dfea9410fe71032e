"""G022: a plan in which a key loses an administrator or DynamoDB's use is blocked; other policy edits pass."""

from __future__ import annotations

import copy
from typing import Any

from templates_src.change.plan import plan_stack

from .conftest import fixture_build, read_json


def _findings(mutate: Any, env: str = "prod", key: str = "TableKey") -> list[str]:
    old = read_json(fixture_build() / env / "data.template.json")
    new = copy.deepcopy(old)
    mutate(new["Resources"][key]["Properties"]["KeyPolicy"]["Statement"])
    return [f.rule_id for f in plan_stack("x", old, new).findings if f.rule_id == "G022"]


def _drop_admin(statements: list[dict[str, Any]]) -> None:
    (admins,) = [s for s in statements if s["Sid"] == "KeyAdministratorsManageNeverUse"]
    admins["Principal"]["AWS"] = ["arn:aws:iam::333333333333:role/platform-deployer"]


def test_dropping_an_administrator_blocks() -> None:
    assert _findings(_drop_admin) == ["G022"]


def test_dropping_the_vault_keys_backup_use_blocks() -> None:
    def drop(statements: list[dict[str, Any]]) -> None:
        statements[:] = [s for s in statements if s["Sid"] != "UseOnlyThroughBackup"]

    assert _findings(drop, key="BackupVaultKey") == ["G022"]


def test_adding_a_statement_or_narrowing_a_deny_passes() -> None:
    def add(statements: list[dict[str, Any]]) -> None:
        statements.append(
            {"Sid": "Extra", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Encrypt", "Resource": "*"}
        )

    assert _findings(add) == []


def test_dropping_a_deny_blocks() -> None:
    def drop(statements: list[dict[str, Any]]) -> None:
        statements[:] = [s for s in statements if s["Sid"] != "DeployRoleOnlyThroughCloudFormation"]

    assert _findings(drop) == ["G022"]


def _g023(mutate: Any) -> list[tuple[str, str]]:
    old = read_json(fixture_build() / "prod" / "data.template.json")
    new = copy.deepcopy(old)
    mutate(new["Resources"])
    return [(f.rule_id, f.where) for f in plan_stack("x", old, new).findings if f.rule_id == "G023"]


def test_the_watch_and_the_backup_plan_cannot_go_quietly() -> None:
    """Dropping alarms: removes every change-watch rule; each is named."""
    assert _g023(lambda r: [r.pop(k) for k in [k for k in r if k.endswith("ChangeWatch")]]) == [
        ("G023", "BackupVaultChangeWatch"),
        ("G023", "KeyChangeWatch"),
        ("G023", "StackChangeWatch"),
        ("G023", "TableChangeWatch"),
    ]
    assert _g023(lambda r: r.pop("BackupSelection")) == [("G023", "BackupSelection")]
    assert _g023(lambda r: r["BackupVault"]["Properties"].pop("AccessPolicy")) == [("G023", "BackupVault")]


def test_a_longer_retention_passes() -> None:
    def longer(r: dict[str, Any]) -> None:
        r["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"][0]["Lifecycle"]["DeleteAfterDays"] = 90

    assert _g023(longer) == []


def _said(mutate_new: Any, mutate_old: Any = None) -> list[tuple[str, str, str, str]]:
    """G022's findings (resource, path, message, way forward) when the TableKey's statements change."""
    old = read_json(fixture_build() / "prod" / "data.template.json")
    new = copy.deepcopy(old)
    mutate_new(new["Resources"]["TableKey"]["Properties"]["KeyPolicy"]["Statement"])
    if mutate_old is not None:
        mutate_old(old["Resources"]["TableKey"]["Properties"]["KeyPolicy"]["Statement"])
    found = plan_stack("x", old, new).findings
    return [(f.where, f.path, f.message, f.way_forward) for f in found if f.rule_id == "G022"]


def _sid(statements: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    return next(s for s in statements if s["Sid"] == sid)


def _without(*sids: str) -> Any:
    def drop(statements: list[dict[str, Any]]) -> None:
        statements[:] = [s for s in statements if s.get("Sid") not in sids]

    return drop


ADMINS = "arn:aws:iam::333333333333:role/platform-key-admins"
DEPLOYER = "arn:aws:iam::333333333333:role/platform-deployer"
DEPLOY_ROLE = '{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/conversations/conversations-prod-deploy"}'
ROOT = '{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}'
REVIEW = "who may disable, delete or re-policy the key changes: review it as a key administrator would"
UNREADABLE = "the table (or its backups) could become unreadable, or the key manageable by the root user alone"
WAY = (
    "keep the administrators (key_admins) and the service's use in the key's policy; if the change is deliberate "
    "(an administrator handed over), have a key administrator confirm it and allow G022 for that one deploy"
)


def test_g022_names_the_administrator_dropped_while_others_remain() -> None:
    def drop(statements: list[dict[str, Any]]) -> None:
        _sid(statements, "KeyAdministratorsManageNeverUse")["Principal"]["AWS"] = [DEPLOYER]

    assert _said(drop) == [
        ("TableKey", "KeyPolicy", f'TableKey: administrator "{ADMINS}" may no longer replace its policy: {REVIEW}', WAY)
    ]


def test_g022_leaving_the_root_user_alone_may_make_the_key_unmanageable() -> None:
    assert _said(_without("KeyAdministratorsManageNeverUse", "DeployRoleThroughCloudFormationManageNeverUse")) == [
        (
            "TableKey",
            "KeyPolicy",
            f'TableKey: administrator "{DEPLOYER}" may no longer replace its policy; administrator "{ADMINS}" may '
            f"no longer replace its policy; administrator {DEPLOY_ROLE} may no longer replace its policy: {UNREADABLE}",
            WAY,
        )
    ]


def test_g022_names_the_service_use_lost() -> None:
    assert _said(_without("UseOnlyThroughDynamoDB")) == [
        (
            "TableKey",
            "KeyPolicy",
            f'TableKey: use through "dynamodb.us-east-1.amazonaws.com" is gone: {UNREADABLE}',
            WAY,
        )
    ]


def test_g022_tells_a_deny_changed_from_one_removed() -> None:
    def widen(statements: list[dict[str, Any]]) -> None:
        _sid(statements, "NoOneBypassesTheLockoutCheck")["Action"].append("kms:DisableKey")

    assert [m for _, _, m, _ in _said(widen)] == [
        f"TableKey: Deny NoOneBypassesTheLockoutCheck changed (whom it exempts, or what it denies): {REVIEW}"
    ]
    assert [m for _, _, m, _ in _said(_without("NoOneBypassesTheLockoutCheck"))] == [
        f"TableKey: Deny NoOneBypassesTheLockoutCheck removed: {REVIEW}"
    ]
    unnamed = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}
    assert [m for _, _, m, _ in _said(lambda s: None, lambda s: s.append(unnamed))] == [
        f"TableKey: Deny a Deny removed: {REVIEW}"
    ]


def test_g022_an_administrator_allowed_every_action_counts() -> None:
    """kms:* or *, as a string or in a list, includes kms:PutKeyPolicy."""
    for action in ("kms:*", "*", ["kms:*"]):

        def everything(statements: list[dict[str, Any]], action: Any = action) -> None:
            _sid(statements, "AccountRecoveryOnly")["Action"] = action

        assert [m for _, _, m, _ in _said(_without("AccountRecoveryOnly"), everything)] == [
            f"TableKey: administrator {ROOT} may no longer replace its policy: {REVIEW}"
        ], action


def test_g022_a_policy_that_is_no_mapping_keeps_nothing() -> None:
    old = read_json(fixture_build() / "prod" / "data.template.json")
    new = copy.deepcopy(old)
    new["Resources"]["TableKey"]["Properties"]["KeyPolicy"] = "{}"
    (finding,) = [f for f in plan_stack("x", old, new).findings if f.rule_id == "G022"]
    assert finding.message.startswith(f'TableKey: administrator "{DEPLOYER}" may no longer replace its policy;')
    assert 'use through "dynamodb.us-east-1.amazonaws.com" is gone' in finding.message
    assert "Deny NoOneBypassesTheLockoutCheck removed" in finding.message


def test_g022_only_a_modified_key() -> None:
    old = read_json(fixture_build() / "prod" / "data.template.json")
    new = copy.deepcopy(old)
    new["Resources"].pop("TableKey")
    assert [f for f in plan_stack("x", old, new).findings if f.rule_id == "G022"] == []


def _policy_change(old_policy: Any, new_policy: Any) -> list[str]:
    """G022's messages when the TableKey's whole policy goes from old_policy to new_policy.

    The key's description changes too: the key is modified even where the two policies are equal."""
    old = read_json(fixture_build() / "prod" / "data.template.json")
    new = copy.deepcopy(old)
    old["Resources"]["TableKey"]["Properties"]["KeyPolicy"] = old_policy
    new["Resources"]["TableKey"]["Properties"]["KeyPolicy"] = new_policy
    new["Resources"]["TableKey"]["Properties"]["Description"] = "another description"
    return [f.message for f in plan_stack("x", old, new).findings if f.rule_id == "G022"]


def _statements(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


SUB_WITH_VARIABLES = {"Fn::Sub": ["arn:aws:iam::${A}:role/${B}", {"A": "333333333333", "B": "key-admin"}]}
SUB_REORDERED = {"Fn::Sub": ["arn:aws:iam::${A}:role/${B}", {"B": "key-admin", "A": "333333333333"}]}


def test_g022_a_policy_without_statements_has_no_administrators_uses_or_denies() -> None:
    assert _policy_change({"Version": "2012-10-17"}, {"Version": "2012-10-17"}) == []


def test_g022_the_same_principal_or_statement_in_another_key_order_is_the_same() -> None:
    def policy(principal: Any, via: Any, deny: dict[str, Any]) -> dict[str, Any]:
        return _statements(
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:PutKeyPolicy", "Resource": "*"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": via}},
            },
            deny,
        )

    deny = {"Sid": "D", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:DisableKey", "Resource": "*"}
    reordered = {"Resource": "*", "Action": "kms:DisableKey", "Principal": {"AWS": "*"}, "Effect": "Deny", "Sid": "D"}
    assert (
        _policy_change(
            policy(SUB_WITH_VARIABLES, SUB_WITH_VARIABLES, deny), policy(SUB_REORDERED, SUB_REORDERED, reordered)
        )
        == []
    )


def test_g022_only_aws_principals_and_service_conditions_count() -> None:
    """A service principal is no administrator; a condition without kms:ViaService is no service's use."""
    service = {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "kms:PutKeyPolicy"}
    unnamed = {"Effect": "Allow", "Action": "kms:PutKeyPolicy"}
    tls_only = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "kms:Decrypt",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }
    assert _policy_change(_statements(service, unnamed, tls_only), _statements()) == []


def test_g022_a_principal_written_as_a_string_counts() -> None:
    anyone = {"Effect": "Allow", "Principal": "*", "Action": "kms:PutKeyPolicy"}
    assert _policy_change(_statements(anyone), _statements()) == [
        f'TableKey: administrator "*" may no longer replace its policy: {UNREADABLE}'
    ]


def test_g022_every_statement_allowing_a_service_counts() -> None:
    def use(service: str) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:Decrypt",
            "Condition": {"StringEquals": {"kms:ViaService": service}},
        }

    dynamodb, s3 = use("dynamodb.us-east-1.amazonaws.com"), use("s3.us-east-1.amazonaws.com")
    assert _policy_change(_statements(dynamodb, s3), _statements(s3)) == [
        f'TableKey: use through "dynamodb.us-east-1.amazonaws.com" is gone: {UNREADABLE}'
    ]


def _g023_said(mutate_new: Any, mutate_old: Any = None) -> list[tuple[str, str, str]]:
    old = read_json(fixture_build() / "prod" / "data.template.json")
    if mutate_old is not None:
        mutate_old(old["Resources"])
    new = copy.deepcopy(old)
    mutate_new(new["Resources"])
    return [(f.where, f.path, f.message) for f in plan_stack("x", old, new).findings if f.rule_id == "G023"]


def _rules(r: dict[str, Any]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = r["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"]
    return rules


def test_g023_says_what_would_be_removed() -> None:
    assert _g023_said(lambda r: r.pop("BackupPlan")) == [
        ("BackupPlan", "(resource)", "BackupPlan: the backup plan would be removed")
    ]
    assert _g023_said(lambda r: r.pop("BackupSelection")) == [
        ("BackupSelection", "(resource)", "BackupSelection: the backup plan's selection of the table would be removed")
    ]
    assert _g023_said(lambda r: r.pop("KeyChangeWatch")) == [
        ("KeyChangeWatch", "(resource)", "KeyChangeWatch: a change-watch rule would be removed")
    ]


def test_g023_a_shorter_retention_and_only_that() -> None:
    def retention(days: int) -> Any:
        return lambda r: _rules(r)[0]["Lifecycle"].update(DeleteAfterDays=days)

    assert _g023_said(retention(1)) == [
        (
            "BackupPlan",
            "BackupPlan.BackupPlanRule[daily].Lifecycle.DeleteAfterDays",
            "BackupPlan: rule daily keeps recovery points 1 days instead of 35: the older ones are deleted",
        )
    ]
    assert _g023_said(retention(35)) == []
    assert _g023_said(lambda r: _rules(r)[0].update(ScheduleExpression="cron(0 4 * * ? *)")) == []
    # A rule renamed (or gone) keeps nothing shorter: the plan's own removal is what G023 guards.
    assert _g023_said(lambda r: _rules(r)[0].update(RuleName="nightly")) == []


def test_g023_the_vaults_access_policy_and_lock_stay() -> None:
    lock = {"MinRetentionDays": 35}

    def locked(r: dict[str, Any]) -> None:
        r["BackupVault"]["Properties"]["LockConfiguration"] = lock

    assert _g023_said(lambda r: r["BackupVault"]["Properties"].pop("LockConfiguration"), locked) == [
        ("BackupVault", "LockConfiguration", "BackupVault: the vault's LockConfiguration would be removed")
    ]
    assert _g023_said(lambda r: r["BackupVault"]["Properties"].pop("AccessPolicy")) == [
        ("BackupVault", "AccessPolicy", "BackupVault: the vault's AccessPolicy would be removed")
    ]
    assert (
        _g023_said(lambda r: r["BackupVault"]["Properties"].update(LockConfiguration={"MinRetentionDays": 40}), locked)
        == []
    )
