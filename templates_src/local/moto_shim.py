"""moto_server with the fixes this project's local flow needs, for moto 5.2.5 exactly (pinned).

Each patch makes the local endpoint do what real CloudFormation does, so a
local result means something; nothing else of moto is changed:

1. Change sets: moto applies a change set's resources but never refreshes the
   stack's outputs or registers its exports, and a stack made by a CREATE
   change set cannot see other stacks' exports ("No export named ...").
2. A change set that fails while executing left the stack half-applied and
   the server answering HTTP 500 to every later call; here it ends as a
   rollback (UPDATE_ROLLBACK_COMPLETE / ROLLBACK_COMPLETE) with the reason
   as a stack event, as CloudFormation reports it.
3. A table in a stack update: moto's DynamoDB Table has no CloudFormation
   update handler, so any update dropped the table from the stack. Here the
   changes CloudFormation applies in place are applied through moto's own
   UpdateTable: GSIs created or deleted, stream on or off, billing mode,
   throughput, deletion protection. A change CloudFormation would make by
   replacement (table name) is refused, as the plan's guards refuse it.
4. A KMS key with Tags: moto read CloudFormation's {Key, Value} tags as the
   KMS API's {TagKey, TagValue} and failed (so staging and prod could not be
   created locally).
5. Describing a deleted stack (by its ARN) resolved its outputs, which
   re-created the deleted table and roles; a deleted stack now has none.
6. Termination protection: UpdateTerminationProtection is not implemented
   (prod's deploy failed with HTTP 500), and DeleteStack ignored the flag;
   here it is set, shown by DescribeStacks, and refuses a delete, as AWS does.
7. The AWS managed key (alias/aws/dynamodb) moto creates for a table with
   SSEType KMS reported KeyManager CUSTOMER, so `adopt` took the table for a
   customer managed key's; AWS reports KeyManager AWS.
8. A role in a stack update: moto changed only its description, so a deploy
   that added or removed a grant reported UPDATE_COMPLETE and left the old
   inline policy in force. Here the update applies the inline policies (put
   the new and changed, delete the removed), the trust policy and the
   permissions boundary, as CloudFormation does.
9. A table update that CloudFormation refuses fails here too (and the change
   set rolls back, fix 2): more than one GSI created or deleted ("Cannot
   perform more than one GSI creation or deletion in a single update"), and a
   GSI whose key schema or projection changes in place. moto applied both.
10. TTL and PITR from the template: moto ignored TimeToLiveSpecification and
   PointInTimeRecoverySpecification, so a local table had neither and `drift`
   reported it; here they are applied on create and on update.
11. A role created by a stack stored each inline policy as the template's
   mapping, so GetRolePolicy answered Python's repr of it (single quotes),
   which no JSON reader (the AWS CLI, deploy's read-back) parses; here the
   policies are JSON text, as IAM keeps them.
12. A table's SSESpecification: moto reads the API's names (Enabled), not
   CloudFormation's (SSEEnabled), so a table under a customer or AWS managed
   key was described as AWS owned, and deploy's read-back (rightly) failed.
   Here the template's setting is the table's, on create and on update; and
   a key made by a stack keeps its policy as JSON text (moto kept the
   template's mapping, and DescribeKey, which evaluates it, failed).
14. A table's ResourcePolicy: moto ignored it, so a stack's table had none
   (and deploy's read-back rightly said so); here it is put on create and
   on update, and deleted when the template drops it.
15. A table's Tags in a stack update: moto kept the tags the table had, so
   a deploy that adds the standard tags (the first after an import) or puts
   back one removed out of band left the table without them.
16. A table's resource policy is enforced for writes: moto kept the policy
   and let every write through, so a table made read-only (migrate's freeze,
   a Deny of the write actions to everyone) still took writes locally. Here
   PutItem, UpdateItem and DeleteItem (BatchWriteItem's too) on a table whose
   policy denies that action to "*" without a condition fail with
   AccessDeniedException, as DynamoDB answers. Conditional denies (TLS,
   other accounts) are not evaluated: every local caller is this account's.
13. IMPORT change sets: moto made a new stack for one (a second stack of
   the same name when the stack existed) and, executing it, created the
   table again ("Table already exists"). Here an IMPORT change set goes to
   the stack of that name when there is one, and executing it takes each
   table the template adds from DynamoDB as it is, changing nothing (as
   CloudFormation's import does); the stack ends IMPORT_COMPLETE, its events
   IMPORT_IN_PROGRESS and IMPORT_COMPLETE. Only
   tables are importable locally; anything else new in an import fails
   (and rolls back, fix 2), as a resource CloudFormation cannot import does.
17. Speed only (moto_speed.py): routing without listing moto's package
   directory per request, kept-alive connections, DynamoDB items serialized
   without walking their shape, and JSON templates read as JSON (not by a
   pure-Python YAML loader). What moto answers is unchanged.
18. Speed only (botocore_data.py): every botocore session of the server
   shares one loader, so botocore's endpoints file and service models are
   parsed once, not once per session moto makes (four at a start).
19. The account, switched without a restart: `POST /moto-api/shim/account`
   with a 12-digit account ID as its body sets MOTO_ACCOUNT_ID, which moto
   reads on every request (BaseResponse.get_current_account). With
   `/moto-api/reset` first, the server is what a new one started for that
   account would be: the tests keep one server per worker, not one per
   account and worker, and skip a ~1 s start for each other account.
20. Speed only (moto_speed.py): a request's header block of plain
   `Name: value` lines split without the email package's feed parser (the
   same message, field for field; anything else still goes to it), and a
   response class's method names listed once, not on every request.

    python -m templates_src.local.moto_shim -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from . import botocore_data  # noqa: F401  isort: skip (fix 18: before moto, which makes sessions as it is imported)

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.iam.models import Role
from moto.kms.models import Key
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main as moto_main

from . import moto_speed
from .moto_server import ACCOUNT_PATH

_original_default_key = Table._get_default_encryption_key
_original_execute = CloudFormationBackend.execute_change_set
_original_create_change_set = CloudFormationBackend.create_change_set
_original_delete_stack = CloudFormationBackend.delete_stack
_original_key_from_cfn = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_original_table_from_cfn = Table.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_original_role_update = Role.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_original_role_from_cfn = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


# The names of the tables an executing IMPORT change set takes as they are (fix 13).
_importing: set[str] = set()
IMPORTABLE = "AWS::DynamoDB::Table"


def _create_change_set(
    self: Any, stack_name: str, change_set_name: str, template: str, *args: Any, **kwargs: Any
) -> Any:
    """Fix 13: an IMPORT into an existing stack is made as an update of it (then typed IMPORT again)."""
    change_set_type = kwargs.get("change_set_type")
    existing = [s for s in self.stacks.values() if s.name == stack_name and s.status != "REVIEW_IN_PROGRESS"]
    if change_set_type != "IMPORT" or not existing:
        return _original_create_change_set(self, stack_name, change_set_name, template, *args, **kwargs)
    made = _original_create_change_set(
        self, stack_name, change_set_name, template, *args, **{**kwargs, "change_set_type": "UPDATE"}
    )
    self.change_sets[made[0]].change_set_type = "IMPORT"
    return made


def _imported_tables(change_set: Any) -> set[str]:
    """The tables an IMPORT change set adds to its stack; anything else it adds cannot be imported here."""
    template = json.loads(change_set.template) if isinstance(change_set.template, str) else change_set.template
    held = set(change_set.stack.resource_map._parsed_resources) if change_set.stack.resource_map else set()
    added = {k: r for k, r in template.get("Resources", {}).items() if k not in held}
    others = sorted(k for k, r in added.items() if r.get("Type") != IMPORTABLE)
    if others:
        raise ValueError(f"the local endpoint imports tables only, not {', '.join(others)}")
    return {str(r["Properties"]["TableName"]) for r in added.values()}


def _execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = self.change_sets.get(change_set_name) or next(
        cs
        for cs in self.change_sets.values()
        if cs.change_set_name == change_set_name and stack_name in (None, cs.stack.name, cs.stack_id)
    )
    stack = self.stacks[change_set.stack_id]
    stack.cross_stack_resources = self.exports
    stack.resource_map.cross_stack_resources = self.exports
    try:
        if change_set.change_set_type == "IMPORT":
            _importing.update(_imported_tables(change_set))
        seen = len(stack.events)
        _original_execute(self, change_set_name, stack_name)
        if change_set.change_set_type == "IMPORT":  # moto says UPDATE_*: CloudFormation says IMPORT_*
            for event in stack.events[seen:]:
                event.resource_status = event.resource_status.replace("UPDATE_", "IMPORT_")
        stack._parse_template()
        stack.output_map = stack._create_output_map()
    except Exception as exc:  # noqa: BLE001 - any failure of moto's apply is a rollback here
        failed = change_set.change_set_type if change_set.change_set_type in ("CREATE", "IMPORT") else "UPDATE"
        stack._add_stack_event(f"{failed}_FAILED", resource_status_reason=f"{type(exc).__name__}: {exc}")
        stack.status = "ROLLBACK_COMPLETE" if failed == "CREATE" else f"{failed}_ROLLBACK_COMPLETE"
        stack._add_stack_event(stack.status)
        change_set.execution_status = "EXECUTE_FAILED"
        return
    finally:
        _importing.clear()
    for export in stack.exports:
        self.exports[export.name] = export


class _NoOutputs(dict[str, Any]):
    """The output map of a deleted stack: nothing to resolve, so nothing is re-created."""

    exports: list[Any] = []


def _delete_stack(self: Any, name_or_stack_id: str) -> None:
    for stack in self.stacks.values():
        if name_or_stack_id in (stack.name, stack.stack_id) and stack.enable_termination_protection:
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
    _original_delete_stack(self, name_or_stack_id)
    for stack in self.deleted_stacks.values():
        stack.output_map = _NoOutputs()


def _update_termination_protection(self: Any) -> Any:
    stack = self.cloudformation_backend.describe_stacks(self._get_param("StackName"))[0]
    stack.enable_termination_protection = self._get_param("EnableTerminationProtection") in (True, "true")
    return ActionResult({"StackId": stack.stack_id})


def _index_shape(index: dict[str, Any]) -> tuple[Any, Any]:
    key = [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
    projection = index.get("Projection") or {}
    return key, (projection.get("ProjectionType", "ALL"), sorted(projection.get("NonKeyAttributes", [])))


def _refuse_what_cloudformation_refuses(table: Any, wanted: dict[str, dict[str, Any]]) -> None:
    """Raise as CloudFormation's update fails (fix 9); the change set then rolls back (fix 2)."""
    current = {g.name: g.describe() for g in table.global_indexes}
    changed = [n for n in sorted(set(current) & set(wanted)) if _index_shape(current[n]) != _index_shape(wanted[n])]
    if changed:
        raise ValueError(
            f"Cannot update GSI {', '.join(changed)}: only its provisioned throughput and contributor insights "
            "change in place (a new key schema or projection is a new index)"
        )
    if len(set(current) ^ set(wanted)) > 1:
        raise ValueError("Cannot perform more than one GSI creation or deletion in a single update")


