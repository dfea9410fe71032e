"""Access stack structure, parliament's verdict and the exact actions per role."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import parliament
import pytest
import yaml
from parliament import analyze_policy_string

from templates_src.cli import main as cli_main
from templates_src.spec import limits
from templates_src.stacks.grants import configured_roles
from templates_src.stacks.names import role_logical_id

from .conftest import FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, SECURITY_PROJECTS, fixture_build, read_json, resources_of
from .conftest import fixture_spec as spec_for
from .iam_support import Arns, resolve, role_policies

PROJECTS = SECURITY_PROJECTS
PROJECT_ENV_ROLES = [
    (project, env, role)
    for project, p in PROJECTS.items()
    for env in p.env_names
    for role in configured_roles(p.spec(env))
]
KMS_READ = {"kms:decrypt", "kms:describekey"}
KMS_WRITE = KMS_READ | {
    "kms:encrypt",
    "kms:generatedatakey",
    "kms:generatedatakeywithoutplaintext",
    "kms:reencryptfrom",
    "kms:reencryptto",
}


def access_template(env: str, project: str = "fixture") -> dict[str, Any]:
    return read_json(PROJECTS[project].build / env / "access.template.json")


def resolved_policy(env: str, role: str, project: str = "fixture") -> dict[str, Any]:
    spec = PROJECTS[project].spec(env)
    return role_policies(access_template(env, project), spec, Arns.for_spec(spec))[role_logical_id(role)]


def expected_actions(env: str, role: str, project: str = "fixture") -> set[str]:
    """Written from the issue's rules, independently of grants.py."""
    spec = PROJECTS[project].spec(env)
    cmk = spec.env.encryption == "customer_managed"
    if role in ("app", "reader", "per_user"):
        ops: set[str] = set()
        for p in spec.design.patterns_for(role):
            if p.operation == "TransactWriteItems":
                ops |= set(p.item_operations)
            elif p.operation == "TransactGetItems":
                ops.add("GetItem")
            else:
                ops.add(p.operation)
        writes = bool(ops - {"GetItem", "BatchGetItem", "Query"})
        return {f"dynamodb:{o}".lower() for o in ops} | ((KMS_WRITE if writes else KMS_READ) if cmk else set())
    if role == "stream_consumer":
        base = {"dynamodb:describestream", "dynamodb:getrecords", "dynamodb:getsharditerator", "dynamodb:liststreams"}
        return base | (KMS_READ if cmk else set())
    if role == "ops":
        base = {
            "dynamodb:createbackup",
            "dynamodb:describecontinuousbackups",
            "dynamodb:exporttabletopointintime",
            "dynamodb:describebackup",
            "dynamodb:describeexport",
            "dynamodb:listbackups",
            "s3:putobject",
            "s3:putobjectacl",
            "s3:abortmultipartupload",
        }
        assert spec.env.access is not None and spec.env.access.roles.ops is not None
        export_key = {"kms:decrypt", "kms:generatedatakey"} if spec.env.access.roles.ops.export_kms_key_arn else set()
        return base | (KMS_READ if cmk else set()) | export_key
    raise AssertionError(role)


@pytest.mark.parametrize(("project", "env", "role"), PROJECT_ENV_ROLES)
def test_parliament_finds_nothing_and_actions_are_exact(project: str, env: str, role: str) -> None:
    policy = analyze_policy_string(json.dumps(resolved_policy(env, role, project)))
    assert [(f.issue, f.detail) for f in policy.findings] == []
    assert set(policy.get_allowed_actions()) == expected_actions(env, role, project)


@cache
def star_only_actions() -> frozenset[str]:
    """Actions whose service authorization reference lists no resource type."""
    data = json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())
    return frozenset(
        f"{service['prefix']}:{p['privilege']}".lower()
        for service in data
        for p in service["privileges"]
        if all(r["resource_type"] == "" for r in p["resource_types"])
    )


