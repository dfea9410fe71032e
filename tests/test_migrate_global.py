"""Moving a live table to a global table: release it from the data stack, import it back, add replicas.

G011 refuses Table -> GlobalTable in place; the way it prints is
`deploy --release-table` (the data stack forgets the Retained table, every
reference to it replaced by its live value, so the exports keep their values),
`deploy --import` (the released stack takes the table back as a GlobalTable
with its home replica) and ordinary deploys (one replica per update).
moto has no IMPORT change sets and no GlobalTable, so the AWS side is
botocore's Stubber, as in tests/test_deploy_global.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.stub import ANY, Stubber

from templates_src.change.plan import plan_stack, refuse_if_blocked, render_text
from templates_src.cli import main as cli_main
from templates_src.deploy.deployer import Deployer, deploy_stacks, protection_policy
from templates_src.deploy.release import (
    KeySwitch,
    TableValues,
    exports_moving_key,
    exports_taking_new_values,
    extra_key_grants,
    key_switch,
    on_deployed_key,
    policy_allowing_removal,
    policy_allowing_table_removal,
    references,
    referrers,
    released,
    released_values,
    with_key_granted,
    with_new_key,
    with_output_values,
    with_table,
)
from templates_src.deploy.release import imported as imported_exports
from templates_src.deploy.replicas import replica_steps, restricted, table_regions
from templates_src.errors import AwsFailure, BadInput, ExitCode, Refused
from templates_src.spec.loader import Spec, load_spec
from templates_src.stacks.artifacts import StackFiles, write_tree
from templates_src.stacks.synth import Target, render_all

from .conftest import (
    EVENT_BEFORE,
    FIXTURE_DESIGNS,
    FIXTURE_ENVIRONMENTS,
    fixture_build,
    fixture_cli_args,
    fixture_spec,
    read_json,
)
from .test_deploy_global import (
    ACCOUNT,
    AP,
    EU,
    HOME,
    LATER,
    PRIMARY,
    Recorder,
    _client,
    _described,
    _expect_deploy,
    _live_table,
    _stacks,
)

Template = dict[str, Any]


def _values(name: str, account: str = ACCOUNT) -> TableValues:
    arn = f"arn:aws:dynamodb:{HOME}:{account}:table/{name}"
    return TableValues(name, arn, f"{arn}/stream/2024-05-01T00:00:00.000")


# -- the transform, pure ---------------------------------------------------------------------------


def _by_text(template: Template, values: TableValues) -> Template:
    """What release should give, computed another way: text replacement on the JSON, then the Table dropped."""
    text = json.dumps(template)
    for reference, literal in (
        ('{"Ref": "Table"}', json.dumps(values.name)),
        ('{"Fn::GetAtt": ["Table", "Arn"]}', json.dumps(values.arn)),
        ('{"Fn::GetAtt": ["Table", "StreamArn"]}', json.dumps(values.stream_arn)),
        ("${Table}", values.name),
        ("${Table.Arn}", values.arn),
        ("${Table.StreamArn}", str(values.stream_arn)),
    ):
        text = text.replace(reference, literal)
    expected: Template = json.loads(text)
    del expected["Resources"]["Table"]
    return expected


@pytest.mark.parametrize("env", ["prod", "staging"])
def test_release_replaces_every_reference_with_its_live_value_and_changes_nothing_else(env: str) -> None:
    deployed = read_json(fixture_build() / env / "data.template.json")
    values = _values(f"conversations-{env}")
    before = copy.deepcopy(deployed)
    out = released(deployed, values)
    assert deployed == before, "the deployed template is not modified"
    assert "Table" not in out["Resources"]
    assert referrers(out) == []
    assert all("Table" not in set(references(r)) for r in out["Resources"].values())
    assert "${Table" not in json.dumps(out)
    assert out == _by_text(deployed, values)
    # The exports keep byte-identical values; their names are unchanged.
    outputs = out["Outputs"]
    assert outputs["TableName"]["Value"] == values.name
    assert outputs["TableArn"]["Value"] == values.arn
    assert outputs["StreamArn"]["Value"] == values.stream_arn
    assert {k: o.get("Export") for k, o in outputs.items()} == {
        k: o.get("Export") for k, o in deployed["Outputs"].items()
    }
    assert released_values(out, values.name) and not released_values(deployed, values.name)


def test_release_of_the_prod_template_names_every_referrer() -> None:
    deployed = read_json(fixture_build() / "prod" / "data.template.json")
    assert referrers(deployed) == [
        "BackupRole",
        "BackupSelection",
        "Outputs.StreamArn",
        "Outputs.TableArn",
        "Outputs.TableName",
        "ReadThrottleAlarm",
        "SystemErrorsAlarm",
        "TableChangeWatch",
        "WriteThrottleAlarm",
    ]
    out = released(deployed, _values("conversations-prod"))
    assert out["Resources"]["BackupSelection"]["Properties"]["BackupSelection"]["Resources"] == [
        _values("conversations-prod").arn
    ]
    # References to the stack's other resources stay references.
    assert out["Outputs"]["KeyArn"]["Value"] == {"Fn::GetAtt": ["TableKey", "Arn"]}


def test_release_handles_every_reference_form() -> None:
    values = _values("t")
    template: Template = {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
            "A": {
                "Type": "X",
                "DependsOn": ["Table", "B"],
                "Properties": {
                    "Short": {"Fn::GetAtt": "Table.StreamArn"},
                    "Sub": {"Fn::Sub": "${Table}|${Table.Arn}|${Table.StreamArn}|${!Table}|${AWS::Region}|${B}"},
                    "Own": {"Fn::Sub": ["${Table}/${X}", {"X": {"Ref": "Table"}}]},
                    "Shadowed": {"Fn::Sub": ["${Table}", {"Table": "mine"}]},
                    "Other": {"Ref": "B"},
                },
            },
            "B": {"Type": "X", "DependsOn": "Table"},
        }
    }
    out = released(template, values)
    a = out["Resources"]["A"]
    assert a["DependsOn"] == ["B"]
    assert "DependsOn" not in out["Resources"]["B"]
    props = a["Properties"]
    assert props["Short"] == values.stream_arn
    assert props["Sub"] == {"Fn::Sub": f"t|{values.arn}|{values.stream_arn}|${{!Table}}|${{AWS::Region}}|${{B}}"}
    assert props["Own"] == {"Fn::Sub": ["t/${X}", {"X": "t"}]}
    assert props["Shadowed"] == {"Fn::Sub": ["${Table}", {"Table": "mine"}]}
    assert props["Other"] == {"Ref": "B"}


def test_release_refuses_what_it_cannot_stand_in_for() -> None:
    base: Template = {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table"}, "A": {"Type": "X", "Properties": {}}}}
    for value, expected in (
        ({"Fn::GetAtt": ["Table", "TableId"]}, "A uses Table.TableId"),
        ({"Fn::Sub": "${Table.StreamArn}"}, "no stream now"),
    ):
        template = copy.deepcopy(base)
        template["Resources"]["A"]["Properties"]["P"] = value
        with pytest.raises(Refused, match=expected):
            released(template, TableValues("t", "arn:t"))
    with pytest.raises(Refused, match="no Table resource"):
        released({"Resources": {}}, TableValues("t", "arn:t"))


def test_the_stack_policy_during_a_release_lets_the_table_go_and_nothing_else() -> None:
    during = policy_allowing_table_removal(protection_policy())
    assert during["Statement"] == [
        {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["Update:Replace", "Update:Delete"],
            "Resource": ["LogicalResourceId/TableKey"],
        },
        {"Effect": "Deny", "Principal": "*", "Action": ["Update:Replace"], "Resource": ["LogicalResourceId/Table"]},
        {"Effect": "Allow", "Principal": "*", "Action": "Update:Delete", "Resource": "LogicalResourceId/Table"},
    ]
    for deny in (
        {"Effect": "Deny", "Principal": "*", "Action": "Update:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "Update:Delete", "Resource": "LogicalResourceId/Tab*"},
        {"Effect": "Deny", "Principal": "*", "NotAction": "Update:Modify", "Resource": "LogicalResourceId/Table"},
    ):
        with pytest.raises(Refused, match="release cannot narrow"):
            policy_allowing_table_removal({"Statement": [deny]})


# -- release, stubbed --------------------------------------------------------------------------------


def _prod() -> tuple[Spec, StackFiles]:
    spec = fixture_spec("prod")
    return spec, _stacks(spec, fixture_build() / "prod")["data"]


def _stack_described(name: str, status: str = "UPDATE_COMPLETE") -> dict[str, Any]:
    described = _described(name, status)
    described["Stacks"][0]["Parameters"] = [{"ParameterKey": "AlarmTopicArn", "ParameterValue": "arn:topic"}]
    described["Stacks"][0]["Tags"] = [{"Key": "Environment", "Value": "prod"}]
    return described


def _table(values: TableValues, protected: bool = True) -> dict[str, Any]:
    return {
        "Table": {
            "TableName": values.name,
            "TableArn": values.arn,
            "TableStatus": "ACTIVE",
            "LatestStreamArn": values.stream_arn,
            "DeletionProtectionEnabled": protected,
        }
    }


def _expect_release_start(
    cfs: Stubber, ddbs: Stubber, data: StackFiles, deployed: Template, values: TableValues, policy: Any
) -> None:
    """Reads before the change set: the stack, its template, its stack policy, the table."""
    cfs.add_response("describe_stacks", _stack_described(data.name), {"StackName": data.name})
    cfs.add_response(
        "get_template", {"TemplateBody": json.dumps(deployed)}, {"StackName": data.name, "TemplateStage": "Original"}
    )
    cfs.add_response(
        "get_stack_policy", {"StackPolicyBody": json.dumps(policy)} if policy else {}, {"StackName": data.name}
    )
    cfs.add_response(
        "describe_stack_resource",
        {
            "StackResourceDetail": {
                "LogicalResourceId": "Table",
                "PhysicalResourceId": values.name,
                "ResourceType": "AWS::DynamoDB::Table",
                "LastUpdatedTimestamp": LATER,
                "ResourceStatus": "UPDATE_COMPLETE",
            }
        },
        {"StackName": data.name, "LogicalResourceId": "Table"},
    )
    ddbs.add_response("describe_table", _table(values), {"TableName": values.name})


def _change(action: str, logical_id: str, resource_type: str, replacement: str | None = None) -> dict[str, Any]:
    change: dict[str, Any] = {"Action": action, "LogicalResourceId": logical_id, "ResourceType": resource_type}
    if replacement:
        change["Replacement"] = replacement
    return {"Type": "Resource", "ResourceChange": change}


RELEASE_CHANGES = [
    _change("Remove", "Table", "AWS::DynamoDB::Table"),
    _change("Modify", "BackupSelection", "AWS::Backup::BackupSelection", "False"),
    _change("Modify", "ReadThrottleAlarm", "AWS::CloudWatch::Alarm", "False"),
]


def _expect_release_rest(cfs: Stubber, ddbs: Stubber, data: StackFiles, values: TableValues, policy: Any) -> None:
    """The change set created, described (RELEASE_CHANGES), executed under a narrowed policy, the table checked."""
    cs = f"arn:aws:cloudformation:{HOME}:{ACCOUNT}:changeSet/release/1"
    cfs.add_response(
        "create_change_set",
        {"Id": cs},
        {
            "StackName": data.name,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "TemplateBody": ANY,
            "Parameters": [{"ParameterKey": "AlarmTopicArn", "UsePreviousValue": True}],
            "Tags": [{"Key": "Environment", "Value": "prod"}],
            "Capabilities": data.capabilities,
        },
    )
    cfs.add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": RELEASE_CHANGES},
        {"StackName": data.name, "ChangeSetName": cs},
    )
    if policy:
        during = json.dumps(policy_allowing_table_removal(policy))
        cfs.add_response("set_stack_policy", {}, {"StackName": data.name, "StackPolicyBody": during})
    cfs.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
    cfs.add_response("execute_change_set", {}, {"StackName": data.name, "ChangeSetName": cs})
    event = {
        "StackId": "x",
        "EventId": "release-1",
        "StackName": data.name,
        "LogicalResourceId": "Table",
        "Timestamp": LATER,
        "ResourceStatus": "DELETE_SKIPPED",
    }
    cfs.add_response("describe_stack_events", {"StackEvents": [event]}, {"StackName": data.name})
    cfs.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"), {"StackName": data.name})
    if policy:
        cfs.add_response("set_stack_policy", {}, {"StackName": data.name, "StackPolicyBody": json.dumps(policy)})
    ddbs.add_response("describe_table", _table(values), {"TableName": values.name})


def test_release_removes_the_table_alone_with_literal_references_under_a_narrowed_stack_policy() -> None:
    spec, data = _prod()
    deployed = data.template_dict
    values = _values(spec.table_name, "333333333333")
    recorder = Recorder()
    cf, ddb = recorder.watch(_client("cloudformation")), recorder.watch(_client("dynamodb"))
    lines: list[str] = []
    policy = protection_policy()
    with Stubber(cf) as cfs, Stubber(ddb) as ddbs:
        _expect_release_start(cfs, ddbs, data, deployed, values, policy)
        _expect_release_rest(cfs, ddbs, data, values, policy)
        Deployer(spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb).release_table(data)
        cfs.assert_no_pending_responses()
        ddbs.assert_no_pending_responses()
    (body,) = [json.loads(p["TemplateBody"]) for _, op, p in recorder.calls if op == "CreateChangeSet"]
    assert "Table" not in body["Resources"]
    assert referrers(body) == []
    assert body == _by_text(deployed, values)
    assert body["Outputs"]["TableArn"]["Value"] == values.arn
    assert body["Outputs"]["StreamArn"]["Value"] == values.stream_arn
    ops = [op for _, op, _ in recorder.calls]
    # The narrowed policy only around the execution, the stack's own policy back after it.
    assert ops.index("SetStackPolicy") > ops.index("DescribeChangeSet")
    assert ops.index("ExecuteChangeSet") < len(ops) - 1 - ops[::-1].index("SetStackPolicy")
    assert ops[-1] == "DescribeTable", "the table is checked after the release"
    text = "\n".join(lines)
    assert f"released: table {values.name} kept, no longer managed by {data.name}" in text
    assert f"deletion protection stays on table {values.name}" in text
    assert "Outputs.TableArn: reference to Table -> its live value" in text


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (_change("Remove", "TableKey", "AWS::KMS::Key"), "it would remove TableKey"),
        (
            _change("Modify", "BackupSelection", "AWS::Backup::BackupSelection", "True"),
            r"modify BackupSelection \(Replacement=True\)",
        ),
        (_change("Add", "Other", "AWS::SNS::Topic"), "add Other"),
    ],
)
def test_a_release_change_set_doing_more_than_removing_the_table_is_refused_and_deleted(
    extra: dict[str, Any], expected: str
) -> None:
    spec, data = _prod()
    values = _values(spec.table_name, "333333333333")
    cf, ddb = _client("cloudformation"), _client("dynamodb")
    with Stubber(cf) as cfs, Stubber(ddb) as ddbs:
        _expect_release_start(cfs, ddbs, data, data.template_dict, values, None)
        cfs.add_response("create_change_set", {"Id": "cs-release"})
        cfs.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": [*RELEASE_CHANGES, extra]})
        cfs.add_response("delete_change_set", {}, {"StackName": data.name, "ChangeSetName": "cs-release"})
        with pytest.raises(Refused, match=f"release refused \\(change set deleted\\).*{expected}") as exc:
            Deployer(spec, cf, out=lambda _: None, sleep=lambda _: None, dynamodb=ddb).release_table(data)
        assert exc.value.exit_code == ExitCode.REFUSED
        cfs.assert_no_pending_responses()  # deleted, never executed
        ddbs.assert_no_pending_responses()


def test_a_change_set_that_keeps_the_table_is_refused_too() -> None:
    spec, data = _prod()
    values = _values(spec.table_name, "333333333333")
    cf, ddb = _client("cloudformation"), _client("dynamodb")
    with Stubber(cf) as cfs, Stubber(ddb) as ddbs:
        _expect_release_start(cfs, ddbs, data, data.template_dict, values, None)
        cfs.add_response("create_change_set", {"Id": "cs-release"})
        cfs.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": RELEASE_CHANGES[1:]})
        cfs.add_response("delete_change_set", {}, {"StackName": data.name, "ChangeSetName": "cs-release"})
        with pytest.raises(Refused, match="it would not remove Table"):
            Deployer(spec, cf, out=lambda _: None, sleep=lambda _: None, dynamodb=ddb).release_table(data)
        cfs.assert_no_pending_responses()


@pytest.mark.parametrize(("policy", "value"), [("DeletionPolicy", "Delete"), ("UpdateReplacePolicy", None)])
def test_a_table_that_is_not_retained_is_refused_before_any_change(policy: str, value: str | None) -> None:
    spec, data = _prod()
    deployed = copy.deepcopy(data.template_dict)
    if value is None:
        del deployed["Resources"]["Table"][policy]
    else:
        deployed["Resources"]["Table"][policy] = value
    recorder = Recorder()
    cf, ddb = recorder.watch(_client("cloudformation")), recorder.watch(_client("dynamodb"))
    with Stubber(cf) as cfs, Stubber(ddb):
        cfs.add_response("describe_stacks", _stack_described(data.name))
        cfs.add_response("get_template", {"TemplateBody": json.dumps(deployed)})
        with pytest.raises(Refused, match=f"release refused: the deployed Table has {policy} "):
            Deployer(spec, cf, out=lambda _: None, dynamodb=ddb).release_table(data)
        cfs.assert_no_pending_responses()
    assert [op for _, op, _ in recorder.calls] == ["DescribeStacks", "GetTemplate"], "reads only, no change"


def test_release_of_a_stack_without_the_table_or_without_a_stack_says_what_to_do() -> None:
    spec, data = _prod()
    cf = _client("cloudformation")
    with Stubber(cf) as cfs:
        cfs.add_client_error("describe_stacks", "ValidationError", f"Stack with id {data.name} does not exist")
        with pytest.raises(BadInput, match="does not exist: there is no managed table to release"):
            Deployer(spec, cf).release_table(data)
        cfs.add_response("describe_stacks", _stack_described(data.name))
        cfs.add_response(
            "get_template", {"TemplateBody": json.dumps(released(data.template_dict, _values(spec.table_name)))}
        )
        with pytest.raises(BadInput, match="holds no Table: already released; next: deploy --env prod --import"):
            Deployer(spec, cf).release_table(data)
        cfs.add_response("describe_stacks", _stack_described(data.name, "UPDATE_IN_PROGRESS"))
        with pytest.raises(AwsFailure, match="is UPDATE_IN_PROGRESS: cannot release now"):
            Deployer(spec, cf).release_table(data)


def test_the_cli_offers_release_and_import_but_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main([*fixture_cli_args("deploy", "prod"), "--release-table", "--import"])
    assert exc.value.code == ExitCode.BAD_INPUT
    assert "not allowed with argument" in capsys.readouterr().err


# -- the same environment as a table, then as a global table -----------------------------------------


def _environment(tmp_path: Path, variant: str, **changes: Any) -> tuple[Spec, dict[str, StackFiles]]:
    """Environment `mig` (the global fixture's settings) as a plain table or a global one, synthesised apart."""
    env = {**yaml.safe_load((FIXTURE_ENVIRONMENTS / "global.yaml").read_text()), **changes}
    if not env["global_table"]:
        for key in ("multi_region_consistency", "replicas"):
            env.pop(key, None)
    if env["encryption"] != "customer_managed":
        env.pop("key_admins", None)
    root = tmp_path / variant
    env_path = root / "environments" / "mig.yaml"
    env_path.parent.mkdir(parents=True)
    env_path.write_text(yaml.safe_dump(env, sort_keys=False))
    build = root / "build"
    write_tree(build, render_all([Target(env_path, "mig")], FIXTURE_DESIGNS, with_taskcat=False).tree, True)
    spec = load_spec(env_path, FIXTURE_DESIGNS)
    return spec, _stacks(spec, build / "mig")


def _expect_import(
    cfs: Stubber,
    ddbs: Stubber,
    kmss: Stubber,
    spec: Spec,
    data: StackFiles,
    live: Template,
    key_manager: str = "AWS",
) -> None:
    """deploy --import into the released data stack: reads, the IMPORT change set, execution."""
    cfs.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"), {"StackName": data.name})
    cfs.add_response("get_template", {"TemplateBody": json.dumps(live)})
    _live_table(ddbs, spec.table_name)
    kmss.add_response("describe_key", {"KeyMetadata": {"KeyId": "k", "KeyManager": key_manager}}, {"KeyId": ANY})
    cfs.add_response(
        "create_change_set",
        {"Id": "cs-import"},
        {
            "StackName": data.name,
            "ChangeSetName": ANY,
            "ChangeSetType": "IMPORT",
            "ResourcesToImport": [
                {
                    "ResourceType": "AWS::DynamoDB::GlobalTable",
                    "LogicalResourceId": "Table",
                    "ResourceIdentifier": {"TableName": spec.table_name},
                }
            ],
            "TemplateBody": ANY,
            "Parameters": ANY,
            "Tags": [],
            **({"Capabilities": data.capabilities} if data.capabilities else {}),
        },
    )
    cfs.add_response("describe_change_set", {"Status": "CREATE_COMPLETE"})
    cfs.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
    cfs.add_response("execute_change_set", {}, {"StackName": data.name, "ChangeSetName": "cs-import"})
    event = {
        "StackId": "x",
        "EventId": "import-1",
        "StackName": data.name,
        "LogicalResourceId": "Table",
        "Timestamp": LATER,
        "ResourceStatus": "IMPORT_COMPLETE",
    }
    cfs.add_response("describe_stack_events", {"StackEvents": [event]})
    cfs.add_response("describe_stacks", _described(data.name, "IMPORT_COMPLETE"))


def test_import_into_the_released_stack_adds_the_global_tables_home_replica_and_nothing_else(tmp_path: Path) -> None:
    """Customer managed key: the imported table refers to the stack's own TableKey, which the stack holds."""
    table_spec, table_stacks = _environment(tmp_path, "table", global_table=False)
    spec, stacks = _environment(tmp_path, "global", replicas=[])
    data = stacks["data"]
    assert data.name == table_stacks["data"].name
    live = released(table_stacks["data"].template_dict, _values(table_spec.table_name))
    recorder = Recorder()
    cf, ddb, kms = recorder.watch(_client("cloudformation")), _client("dynamodb"), _client("kms")
    lines: list[str] = []
    with Stubber(cf) as cfs, Stubber(ddb) as ddbs, Stubber(kms) as kmss:
        _expect_import(cfs, ddbs, kmss, spec, data, live, key_manager="CUSTOMER")
        Deployer(spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb).import_table(data, kms)
        cfs.assert_no_pending_responses()
        ddbs.assert_no_pending_responses()
    (params,) = [p for _, op, p in recorder.calls if op == "CreateChangeSet"]
    body = json.loads(params["TemplateBody"])
    table = data.template_dict["Resources"]["Table"]
    # The live table is on the stack's single-Region TableKey: imported on it (GlobalTableKey comes next).
    assert table["Properties"]["Replicas"][0]["SSESpecification"]["KMSMasterKeyId"] == {
        "Fn::GetAtt": ["GlobalTableKey", "Arn"]
    }
    table = on_deployed_key(table, live)
    assert table["Properties"]["Replicas"][0]["SSESpecification"]["KMSMasterKeyId"] == {
        "Fn::GetAtt": ["TableKey", "Arn"]
    }
    assert body == with_table(live, table), "the deployed template plus the table, nothing else changed"
    assert {k: v for k, v in body["Resources"].items() if k != "Table"} == live["Resources"]
    assert body["Outputs"] == live["Outputs"]
    assert body["Resources"]["TableKey"] == live["Resources"]["TableKey"], "the deployed single-Region key, as is"
    assert body["Resources"]["Table"]["Type"] == "AWS::DynamoDB::GlobalTable"
    assert table_regions(body) == [HOME]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert params["Parameters"] == [] and params["Tags"] == []  # the stack's own, unchanged
    assert f"{data.name}: importing table {spec.table_name} as AWS::DynamoDB::GlobalTable into the existing stack" in (
        "\n".join(lines)
    )


def test_import_into_a_stack_that_lacks_what_the_table_refers_to_is_refused(tmp_path: Path) -> None:
    table_spec, table_stacks = _environment(tmp_path, "table", global_table=False)
    spec, stacks = _environment(tmp_path, "global", replicas=[])
    live = released(table_stacks["data"].template_dict, _values(table_spec.table_name))
    del live["Resources"]["TableKey"]
    cf = _client("cloudformation")
    with Stubber(cf) as cfs:
        cfs.add_response("describe_stacks", _described(stacks["data"].name, "UPDATE_COMPLETE"))
        cfs.add_response("get_template", {"TemplateBody": json.dumps(live)})
        with pytest.raises(Refused, match="the table refers to GlobalTableKey, which the deployed stack does not hold"):
            Deployer(spec, cf).import_table(stacks["data"], None)
        cfs.assert_no_pending_responses()


def test_import_into_a_stack_that_is_not_a_released_one_keeps_the_old_refusals(tmp_path: Path) -> None:
    table_spec, table_stacks = _environment(tmp_path, "table", global_table=False)
    spec, stacks = _environment(tmp_path, "global", replicas=[])
    data = stacks["data"]
    live = released(table_stacks["data"].template_dict, _values("some-other-table"))  # another table's literals
    cf = _client("cloudformation")
    with Stubber(cf) as cfs:
        cfs.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"))
        cfs.add_response("get_template", {"TemplateBody": json.dumps(live)})
        with pytest.raises(BadInput, match="does not hold the table: delete the stack"):
            Deployer(spec, cf).import_table(data, None)
        cfs.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"))
        cfs.add_response("get_template", {"TemplateBody": json.dumps(table_stacks["data"].template_dict)})
        with pytest.raises(BadInput, match="holds the table: it is already managed"):
            Deployer(spec, cf).import_table(data, None)


def test_deploy_over_a_released_table_is_refused_pointing_at_import(tmp_path: Path) -> None:
    table_spec, table_stacks = _environment(
        tmp_path, "table", global_table=False, encryption="aws_managed", protected=False
    )
    spec, stacks = _environment(tmp_path, "global", replicas=[], encryption="aws_managed", protected=False)
    live = released(table_stacks["data"].template_dict, _values(table_spec.table_name))
    cf, ddb = _client("cloudformation"), _client("dynamodb")
    with Stubber(cf) as cfs, Stubber(ddb) as ddbs:
        cfs.add_response("describe_stacks", _described(stacks["data"].name, "UPDATE_COMPLETE"))
        cfs.add_response("get_template", {"TemplateBody": json.dumps(live)})
        ddbs.add_response("describe_table", _table(_values(spec.table_name)), {"TableName": spec.table_name})
        with pytest.raises(Refused, match="an update would try to create it and fail; take it back first: deploy"):
            Deployer(spec, cf, out=lambda _: None, dynamodb=ddb).deploy(stacks["data"])
        cfs.assert_no_pending_responses()


# -- end to end: release -> import -> deploy ---------------------------------------------------------


def test_release_then_import_then_deploy_adds_the_replicas_one_per_update(tmp_path: Path) -> None:
    """A live table with data becomes a global table with two more replicas; no table is created or deleted."""
    managed = {"encryption": "aws_managed", "protected": False}
    table_spec, table_stacks = _environment(tmp_path, "table", global_table=False, **managed)
    start_spec, start_stacks = _environment(tmp_path, "start", replicas=[], **managed)
    spec, stacks = _environment(tmp_path, "global", **managed)  # replicas eu-west-1, ap-southeast-2
    data = stacks["data"]
    values = _values(table_spec.table_name)
    recorder = Recorder()
    cf, ddb, kms = recorder.watch(_client("cloudformation")), recorder.watch(_client("dynamodb")), _client("kms")
    lines: list[str] = []
    cfs, ddbs, kmss = Stubber(cf), Stubber(ddb), Stubber(kms)
    for stub in (cfs, ddbs, kmss):
        stub.activate()

    # 1. deploy --env mig --release-table (the committed build is still the table's; release reads the live one)
    deployed = table_stacks["data"].template_dict
    cfs.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"))
    cfs.add_response("get_template", {"TemplateBody": json.dumps(deployed)})
    cfs.add_response("get_stack_policy", {})
    cfs.add_response(
        "describe_stack_resource",
        {
            "StackResourceDetail": {
                "LogicalResourceId": "Table",
                "PhysicalResourceId": values.name,
                "ResourceType": "AWS::DynamoDB::Table",
                "LastUpdatedTimestamp": LATER,
                "ResourceStatus": "UPDATE_COMPLETE",
            }
        },
    )
    ddbs.add_response("describe_table", _table(values))
    cfs.add_response("create_change_set", {"Id": "cs-release"})
    cfs.add_response(
        "describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": RELEASE_CHANGES[:1] + RELEASE_CHANGES[2:]}
    )
    cfs.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
    cfs.add_response("execute_change_set", {})
    cfs.add_response("describe_stack_events", {"StackEvents": []})
    cfs.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"))
    ddbs.add_response("describe_table", _table(values))
    Deployer(table_spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb).release_table(table_stacks["data"])
    cfs.assert_no_pending_responses()
    live = json.loads(_bodies(recorder)[-1])
    assert "Table" not in live["Resources"]

    # 2. global_table: true, no replicas; make synth; deploy --env mig --import
    _expect_import(cfs, ddbs, kmss, start_spec, start_stacks["data"], live)
    Deployer(start_spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb).import_table(
        start_stacks["data"], kms
    )
    cfs.assert_no_pending_responses()
    imported = json.loads(_bodies(recorder)[-1])
    assert table_regions(imported) == [HOME]

    # 3. replicas listed; make synth; deploy --env mig: one replica per update, then the access stack
    steps = replica_steps(data.template_dict, [HOME])
    cfs.add_response("describe_stacks", _described(data.name, "IMPORT_COMPLETE"))
    cfs.add_response("get_template", {"TemplateBody": json.dumps(imported)})
    _expect_deploy(cfs, data, deployed=imported)
    _expect_deploy(cfs, data, deployed=steps[0])
    _expect_deploy(cfs, data, deployed=steps[1])
    _expect_deploy(cfs, stacks["access"], deployed=stacks["access"].template_dict)
    deploy_stacks(
        Deployer(spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb),
        list(stacks.values()),
        lambda r: pytest.fail(f"no key stack with aws_managed encryption ({r})"),
    )
    for stub in (cfs, ddbs, kmss):
        stub.assert_no_pending_responses()
        stub.deactivate()

    assert [(name, kind) for _, name, kind in recorder.change_sets()] == [
        (data.name, "UPDATE"),  # release
        (data.name, "IMPORT"),
        (data.name, "UPDATE"),  # home replica, references back to Ref/GetAtt
        (data.name, "UPDATE"),  # + eu-west-1
        (data.name, "UPDATE"),  # + ap-southeast-2
        (stacks["access"].name, "UPDATE"),
    ]
    data_bodies = [json.loads(b) for b in _bodies(recorder)[2:5]]
    assert [table_regions(b) for b in data_bodies] == [[HOME], [HOME, EU], [HOME, EU, AP]]
    assert data_bodies[-1] == data.template_dict, "the last step is the committed template"
    # Never a table created or deleted: no CreateTable/DeleteTable, no DeleteStack.
    ops = {op for _, op, _ in recorder.calls}
    assert not ops & {"CreateTable", "DeleteTable", "DeleteStack"}
    text = "\n".join(lines)
    assert f"released: table {values.name} kept, no longer managed by {data.name}" in text
    assert f"imported table {spec.table_name}" in text
    assert "step 3: conversations-mig-data adds the replica in ap-southeast-2 (one per update)" in text


