"""Global tables: replicas one per update, key stacks in their Regions, import, local and destroy.

moto has no AWS::DynamoDB::GlobalTable, so the flows run on botocore's
Stubber (every request and response checked against the real service model),
one client per Region; the order of calls across clients is recorded.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber

from templates_src.cli import main as cli_main
from templates_src.deploy.deployer import Deployer, deploy_stacks, protection_policy, regional_deployers
from templates_src.deploy.live import template_facts
from templates_src.deploy.replicas import replica_steps, restricted, table_regions
from templates_src.errors import AwsFailure, BadInput, ExitCode, Refused
from templates_src.local.runner import run_local
from templates_src.spec.loader import Spec, load_spec
from templates_src.stacks.artifacts import StackFiles, read_stack_files, write_tree
from templates_src.stacks.names import replica_key_region
from templates_src.stacks.synth import Target, render_all

from .conftest import EVENT_BEFORE, FIXTURE_DESIGNS, FIXTURE_ENVIRONMENTS, fixture_build, fixture_cli_args, fixture_spec

HOME, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-2"
ACCOUNT = "444444444444"
LATER = datetime(2026, 1, 1, 1, tzinfo=timezone.utc)  # any fixed time: deploy follows events by identity
PRIMARY = f"arn:aws:kms:{HOME}:{ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef"


# -- helpers -----------------------------------------------------------------------------------


def _stacks(spec: Spec, build: Path) -> dict[str, StackFiles]:
    return {s.kind: s for s in read_stack_files(spec, build)}


def _global_stacks() -> tuple[Spec, dict[str, StackFiles]]:
    spec = fixture_spec("global")
    return spec, _stacks(spec, fixture_build() / "global")


def _derived(tmp_path: Path, name: str, **changes: Any) -> tuple[Spec, dict[str, StackFiles]]:
    """The global fixture with some settings changed, synthesised into tmp_path (never the user's files)."""
    env = {**yaml.safe_load((FIXTURE_ENVIRONMENTS / "global.yaml").read_text()), **changes}
    if env["encryption"] != "customer_managed":
        env.pop("key_admins", None)
    env_path = tmp_path / "environments" / f"{name}.yaml"
    env_path.parent.mkdir(parents=True)
    env_path.write_text(yaml.safe_dump(env, sort_keys=False))
    build = tmp_path / "build"
    write_tree(build, render_all([Target(env_path, name)], FIXTURE_DESIGNS, with_taskcat=False).tree, True)
    spec = load_spec(env_path, FIXTURE_DESIGNS)
    return spec, _stacks(spec, build / name)


def _client(service: str, region: str = HOME) -> Any:
    return boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")


class Recorder:
    """Every call of every client, in order, with its Region and parameters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def watch(self, client: Any) -> Any:
        region = client.meta.region_name

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            self.calls.append((region, model.name, params))

        client.meta.events.register("before-parameter-build.*.*", record)
        return client

    def ops(self) -> list[tuple[str, str]]:
        return [(region, op) for region, op, _ in self.calls]

    def change_sets(self) -> list[tuple[str, str, str]]:
        return [(r, p["StackName"], p["ChangeSetType"]) for r, op, p in self.calls if op == "CreateChangeSet"]


def _described(name: str, status: str, outputs: dict[str, str] | None = None) -> dict[str, Any]:
    stack: dict[str, Any] = {
        "StackName": name,
        # A key-<region> stack lives in its own Region, as its id says.
        "StackId": f"arn:aws:cloudformation:{name.split('-key-')[1] if '-key-' in name else HOME}:{ACCOUNT}:stack/{name}/1",
        "CreationTime": LATER,
        "StackStatus": status,
    }
    if outputs:
        stack["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
    return {"Stacks": [stack]}


def _missing(stub: Stubber, name: str) -> None:
    stub.add_client_error("describe_stacks", "ValidationError", f"Stack with id {name} does not exist", 400)


def _expect_deploy(
    stub: Stubber,
    stack: StackFiles,
    *,
    deployed: dict[str, Any] | None,
    protected: tuple[str, ...] = (),
    outputs: dict[str, str] | None = None,
    parameters: Any = ANY,
) -> None:
    """The calls of one Deployer.deploy: a change set created, executed and followed, protection, outputs."""
    name, kind = stack.name, "CREATE" if deployed is None else "UPDATE"
    cs = f"arn:aws:cloudformation:{HOME}:{ACCOUNT}:changeSet/{stack.kind}/{len(stub._queue)}"  # noqa: SLF001
    if deployed is None:
        _missing(stub, name)
    else:
        stub.add_response("describe_stacks", _described(name, "UPDATE_COMPLETE"), {"StackName": name})
        stub.add_response(
            "get_template", {"TemplateBody": json.dumps(deployed)}, {"StackName": name, "TemplateStage": "Original"}
        )
    expected = {
        "StackName": name,
        "ChangeSetName": ANY,
        "ChangeSetType": kind,
        "TemplateBody": ANY,
        "Parameters": parameters,
        "Tags": ANY,
        "Capabilities": ANY,
    }
    stub.add_response("create_change_set", {"Id": cs}, expected)
    change = {"Action": "Add" if deployed is None else "Modify", "LogicalResourceId": "X", "ResourceType": "X"}
    stub.add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": [{"Type": "Resource", "ResourceChange": change}]},
        {"StackName": name, "ChangeSetName": cs},
    )
    stub.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
    stub.add_response("execute_change_set", {}, {"StackName": name, "ChangeSetName": cs})
    done = f"{kind}_COMPLETE"
    event = {
        "StackId": "x",
        "EventId": f"{name}-{len(stub._queue)}",  # noqa: SLF001
        "StackName": name,
        "LogicalResourceId": name,
        "Timestamp": LATER,
        "ResourceStatus": done,
    }
    stub.add_response("describe_stack_events", {"StackEvents": [event]}, {"StackName": name})
    stub.add_response("describe_stacks", _described(name, done), {"StackName": name})
    if protected:
        policy = json.dumps(protection_policy(protected))
        stub.add_response("set_stack_policy", {}, {"StackName": name, "StackPolicyBody": policy})
        stub.add_response(
            "update_termination_protection",
            {"StackId": "x"},
            {"StackName": name, "EnableTerminationProtection": True},
        )
    stub.add_response("describe_stacks", _described(name, done, outputs), {"StackName": name})


# -- read_stack_files --------------------------------------------------------------------------


def test_read_stack_files_returns_the_key_stacks_each_with_its_region() -> None:
    spec, stacks = _global_stacks()
    assert list(stacks) == ["data", "access", f"key-{AP}", f"key-{EU}"]
    assert {replica_key_region(k) for k in stacks} == {None, AP, EU}
    assert stacks[f"key-{EU}"].name == "conversations-global-key-eu-west-1"
    assert "PrimaryKeyArn" in stacks[f"key-{EU}"].template_dict["Parameters"]
    # A single-Region environment has none.
    assert [s.kind for s in read_stack_files(fixture_spec("prod"), fixture_build() / "prod")] == ["data", "access"]


# -- replica_steps: the whole decision, pure ---------------------------------------------------


def _target() -> dict[str, Any]:
    _, stacks = _global_stacks()
    return stacks["data"].template_dict


def test_a_new_table_starts_with_the_home_replica_then_adds_one_replica_per_update() -> None:
    target = _target()
    steps = replica_steps(target, [], deferred={EU, AP})
    assert [table_regions(s) for s in steps] == [[HOME], [HOME, EU], [HOME, EU, AP]]
    assert steps[-1] == target
    # Nothing but the replica list differs between steps.
    for step in steps:
        assert {k: v for k, v in step["Resources"].items() if k != "Table"} == {
            k: v for k, v in target["Resources"].items() if k != "Table"
        }
        assert step["Resources"]["Table"]["Properties"]["Replicas"] == [
            r for r in target["Resources"]["Table"]["Properties"]["Replicas"] if r["Region"] in table_regions(step)
        ]


def test_a_new_table_without_key_stacks_gets_every_replica_at_once() -> None:
    target = _target()
    assert replica_steps(target, []) == [target]
    assert [table_regions(s) for s in replica_steps(target, [], deferred={AP})] == [[HOME, EU], [HOME, EU, AP]]


def test_live_replicas_are_kept_and_the_missing_ones_added_one_each() -> None:
    target = _target()
    assert [table_regions(s) for s in replica_steps(target, [HOME, AP])] == [[HOME, AP], [HOME, EU, AP]]
    assert [table_regions(s) for s in replica_steps(target, [HOME])] == [[HOME], [HOME, EU], [HOME, EU, AP]]
    assert replica_steps(target, [HOME, EU, AP], deferred={EU, AP}) == [target]


def test_removing_a_live_replica_is_refused_naming_the_region() -> None:
    with pytest.raises(Refused, match="removes the replica in sa-east-1; deploy never removes a replica") as exc:
        replica_steps(_target(), [HOME, EU, "sa-east-1"])
    assert exc.value.exit_code == ExitCode.REFUSED


def test_a_strongly_consistent_table_is_never_staged() -> None:
    strong = _stacks(fixture_spec("strong"), fixture_build() / "strong")["data"].template_dict
    assert replica_steps(strong, []) == [strong]  # created with its replicas and witness together
    assert replica_steps(strong, ["eu-west-1", "eu-central-1"]) == [strong]
    with pytest.raises(Refused, match="STRONG cannot add the replica in eu-central-1"):
        replica_steps(strong, ["eu-west-1"])


def test_a_single_region_table_is_one_step() -> None:
    prod = _stacks(fixture_spec("prod"), fixture_build() / "prod")["data"].template_dict
    assert replica_steps(prod, []) == [prod]
    assert table_regions(prod) == []


# -- deploy: the flow end to end, one stubbed client per Region --------------------------------


def test_new_global_environment_deploys_its_key_then_the_key_stacks_then_the_whole_table() -> None:
    spec, stacks = _global_stacks()
    data, access = stacks["data"], stacks["access"]
    steps = replica_steps(data.template_dict, [], deferred={EU, AP}, new_stack=True)
    recorder = Recorder()
    clients = {r: recorder.watch(_client("cloudformation", r)) for r in (HOME, EU, AP)}
    stubs = {r: Stubber(c) for r, c in clients.items()}
    lines: list[str] = []
    home = stubs[HOME]
    _missing(home, data.name)  # no stack yet
    _expect_deploy(home, data, deployed=None, protected=("Table", "GlobalTableKey"), outputs={"KeyArn": PRIMARY})
    for region in (EU, AP):
        _expect_deploy(
            stubs[region],
            stacks[f"key-{region}"],
            deployed=None,
            protected=("ReplicaKey",),
            outputs={"KeyArn": PRIMARY.replace(HOME, region)},
            parameters=[{"ParameterKey": "PrimaryKeyArn", "ParameterValue": PRIMARY}],
        )
    _expect_deploy(home, data, deployed=steps[0], protected=("Table", "GlobalTableKey"), outputs={"KeyArn": PRIMARY})
    _expect_deploy(home, access, deployed=None)
    for stub in stubs.values():
        stub.activate()
    deployer = Deployer(spec, clients[HOME], out=lines.append, sleep=lambda _: None)

    def regional(region: str) -> Deployer:
        return Deployer(spec, clients[region], out=lines.append, sleep=lambda _: None)

    deploy_stacks(deployer, list(stacks.values()), regional)
    for stub in stubs.values():
        stub.assert_no_pending_responses()

    assert recorder.change_sets() == [
        (HOME, "conversations-global-data", "CREATE"),
        (EU, "conversations-global-key-eu-west-1", "CREATE"),
        (AP, "conversations-global-key-ap-southeast-2", "CREATE"),
        (HOME, "conversations-global-data", "UPDATE"),
        (HOME, "conversations-global-access", "CREATE"),
    ]
    bodies = [json.loads(p["TemplateBody"]) for _, op, p in recorder.calls if op == "CreateChangeSet"]
    data_bodies = [b for b in bodies if "GlobalTableKey" in b["Resources"]]
    # The key alone (and its outputs), then the committed template: every replica at the table's creation.
    assert sorted(data_bodies[0]["Resources"]) == ["GlobalTableKey", "TableKeyAlias"]
    assert sorted(data_bodies[0]["Outputs"]) == ["KeyArn", "KeyId"]
    assert data_bodies[0]["Parameters"] == data.template_dict["Parameters"]
    assert data_bodies[1] == data.template_dict, "the last step is the committed template"
    assert table_regions(data_bodies[1]) == [HOME, EU, AP]
    # Each key stack's calls all went to its own Region's client.
    assert {r for r, op, p in recorder.calls if "key-eu-west-1" in str(p.get("StackName", ""))} == {EU}
    assert {r for r, op, p in recorder.calls if "key-ap-southeast-2" in str(p.get("StackName", ""))} == {AP}
    text = "\n".join(lines)
    assert "global table: replicas deployed now: none (new table)" in text
    assert "step 1: conversations-global-data with its key alone (the replica keys need it first)" in text
    assert (
        "step 2: conversations-global-data creates the table with replicas us-east-1, eu-west-1, ap-southeast-2" in text
    )
    assert "conversations-global-key-eu-west-1: stack policy denies Update:Replace/Update:Delete on ReplicaKey" in text


def test_a_new_strong_table_with_replica_keys_is_created_whole_after_them() -> None:
    # STRONG sets every Region when the table is created: the key first makes that possible.
    spec = fixture_spec("strong")
    data = _stacks(spec, fixture_build() / "strong")["data"].template_dict
    with_key = copy.deepcopy(data)
    with_key["Resources"]["GlobalTableKey"] = {"Type": "AWS::KMS::Key", "Properties": {"MultiRegion": True}}
    steps = replica_steps(with_key, [], deferred={"eu-central-1"}, new_stack=True)
    assert [sorted(s["Resources"]) for s in steps] == [["GlobalTableKey"], sorted(with_key["Resources"])]
    assert steps[-1] == with_key
    with pytest.raises(Refused, match="STRONG"):
        replica_steps(with_key, [], deferred={"eu-central-1"})  # a stack that exists: would need staging


def test_a_live_table_missing_one_replica_gets_it_in_one_update_after_its_key_stack() -> None:
    spec, stacks = _global_stacks()
    data = stacks["data"]
    deployed = restricted(data.template_dict, {HOME, EU})
    recorder = Recorder()
    clients = {r: recorder.watch(_client("cloudformation", r)) for r in (HOME, EU, AP)}
    stubs = {r: Stubber(c) for r, c in clients.items()}
    home = stubs[HOME]
    home.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"), {"StackName": data.name})
    home.add_response("get_template", {"TemplateBody": json.dumps(deployed)})
    # Step 1 is the deployed template itself: an empty change set, deleted.
    home.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"))
    home.add_response("get_template", {"TemplateBody": json.dumps(deployed)})
    home.add_response("create_change_set", {"Id": "cs-empty"})
    home.add_response(
        "describe_change_set",
        {"Status": "FAILED", "StatusReason": "The submitted information didn't contain changes."},
    )
    home.add_response("delete_change_set", {}, {"StackName": data.name, "ChangeSetName": "cs-empty"})
    home.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE", {"KeyArn": PRIMARY}))
    for region in (EU, AP):
        key = stacks[f"key-{region}"]
        _expect_deploy(stubs[region], key, deployed=key.template_dict, protected=("ReplicaKey",))
    _expect_deploy(home, data, deployed=deployed, protected=("Table", "GlobalTableKey"))
    for stub in stubs.values():
        stub.activate()
    lines: list[str] = []
    deployer = Deployer(spec, clients[HOME], out=lines.append, sleep=lambda _: None)
    deployer.deploy_global(
        data,
        [stacks[f"key-{EU}"], stacks[f"key-{AP}"]],
        lambda r: Deployer(spec, clients[r], out=lines.append, sleep=lambda _: None),
    )
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    assert [(r, t) for r, _, t in recorder.change_sets()] == [
        (HOME, "UPDATE"),
        (EU, "UPDATE"),
        (AP, "UPDATE"),
        (HOME, "UPDATE"),
    ]
    assert "conversations-global-data: no changes" in lines
    assert "  step 2: conversations-global-data adds the replica in ap-southeast-2 (one per update)" in lines


def test_deploy_refuses_to_remove_a_live_replica_before_any_change() -> None:
    spec, stacks = _global_stacks()
    data = stacks["data"]
    deployed = copy.deepcopy(data.template_dict)
    extra = copy.deepcopy(deployed["Resources"]["Table"]["Properties"]["Replicas"][1])
    deployed["Resources"]["Table"]["Properties"]["Replicas"].append({**extra, "Region": "sa-east-1"})
    cf, regional_cf = _client("cloudformation"), _client("cloudformation", EU)
    with Stubber(cf) as stub, Stubber(regional_cf) as regional_stub:
        stub.add_response("describe_stacks", _described(data.name, "UPDATE_COMPLETE"))
        stub.add_response("get_template", {"TemplateBody": json.dumps(deployed)})
        with pytest.raises(Refused, match="conversations-global-data: refused: .* removes the replica in sa-east-1"):
            deploy_stacks(
                Deployer(spec, cf, out=lambda _: None),
                list(stacks.values()),
                lambda r: Deployer(spec, regional_cf),
            )
        stub.assert_no_pending_responses()
        regional_stub.assert_no_pending_responses()


def test_key_stacks_without_a_key_arn_output_fail_clearly() -> None:
    spec, stacks = _global_stacks()
    data = stacks["data"]
    cf = _client("cloudformation")
    with Stubber(cf) as stub:
        _missing(stub, data.name)
        _expect_deploy(stub, data, deployed=None, protected=("Table", "GlobalTableKey"), outputs={})
        with pytest.raises(AwsFailure, match="no KeyArn output: cannot give conversations-global-key-eu-west-1"):
            Deployer(spec, cf, out=lambda _: None, sleep=lambda _: None).deploy_global(
                data, [stacks[f"key-{EU}"]], lambda r: pytest.fail("no key stack without the primary key")
            )


# -- import ------------------------------------------------------------------------------------


def _live_table(ddb: Stubber, table: str) -> None:
    """A live single-Region table: the global fixture's keys, nothing protected."""
    described = {
        "TableName": table,
        "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "updatedAt", "AttributeType": "S"},
        ],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "TableArn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/{table}",
        "DeletionProtectionEnabled": False,
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSEDescription": {
            "Status": "ENABLED",
            "SSEType": "KMS",
            "KMSMasterKeyArn": f"arn:aws:kms:{HOME}:{ACCOUNT}:key/0a1b2c3d",
        },
    }
    ddb.add_response("describe_table", {"Table": described}, {"TableName": table})
    ddb.add_response(
        "describe_time_to_live",
        {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}},
    )
    ddb.add_response(
        "describe_continuous_backups",
        {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}},
    )
    ddb.add_response("list_tags_of_resource", {"Tags": [{"Key": "Team", "Value": "chat-platform"}]})
    ddb.add_response("describe_contributor_insights", {"TableName": table, "ContributorInsightsStatus": "DISABLED"})