@pytest.mark.parametrize(("project", "env", "role"), PROJECT_ENV_ROLES)
def test_no_wildcard_actions_and_star_resources_only_where_required(project: str, env: str, role: str) -> None:
    for statement in resolved_policy(env, role, project)["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert "*" not in action, f"wildcard action {action} in {statement.get('Sid')}"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert {a.lower() for a in actions} <= star_only_actions(), statement
        assert "NotAction" not in statement and "NotResource" not in statement


def test_index_grants_name_each_index_never_index_star() -> None:
    text = json.dumps(access_template("prod"))
    assert "/index/*" not in text
    app = resolved_policy("prod", "app")
    (index_stmt,) = [s for s in app["Statement"] if s["Sid"] == "IndexQueries"]
    assert index_stmt["Resource"] == [
        "arn:aws:dynamodb:us-east-1:333333333333:table/conversations-prod/index/ByUserUpdated"
    ]


def test_a_protected_attribute_that_keys_an_index_is_still_never_written_by_clients() -> None:
    from templates_src.spec.design import GlobalSecondaryIndex, KeyAttribute
    from templates_src.stacks.grants import grants_for

    spec = spec_for("prod")
    by_role = GlobalSecondaryIndex(name="ByRole", partition_key=KeyAttribute(name="role", type="S"))
    design = spec.design.model_copy(
        update={"global_secondary_indexes": [*spec.design.global_secondary_indexes, by_role]}
    )
    grants = {g.sid: g for g in grants_for(spec._replace(design=design), "per_user")}
    written = grants["OwnItemsWrite"].condition["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    read = grants["OwnItemsRead"].condition["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    assert "role" in design.protected_attributes and "role" not in written
    assert {"userId", "sk", "content"} <= set(written) and "role" in read  # reading it stays allowed


def test_trust_policies_come_from_the_config() -> None:
    roles = resources_of(access_template("prod"), "AWS::IAM::Role")
    app_trust = roles["AppRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert app_trust == [
        {
            "Action": ["sts:AssumeRole"],
            "Condition": {"StringEquals": {"aws:SourceAccount": "333333333333"}},
            "Effect": "Allow",
            "Principal": {"Service": ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]},
        }
    ]
    per_user = roles["PerUserRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert per_user["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert per_user["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert per_user["Condition"] == {
        "StringEquals": {
            "cognito-identity.amazonaws.com:aud": spec_for("prod").env.access.roles.per_user.identity_pool_id
        },
        "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
    }
    reader = roles["ReaderRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert reader[0]["Principal"] == {"AWS": ["arn:aws:iam::333333333333:role/support-analytics"]}
    dev_reader = resources_of(access_template("dev"), "AWS::IAM::Role")["ReaderRole"]
    assert dev_reader["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": [{"Fn::Sub": "arn:${AWS::Partition}:iam::111111111111:root"}]
    }


def test_names_paths_boundary_and_imports() -> None:
    template = access_template("prod")
    roles = resources_of(template, "AWS::IAM::Role")
    assert {r["Properties"]["RoleName"] for r in roles.values()} == {
        f"conversations-prod-{n}" for n in ("app", "reader", "stream-consumer", "ops", "per-user")
    }
    for role in roles.values():
        assert role["Properties"]["Path"] == "/conversations/"
        assert role["Properties"]["PermissionsBoundary"] == {"Ref": "PermissionsBoundaryArn"}
    assert read_json(fixture_build() / "prod" / "access.parameters.json") == [
        {
            "ParameterKey": "PermissionsBoundaryArn",
            "ParameterValue": "arn:aws:iam::333333333333:policy/chat-platform-boundary",
        }
    ]
    # staging is deployed by hand (no ci:) and names no boundary: its roles carry none.
    assert (
        "PermissionsBoundary" not in resources_of(access_template("staging"), "AWS::IAM::Role")["AppRole"]["Properties"]
    )
    assert '"Fn::ImportValue": "conversations-prod-data-TableArn"' in json.dumps(template)


def test_dev_has_no_key_grants_without_a_customer_managed_key() -> None:
    assert "kms:" not in json.dumps(access_template("dev"))


GOOD = """\
design: conversations
account_id: "123456789012"
region: us-east-1
protected: false
encryption: aws_owned
access:
  roles:
    app: {trusted: [lambda.amazonaws.com]}
"""


def _synth(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(text)
    code = cli_main(
        ["synth", "--env-file", str(env_file), "--designs-dir", str(FIXTURE_DESIGNS), "--out", str(tmp_path / "out")]
    )
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace(
                "app: {trusted: [lambda.amazonaws.com]}", "stream_consumer: {trusted: [lambda.amazonaws.com]}"
            ),
            "access.roles.stream_consumer: error: needs a stream",
        ),
        (GOOD.replace("lambda.amazonaws.com", "everyone"), "access.roles.app.trusted[0]: error:"),
        (
            GOOD.replace("app: {", "admin: {"),
            "access.roles.admin: error: unknown key; allowed keys: app, reader, stream_consumer, ops, per_user",
        ),
        (GOOD + "  permissions_boundary_arn: not-an-arn\n", "access.permissions_boundary_arn: error:"),
        (GOOD + "stack_prefix: " + "a" * 61 + "\n", "stack_prefix: error: role name"),
    ],
)
def test_bad_access_config(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str) -> None:
    code, err = _synth(tmp_path, text, capsys)
    assert code == 2
    assert expected in err, err
    assert not (tmp_path / "out").exists()


def test_policy_size_limit_is_checked_at_synth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "IAM_ROLE_POLICY_MAX_CHARS", 200)
    code, err = _synth(tmp_path, GOOD, capsys)
    assert code == 2
    assert "qa.yaml:8: access.roles.app: error: inline policy is" in err and "IAM allows 200 per role" in err
    assert "[A002]" in err


