"""A multi-account global table (tests/fixtures/environments/multiaccount.yaml): the source table in
444444444444/us-east-1, a replica in 555555555555/us-west-2.

Synth writes both accounts' stacks; each table's resource policy allows DynamoDB's replication
service principal to replicate only among the declared replicas, and lets only the declared
replica's account join the source (decided by the IAM simulator, as tests/test_resource_policy.py
decides the denies). Expected values are written out here, not taken from the modules under test.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_src.cli import main as cli_main
from templates_src.errors import SpecError
from templates_src.spec.loader import load_spec

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, fixture_spec, read_json
from .iam_support import Arns, resolve, simulate

SOURCE, REPLICA, STRANGER = "444444444444", "555555555555", "666666666666"
TABLE = "conversations-multiaccount"
SOURCE_TABLE = f"arn:aws:dynamodb:us-east-1:{SOURCE}:table/{TABLE}"
REPLICA_TABLE = f"arn:aws:dynamodb:us-west-2:{REPLICA}:table/{TABLE}"
STRANGER_TABLE = f"arn:aws:dynamodb:ap-southeast-2:{STRANGER}:table/{TABLE}"
PRINCIPAL = "replication.dynamodb.amazonaws.com"
REPLICATION = ["dynamodb:ReadDataForReplication", "dynamodb:WriteDataForReplication", "dynamodb:ReplicateSettings"]
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
NO_IDENTITY_POLICY = {"Version": "2012-10-17", "Statement": []}


def _build() -> Path:
    return fixture_build() / "multiaccount"


def _table(kind: str) -> dict[str, Any]:
    props: dict[str, Any] = read_json(_build() / f"{kind}.template.json")["Resources"]["Table"]["Properties"]
    return props


def _arns(account: str, region: str) -> Arns:
    table = f"arn:aws:dynamodb:{region}:{account}:table/{TABLE}"
    return Arns(account, region, table, f"{table}/stream/x", f"arn:aws:kms:{region}:{account}:key/k")


def _policy(kind: str, account: str, region: str) -> dict[str, Any]:
    (replica,) = _table(kind)["Replicas"]
    policy: dict[str, Any] = resolve(
        replica["ResourcePolicy"]["PolicyDocument"], fixture_spec("multiaccount"), _arns(account, region)
    )
    return policy


SOURCE_POLICY = ("data", SOURCE, "us-east-1")
REPLICA_POLICY = (f"account-{REPLICA}-data", REPLICA, "us-west-2")


def test_both_accounts_stack_sets_are_written_with_deterministic_names() -> None:
    files = sorted(p.name for p in _build().iterdir())
    stacks = ["data", "access", f"account-{REPLICA}-data", f"account-{REPLICA}-access"]
    expected = sorted(
        [f"{s}.{part}.json" for s in stacks for part in ("template", "parameters", "tags")] + ["access-report.md"]
    )
    assert files == expected


def test_the_source_is_a_one_region_global_table_and_the_replica_is_created_from_it() -> None:
    source = _table("data")
    assert [r["Region"] for r in source["Replicas"]] == ["us-east-1"]
    assert source["Replicas"][0]["GlobalTableSettingsReplicationMode"] == "ENABLED"
    assert "GlobalTableSourceArn" not in source
    replica = _table(f"account-{REPLICA}-data")
    assert replica["GlobalTableSourceArn"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:dynamodb:us-east-1:{SOURCE}:table/{TABLE}"
    }
    assert replica["TableName"] == TABLE
    (own,) = replica["Replicas"]
    assert own["Region"] == "us-west-2"
    assert own["GlobalTableSettingsReplicationMode"] == "ENABLED"
    # Unified settings come from the source: the replica template sets none of them.
    for unified in (
        "KeySchema",
        "AttributeDefinitions",
        "BillingMode",
        "GlobalSecondaryIndexes",
        "StreamSpecification",
    ):
        assert unified not in replica, unified
    assert "ReadProvisionedThroughputSettings" not in own and "GlobalSecondaryIndexes" not in own
    # Its own account's key, its own tags.
    assert own["SSESpecification"] == {"KMSMasterKeyId": {"Fn::GetAtt": ["GlobalTableKey", "Arn"]}}
    assert {"Key": "DataResidency", "Value": "us-west"} in own["Tags"]


def test_each_account_has_its_own_key_administered_in_that_account() -> None:
    replica_key = read_json(_build() / f"account-{REPLICA}-data.template.json")["Resources"]["GlobalTableKey"]
    statements = {s["Sid"]: s for s in replica_key["Properties"]["KeyPolicy"]["Statement"]}
    assert statements["KeyAdministratorsManageNeverUse"]["Principal"] == {
        "AWS": [f"arn:aws:iam::{REPLICA}:role/platform-key-admins", f"arn:aws:iam::{REPLICA}:role/platform-deployer"]
    }
    assert statements["UseOnlyThroughDynamoDB"]["Condition"]["StringEquals"] == {
        "kms:CallerAccount": REPLICA,
        "kms:ViaService": "dynamodb.us-west-2.amazonaws.com",
    }
    assert statements["ReplicationServiceUsesTheKey"] == {
        "Sid": "ReplicationServiceUsesTheKey",
        "Effect": "Allow",
        "Principal": {"Service": [PRINCIPAL]},
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
        "Resource": ["*"],
        "Condition": {"StringEquals": {"aws:SourceAccount": [SOURCE, REPLICA]}},
    }


def test_each_account_has_its_own_access_stack_over_its_own_table() -> None:
    access = read_json(_build() / f"account-{REPLICA}-access.template.json")
    parameters = read_json(_build() / f"account-{REPLICA}-access.parameters.json")
    assert parameters == [
        {
            "ParameterKey": "PermissionsBoundaryArn",
            "ParameterValue": f"arn:aws:iam::{REPLICA}:policy/chat-platform-boundary",
        }
    ]
    text = str(access)
    assert "us-east-1" not in text  # no grant reaches the source's Region from the replica's account
    assert "conversations-multiaccount-data-TableArn" in text  # that account's own data stack's export


def test_the_replication_statement_names_exactly_the_declared_replicas() -> None:
    for kind, account, region in (SOURCE_POLICY, REPLICA_POLICY):
        statement = _policy(kind, account, region)["Statement"][0]
        assert statement == {
            "Sid": "ReplicationOnlyAmongDeclaredReplicas",
            "Effect": "Allow",
            "Principal": {"Service": [PRINCIPAL]},
            "Action": REPLICATION,
            "Resource": [f"arn:aws:dynamodb:{region}:{account}:table/{TABLE}"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": [SOURCE, REPLICA], "aws:SourceArn": [SOURCE_TABLE, REPLICA_TABLE]}
            },
        }


def _deny(sid: str, condition: dict[str, Any], table: str, **actions: list[str]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        **actions,
        "Resource": [table, f"{table}/index/*"],
        "Condition": condition,
    }


def _other_accounts(accounts: str | list[str]) -> dict[str, Any]:
    return {
        "StringNotEquals": {"aws:PrincipalAccount": accounts},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
    }


INSECURE = {"Bool": {"aws:SecureTransport": "false"}}
JOIN = "dynamodb:AssociateTableReplica"


def test_the_source_lets_the_declared_accounts_join_and_denies_others_everything_else() -> None:
    assert _policy(*SOURCE_POLICY)["Statement"][1:] == [
        {
            "Sid": "DeclaredAccountsJoinThisGlobalTable",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{REPLICA}:root"]},
            "Action": [JOIN],
            "Resource": [SOURCE_TABLE],
        },
        _deny("DenyInsecureTransport", INSECURE, SOURCE_TABLE, Action=["dynamodb:*"]),
        _deny("DenyOtherAccounts", _other_accounts(SOURCE), SOURCE_TABLE, NotAction=[JOIN]),
        _deny("DenyOtherAccountsJoining", _other_accounts([SOURCE, REPLICA]), SOURCE_TABLE, Action=[JOIN]),
    ]


def test_a_replica_is_joined_by_no_one_and_denies_other_accounts_everything() -> None:
    assert _policy(*REPLICA_POLICY)["Statement"][1:] == [
        _deny("DenyInsecureTransport", INSECURE, REPLICA_TABLE, Action=["dynamodb:*"]),
        _deny("DenyOtherAccounts", _other_accounts(REPLICA), REPLICA_TABLE, Action=["dynamodb:*"]),
    ]


def _replication_case(
    policy: dict[str, Any], table: str, owner: str, action: str, account: str, arn: str
) -> dict[str, Any]:
    return {
        "policy": NO_IDENTITY_POLICY,
        "principal": PRINCIPAL,
        "action": action,
        "resource": table,
        "accountId": owner,
        "resourcePolicy": policy,
        "context": {
            "aws:SourceAccount": account,
            "aws:SourceArn": arn,
            "aws:PrincipalIsAWSService": "true",
            "aws:SecureTransport": "true",
        },
    }


@pytest.mark.parametrize("action", REPLICATION)
def test_replication_is_allowed_among_the_declared_replicas_and_no_other(action: str) -> None:
    source, replica = _policy(*SOURCE_POLICY), _policy(*REPLICA_POLICY)
    cases = [
        # On the source: for the declared replica (and itself), not for another account's table.
        (source, SOURCE_TABLE, SOURCE, REPLICA, REPLICA_TABLE, "Allowed"),
        (source, SOURCE_TABLE, SOURCE, SOURCE, SOURCE_TABLE, "Allowed"),
        (source, SOURCE_TABLE, SOURCE, STRANGER, STRANGER_TABLE, "ImplicitlyDenied"),
        # The declared account, but a table it did not declare (another name, another Region).
        (
            source,
            SOURCE_TABLE,
            SOURCE,
            REPLICA,
            f"arn:aws:dynamodb:us-west-2:{REPLICA}:table/other",
            "ImplicitlyDenied",
        ),
        (
            source,
            SOURCE_TABLE,
            SOURCE,
            REPLICA,
            f"arn:aws:dynamodb:us-east-2:{REPLICA}:table/{TABLE}",
            "ImplicitlyDenied",
        ),
        # A declared ARN under another account's name (the two keys together).
        (source, SOURCE_TABLE, SOURCE, STRANGER, REPLICA_TABLE, "ImplicitlyDenied"),
        # On the replica: for the source, not for another account.
        (replica, REPLICA_TABLE, REPLICA, SOURCE, SOURCE_TABLE, "Allowed"),
        (replica, REPLICA_TABLE, REPLICA, STRANGER, STRANGER_TABLE, "ImplicitlyDenied"),
    ]
    requests = [_replication_case(p, t, owner, action, acct, arn) for p, t, owner, acct, arn, _ in cases]
    assert [r["decision"] for r in simulate(requests)] == [want for *_, want in cases]


def _caller_case(policy: dict[str, Any], table: str, owner: str, action: str, account: str) -> dict[str, Any]:
    return {
        "policy": ALLOW_ALL,
        "principal": f"arn:aws:iam::{account}:role/platform-deployer",
        "action": action,
        "resource": table,
        "accountId": owner,
        "resourcePolicy": policy,
        "context": {
            "aws:PrincipalAccount": account,
            "aws:PrincipalIsAWSService": "false",
            "aws:SecureTransport": "true",
        },
    }


def test_only_the_declared_replicas_account_may_join_the_source_and_do_nothing_else() -> None:
    source, replica = _policy(*SOURCE_POLICY), _policy(*REPLICA_POLICY)
    join = "dynamodb:AssociateTableReplica"
    cases = [
        (source, SOURCE_TABLE, SOURCE, join, REPLICA, "Allowed"),
        (source, SOURCE_TABLE, SOURCE, join, STRANGER, "ExplicitlyDenied"),
        (source, SOURCE_TABLE, SOURCE, "dynamodb:GetItem", REPLICA, "ExplicitlyDenied"),
        (source, SOURCE_TABLE, SOURCE, "dynamodb:PutItem", REPLICA, "ExplicitlyDenied"),
        (source, SOURCE_TABLE, SOURCE, "dynamodb:GetItem", SOURCE, "Allowed"),
        # The replica's table is joined by no one: the source account's principals are another account there.
        (replica, REPLICA_TABLE, REPLICA, join, SOURCE, "ExplicitlyDenied"),
        (replica, REPLICA_TABLE, REPLICA, "dynamodb:GetItem", SOURCE, "ExplicitlyDenied"),
        (replica, REPLICA_TABLE, REPLICA, "dynamodb:GetItem", REPLICA, "Allowed"),
    ]
    requests = [_caller_case(p, t, owner, action, acct) for p, t, owner, action, acct, _ in cases]
    assert [r["decision"] for r in simulate(requests)] == [want for *_, want in cases]


def test_an_environment_without_other_accounts_gets_no_replication_statement() -> None:
    for env in ("global", "prod"):
        text = (fixture_build() / env / "data.template.json").read_text()
        assert PRINCIPAL not in text and "AssociateTableReplica" not in text and "GlobalTableSourceArn" not in text


# -- what an environment may not declare: exit 2, naming the file and the field ----------------------------------


def _synth(tmp_path: Path, mutate: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "multiaccount.yaml").read_text())
    mutate(env)
    path = tmp_path / "qa.yaml"
    path.write_text(yaml.safe_dump(env, sort_keys=False))
    out = tmp_path / "build"
    code = cli_main(["synth", "--env-file", str(path), "--designs-dir", str(FIXTURE_DESIGNS), "--out", str(out)])
    assert not out.exists(), "nothing may be written on bad input"
    return code, capsys.readouterr().err


def _with_same_account_replica(env: dict[str, Any]) -> None:
    env["replicas"].append({"region": "ap-southeast-2"})


@pytest.mark.parametrize(
    ("mutate", "path", "rule"),
    [
        (lambda e: e.update(multi_region_consistency="STRONG"), "replicas[0].account", "N616"),
        (_with_same_account_replica, "replicas[1]", "N617"),
        (lambda e: e["replicas"][0].update(account=SOURCE), "replicas[0].account", "N617"),
        (lambda e: e["replicas"][0].update(read={"min": 1, "max": 5}), "replicas[0].read", "N618"),
        (
            lambda e: e["replicas"][0].update(key_admins=[f"arn:aws:iam::{SOURCE}:role/platform-key-admins"]),
            "replicas[0].key_admins[0]",
            "N619",
        ),
        (lambda e: e["replicas"][0].update(account="5555"), "replicas[0].account", "S003"),
    ],
    ids=[
        "strong",
        "same-account replica mixed in",
        "the source's own account",
        "read override",
        "key admins elsewhere",
        "not 12 digits",
    ],
)
def test_a_bad_replica_account_is_bad_input_naming_the_file_and_field(
    tmp_path: Path, mutate: Any, path: str, rule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _synth(tmp_path, mutate, capsys)
    assert code == 2, err
    lines = [line for line in err.splitlines() if f"[{rule}]" in line]
    assert any("qa.yaml:" in line and f": {path}: error: " in line for line in lines), err


def _multi_account_findings(tmp_path: Path, mutate: Any) -> list[tuple[str, str, str]]:
    """(rule, path, message) of the N616-N619 findings on the multiaccount fixture changed by mutate."""
    env = yaml.safe_load((FIXTURE_ENVIRONMENTS / "multiaccount.yaml").read_text())
    mutate(env)
    path = tmp_path / "qa.yaml"
    path.write_text(yaml.safe_dump(env, sort_keys=False))
    try:
        load_spec(path, FIXTURE_DESIGNS)
    except SpecError as exc:
        return [(d.rule_id, d.path, d.message) for d in exc.problems if d.rule_id in ("N616", "N617", "N618", "N619")]
    return []


SOURCE_ADMIN = f"arn:aws:iam::{SOURCE}:role/platform-key-admins"


def _same_account_replicas_beside_another_accounts(env: dict[str, Any]) -> None:
    env["replicas"] += [
        {"region": "ap-southeast-2"},
        {"region": "eu-west-1", "account": SOURCE, "key_admins": [SOURCE_ADMIN]},
        {"region": "eu-central-1"},
    ]


def test_each_replica_without_an_account_of_its_own_is_named(tmp_path: Path) -> None:
    no_account = (
        "the replica in {} has no account of its own: every replica of a multi-account global table is in a "
        f"separate account ({SOURCE}, this environment's, holds the source table); name its account, or take the "
        "replicas in other accounts out"
    )
    assert _multi_account_findings(tmp_path, _same_account_replicas_beside_another_accounts) == [
        ("N617", "replicas[1]", no_account.format("ap-southeast-2")),
        (
            "N617",
            "replicas[2].account",
            f"{SOURCE} is the environment's own account, which holds the source table: a multi-account global "
            "table has one replica per account; move this replica to another account",
        ),
        ("N617", "replicas[3]", no_account.format("eu-central-1")),
        (
            "N619",
            "replicas[2].key_admins",
            "key_admins is for a replica in another account; a same-account replica's key follows the "
            "environment's key_admins: remove it",
        ),
    ]


def _only_replica_in_the_source_account(env: dict[str, Any]) -> None:
    env["replicas"][0].update(account=SOURCE, key_admins=[SOURCE_ADMIN])


def test_a_replica_naming_the_environments_own_account_is_told_to_name_none(tmp_path: Path) -> None:
    assert _multi_account_findings(tmp_path, _only_replica_in_the_source_account) == [
        (
            "N617",
            "replicas[0].account",
            f"{SOURCE} is the environment's own account, which holds the source table: remove account (a replica "
            "in the environment's account names none)",
        ),
        (
            "N619",
            "replicas[0].key_admins",
            "key_admins is for a replica in another account; a same-account replica's key follows the "
            "environment's key_admins: remove it",
        ),
    ]


def test_key_admins_of_another_account_are_each_named(tmp_path: Path) -> None:
    def mutate(env: dict[str, Any]) -> None:
        env["replicas"][0]["key_admins"] = [
            SOURCE_ADMIN,
            f"arn:aws:iam::{REPLICA}:role/platform-deployer",
            f"arn:aws:iam::{STRANGER}:role/admin",
        ]

    def message(arn: str, account: str) -> str:
        return f"{arn} is in account {account}; the replica's key is in {REPLICA}: name that account's administrators"

    assert _multi_account_findings(tmp_path, mutate) == [
        ("N619", "replicas[0].key_admins[0]", message(SOURCE_ADMIN, SOURCE)),
        ("N619", "replicas[0].key_admins[2]", message(f"arn:aws:iam::{STRANGER}:role/admin", STRANGER)),
    ]


def test_an_existing_key_cannot_encrypt_a_replica_in_another_account(tmp_path: Path) -> None:
    key = f"arn:aws:kms:us-east-1:{SOURCE}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert _multi_account_findings(tmp_path, lambda e: e.update(encryption={"kms_key_arn": key})) == [
        (
            "N619",
            "encryption.kms_key_arn",
            "an existing key is in one account, and a replica in another account is encrypted with a key of that "
            "account: use encryption: customer_managed (each account's data stack makes its own key)",
        )
    ]


# -- cost: each replica's replicated writes priced in its own Region ------------------------------------------------


def test_each_replica_in_another_account_is_priced_in_its_region() -> None:
    from templates_src.change.cost import estimate_spec

    spec = fixture_spec("multiaccount")
    estimate = estimate_spec(spec, read_json(_build() / "data.template.json"))
    assert estimate is not None
    lines = {line.name: line for line in estimate.lines}
    replicated = lines["replicated writes (us-west-2)"]
    # append-message: 4,000,000 TransactWriteItems a month of two 1 KB items (2 x 2 units, transactional) plus
    # 2 GSI write units: 6 units each, 24,000,000 replicated write units at us-west-2's $0.625 per million.
    assert (replicated.quantity, replicated.units_per_month, replicated.unit, replicated.usd) == (
        4_000_000,
        24_000_000,
        "rWRU",
        15.0,
    )
    assert lines["table (us-west-2)"].usd == 2.5  # 10 GB at $0.25
    assert lines["point-in-time recovery (us-west-2)"].usd == 2.0  # 10 GB at $0.20
    assert estimate.replicas == ["us-west-2"]
    assert (
        "replicas in other accounts are billed to those accounts: us-west-2 to account 555555555555" in estimate.notes
    )


# -- the plan: both sides, the deploy order, what cannot change ------------------------------------------------------

REPLICA_DATA, REPLICA_ACCESS = f"account-{REPLICA}-data", f"account-{REPLICA}-access"


def _replication_accounts(template: dict[str, Any]) -> list[str]:
    (replica,) = template["Resources"]["Table"]["Properties"]["Replicas"]
    statement = replica["ResourcePolicy"]["PolicyDocument"]["Statement"][0]
    assert statement["Sid"] == "ReplicationOnlyAmongDeclaredReplicas"
    accounts: list[str] = statement["Condition"]["StringEquals"]["aws:SourceAccount"]
    return accounts


def test_the_plan_shows_both_accounts_stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from templates_src.change.plan import plan_environment

    from .test_plan import _git_repo_with_build

    repo = _git_repo_with_build(tmp_path)
    monkeypatch.chdir(repo)
    build = Path("build")
    plans, _ = plan_environment("multiaccount", build, "HEAD")
    assert [p.kind for p in plans] == ["data", "access", REPLICA_DATA, REPLICA_ACCESS]
    assert all(not p.changes for p in plans)
    # The replica's account added since the base: its stacks are Adds, and the deploy order is planned.
    for kind in (REPLICA_DATA, REPLICA_ACCESS):
        subprocess.run(["git", "rm", "-q", str(build / "multiaccount" / f"{kind}.template.json")], check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x"], check=True)
    subprocess.run(["git", "checkout", "-q", "HEAD~1", "--", str(build / "multiaccount")], check=True)
    plans, _ = plan_environment("multiaccount", build, "HEAD")
    by_kind = {p.kind: p for p in plans}
    assert {c.action for c in by_kind[REPLICA_DATA].changes} == {"Add"}
    assert by_kind[REPLICA_DATA].findings == []
    assert [(s.kind, s.summary) for s in by_kind["data"].steps] == [
        ("data", f"source: account {REPLICA} may join the table; replication among the live replicas only"),
        (REPLICA_DATA, f"replica in account {REPLICA}: created from the source's ARN"),
        ("data", f"source grant: replication with account {REPLICA}"),
    ]
    # The replica's stacks gone from the build (HEAD~1 has them): removals, blocked by G024 (and G001).
    for kind in (REPLICA_DATA, REPLICA_ACCESS):
        (build / "multiaccount" / f"{kind}.template.json").unlink()
    plans, _ = plan_environment("multiaccount", build, "HEAD~1")
    gone = next(p for p in plans if p.kind == REPLICA_DATA)
    assert {f.rule_id for f in gone.findings} >= {"G024", "G001"}


def test_a_new_replica_is_deployed_source_then_replica_then_the_sources_grant() -> None:
    from templates_src.change.steps import account_steps

    source = read_json(_build() / "data.template.json")
    replica = read_json(_build() / f"{REPLICA_DATA}.template.json")
    steps = account_steps({"Resources": {}}, source, {REPLICA_DATA: (None, replica)})
    assert [s.kind for s in steps] == ["data", REPLICA_DATA, "data"]
    assert steps[0].summary == f"source: the single-Region table, with account {REPLICA} allowed to join"
    # 1. the source: its replication names itself alone; the replica's account may already join.
    assert _replication_accounts(steps[0].template) == [SOURCE]
    statements = steps[0].template["Resources"]["Table"]["Properties"]["Replicas"][0]["ResourcePolicy"][
        "PolicyDocument"
    ]["Statement"]
    join = next(s for s in statements if s["Sid"] == "DeclaredAccountsJoinThisGlobalTable")
    assert join["Principal"] == {"AWS": [f"arn:aws:iam::{REPLICA}:root"]}
    # 2. the replica as built; 3. the source as built, its replication naming both.
    assert steps[1].template == replica
    assert steps[2].template == source
    assert _replication_accounts(steps[2].template) == [SOURCE, REPLICA]
    # Nothing new: no staging.
    assert account_steps(source, source, {REPLICA_DATA: (replica, replica)}) == []


def test_a_second_new_account_joins_after_the_first_and_every_live_replica_grants_it() -> None:
    from templates_src.change.steps import account_steps

    third, third_kind = "777777777777", "account-777777777777-data"
    source = read_json(_build() / "data.template.json")
    replica = read_json(_build() / f"{REPLICA_DATA}.template.json")
    text = json.dumps(replica)
    other = json.loads(text.replace(f"{REPLICA}", third).replace("us-west-2", "us-east-2"))
    steps = account_steps(source, source, {REPLICA_DATA: (replica, replica), third_kind: (None, other)})
    assert [(s.kind, s.summary) for s in steps] == [
        ("data", f"source: account {third} may join the table; replication among the live replicas only"),
        (third_kind, f"replica in account {third}: created from the source's ARN"),
        ("data", f"source grant: replication with account {third}"),
        (REPLICA_DATA, f"replica grant: replication with {third}"),
    ]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (
            lambda p: p.update(GlobalTableSourceArn={"Fn::Sub": "arn:${AWS::Partition}:dynamodb:us-east-1:1:table/x"}),
            "GlobalTableSourceArn",
        ),
        (lambda p: p["Replicas"][0].update(Region="us-east-2"), "Replicas"),
        (
            lambda p: p["Replicas"][0].pop("GlobalTableSettingsReplicationMode"),
            "Replicas[us-west-2].GlobalTableSettingsReplicationMode",
        ),
    ],
    ids=["re-pointed at another source", "moved to another Region", "out of settings replication"],
)
def test_what_a_replica_in_another_account_cannot_change_is_g024(mutate: Any, path: str) -> None:
    from templates_src.change.plan import plan_stack

    old = read_json(_build() / f"{REPLICA_DATA}.template.json")
    new = copy.deepcopy(old)
    mutate(new["Resources"]["Table"]["Properties"])
    found = [(f.rule_id, f.path) for f in plan_stack("x", old, new).findings]
    assert ("G024", path) in found, found


# G024's check on resource changes written out here: what each change finds, in words.
G024_SOURCE_SUB = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:us-east-1:444444444444:table/t"}
G024_OTHER = "arn:aws:dynamodb:us-east-1:777777777777:table/t"
G024_FORWARD = (
    "keep the replica as declared (its account and Region in replicas:); retiring or moving one is an "
    "administrator's reviewed operation: back that account's copy up, turn its deletion protection off by hand, "
    "then allow G024 for that one deploy (docs/global-tables.md: Multi-account global tables)"
)


def _g024_replica(region: str, mode: str | None = "ENABLED") -> dict[str, Any]:
    return {"Region": region} if mode is None else {"Region": region, "GlobalTableSettingsReplicationMode": mode}


def _g024(
    action: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    resource_type: str = "AWS::DynamoDB::GlobalTable",
) -> list[tuple[str, str]]:
    from templates_src.change.diff import ResourceChange
    from templates_src.change.guards.g024_multi_account_replica_fixed import check

    found = check(
        ResourceChange(
            "Table",
            resource_type,
            action,
            old={} if old is None else {"Type": resource_type, "Properties": old},
            new={} if new is None else {"Type": resource_type, "Properties": new},
        )
    )
    assert all(
        (f.rule_id, f.severity, f.where, f.line, f.way_forward) == ("G024", "error", "Table", None, G024_FORWARD)
        for f in found
    ), found
    return [(f.path, f.message) for f in found]


def test_g024_a_removed_replica_in_another_account_and_only_that() -> None:
    replica = {"GlobalTableSourceArn": G024_SOURCE_SUB, "Replicas": [_g024_replica("us-west-2")]}
    removed = (
        "GlobalTableSourceArn",
        "the replica in this account would be removed: its table, this account's copy of the data, is deleted and "
        "leaves the global table",
    )
    assert _g024("Remove", replica, None) == [removed]
    # A table of the source's account (no source ARN), or a plain table, removed: not G024's.
    assert _g024("Remove", {"Replicas": [_g024_replica("us-west-2")]}, None) == []
    assert _g024("Remove", replica, None, resource_type="AWS::DynamoDB::Table") == []
    # A replica added: nothing to keep yet.
    assert _g024("Add", None, replica) == []


@pytest.mark.parametrize("action", ["Modify", "Replace"])
def test_g024_the_source_re_pointed_or_dropped_names_both_arns(action: str) -> None:
    replicas = [_g024_replica("us-west-2")]
    old = {"GlobalTableSourceArn": G024_SOURCE_SUB, "Replicas": replicas}
    tail = (
        ": a replica is created from its source once; CloudFormation replaces the table, deleting this account's copy"
    )
    assert _g024(action, old, {"GlobalTableSourceArn": G024_OTHER, "Replicas": replicas}) == [
        (
            "GlobalTableSourceArn",
            "the replica's source changes (arn:${AWS::Partition}:dynamodb:us-east-1:444444444444:table/t -> "
            "arn:aws:dynamodb:us-east-1:777777777777:table/t)" + tail,
        )
    ]
    assert _g024(action, old, {"Replicas": replicas}) == [
        (
            "GlobalTableSourceArn",
            "the replica's source changes (arn:${AWS::Partition}:dynamodb:us-east-1:444444444444:table/t -> None)"
            + tail,
        )
    ]
    # The same source, however written, or a source where there was none (a table joining, not re-pointed).
    assert _g024(action, old, copy.deepcopy(old)) == []
    assert _g024(action, {"Replicas": replicas}, old) == []


def test_g024_a_replica_moved_lists_the_regions_before_and_after() -> None:
    def table(*regions: str) -> dict[str, Any]:
        return {"GlobalTableSourceArn": G024_OTHER, "Replicas": [_g024_replica(r) for r in regions]}

    assert _g024("Modify", table("us-west-2", "eu-west-1"), table("us-east-2", "eu-west-1")) == [
        (
            "Replicas",
            "the replica moves from us-west-2, eu-west-1 to us-east-2, eu-west-1: a replica in another account holds "
            "one Region for its life",
        )
    ]
    # Regions are compared with the source ARN on both sides only (a dropped source is its own finding).
    assert _g024("Modify", {"Replicas": [_g024_replica("us-west-2")]}, table("us-east-2")) == []
    dropped = _g024("Modify", table("us-west-2"), {"Replicas": [_g024_replica("us-east-2")]})
    assert [path for path, _ in dropped] == ["GlobalTableSourceArn"]
    assert _g024("Modify", table("us-west-2"), table("us-west-2")) == []


def test_g024_settings_replication_turned_off_or_unset_per_region() -> None:
    def table(*replicas: Any) -> dict[str, Any]:
        return {"Replicas": list(replicas)}

    old = table(_g024_replica("us-east-1"), _g024_replica("us-west-2"))
    assert _g024("Modify", old, table(_g024_replica("us-east-1"), _g024_replica("us-west-2", "DISABLED"))) == [
        (
            "Replicas[us-west-2].GlobalTableSettingsReplicationMode",
            "settings replication ENABLED -> DISABLED: a multi-account global table keeps its settings unified "
            "across the accounts",
        )
    ]
    assert _g024("Modify", old, table(_g024_replica("us-east-1", None), _g024_replica("us-west-2"))) == [
        (
            "Replicas[us-east-1].GlobalTableSettingsReplicationMode",
            "settings replication ENABLED -> unset: a multi-account global table keeps its settings unified "
            "across the accounts",
        )
    ]
    assert _g024("Replace", old, table(_g024_replica("us-east-1", "DISABLED"), _g024_replica("us-west-2"))) == [
        (
            "Replicas[us-east-1].GlobalTableSettingsReplicationMode",
            "settings replication ENABLED -> DISABLED: a multi-account global table keeps its settings unified "
            "across the accounts",
        )
    ]
    # Turned on where it was unset, a replica dropped (not this rule's, without a source ARN), or unchanged: nothing.
    unset = table(_g024_replica("us-east-1", None), _g024_replica("us-west-2", None))
    assert _g024("Modify", unset, old) == []
    assert _g024("Modify", old, table(_g024_replica("us-east-1"))) == []
    assert _g024("Modify", old, copy.deepcopy(old)) == []
    # A replica entry that is not an object is skipped, not read.
    assert _g024("Modify", table("us-east-1", *old["Replicas"]), old) == []


# -- deploy: what can be tested without the accounts (botocore's Stubber checks every request and response) ------


def _dynamodb() -> Any:
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _stack_files() -> list[Any]:
    from templates_src.stacks.artifacts import read_stack_files

    return read_stack_files(fixture_spec("multiaccount"), _build())


def _describe(stub: Any, replicas: list[dict[str, Any]] | None) -> None:
    if replicas is None:
        stub.add_client_error(
            "describe_table", "ResourceNotFoundException", expected_params={"TableName": TABLE}, http_status_code=400
        )
        return
    table = {"TableName": TABLE, "TableArn": SOURCE_TABLE, "TableStatus": "ACTIVE", "Replicas": replicas}
    stub.add_response("describe_table", {"Table": table}, {"TableName": TABLE})


@pytest.mark.parametrize(
    ("replicas", "accounts", "told"),
    [
        (None, [SOURCE], True),  # a new environment: the source first, the replica's account allowed to join
        ([{"RegionName": "us-east-1", "ReplicaArn": SOURCE_TABLE}], [SOURCE], True),
        (
            [
                {"RegionName": "us-east-1", "ReplicaArn": SOURCE_TABLE},
                {"RegionName": "us-west-2", "ReplicaArn": REPLICA_TABLE},
            ],
            [SOURCE, REPLICA],  # the replica is live: the source's grant, the stack as built
            False,
        ),
    ],
    ids=["no table yet", "source alone", "replica live"],
)
def test_the_source_deploy_names_the_live_replicas_only(replicas: Any, accounts: list[str], told: bool) -> None:
    from botocore.stub import Stubber

    from templates_src.deploy.accounts import source_for_this_deploy

    client = _dynamodb()
    said: list[str] = []
    built = _stack_files()
    with Stubber(client) as stub:
        _describe(stub, replicas)
        stacks = source_for_this_deploy(fixture_spec("multiaccount"), built, client, said.append)
        stub.assert_no_pending_responses()
    assert [s.kind for s in stacks] == ["data", "access"]
    data = stacks[0].template_dict
    assert _replication_accounts(data) == accounts
    assert stacks[1] is built[1]  # the access stack as built
    if told:
        assert said == [
            f"account {REPLICA} (us-west-2) holds no replica yet: this deploy lets it join; next, with that account's "
            f"credentials: deploy --env multiaccount --account {REPLICA}; then deploy --env multiaccount again (the "
            "source's grant)"
        ]
        join = data["Resources"]["Table"]["Properties"]["Replicas"][0]["ResourcePolicy"]["PolicyDocument"]["Statement"][
            1
        ]
        assert join["Sid"] == "DeclaredAccountsJoinThisGlobalTable"
    else:
        assert said == [] and stacks == built


def test_deploy_account_reads_that_accounts_stacks_and_checks_its_credentials() -> None:
    import boto3
    from botocore.stub import Stubber

    from templates_src.deploy.accounts import account_spec
    from templates_src.deploy.deployer import check_caller
    from templates_src.errors import BadInput
    from templates_src.stacks.artifacts import read_stack_files

    spec = account_spec(fixture_spec("multiaccount"), REPLICA)
    assert (spec.env.account_id, spec.env.region) == (REPLICA, "us-west-2")
    stacks = read_stack_files(spec, _build(), REPLICA)
    assert [(s.kind, s.name) for s in stacks] == [
        ("data", "conversations-multiaccount-data"),
        ("access", "conversations-multiaccount-access"),
    ]
    assert "GlobalTableSourceArn" in stacks[0].template_dict["Resources"]["Table"]["Properties"]
    sts = boto3.client("sts", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sts) as stub:
        stub.add_response(
            "get_caller_identity", {"Account": SOURCE, "Arn": f"arn:aws:iam::{SOURCE}:role/x", "UserId": "x"}
        )
        with pytest.raises(BadInput) as wrong:
            check_caller(spec, sts, None)
    assert str(wrong.value).endswith(
        f"multiaccount.yaml: replicas[us-west-2].account: credentials are for account {SOURCE}, the replica in "
        f"us-west-2 is in {REPLICA}; use that account's profile"
    )
    with pytest.raises(BadInput, match=f"--account {STRANGER}: not an account of a replica of this environment"):
        account_spec(fixture_spec("multiaccount"), STRANGER)