def _bodies(recorder: Recorder) -> list[str]:
    return [p["TemplateBody"] for _, op, p in recorder.calls if op == "CreateChangeSet"]


# -- a customer managed key: the move to the global table's own multi-Region key ---------------------


def _prod_like(tmp_path: Path, variant: str, **changes: Any) -> tuple[Spec, dict[str, StackFiles]]:
    """The prod fixture (customer managed key, protected) as environment `prod`, changed and synthesised apart."""
    env = {**yaml.safe_load((FIXTURE_ENVIRONMENTS / "prod.yaml").read_text()), **changes}
    root = tmp_path / variant
    env_path = root / "environments" / "prod.yaml"
    env_path.parent.mkdir(parents=True)
    env_path.write_text(yaml.safe_dump(env, sort_keys=False))
    build = root / "build"
    write_tree(build, render_all([Target(env_path, "prod")], FIXTURE_DESIGNS, with_taskcat=False).tree, True)
    spec = load_spec(env_path, FIXTURE_DESIGNS)
    return spec, _stacks(spec, build / "prod")


def _imported_template(table_template: Template, global_template: Template, values: TableValues) -> Template:
    """What `deploy --import` leaves deployed: the released template plus the home replica, on TableKey."""
    live = released(table_template, values)
    return with_table(live, on_deployed_key(restricted(global_template, {HOME})["Resources"]["Table"], live))