@pytest.mark.parametrize(("project", "env"), [(p, e) for p, proj in PROJECTS.items() for e in proj.env_names])
def test_trust_seen_through_sub_never_opens_an_account_implicitly(project: str, env: str) -> None:
    """Resolve every trust policy as CloudFormation would (Fn::Sub included), then check who may assume."""
    spec = PROJECTS[project].spec(env)
    if spec.env.access is None:
        return
    arns = Arns.for_spec(spec)
    template = read_json(PROJECTS[project].build / env / "access.template.json")
    for logical_id, role in resources_of(template, "AWS::IAM::Role").items():
        config_name = next(r for r in configured_roles(spec) if role_logical_id(r) == logical_id)
        config = getattr(spec.env.access.roles, config_name)
        for statement in resolve(role["Properties"]["AssumeRolePolicyDocument"], spec, arns)["Statement"]:
            principal = statement["Principal"]
            if "Service" in principal:
                assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == spec.env.account_id
            for aws in principal.get("AWS", []):
                assert aws != "*", f"{logical_id} trusts everyone"
                if aws.endswith(":root"):
                    assert config.trust_whole_account, f"{logical_id} trusts the whole account {aws} implicitly"


# -- the prod fixture's roles, statement by statement, written out -----------------------------------

TABLE_ARN = {"Fn::ImportValue": "conversations-prod-data-TableArn"}
KEY_ARN = {"Fn::ImportValue": "conversations-prod-data-KeyArn"}
VIA_DYNAMODB = {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}
KEY_READ = ["kms:Decrypt", "kms:DescribeKey"]
KEY_USE = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]
EXPORT_KEY = "arn:aws:kms:us-east-1:333333333333:key/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
EXPORT_OBJECTS = [{"Fn::Sub": "arn:${AWS::Partition}:s3:::chat-platform-exports-prod/conversations/*"}]
ONLY_BY_DYNAMODB = {
    "ForAnyValue:StringEquals": {"aws:CalledVia": ["dynamodb.amazonaws.com"]},
    "StringEquals": {"s3:ResourceAccount": "333333333333"},
}
NO_GRANT_HEADERS = {
    "s3:x-amz-grant-full-control": "true",
    "s3:x-amz-grant-read": "true",
    "s3:x-amz-grant-read-acp": "true",
    "s3:x-amz-grant-write-acp": "true",
}
OWN_ITEMS = {
    "ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"]},
    "Null": {"dynamodb:Attributes": "false", "dynamodb:LeadingKeys": "false"},
}


def _under_table(suffix: str) -> dict[str, Any]:
    return {"Fn::Sub": [f"${{TableArn}}{suffix}", {"TableArn": TABLE_ARN}]}


def _own_attributes(attributes: list[str]) -> dict[str, Any]:
    return {
        "ForAllValues:StringEquals": {
            "dynamodb:Attributes": attributes,
            "dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"],
        }
    }