def test_import_of_a_global_table_takes_the_home_replica_only_retained(tmp_path: Path) -> None:
    spec, stacks = _derived(tmp_path, "gimport", protected=False, encryption="aws_managed")
    data = stacks["data"]
    recorder = Recorder()
    cf, ddb, kms = recorder.watch(_client("cloudformation")), _client("dynamodb"), _client("kms")
    lines: list[str] = []
    with Stubber(cf) as cfs, Stubber(ddb) as ddbs, Stubber(kms) as kmss:
        _missing(cfs, data.name)
        _live_table(ddbs, spec.table_name)
        kmss.add_response("describe_key", {"KeyMetadata": {"KeyId": "k", "KeyManager": "AWS"}}, {"KeyId": ANY})
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
                "Tags": ANY,
            },
        )
        cfs.add_response("describe_change_set", {"Status": "CREATE_COMPLETE"})
        cfs.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
        cfs.add_response("execute_change_set", {})
        event = {
            "StackId": "x",
            "EventId": "e",
            "StackName": data.name,
            "LogicalResourceId": "Table",
            "Timestamp": LATER,
            "ResourceStatus": "IMPORT_COMPLETE",
        }
        cfs.add_response("describe_stack_events", {"StackEvents": [event]})
        cfs.add_response("describe_stacks", _described(data.name, "IMPORT_COMPLETE"))
        Deployer(spec, cf, out=lines.append, sleep=lambda _: None, dynamodb=ddb).import_table(data, kms)
        cfs.assert_no_pending_responses()
        ddbs.assert_no_pending_responses()
    (body,) = [json.loads(p["TemplateBody"]) for _, op, p in recorder.calls if op == "CreateChangeSet"]
    assert list(body["Resources"]) == ["Table"]
    table = body["Resources"]["Table"]
    assert table["Type"] == "AWS::DynamoDB::GlobalTable"
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert table_regions(body) == [HOME], "replicas are added afterwards, one per update"
    text = "\n".join(lines)
    # The live table compares against the home replica's settings.
    assert "the next deploy changes DeletionProtectionEnabled: False -> True" in text
    assert "the next deploy changes PointInTimeRecovery: [False, None] -> [True, 35]" in text
    assert "the next deploy changes TableClass" not in text


