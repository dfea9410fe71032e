"""Release a live table from its data stack, and take it back: the pure template work.

Moving a live AWS::DynamoDB::Table to an AWS::DynamoDB::GlobalTable cannot
happen in place (G011: a changed type is a new resource). Instead:

1. release (`deploy --release-table`): an UPDATE of the data stack with the
   deployed template minus the Table (DeletionPolicy Retain: CloudFormation
   forgets it, the table stays). Every reference to the table becomes the
   literal value it resolves to now, so the exports (TableName, TableArn,
   StreamArn) keep byte-identical values and the access stack that imports
   them keeps working; the alarms, backup selection and scaling targets keep
   pointing at the same table.
2. import (`deploy --import` into that stack): an IMPORT change set with the
   deployed template plus the committed build's table (as a GlobalTable with
   its home replica only); nothing else may change in an import.
3. a table imported under the stack's single-Region TableKey then moves to the committed
   GlobalTableKey (key_switch, with_new_key, with_key_granted: global_steps.GlobalSteps._deploy_key_switch).

These functions are pure (unit-tested directly); deployer.py makes the calls.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..change.template_refs import depends_on, references
from ..errors import Refused
from ..stacks.names import GLOBAL_KEY_ID, KEY_ID, KMS_KEY_TYPE, TABLE_ID

# ${Name} or ${Name.Attribute} in a Fn::Sub string (never ${AWS::...}, never ${!literal}).
# ${Table} or ${Table.Attribute} in a Fn::Sub string.
SUB_TABLE = re.compile(r"\$\{" + TABLE_ID + r"(?:\.([A-Za-z0-9.]+))?\}")


@dataclass(frozen=True)
class TableValues:
    """What the table's references resolve to now (DescribeTable)."""

    name: str
    arn: str
    stream_arn: str | None = None

    def attribute(self, attribute: str, where: str) -> str:
        if attribute == "Arn":
            return self.arn
        if attribute in ("StreamArn", "LatestStreamArn"):
            if not self.stream_arn:
                raise Refused(
                    f"release refused: {where} uses {TABLE_ID}.{attribute}, but the table has no stream now "
                    "(DescribeTable has no LatestStreamArn); nothing can stand in for it"
                )
            return self.stream_arn
        raise Refused(
            f"release refused: {where} uses {TABLE_ID}.{attribute}; release replaces only Ref, Arn and StreamArn "
            "with their live values"
        )


def referrers(template: dict[str, Any]) -> list[str]:
    """Where the template refers to the table: resource logical IDs and `Outputs.<name>`, sorted."""
    found = [
        logical_id
        for logical_id, resource in template.get("Resources", {}).items()
        if logical_id != TABLE_ID and (TABLE_ID in references(resource) or TABLE_ID in depends_on(resource))
    ]
    found += [
        f"Outputs.{name}" for name, output in template.get("Outputs", {}).items() if TABLE_ID in references(output)
    ]
    return sorted(found)