GLOBAL_PROD = {
    "global_table": True,
    "multi_region_consistency": "EVENTUAL",
    "replicas": [{"region": EU}, {"region": AP}],
}


def test_after_the_import_the_plan_shows_the_key_move_as_exactly_g001_and_g005(tmp_path: Path) -> None:
    """prod's data template after its import as a GlobalTable -> the committed global template."""
    prod = read_json(fixture_build() / "prod" / "data.template.json")
    spec, stacks = _prod_like(tmp_path, "global", **GLOBAL_PROD)
    committed = stacks["data"].template_dict
    assert (
        "TableKey" not in committed["Resources"]
        and committed["Resources"]["GlobalTableKey"]["Properties"]["MultiRegion"]
    )
    imported = _imported_template(prod, committed, _values(spec.table_name, "333333333333"))
    assert imported["Resources"]["TableKey"] == prod["Resources"]["TableKey"], "the live single-Region key, as is"
    for target in (committed, replica_steps(committed, [HOME], deferred={EU, AP})[0]):
        plan = plan_stack("prod-data (deployed -> build)", imported, target)
        blocking = sorted((f.rule_id, f.where, f.path) for f in plan.findings if f.is_error)
        assert blocking == [
            ("G001", "TableKey", "(resource)"),
            ("G005", "Table", f"Replicas[{HOME}].SSESpecification.KMSMasterKeyId"),
        ], render_text([plan], frozenset())
        assert not [f for f in plan.findings if f.rule_id in ("G011", "G012", "G020")]
        assert {(c.logical_id, c.action) for c in plan.changes} >= {
            ("GlobalTableKey", "Add"),
            ("TableKey", "Remove"),
            ("Table", "Modify"),
        }
        assert refuse_if_blocked([plan], frozenset({"G001", "G005"}), "x: ") is None
    # Turning the single-Region key itself multi-Region in place is still G020.
    in_place = copy.deepcopy(imported)
    in_place["Resources"]["TableKey"]["Properties"]["MultiRegion"] = True
    assert [f.rule_id for f in plan_stack("x", imported, in_place).findings] == ["G020"]