PROD_STATEMENTS: dict[str, list[tuple[str, list[str], list[Any], dict[str, Any] | None]]] = {
    "AppRole": [
        (
            "TableItems",
            [
                "dynamodb:BatchWriteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ],
            [TABLE_ARN],
            None,
        ),
        ("IndexQueries", ["dynamodb:Query"], [_under_table("/index/ByUserUpdated")], None),
        ("TableKeyViaDynamoDB", KEY_USE, [KEY_ARN], VIA_DYNAMODB),
    ],
    "OpsRole": [
        (
            "BackupAndExportTable",
            ["dynamodb:CreateBackup", "dynamodb:DescribeContinuousBackups", "dynamodb:ExportTableToPointInTime"],
            [TABLE_ARN],
            None,
        ),
        ("DescribeBackups", ["dynamodb:DescribeBackup"], [_under_table("/backup/*")], None),
        ("DescribeExports", ["dynamodb:DescribeExport"], [_under_table("/export/*")], None),
        ("ListBackups", ["dynamodb:ListBackups"], ["*"], None),
        (
            "WriteExportObjects",
            ["s3:PutObject"],
            EXPORT_OBJECTS,
            {
                "ArnEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": EXPORT_KEY},
                **ONLY_BY_DYNAMODB,
                "Null": NO_GRANT_HEADERS,
                "StringEqualsIfExists": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "s3:x-amz-server-side-encryption": "aws:kms",
                },
            },
        ),
        (
            "ExportObjectAcl",
            ["s3:PutObjectAcl"],
            EXPORT_OBJECTS,
            {
                **ONLY_BY_DYNAMODB,
                "Null": NO_GRANT_HEADERS,
                "StringEqualsIfExists": {"s3:x-amz-acl": "bucket-owner-full-control"},
            },
        ),
        ("AbortExportUploads", ["s3:AbortMultipartUpload"], EXPORT_OBJECTS, ONLY_BY_DYNAMODB),
        (
            "ExportKeyViaS3",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [EXPORT_KEY],
            {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        ),
        ("TableKeyViaDynamoDB", KEY_READ, [KEY_ARN], VIA_DYNAMODB),
    ],
    "PerUserRole": [
        (
            "OwnItemsRead",
            ["dynamodb:GetItem", "dynamodb:Query"],
            [TABLE_ARN],
            {
                **_own_attributes(
                    ["content", "conversationId", "messageCount", "role", "sk", "title", "updatedAt", "userId"]
                ),
                **OWN_ITEMS,
                "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
            },
        ),
        (
            "OwnItemsWrite",
            ["dynamodb:UpdateItem"],
            [TABLE_ARN],
            {
                **_own_attributes(["content", "conversationId", "sk", "title", "updatedAt", "userId"]),
                **OWN_ITEMS,
                "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE", "UPDATED_NEW", "UPDATED_OLD"]},
            },
        ),
        ("TableKeyViaDynamoDB", KEY_USE, [KEY_ARN], VIA_DYNAMODB),
    ],
    "ReaderRole": [
        ("TableItems", ["dynamodb:GetItem", "dynamodb:Query"], [TABLE_ARN], None),
        ("IndexQueries", ["dynamodb:Query"], [_under_table("/index/ByUserUpdated")], None),
        ("TableKeyViaDynamoDB", KEY_READ, [KEY_ARN], VIA_DYNAMODB),
    ],
    "StreamConsumerRole": [
        (
            "StreamRead",
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            [_under_table("/stream/*")],
            None,
        ),
        ("StreamList", ["dynamodb:ListStreams"], ["*"], None),
        ("TableKeyViaDynamoDB", KEY_READ, [KEY_ARN], VIA_DYNAMODB),
    ],
}


def _trust(principal: dict[str, Any], action: str = "sts:AssumeRole", condition: Any = None) -> dict[str, Any]:
    statement = {"Action": [action], "Effect": "Allow", "Principal": principal}
    return {"Statement": [{**statement, "Condition": condition} if condition else statement], "Version": "2012-10-17"}


SAME_ACCOUNT = {"StringEquals": {"aws:SourceAccount": "333333333333"}}
PROD_TRUST = {
    "AppRole": _trust({"Service": ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]}, condition=SAME_ACCOUNT),
    "OpsRole": _trust({"AWS": ["arn:aws:iam::333333333333:role/platform-ops"]}),
    "PerUserRole": _trust(
        {"Federated": "cognito-identity.amazonaws.com"},
        "sts:AssumeRoleWithWebIdentity",
        {
            "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
            "StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
        },
    ),
    "ReaderRole": _trust({"AWS": ["arn:aws:iam::333333333333:role/support-analytics"]}),
    "StreamConsumerRole": _trust({"Service": ["lambda.amazonaws.com"]}, condition=SAME_ACCOUNT),
}


def test_prod_roles_grant_exactly_what_their_patterns_need() -> None:
    resources = read_json(fixture_build() / "prod" / "access.template.json")["Resources"]
    assert sorted(resources) == sorted(PROD_STATEMENTS)
    for logical_id, statements in PROD_STATEMENTS.items():
        (policy,) = resources[logical_id]["Properties"]["Policies"]
        assert policy["PolicyName"] == "table-access"
        assert policy["PolicyDocument"]["Version"] == "2012-10-17"
        got = [
            (s["Sid"], s["Action"], s["Resource"], s.get("Condition")) for s in policy["PolicyDocument"]["Statement"]
        ]
        assert got == statements, logical_id
        assert {s["Effect"] for s in policy["PolicyDocument"]["Statement"]} == {"Allow"}