def _literal(value: Any, table: TableValues, where: str) -> Any:
    """value with every reference to the table replaced by what it resolves to now."""
    if isinstance(value, list):
        return [_literal(inner, table, where) for inner in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "Ref" and inner == TABLE_ID:
            return table.name
        if key == "Fn::GetAtt":
            logical_id, attribute = inner if isinstance(inner, list) else str(inner).split(".", 1)
            if logical_id == TABLE_ID:
                return table.attribute(str(attribute), where)
        if key == "Fn::Sub":
            text, own = (inner[0], inner[1]) if isinstance(inner, list) else (inner, None)
            if not (own and TABLE_ID in own):  # a variable of its own named Table shadows the resource

                def resolve(match: re.Match[str]) -> str:
                    return table.name if match.group(1) is None else table.attribute(match.group(1), where)

                text = SUB_TABLE.sub(resolve, str(text))
            if own is None:
                return {key: text}
            return {key: [text, _literal(own, table, where)]}
    return {key: _literal(inner, table, where) for key, inner in value.items()}


def released(template: dict[str, Any], table: TableValues) -> dict[str, Any]:
    """The deployed data template without the Table, every reference to it replaced by its live value.

    Ref Table -> the table name; Fn::GetAtt Table.Arn / Table.StreamArn -> the
    table's ARN / its latest stream ARN; ${Table}, ${Table.Arn} and
    ${Table.StreamArn} inside Fn::Sub strings likewise; DependsOn: Table is
    dropped. Nothing else changes. Raises Refused for a reference it cannot
    replace (another attribute, a stream the table no longer has).
    """
    out = copy.deepcopy(template)
    resources = out.get("Resources", {})
    if TABLE_ID not in resources:
        raise Refused(f"release refused: the template has no {TABLE_ID} resource")
    del resources[TABLE_ID]
    for logical_id, resource in list(resources.items()):
        resource = _literal(resource, table, logical_id)
        depends = [d for d in depends_on(resource) if d != TABLE_ID]
        if "DependsOn" in resource:
            if depends:
                resource["DependsOn"] = depends if isinstance(resource["DependsOn"], list) else depends[0]
            else:
                del resource["DependsOn"]
        resources[logical_id] = resource
    if "Outputs" in out:
        out["Outputs"] = {name: _literal(o, table, f"Outputs.{name}") for name, o in out["Outputs"].items()}
    left = referrers(out)
    if left:  # a section release does not rewrite (Conditions, Metadata, Rules) still names the table
        raise Refused(f"release refused: {', '.join(left)} still refer(s) to {TABLE_ID} after the rewrite")
    return out


def released_values(template: dict[str, Any], name: str) -> bool:
    """Whether template is a released data stack of table `name`: no Table, its TableName output the literal."""
    if TABLE_ID in template.get("Resources", {}):
        return False
    output = template.get("Outputs", {}).get("TableName", {})
    return bool(output.get("Value") == name)


def with_table(live: dict[str, Any], table: dict[str, Any]) -> dict[str, Any]:
    """The import template: the deployed template unchanged, plus the table to import."""
    body = copy.deepcopy(live)
    body.setdefault("Resources", {})[TABLE_ID] = copy.deepcopy(table)
    return body


# -- the stack policy during a release -------------------------------------------------------------

UPDATE_ACTIONS = ("Update:Modify", "Update:Replace", "Update:Delete")


def stack_policy_resource(logical_id: str) -> str:
    """How a stack policy names a resource of its stack."""
    return f"LogicalResourceId/{logical_id}"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _denied_actions(actions: list[str]) -> list[str]:
    expanded: list[str] = []
    for action in actions:
        expanded += list(UPDATE_ACTIONS) if action == "Update:*" else [action]
    return expanded


def policy_allowing_table_removal(policy: dict[str, Any]) -> dict[str, Any]:
    """A stack policy that lets an update remove the Table (release), everything else as protected as before."""
    return policy_allowing_removal(policy, TABLE_ID, "release")


def policy_allowing_removal(policy: dict[str, Any], logical_id: str, what: str) -> dict[str, Any]:
    """A stack policy that lets an update remove `logical_id`, everything else as protected as before.

    An executed change set obeys the stack policy and cannot override it, so a
    protected data stack (Deny Update:Delete on LogicalResourceId/Table and
    /TableKey) needs this policy for the update that removes one of them (the
    release of the table; a table's move to its global table's key, which
    lets TableKey go), and its own policy back afterwards. Deny statements
    naming the resource lose Update:Delete for it only; an Allow for it is
    added (a stack policy denies what it does not allow). `what` names the
    operation in a refusal. Raises Refused for a Deny it cannot narrow
    (Resource "*", NotResource, NotAction, a Condition, a wildcard covering
    the resource).
    """
    target = stack_policy_resource(logical_id)
    statements: list[dict[str, Any]] = []
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Deny":
            statements.append(statement)
            continue
        resources = _as_list(statement.get("Resource", []))
        actions = _denied_actions([str(a) for a in _as_list(statement.get("Action", []))])
        covers_delete = "Update:Delete" in actions or "NotAction" in statement
        wildcard = "NotResource" in statement or any(
            "*" in str(r) and re.fullmatch(re.escape(str(r)).replace(r"\*", ".*"), target) for r in resources
        )
        if covers_delete and (wildcard or (target in resources and ("NotAction" in statement))):
            raise Refused(
                f"{what} refused: the data stack's stack policy denies Update:Delete on {logical_id} in a way "
                f"{what} cannot narrow ({statement}); set a policy that allows Update:Delete on {target} "
                f"by hand (aws cloudformation set-stack-policy), {what}, then set the old one back"
            )
        if not covers_delete or target not in resources:
            statements.append(statement)
            continue
        if "Condition" in statement:
            raise Refused(
                f"{what} refused: the data stack's stack policy denies Update:Delete on {target} with a "
                f"Condition; set a policy that allows it by hand, {what}, then set the old one back"
            )
        others = [r for r in resources if r != target]
        if others:
            statements.append({**statement, "Resource": others})
        kept = [a for a in actions if a != "Update:Delete"]
        if kept:
            statements.append({**statement, "Action": kept, "Resource": [target]})
    statements.append({"Effect": "Allow", "Principal": "*", "Action": "Update:Delete", "Resource": target})
    return {**policy, "Statement": statements}


# -- exports during a move to the global table's key -----------------------------------------------


def exports_taking_new_values(deployed: dict[str, Any], target: dict[str, Any]) -> list[str]:
    """Exported outputs of both templates whose target value names a resource the deployed stack lacks.

    Such an output's value necessarily changes (a new resource: a new ARN), e.g. KeyArn when a table
    moves from TableKey to GlobalTableKey; CloudFormation refuses to change an export's value while
    another stack imports it. Sorted output names.
    """
    held = set(deployed.get("Resources", {})) | set(deployed.get("Parameters", {}))
    before = deployed.get("Outputs", {})
    return sorted(
        name
        for name, output in target.get("Outputs", {}).items()
        if "Export" in output and "Export" in before.get(name, {}) and set(references(output["Value"])) - held
    )


def with_output_values(template: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The template with the named outputs' values replaced by literals (their values as deployed)."""
    out = copy.deepcopy(template)
    for name, value in values.items():
        out["Outputs"][name]["Value"] = value
    return out


def on_deployed_key(table: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """The table to import, on the key the released stack holds: GlobalTableKey -> TableKey.

    A table under a customer managed key is encrypted with the stack's single-Region TableKey;
    the committed global table names its multi-Region GlobalTableKey, which the released stack
    does not hold and an import cannot create. So the import takes the table as it is, on
    TableKey; the next deploy moves it to GlobalTableKey (G005) and lets TableKey go (G001).
    Unchanged when the stack already holds GlobalTableKey or holds no TableKey.
    """
    resources = live.get("Resources", {})
    if GLOBAL_KEY_ID in resources or KEY_ID not in resources or GLOBAL_KEY_ID not in set(references(table)):
        return table
    text = json.dumps(table).replace(f'"{GLOBAL_KEY_ID}"', f'"{KEY_ID}"').replace("${" + GLOBAL_KEY_ID, "${" + KEY_ID)
    moved: dict[str, Any] = json.loads(text)
    return moved


# -- a live table's switch to another key of its stack (TableKey -> GlobalTableKey) ----------------


@dataclass(frozen=True)
class KeySwitch:
    """The deployed table's key (old) and the committed table's (new): two logical IDs of the data stack."""

    old: str
    new: str


def table_keys(template: dict[str, Any]) -> set[str]:
    """The template's KMS keys (logical IDs) that its Table refers to."""
    resources = template.get("Resources", {})
    table = resources.get(TABLE_ID)
    if not isinstance(table, dict):
        return set()
    return {r for r in references(table) if resources.get(r, {}).get("Type") == KMS_KEY_TYPE}


def key_switch(deployed: dict[str, Any], target: dict[str, Any]) -> KeySwitch | None:
    """The switch of the live table from one key of the stack to another, or None.

    After `deploy --import` the data stack holds the GlobalTable on TableKey (the key it was
    encrypted with); the committed template puts it on GlobalTableKey. Read from the deployed
    and the committed templates alone: the deployed table names one key, the committed table
    another. A stack that already holds the new key (a switch interrupted after its first step)
    is still a switch.
    """
    old, new = table_keys(deployed), table_keys(target)
    if len(old) != 1 or len(new) != 1 or old == new:
        return None
    return KeySwitch(next(iter(old)), next(iter(new)))


def with_new_key(deployed: dict[str, Any], target: dict[str, Any], switch: KeySwitch) -> dict[str, Any]:
    """A key switch's first step: the deployed template plus the target's new key, the table untouched.

    Also the target's outputs that name the new key alone and that the deployed stack lacks (KeyId:
    the export a global table's access stack names the key by); an output the deployed stack has
    keeps its deployed value (KeyArn stays on the old key, which the deployed access stack imports).
    The parameters the committed build passes are declared. The alias stays on the old key.
    Raises Refused when the new key refers to a resource the deployed stack does not hold.
    """
    key = target["Resources"][switch.new]
    out = copy.deepcopy(deployed)
    held = set(out.get("Resources", {})) | set(deployed.get("Parameters", {})) | set(target.get("Parameters", {}))
    missing = sorted(set(references(key)) - held)
    if missing:
        raise Refused(
            f"key switch refused: {switch.new} refers to {', '.join(missing)}, which the deployed stack does not "
            f"hold; add {switch.new} beside {switch.old} by hand first"
        )
    out.setdefault("Resources", {})[switch.new] = copy.deepcopy(key)
    parameters = {**deployed.get("Parameters", {}), **target.get("Parameters", {})}
    if parameters:
        out["Parameters"] = copy.deepcopy(parameters)
    outputs = out.setdefault("Outputs", {})
    for name, output in target.get("Outputs", {}).items():
        if name not in outputs and set(references(output["Value"])) == {switch.new}:
            outputs[name] = copy.deepcopy(output)
    return out


def exports_moving_key(deployed: dict[str, Any], target: dict[str, Any], switch: KeySwitch) -> list[str]:
    """Exported outputs of both templates whose value follows the table's key: it changes at the switch.

    KeyArn (GetAtt TableKey -> GetAtt GlobalTableKey); sorted output names.
    """
    before = deployed.get("Outputs", {})
    return sorted(
        name
        for name, output in target.get("Outputs", {}).items()
        if "Export" in output
        and "Export" in before.get(name, {})
        and output["Value"] != before[name]["Value"]
        and (switch.new in set(references(output["Value"])) or switch.old in set(references(before[name]["Value"])))
    )


def imported(value: Any) -> set[str]:
    """The export names a template value imports with a literal Fn::ImportValue."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::ImportValue" and isinstance(inner, str):
                found.add(inner)
            else:
                found |= imported(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= imported(inner)
    return found


def _key_statements(template: dict[str, Any], exports: set[str]) -> Iterator[dict[str, Any]]:
    """Every Allow statement (IAM policy documents) whose Resource imports one of the key exports."""

    def visit(value: Any) -> Iterator[dict[str, Any]]:
        if isinstance(value, dict):
            if value.get("Effect") == "Allow" and "Resource" in value and imported(value["Resource"]) & exports:
                yield value
                return
            for inner in value.values():
                yield from visit(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from visit(inner)

    yield from visit(template.get("Resources", {}))


def with_key_granted(template: dict[str, Any], exports: set[str], arns: list[str]) -> tuple[dict[str, Any], int]:
    """The template with the key ARNs added to every Allow statement that grants the table's key.

    A statement grants the table's key when its Resource imports one of `exports` (the data
    stack's KeyId or KeyArn export). Returns the template and the number of statements granted.
    """
    out = copy.deepcopy(template)
    count = 0
    for statement in _key_statements(out, exports):
        resources = _as_list(statement["Resource"])
        added = [arn for arn in arns if arn not in resources]
        if added:
            statement["Resource"] = [*resources, *added]
            count += 1
    return out, count


def extra_key_grants(deployed: dict[str, Any], target: dict[str, Any], exports: set[str]) -> list[str]:
    """Key ARNs (literals) the deployed template grants beside the table's key and the target does not.

    The old key's grant a key switch added (deployer: step 2), which the committed template drops.
    """

    def literals(template: dict[str, Any]) -> set[str]:
        return {
            str(r)
            for s in _key_statements(template, exports)
            for r in _as_list(s["Resource"])
            if isinstance(r, str) and ":kms:" in r
        }

    return sorted(literals(deployed) - literals(target))