def _pinned_outputs(name: str, status: str, key_arn: str) -> dict[str, Any]:
    described = _described(name, status)
    described["Stacks"][0]["Outputs"] = [
        {"OutputKey": "KeyArn", "OutputValue": key_arn, "ExportName": f"{name}-KeyArn"},
        {"OutputKey": "TableName", "OutputValue": "conversations-mig", "ExportName": f"{name}-TableName"},
    ]
    return described


def _expect_key_move(cfs: Stubber, data: StackFiles, deployed: Template) -> None:
    """deploy's step 3: the table moved to GlobalTableKey, the alias with it, TableKey let go (both keys protected)."""
    cfs.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"), {"StackName": data.name})
    cfs.add_response("get_template", {"TemplateBody": json.dumps(deployed)})
    cfs.add_response("create_change_set", {"Id": "cs-move"})
    changes = [
        _change("Modify", "Table", "AWS::DynamoDB::GlobalTable", "False"),
        _change("Modify", "TableKeyAlias", "AWS::KMS::Alias", "False"),
        _change("Remove", "TableKey", "AWS::KMS::Key"),
    ]
    cfs.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": changes})
    own = protection_policy(BOTH_KEYS)
    cfs.add_response("get_stack_policy", {"StackPolicyBody": json.dumps(own)}, {"StackName": data.name})
    during = json.dumps(policy_allowing_removal(own, "TableKey", "deploy"))
    cfs.add_response("set_stack_policy", {}, {"StackName": data.name, "StackPolicyBody": during})
    cfs.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
    cfs.add_response("execute_change_set", {}, {"StackName": data.name, "ChangeSetName": "cs-move"})
    event = {
        "StackId": "x",
        "EventId": "move-1",
        "StackName": data.name,
        "LogicalResourceId": "TableKey",
        "Timestamp": LATER,
        "ResourceStatus": "DELETE_SKIPPED",
    }
    cfs.add_response("describe_stack_events", {"StackEvents": [event]})
    cfs.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"))
    cfs.add_response("set_stack_policy", {}, {"StackName": data.name, "StackPolicyBody": json.dumps(own)})
    protected = json.dumps(protection_policy(("Table", "GlobalTableKey")))
    cfs.add_response("set_stack_policy", {}, {"StackName": data.name, "StackPolicyBody": protected})
    cfs.add_response("update_termination_protection", {"StackId": "x"})
    cfs.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE", {"KeyArn": PRIMARY, "KeyId": "mrk"}))