def test_import_of_a_strongly_consistent_environment_is_refused_without_aws() -> None:
    spec = fixture_spec("strong")
    data = _stacks(spec, fixture_build() / "strong")["data"]
    cf = _client("cloudformation")
    with Stubber(cf) as stub:
        with pytest.raises(Refused, match="STRONG: AWS turns on multi-Region strong consistency only on an empty"):
            Deployer(spec, cf).import_table(data, None)
        stub.assert_no_pending_responses()


def test_import_refuses_a_table_that_refers_to_its_own_key() -> None:
    spec, stacks = _global_stacks()
    cf = _client("cloudformation")
    with Stubber(cf) as stub:
        _missing(stub, stacks["data"].name)
        with pytest.raises(
            Refused, match="the table refers to GlobalTableKey, which an IMPORT change set cannot create"
        ):
            Deployer(spec, cf).import_table(stacks["data"], None)
        stub.assert_no_pending_responses()


def test_a_global_tables_facts_are_its_home_replicas() -> None:
    facts = template_facts(_target()["Resources"]["Table"]).values
    assert facts["DeletionProtectionEnabled"] is True
    assert facts["PointInTimeRecovery"] == [True, 35]
    assert facts["TableClass"] == "STANDARD"  # ap-southeast-2's STANDARD_INFREQUENT_ACCESS is not the home's
    assert facts["Encryption"] == "customer_managed"
    assert facts["ContributorInsights"] is True
    assert facts["Tags"]["DataClassification"] == "confidential" and "DataResidency" not in facts["Tags"]


