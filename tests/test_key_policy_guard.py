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