def _apply_encryption(table: Any, props: dict[str, Any], account_id: str, region_name: str) -> None:
    """Fix 12: SSEEnabled with its key (the AWS managed key when none is named); off otherwise."""
    sse = props.get("SSESpecification") or {}
    if not sse.get("SSEEnabled"):
        table.sse_specification = None
        return
    key = sse.get("KMSMasterKeyId") or table._get_default_encryption_key(account_id, region_name)
    table.sse_specification = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}


def _apply_resource_policy(table: Any, props: dict[str, Any], account_id: str, region_name: str) -> None:
    """Fix 14: the template's ResourcePolicy on the table, or none."""
    backend = dynamodb_backends[account_id][region_name]
    document = (props.get("ResourcePolicy") or {}).get("PolicyDocument")
    if document is not None:
        text = document if isinstance(document, str) else json.dumps(document)
        backend.put_resource_policy(table.table_arn, text, None)
    elif table.table_arn in backend.resource_policies:
        backend.resource_policies.pop(table.table_arn)


def _apply_ttl_and_pitr(table: Any, props: dict[str, Any], account_id: str, region_name: str) -> None:
    """Fix 10: the template's TTL and PITR on the live table (and fixes 12 and 14: encryption, resource policy)."""
    _apply_encryption(table, props, account_id, region_name)
    _apply_resource_policy(table, props, account_id, region_name)
    backend = dynamodb_backends[account_id][region_name]
    ttl = props.get("TimeToLiveSpecification")
    if ttl is not None:
        backend.update_time_to_live(table.name, ttl)
    elif table.ttl.get("TimeToLiveStatus") == "ENABLED":
        backend.update_time_to_live(table.name, {"Enabled": False, "AttributeName": table.ttl["AttributeName"]})
    pitr = props.get("PointInTimeRecoverySpecification") or {"PointInTimeRecoveryEnabled": False}
    backend.update_continuous_backups(table.name, pitr)