def test_prod_roles_names_paths_trust_and_outputs() -> None:
    template = read_json(fixture_build() / "prod" / "access.template.json")
    names = {"AppRole": "app", "OpsRole": "ops", "PerUserRole": "per-user", "ReaderRole": "reader"}
    names["StreamConsumerRole"] = "stream-consumer"
    for logical_id, role in template["Resources"].items():
        properties = role["Properties"]
        assert role["Type"] == "AWS::IAM::Role"
        assert properties["RoleName"] == f"conversations-prod-{names[logical_id]}"
        assert properties["Path"] == "/conversations/"
        assert properties["PermissionsBoundary"] == {"Ref": "PermissionsBoundaryArn"}
        kind = names[logical_id].replace("-", "_")
        assert properties["Description"] == f"{kind} access to conversations-prod, derived from design conversations"
        assert properties["AssumeRolePolicyDocument"] == PROD_TRUST[logical_id], logical_id
        assert template["Outputs"][f"{logical_id}Arn"] == {
            "Description": f"ARN of the {kind} role",
            "Export": {"Name": {"Fn::Sub": f"${{AWS::StackName}}-{logical_id}Arn"}},
            "Value": {"Fn::GetAtt": [logical_id, "Arn"]},
        }
    assert template["Parameters"] == {
        "PermissionsBoundaryArn": {
            "AllowedPattern": "^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$",
            "Description": "Managed policy every role of this stack is bounded by",
            "Type": "String",
        }
    }


def test_a_per_user_role_that_only_writes_still_gets_its_writes(tmp_path: Path) -> None:
    from templates_src.spec.loader import load_spec
    from templates_src.stacks.grants import grants_for

    design = yaml.safe_load((FIXTURE_DESIGNS / "conversations.yaml").read_text())
    for pattern in design["access_patterns"]:
        if pattern["operation"] in ("GetItem", "Query", "BatchGetItem", "Scan") and "per_user" in pattern["roles"]:
            pattern["roles"] = [r for r in pattern["roles"] if r != "per_user"]
    design["access_patterns"] = [p for p in design["access_patterns"] if p["roles"]]
    designs = tmp_path / "designs"
    designs.mkdir()
    (designs / "conversations.yaml").write_text(yaml.safe_dump(design, sort_keys=False))
    (designs / "messages.yaml").write_text((FIXTURE_DESIGNS / "messages.yaml").read_text())
    spec = load_spec(FIXTURE_ENVIRONMENTS / "prod.yaml", designs)
    sids = [g.sid for g in grants_for(spec, "per_user")]
    assert "OwnItemsRead" not in sids and "OwnItemsWrite" in sids


def test_a_per_user_query_of_an_index_keyed_by_the_tenant_is_granted_on_that_index_only(tmp_path: Path) -> None:
    from templates_src.spec.loader import load_spec
    from templates_src.stacks.grants import grants_for

    design = yaml.safe_load((FIXTURE_DESIGNS / "conversations.yaml").read_text())
    (pattern,) = [p for p in design["access_patterns"] if p["name"] == "list-user-conversations"]
    pattern["roles"] = ["app", "reader", "per_user"]
    pattern["attributes"] = ["title"]
    designs = tmp_path / "designs"
    designs.mkdir()
    (designs / "conversations.yaml").write_text(yaml.safe_dump(design, sort_keys=False))
    (designs / "messages.yaml").write_text((FIXTURE_DESIGNS / "messages.yaml").read_text())
    grants = {g.sid: g for g in grants_for(load_spec(FIXTURE_ENVIRONMENTS / "prod.yaml", designs), "per_user")}
    index_grant = grants["OwnItemsReadIndex"]
    assert index_grant.actions == ("dynamodb:Query",)
    assert index_grant.resources == ("index:ByUserUpdated",)
    assert index_grant.condition == grants["OwnItemsRead"].condition


# -- what build_access_stack writes besides the policies, written out -----------------------------------