# Step 1 holds both keys: the stack policy protects the table and both until step 3 lets TableKey go.
BOTH_KEYS = ("Table", "GlobalTableKey", "TableKey")


def _sse(table: str, status: str, key: str) -> dict[str, Any]:
    return {
        "Table": {
            "TableName": table,
            "TableStatus": "ACTIVE",
            "SSEDescription": {"Status": status, "SSEType": "KMS", "KMSMasterKeyArn": key},
        }
    }


def _key_statements(template: Template) -> list[dict[str, Any]]:
    """The Allow statements of the access template's roles that grant the table's key (KMS actions)."""
    return [
        statement
        for resource in template["Resources"].values()
        for policy in resource.get("Properties", {}).get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        if "-data-Key" in json.dumps(statement.get("Resource"))
    ]


@pytest.mark.parametrize("reencrypted", [False, True], ids=["still-re-encrypting", "re-encrypted"])
def test_release_then_import_then_deploy_moves_a_customer_managed_key_table_to_its_global_key(
    tmp_path: Path, reencrypted: bool
) -> None:
    """The global fixture (customer managed key, protected) from a live single-Region table: no table or key
    created in place of one, TableKey Retained, and the roles granted whichever key DynamoDB uses throughout:
    GlobalTableKey added, both keys granted, then the switch; the old key's grant goes only once DynamoDB
    reports the re-encryption done."""
    table_spec, table_stacks = _environment(tmp_path, "table", global_table=False)
    start_spec, start_stacks = _environment(tmp_path, "start", replicas=[])
    spec, stacks = _environment(tmp_path, "global")  # replicas eu-west-1, ap-southeast-2
    data, access = stacks["data"], stacks["access"]
    assert spec.env.encryption == "customer_managed" and spec.env.protected
    values = _values(table_spec.table_name)
    old_key = f"arn:aws:kms:{HOME}:{ACCOUNT}:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    recorder = Recorder()
    cf, ddb, kms = recorder.watch(_client("cloudformation")), recorder.watch(_client("dynamodb")), _client("kms")
    regional_cf = {r: recorder.watch(_client("cloudformation", r)) for r in (EU, AP)}
    lines: list[str] = []
    stubs = [Stubber(c) for c in (cf, ddb, kms, *regional_cf.values())]
    cfs, ddbs, kmss = stubs[:3]
    for stub in stubs:
        stub.activate()

    # 1. deploy --env mig --release-table, under the protected stack's policy
    deployed = table_stacks["data"].template_dict
    _expect_release_start(cfs, ddbs, table_stacks["data"], deployed, values, protection_policy())
    _expect_release_rest(cfs, ddbs, table_stacks["data"], values, protection_policy())
    Deployer(table_spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb).release_table(table_stacks["data"])
    cfs.assert_no_pending_responses()
    live = json.loads(_bodies(recorder)[-1])
    assert "Table" not in live["Resources"] and "TableKey" in live["Resources"]

    # 2. global_table: true, no replicas; make synth; deploy --env mig --import: the table on TableKey
    _expect_import(cfs, ddbs, kmss, start_spec, start_stacks["data"], live, key_manager="CUSTOMER")
    Deployer(start_spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb).import_table(
        start_stacks["data"], kms
    )
    cfs.assert_no_pending_responses()
    imported = json.loads(_bodies(recorder)[-1])
    assert imported["Resources"]["Table"]["Properties"]["Replicas"][0]["SSESpecification"] == {
        "KMSMasterKeyId": {"Fn::GetAtt": ["TableKey", "Arn"]}
    }
    assert "GlobalTableKey" not in imported["Resources"]

    # 3. replicas listed; make synth; deploy --env mig --allow G001,G005
    steps = replica_steps(data.template_dict, [HOME], deferred={EU, AP})
    both_keys = with_new_key(imported, data.template_dict, KeySwitch("TableKey", "GlobalTableKey"))
    exports = {f"{data.name}-KeyId", f"{data.name}-KeyArn"}
    granting, granted = with_key_granted(access.template_dict, exports, [old_key])
    assert granted == 5, "every role's statement on the table's key"
    cfs.add_response("describe_stacks", _pinned_outputs(data.name, "IMPORT_COMPLETE", old_key))
    cfs.add_response("get_template", {"TemplateBody": json.dumps(imported)})
    cfs.add_response(
        "list_imports", {"Imports": [access.name]}, {"ExportName": f"{data.name}-KeyArn"}
    )  # KeyArn changes at the switch: imported by the access stack alone, which step 2 moves off it
    _expect_deploy(cfs, data, deployed=imported, protected=BOTH_KEYS, outputs={"KeyArn": old_key, "KeyId": "mrk"})
    _expect_deploy(cfs, access, deployed=table_stacks["access"].template_dict)
    _expect_key_move(cfs, data, both_keys)
    for region in (EU, AP):
        _expect_deploy(
            stubs[3 if region == EU else 4],
            stacks[f"key-{region}"],
            deployed=None,
            protected=("ReplicaKey",),
            parameters=[{"ParameterKey": "PrimaryKeyArn", "ParameterValue": PRIMARY}],
        )
    _expect_deploy(cfs, data, deployed=steps[0], protected=("Table", "GlobalTableKey"), outputs={"KeyArn": PRIMARY})
    _expect_deploy(cfs, data, deployed=steps[1], protected=("Table", "GlobalTableKey"), outputs={"KeyArn": PRIMARY})
    # Last: the access stack as built, unless DynamoDB is still re-encrypting under the new key.
    sse = _sse(spec.table_name, "ENABLED", PRIMARY) if reencrypted else _sse(spec.table_name, "UPDATING", old_key)
    if reencrypted:
        _expect_deploy(cfs, access, deployed=granting)
    else:
        cfs.add_response("describe_stacks", _described(access.name, "UPDATE_COMPLETE"), {"StackName": access.name})
        cfs.add_response("get_template", {"TemplateBody": json.dumps(granting)})
        cfs.add_response("describe_stacks", _described(access.name, "UPDATE_COMPLETE"), {"StackName": access.name})
    ddbs.add_response("describe_table", sse, {"TableName": spec.table_name})
    allowed = frozenset({"G001", "G005"})

    def regional(region: str) -> Deployer:
        return Deployer(spec, regional_cf[region], out=lines.append, sleep=lambda _: None, allowed=allowed)

    deploy_stacks(
        Deployer(spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb, allowed=allowed),
        list(stacks.values()),
        regional,
    )
    for stub in stubs:
        stub.assert_no_pending_responses()
        stub.deactivate()

    last = [(access.name, "UPDATE")] if reencrypted else []
    assert [(name, kind) for _, name, kind in recorder.change_sets()] == [
        (data.name, "UPDATE"),  # release
        (data.name, "IMPORT"),
        (data.name, "UPDATE"),  # 1: GlobalTableKey (and KeyId) beside TableKey; the table stays on TableKey
        (access.name, "UPDATE"),  # 2: both keys granted; the key by KeyId, no longer importing KeyArn
        (data.name, "UPDATE"),  # 3: the table on GlobalTableKey, the alias with it, TableKey let go
        (f"{spec.stack_prefix}-key-{EU}", "CREATE"),
        (f"{spec.stack_prefix}-key-{AP}", "CREATE"),
        (data.name, "UPDATE"),  # + eu-west-1
        (data.name, "UPDATE"),  # + ap-southeast-2
        *last,  # 4: the old key's grant dropped, only once DynamoDB reports the re-encryption done
    ]
    bodies = [json.loads(b) for b in _bodies(recorder)]
    add, access_body, move = bodies[2], bodies[3], bodies[4]

    # Step 1: both keys, the table, the alias and KeyArn still on TableKey; KeyId exported for step 2.
    assert add == both_keys
    assert add["Resources"]["TableKey"] == imported["Resources"]["TableKey"]
    assert add["Resources"]["GlobalTableKey"] == data.template_dict["Resources"]["GlobalTableKey"]
    assert add["Resources"]["GlobalTableKey"]["Properties"]["MultiRegion"] is True
    assert add["Resources"]["Table"] == imported["Resources"]["Table"], "the table untouched, on TableKey"
    assert add["Resources"]["TableKeyAlias"] == imported["Resources"]["TableKeyAlias"]
    assert add["Outputs"]["KeyArn"] == imported["Outputs"]["KeyArn"]
    assert add["Outputs"]["KeyId"] == data.template_dict["Outputs"]["KeyId"]
    assert {k: v for k, v in add["Resources"].items() if k != "GlobalTableKey"} == imported["Resources"]
    plan = plan_stack("step 1", imported, add)
    assert not [f for f in plan.findings if f.is_error], "no guard blocks step 1"

    # Step 2: the committed access template, every grant on the table's key also naming TableKey's ARN.
    assert access_body == granting
    assert f"{data.name}-KeyArn" not in json.dumps(access_body), "KeyArn no longer imported"
    statements = _key_statements(access_body)
    assert len(statements) == 5
    for statement in statements:
        assert old_key in statement["Resource"]
        assert f"{data.name}-KeyId" in json.dumps(statement["Resource"])
        assert [r for r in statement["Resource"] if r != old_key] == next(
            s["Resource"] for s in _key_statements(access.template_dict) if s["Sid"] == statement["Sid"]
        )

    # Step 3: the committed template with the home replica: the switch.
    assert move == steps[0]
    assert "TableKey" not in move["Resources"]
    assert move["Resources"]["Table"]["Properties"]["Replicas"][0]["SSESpecification"] == {
        "KMSMasterKeyId": {"Fn::GetAtt": ["GlobalTableKey", "Arn"]}
    }
    assert move["Resources"]["TableKeyAlias"]["Properties"]["TargetKeyId"] == {"Ref": "GlobalTableKey"}
    assert move["Outputs"]["KeyArn"]["Value"] == {"Fn::GetAtt": ["GlobalTableKey", "Arn"]}
    assert [table_regions(b) for b in bodies[7:9]] == [[HOME, EU], [HOME, EU, AP]]
    assert bodies[8] == data.template_dict, "the last data step is the committed template"
    if reencrypted:
        assert bodies[-1] == access.template_dict, "the old key's grant dropped"

    # Both keys protected from step 1 until step 3 lets TableKey go (for that update only).
    policies = [json.loads(p["StackPolicyBody"]) for r, op, p in recorder.calls if op == "SetStackPolicy" and r == HOME]
    assert policies[2:6] == [
        protection_policy(BOTH_KEYS),
        policy_allowing_removal(protection_policy(BOTH_KEYS), "TableKey", "deploy"),
        protection_policy(BOTH_KEYS),
        protection_policy(("Table", "GlobalTableKey")),
    ]
    ops = {op for _, op, _ in recorder.calls}
    assert not ops & {"CreateTable", "DeleteTable", "DeleteStack", "ScheduleKeyDeletion"}
    text = "\n".join(lines)
    assert "imported on the stack's TableKey" in text
    assert "ALLOW=G001,G005 (it moves the table to GlobalTableKey" in text
    assert f"{data.name}: the table moves from TableKey to GlobalTableKey" in text
    assert f"  step 1: {data.name} adds GlobalTableKey beside TableKey (the table stays on TableKey)" in text
    assert f"  step 2: {access.name} grant(s) GlobalTableKey (by KeyId) and TableKey ({old_key})" in text
    assert f"  step 3: {data.name} moves the table to GlobalTableKey (G005)" in text
    assert f"  step 5: {data.name} adds the replica in {AP} (one per update)" in text
    assert f"{data.name}: TableKey left the stack and stays in the account (DeletionPolicy Retain)" in text
    assert f"TableKey ({old_key}) stays in the account, Retained: keep it enabled until DynamoDB reports" in text
    if reencrypted:
        assert f"{access.name}: the grant on {old_key} goes: DynamoDB reports table" in text
    else:
        assert f"{access.name}: keeps the grant on {old_key}: DynamoDB has not reported" in text
        assert f"{access.name}: no changes" in text


