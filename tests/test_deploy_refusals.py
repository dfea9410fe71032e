"""Deploy's own refusals, each proven on its own: a removal CloudFormation would carry out as a delete,
and an unprotected environment over a stack that still has termination protection (G013 at deploy time).

botocore's Stubber checks every request and response against CloudFormation's model; each test
asserts which calls were made, so a refusal that stopped refusing fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from templates_src.deploy.deployer import Deployer
from templates_src.errors import Refused

from .conftest import EVENT_BEFORE
from .conftest import fixture_spec as spec_for
from .test_deploy import CS_ARN, STACK_ID, _client, _data_stack, _stack

NAME = "conversations-prod-data"


def _without_table(stack: Any) -> Any:
    template = json.loads(stack.template)
    del template["Resources"]["Table"]
    template["Outputs"] = {k: v for k, v in template["Outputs"].items() if "Table" not in json.dumps(v)}
    return stack._replace(template=json.dumps(template))


def _deployed(deletion_policy: str) -> str:
    template = json.loads(_data_stack().template)
    template["Resources"]["Table"]["DeletionPolicy"] = deletion_policy
    template["Resources"]["Table"]["UpdateReplacePolicy"] = deletion_policy
    return json.dumps(template)


def _up_to_the_change_set(stub: Stubber, deployed: str) -> None:
    stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": NAME})
    stub.add_response("get_template", {"TemplateBody": deployed}, {"StackName": NAME, "TemplateStage": "Original"})
    stub.add_response(
        "create_change_set",
        {"Id": CS_ARN, "StackId": STACK_ID},
        {
            "StackName": NAME,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "TemplateBody": ANY,
            "Parameters": ANY,
            "Tags": ANY,
            "Capabilities": ["CAPABILITY_IAM"],
        },
    )
    removal = {
        "Type": "Resource",
        "ResourceChange": {"Action": "Remove", "LogicalResourceId": "Table", "ResourceType": "AWS::DynamoDB::Table"},
    }
    stub.add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": [removal]},
        {"StackName": NAME, "ChangeSetName": CS_ARN},
    )


def test_removing_a_table_the_deployed_stack_does_not_retain_is_refused_and_the_change_set_deleted() -> None:
    cf, lines = _client(), []
    deployer = Deployer(spec_for("prod"), cf, out=lines.append, sleep=lambda _: None, allowed=frozenset({"G001"}))
    with Stubber(cf) as stub:
        _up_to_the_change_set(stub, _deployed("Delete"))
        stub.add_response("delete_change_set", {}, {"StackName": NAME, "ChangeSetName": CS_ARN})
        with pytest.raises(Refused, match="removes Table, which the deployed stack does not Retain"):
            deployer.deploy(_without_table(_data_stack()))
        stub.assert_no_pending_responses()  # deleted, and never executed


def test_a_retained_table_may_leave_the_stack_with_g001_allowed() -> None:
    """The same removal of a Retained table goes ahead (the table stays in the account)."""
    cf, lines = _client(), []
    deployer = Deployer(spec_for("prod"), cf, out=lines.append, sleep=lambda _: None, allowed=frozenset({"G001"}))
    with Stubber(cf) as stub:
        _up_to_the_change_set(stub, _deployed("Retain"))
        stub.add_response("get_stack_policy", {}, {"StackName": NAME})
        stub.add_response("describe_stack_events", {"StackEvents": [EVENT_BEFORE]})  # the marker
        stub.add_response("execute_change_set", {}, {"StackName": NAME, "ChangeSetName": CS_ARN})
        stub.add_response("describe_stack_events", {"StackEvents": []})
        stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE"))
        stub.add_response("set_stack_policy", {}, {"StackName": NAME, "StackPolicyBody": ANY})
        stub.add_response(
            "update_termination_protection",
            {"StackId": STACK_ID},
            {"StackName": NAME, "EnableTerminationProtection": True},
        )
        stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE"))
        deployer.deploy(_without_table(_data_stack()))
        stub.assert_no_pending_responses()
    assert f"{NAME}: Table left the stack and stays in the account (DeletionPolicy Retain)" in lines


def test_an_unprotected_environment_over_a_terminationprotected_stack_is_refused(tmp_path: Any) -> None:
    """G013 at deploy time: the environment file says unprotected, the live stack still is."""
    spec = spec_for("dev")
    cf, lines = _client(), []
    stack = _stack("UPDATE_COMPLETE")
    stack["Stacks"][0].update(StackName="conversations-dev-data", EnableTerminationProtection=True)
    (dev_data,) = [s for s in _stacks_of(spec) if s.kind == "data"]
    with Stubber(cf) as stub:
        stub.add_response("describe_stacks", stack, {"StackName": "conversations-dev-data"})
        with pytest.raises(Refused, match="G013"):
            Deployer(spec, cf, out=lines.append, sleep=lambda _: None).deploy(dev_data)
        stub.assert_no_pending_responses()  # no change set was created
    assert any("G013" in line for line in lines)


def _stacks_of(spec: Any) -> list[Any]:
    from templates_src.stacks.artifacts import read_stack_files

    from .conftest import fixture_build

    return read_stack_files(spec, fixture_build() / spec.env_name)