def _table_create_from_cfn(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> Any:
    name = cloudformation_json["Properties"].get("TableName")
    if name in _importing:  # fix 13: the live table itself, unchanged
        return dynamodb_backends[account_id][region_name].get_table(name)
    table = _original_table_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    _apply_ttl_and_pitr(table, cloudformation_json["Properties"], account_id, region_name)
    return table


def _role_create_from_cfn(cls: Any, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any) -> Any:
    """Fix 11: the inline policies as JSON text."""
    role = _original_role_from_cfn(cls, resource_name, cloudformation_json, *args, **kwargs)
    _put_policies(role, cloudformation_json["Properties"])
    return role


def _put_policies(role: Any, props: dict[str, Any]) -> None:
    """The template's inline policies on the role, as JSON text (IAM's form), and no other."""
    wanted = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
    for name in sorted(set(role.policies) - set(wanted)):
        role.delete_policy(name)
    for name, document in sorted(wanted.items()):
        role.put_policy(name, document if isinstance(document, str) else json.dumps(document))


def _role_update_from_cfn(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    """Fix 8: the inline policies, the trust and the boundary, as the template says."""
    role = _original_role_update(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    )
    props = cloudformation_json["Properties"]
    _put_policies(role, props)
    trust = props["AssumeRolePolicyDocument"]
    role.assume_role_policy_document = trust if isinstance(trust, str) else json.dumps(trust)
    role.permissions_boundary_arn = props.get("PermissionsBoundary") or None
    return role


def _table_update_from_cfn(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    table = original_resource
    if new_resource_name != table.name:
        raise ValueError(f"table {table.name} would be replaced by {new_resource_name}: not modelled locally")
    props = cloudformation_json["Properties"]
    current = {g.name for g in table.global_indexes}
    wanted = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
    _refuse_what_cloudformation_refuses(table, wanted)
    index_updates = [{"Delete": {"IndexName": n}} for n in sorted(current - set(wanted))]
    index_updates += [{"Create": wanted[n]} for n in sorted(set(wanted) - current)]
    stream = props.get("StreamSpecification")
    enabled = bool((table.stream_specification or {}).get("StreamEnabled"))
    if stream is None and enabled:
        table.set_stream_specification({"StreamEnabled": False})
        table.latest_stream_label = None
    elif stream is not None and not enabled:
        table.set_stream_specification(dict(stream))
    dynamodb_backends[account_id][region_name].update_table(
        name=table.name,
        attr_definitions=props.get("AttributeDefinitions"),
        global_index=index_updates,
        throughput=props.get("ProvisionedThroughput"),
        billing_mode=props.get("BillingMode", "PROVISIONED"),
        stream_spec={},
        deletion_protection_enabled=bool(props.get("DeletionProtectionEnabled", False)),
        warm_throughput=None,
    )
    _apply_ttl_and_pitr(table, props, account_id, region_name)
    table.tags = [{"Key": t["Key"], "Value": t["Value"]} for t in props.get("Tags", [])]  # fix 15
    return table


def _key_from_cfn(cls: Any, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any) -> Any:
    props = dict(cloudformation_json.get("Properties", {}))
    if props.get("Tags"):
        props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props["Tags"]]
    if isinstance(props.get("KeyPolicy"), dict):  # fix 12: kept as JSON text, as KMS's own API keeps it
        props["KeyPolicy"] = json.dumps(props["KeyPolicy"])
    return _original_key_from_cfn(cls, resource_name, {**cloudformation_json, "Properties": props}, *args, **kwargs)


def _default_encryption_key(self: Any, account_id: str, region: str) -> str:
    from moto.kms.models import kms_backends

    arn: str = _original_default_key(self, account_id, region)
    kms_backends[account_id][region].describe_key(arn).key_manager = "AWS"
    return arn


def _denies(backend: Any, table_name: str, action: str) -> bool:
    """Fix 16: the table's resource policy denies `action` to everyone, unconditionally."""
    table = backend.tables.get(table_name)
    policy = backend.resource_policies.get(table.table_arn) if table is not None else None
    if policy is None:
        return False
    for statement in json.loads(policy.policy_doc).get("Statement", []):
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ("*", {"AWS": "*"})
            and "Condition" not in statement
            and any(a in (action, "dynamodb:*", "*") for a in actions)
        ):
            return True
    return False


def _enforcing(method: Any, action: str) -> Any:
    def write(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        if _denies(self, table_name, action):
            raise JsonRESTError(
                "AccessDeniedException",
                f"User is not authorized to perform: {action} on resource: {table_name} "
                "with an explicit deny in a resource-based policy",
            )
        return method(self, table_name, *args, **kwargs)

    return write


_original_app_call = DomainDispatcherApplication.__call__


def _app_call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
    """Fix 19: POST ACCOUNT_PATH sets the account every later request is in; anything else is moto's."""
    if environ.get("PATH_INFO") != ACCOUNT_PATH or environ.get("REQUEST_METHOD") != "POST":
        return _original_app_call(self, environ, start_response)
    length = environ.get("CONTENT_LENGTH") or "0"
    size = int(length) if re.fullmatch(r"[0-9]+", length) else 0
    # One trailing newline is taken off, as `echo ... | curl --data-binary @-` sends it.
    account = environ["wsgi.input"].read(size).decode("utf-8", "replace").removesuffix("\n")
    if not re.fullmatch(r"[0-9]{12}", account):  # ASCII digits only: \d would take any script's
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [f"an account ID is 12 digits, not {account!r}\n".encode()]
    os.environ["MOTO_ACCOUNT_ID"] = account
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [account.encode()]


def install() -> None:
    moto_speed.install()
    DomainDispatcherApplication.__call__ = _app_call  # type: ignore[method-assign]
    for name, action in (("put_item", "PutItem"), ("update_item", "UpdateItem"), ("delete_item", "DeleteItem")):
        setattr(DynamoDBBackend, name, _enforcing(getattr(DynamoDBBackend, name), f"dynamodb:{action}"))
    Table._get_default_encryption_key = _default_encryption_key  # type: ignore[method-assign]
    CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]
    CloudFormationBackend.create_change_set = _create_change_set  # type: ignore[method-assign]
    CloudFormationBackend.delete_stack = _delete_stack  # type: ignore[method-assign]
    CloudFormationResponse.update_termination_protection = _update_termination_protection  # type: ignore[attr-defined]
    Table.update_from_cloudformation_json = classmethod(_table_update_from_cfn)  # type: ignore[method-assign, assignment]
    Table.create_from_cloudformation_json = classmethod(_table_create_from_cfn)  # type: ignore[method-assign, assignment, arg-type]
    Role.update_from_cloudformation_json = classmethod(_role_update_from_cfn)  # type: ignore[method-assign, assignment]
    Role.create_from_cloudformation_json = classmethod(_role_create_from_cfn)  # type: ignore[method-assign, assignment]
    Key.create_from_cloudformation_json = classmethod(_key_from_cfn)  # type: ignore[method-assign, assignment]


if __name__ == "__main__":
    install()
    moto_main(sys.argv[1:])