def test_a_key_switch_is_read_from_the_deployed_and_committed_tables_alone(tmp_path: Path) -> None:
    prod = read_json(fixture_build() / "prod" / "data.template.json")
    spec, stacks = _prod_like(tmp_path, "global", **GLOBAL_PROD)
    committed = stacks["data"].template_dict
    imported = _imported_template(prod, committed, _values(spec.table_name, "333333333333"))
    switch = key_switch(imported, committed)
    assert switch == KeySwitch("TableKey", "GlobalTableKey")
    assert key_switch(committed, committed) is None and key_switch(prod, prod) is None
    # Interrupted after step 1 (both keys held, the table still on TableKey): still a switch.
    first = with_new_key(imported, committed, switch)
    assert key_switch(first, committed) == switch
    assert exports_moving_key(imported, committed, switch) == ["KeyArn"]
    assert exports_moving_key(first, committed, switch) == ["KeyArn"]
    # Step 1 adds the key and KeyId; KeyArn, the table and the alias stay on TableKey.
    assert set(first["Resources"]) - set(imported["Resources"]) == {"GlobalTableKey"}
    assert set(first["Outputs"]) - set(imported["Outputs"]) == {"KeyId"}
    assert first["Outputs"]["KeyArn"] == imported["Outputs"]["KeyArn"]
    # The access stack: only Allow statements granting the table's key gain the old key's ARN.
    access = stacks["access"].template_dict
    exports = {"conversations-prod-data-KeyId", "conversations-prod-data-KeyArn"}
    granted, count = with_key_granted(access, exports, ["arn:old"])
    assert count == 5 and "arn:old" not in json.dumps(with_key_granted(access, {"other"}, ["arn:old"])[0])
    assert extra_key_grants(granted, access, exports) == [] and extra_key_grants(access, granted, exports) == []
    literal = "arn:aws:kms:us-east-1:333333333333:key/old"
    granted, _ = with_key_granted(access, exports, [literal])
    assert extra_key_grants(granted, access, exports) == [literal]
    assert imported_exports(granted) == imported_exports(access)