# -- local and destroy -------------------------------------------------------------------------


def test_local_refuses_a_global_environment_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    args = fixture_cli_args("local", "global")
    assert cli_main(args) == ExitCode.BAD_INPUT == 2
    err = capsys.readouterr().err
    assert "moto has no AWS::DynamoDB::GlobalTable; make local cannot deploy global" in err
    assert "Traceback" not in err
    with pytest.raises(BadInput, match="moto has no AWS::DynamoDB::GlobalTable"):
        run_local(fixture_spec("strong"), fixture_build() / "strong")


def test_destroy_of_a_protected_global_environment_is_refused_without_aws(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(fixture_cli_args("destroy", "global")) == ExitCode.REFUSED
    assert "global is protected: destroy refused" in capsys.readouterr().err


def _expect_delete(stub: Stubber, name: str) -> None:
    stub.add_response("describe_stacks", _described(name, "UPDATE_COMPLETE"), {"StackName": name})
    stub.add_response("describe_stacks", _described(name, "UPDATE_COMPLETE"), {"StackName": name})
    stack_id = _described(name, "x")["Stacks"][0]["StackId"]
    stub.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
    stub.add_response("delete_stack", {}, {"StackName": stack_id})
    stub.add_response("describe_stack_events", {"StackEvents": []})
    stub.add_response("describe_stacks", _described(name, "DELETE_COMPLETE"))
    _missing(stub, name)


def test_destroy_deletes_the_key_stacks_last_each_in_its_region(tmp_path: Path) -> None:
    spec, stacks = _derived(tmp_path, "gdestroy", protected=False)
    recorder = Recorder()
    clients = {r: recorder.watch(_client("cloudformation", r)) for r in (HOME, EU, AP)}
    stubs = {r: Stubber(c) for r, c in clients.items()}
    _expect_delete(stubs[HOME], stacks["access"].name)
    _expect_delete(stubs[HOME], stacks["data"].name)
    _expect_delete(stubs[AP], stacks[f"key-{AP}"].name)
    _expect_delete(stubs[EU], stacks[f"key-{EU}"].name)
    for stub in stubs.values():
        stub.activate()
    lines: list[str] = []
    Deployer(spec, clients[HOME], out=lines.append, sleep=lambda _: None).destroy(
        list(stacks.values()), lambda r: Deployer(spec, clients[r], out=lines.append, sleep=lambda _: None)
    )
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    deletes = [(r, p["StackName"].split("/")[1]) for r, op, p in recorder.calls if op == "DeleteStack"]
    assert deletes == [
        (HOME, "conversations-gdestroy-access"),
        (HOME, "conversations-gdestroy-data"),
        (AP, "conversations-gdestroy-key-ap-southeast-2"),
        (EU, "conversations-gdestroy-key-eu-west-1"),
    ]
    assert "conversations-gdestroy-key-eu-west-1: deleted (verified)" in lines


def test_a_deployer_per_region_each_with_its_own_client_made_once() -> None:
    spec, _ = _global_stacks()
    made: list[str] = []

    def client_for(region: str) -> Any:
        made.append(region)
        return _client("cloudformation", region)

    regional = regional_deployers(spec, client_for, frozenset({"G014"}))
    assert regional(EU) is regional(EU)
    assert regional(AP).cf.meta.region_name == AP
    assert regional(EU).allowed == frozenset({"G014"})
    assert made == [EU, AP]


def test_an_allowed_g015_removes_one_replica_in_an_update_of_its_own() -> None:
    target = restricted(_target(), {HOME, EU})
    steps = replica_steps(target, [HOME, EU, AP], allowed={"G015"})
    assert [table_regions(s) for s in steps] == [[HOME, EU]]
    # Another replica added in the same change: the removal first, then the addition.
    target = restricted(_target(), {HOME, AP})
    assert [table_regions(s) for s in replica_steps(target, [HOME, EU], allowed={"G015"})] == [[HOME], [HOME, AP]]
    with pytest.raises(Refused, match="unless G015 is allowed, and then one per deploy"):
        replica_steps(restricted(_target(), {HOME}), [HOME, EU, AP], allowed={"G015"})


# -- drift of the replicas, each in its Region -------------------------------------------------


class _Session:
    """boto3's session as drift uses it: one (stubbed) client per service and Region."""

    region_name = None

    def __init__(self, clients: dict[tuple[str, str], Any]) -> None:
        self.clients = clients

    def client(self, service: str, region_name: str) -> Any:
        return self.clients[(service, region_name)]


def _drift_answers(ddb: Stubber, kms: Stubber, region: str, tags: dict[str, str], **table: Any) -> None:
    """A replica of the global fixture's table as its Region describes it (written out, deployed as built)."""
    name = "conversations-global"
    key = f"arn:aws:kms:{region}:{ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef"
    described = {
        "TableName": name,
        "TableStatus": "ACTIVE",
        "TableArn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}",
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
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "DeletionProtectionEnabled": True,
        "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key},
        "GlobalTableVersion": "2019.11.21",
        "MultiRegionConsistency": "EVENTUAL",
        "Replicas": [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in (HOME, EU, AP)],
        **table,
    }
    ddb.add_response("describe_table", {"Table": described}, {"TableName": name})
    if region == HOME:
        ddb.add_response(
            "describe_time_to_live",
            {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}},
            {"TableName": name},
        )
    ddb.add_response(
        "describe_continuous_backups",
        {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 35},
            }
        },
        {"TableName": name},
    )
    ddb.add_response(
        "list_tags_of_resource",
        {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]},
        {"ResourceArn": described["TableArn"]},
    )
    ddb.add_response("describe_contributor_insights", {"ContributorInsightsStatus": "ENABLED"}, {"TableName": name})
    kms.add_response("describe_key", {"KeyMetadata": {"KeyId": "k", "KeyManager": "CUSTOMER"}}, {"KeyId": key})