PROD_TAGS = {
    "CostCenter": "chat-prod",
    "DataClassification": "confidential",
    "Design": "conversations",
    "Environment": "prod",
    "ManagedBy": "conversation-table-iac",
    "Team": "chat-platform",
}
INLINE = ["HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy"]
# Each prod role's cdk-nag suppressions: the inline policy, then one IAM5 per wildcard resource its grants need.
PROD_SUPPRESSIONS: dict[str, list[tuple[str, Any]]] = {
    "AppRole": [(i, None) for i in INLINE],
    "PerUserRole": [(i, None) for i in INLINE],
    "ReaderRole": [(i, None) for i in INLINE],
    "StreamConsumerRole": [
        *((i, None) for i in INLINE),
        ("AwsSolutions-IAM5", [{"regex": "/^Resource::.*/stream/\\*.*$/g"}]),
        ("AwsSolutions-IAM5", ["Resource::*"]),
    ],
    "OpsRole": [
        *((i, None) for i in INLINE),
        ("AwsSolutions-IAM5", [{"regex": "/^Resource::.*/backup/\\*.*$/g"}]),
        ("AwsSolutions-IAM5", [{"regex": "/^Resource::.*/export/\\*.*$/g"}]),
        ("AwsSolutions-IAM5", ["Resource::*"]),
        *[("AwsSolutions-IAM5", [{"regex": "/^Resource::arn:<AWS::Partition>:s3:::.*\\*$/g"}])] * 3,
    ],
}


def test_prod_access_stack_description_tags_and_suppressions() -> None:
    template = read_json(fixture_build() / "prod" / "access.template.json")
    assert template["Description"] == (
        "Least-privilege roles for table conversations-prod (design conversations, environment prod); "
        "imports exports of conversations-prod-data. Generated by templates_src; edit the YAML, not this file."
    )
    expected_tags = [{"Key": k, "Value": v} for k, v in sorted(PROD_TAGS.items())]
    assert read_json(fixture_build() / "prod" / "access.tags.json") == expected_tags
    for logical_id, role in template["Resources"].items():
        assert sorted(role["Properties"]["Tags"], key=lambda t: t["Key"]) == expected_tags, logical_id
        suppressions = role["Metadata"]["cdk_nag"]["rules_to_suppress"]
        got = [(s["id"], s.get("applies_to")) for s in suppressions]
        assert got == PROD_SUPPRESSIONS[logical_id], logical_id
        assert all(s["reason"] for s in suppressions), logical_id


def test_the_access_stack_is_named_and_tagged_for_its_environment() -> None:
    from templates_src.stacks.access_stack import build_access_stack

    stack = build_access_stack(spec_for("prod"))
    assert stack is not None
    assert (stack.kind, stack.name, stack.tags) == ("access", "conversations-prod-access", PROD_TAGS)


def test_an_unknown_grant_resource_is_named_in_the_error() -> None:
    from templates_src.stacks.access_stack import resource_values

    with pytest.raises(ValueError, match=r"^unknown grant resource 'bucket/prefix'$"):
        resource_values(spec_for("prod"), "bucket/prefix")


def test_every_role_over_a_limit_is_reported_not_only_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = "a" * 61
    text = GOOD.replace(
        "    app: {trusted: [lambda.amazonaws.com]}",
        "    app: {trusted: [lambda.amazonaws.com]}\n    reader: {trusted: ['arn:aws:iam::123456789012:role/analytics']}",
    )
    code, err = _synth(tmp_path, text + f"stack_prefix: {prefix}\n", capsys)
    assert code == 2
    assert f"role name '{prefix}-app' is 65 characters" in err, err
    assert f"role name '{prefix}-reader' is 68 characters" in err, err


def test_a_service_is_trusted_only_from_the_source_arns_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    functions = [
        "arn:aws:lambda:us-east-1:123456789012:function:writer",
        "arn:aws:lambda:us-east-1:123456789012:function:api",
    ]
    text = GOOD.replace(
        "app: {trusted: [lambda.amazonaws.com]}",
        f"app: {{trusted: [lambda.amazonaws.com], source_arns: [{functions[0]}, {functions[1]}]}}",
    )
    code, err = _synth(tmp_path, text, capsys)
    assert code == 0, err
    template = read_json(tmp_path / "out" / "qa" / "access.template.json")
    assert template["Resources"]["AppRole"]["Properties"]["AssumeRolePolicyDocument"] == _trust(
        {"Service": ["lambda.amazonaws.com"]},
        condition={
            "StringEquals": {"aws:SourceAccount": "123456789012"},
            "ArnLike": {"aws:SourceArn": sorted(functions)},
        },
    )