def test_a_key_switch_that_cannot_finish_is_refused_before_any_change(tmp_path: Path) -> None:
    """Without G001 and G005 allowed, or with another stack importing KeyArn, nothing is deployed."""
    table_spec, table_stacks = _environment(tmp_path, "table", global_table=False)
    spec, stacks = _environment(tmp_path, "global")
    data = stacks["data"]
    values = _values(table_spec.table_name)
    imported = _imported_template(table_stacks["data"].template_dict, data.template_dict, values)
    old_key = f"arn:aws:kms:{HOME}:{ACCOUNT}:key/old"
    for allowed, importing, expected in (
        (frozenset(), [stacks["access"].name], "the key switch \\(step 3\\) is blocked by G001,G005"),
        (frozenset({"G001", "G005"}), [stacks["access"].name, "someone-else"], "someone-else import"),
    ):
        recorder = Recorder()
        cf = recorder.watch(_client("cloudformation"))
        with Stubber(cf) as cfs:
            cfs.add_response("describe_stacks", _pinned_outputs(data.name, "IMPORT_COMPLETE", old_key))
            cfs.add_response("get_template", {"TemplateBody": json.dumps(imported)})
            if allowed:
                cfs.add_response("list_imports", {"Imports": importing})
            with pytest.raises(Refused, match=f"refused before any change: .*{expected}"):
                deploy_stacks(
                    Deployer(spec, cf, out=lambda _: None, allowed=allowed),
                    list(stacks.values()),
                    lambda r: pytest.fail(f"no key stack before the switch ({r})"),
                )
            cfs.assert_no_pending_responses()
        assert not recorder.change_sets()


def test_only_an_export_naming_a_resource_the_stack_lacks_is_kept_at_its_deployed_value(tmp_path: Path) -> None:
    prod = read_json(fixture_build() / "prod" / "data.template.json")
    _, stacks = _prod_like(tmp_path, "global", **GLOBAL_PROD)
    committed = stacks["data"].template_dict
    imported = _imported_template(prod, committed, _values("conversations-prod", "333333333333"))
    # TableName/TableArn go back from literals to Ref/GetAtt of the same table: same values, not kept.
    assert exports_taking_new_values(imported, committed) == ["KeyArn"]
    assert exports_taking_new_values(committed, committed) == []
    kept = with_output_values(committed, {"KeyArn": "arn:old"})
    assert kept["Outputs"]["KeyArn"]["Value"] == "arn:old" and committed["Outputs"]["KeyArn"]["Value"] != "arn:old"
    # An import into a stack that already holds GlobalTableKey (or no TableKey) keeps the table as built.
    table = committed["Resources"]["Table"]
    assert on_deployed_key(table, committed) is table
    assert on_deployed_key(table, {"Resources": {}}) is table