def test_drift_reads_each_replica_in_its_region_and_names_the_one_that_drifted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from templates_src.deploy import drift

    spec, stacks = _global_stacks()
    replicas = {r["Region"]: r for r in _target()["Resources"]["Table"]["Properties"]["Replicas"]}
    tags = {region: {t["Key"]: t["Value"] for t in r["Tags"]} for region, r in replicas.items()}
    clients = {(s, r): _client(s, r) for s in ("dynamodb", "kms") for r in (HOME, EU, AP)}
    clients[("sts", HOME)] = _client("sts")
    clients[("cloudformation", HOME)] = _client("cloudformation")
    stubs = {k: Stubber(c) for k, c in clients.items()}
    stubs[("sts", HOME)].add_response("get_caller_identity", {"Account": ACCOUNT})
    _drift_answers(stubs[("dynamodb", HOME)], stubs[("kms", HOME)], HOME, tags[HOME])
    # ap-southeast-2 as built (its own table class); eu-west-1's deletion protection turned off by hand.
    _drift_answers(
        stubs[("dynamodb", AP)],
        stubs[("kms", AP)],
        AP,
        tags[AP],
        TableClassSummary={"TableClass": "STANDARD_INFREQUENT_ACCESS"},
    )
    _drift_answers(stubs[("dynamodb", EU)], stubs[("kms", EU)], EU, tags[EU], DeletionProtectionEnabled=False)
    _missing(stubs[("cloudformation", HOME)], stacks["data"].name)
    for stub in stubs.values():
        stub.activate()
    monkeypatch.setattr(drift, "session", lambda: _Session(clients))
    report = drift.drift_environment(spec, list(stacks.values()), "build/global/data.template.json")
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    assert [(d.property, d.template, d.live) for d in report.found] == [
        (f"ReplicaSettings[{EU}].DeletionProtectionEnabled", True, False)
    ]
    assert "DRIFTED: 1 difference(s)" in drift.render_text(report)
