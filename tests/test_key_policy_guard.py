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
