"""A change to a live table as steps CloudFormation accepts: the pure planner of a staged deploy.

CloudFormation creates or deletes at most one global secondary index per
table update (aws-resource-dynamodb-table, GlobalSecondaryIndexes: "you can
create or delete only one global secondary index per update"), and the
limit applies to the difference from what is deployed. The planner turns
deployed -> built into a sequence of templates, each one index apart:

1. the data stack with every setting as built and the first new index (or,
   with no new index, the settings alone when a later step follows);
2. each further new index, one per step: a renamed index exists under its
   new name before the access stack stops granting the old one;
3. the access stack as built, once every index it grants exists and before
   any index it stops granting goes;
4. each removed index, one per step; an index whose key schema or
   projection changes is deleted, then created again (DynamoDB cannot
   change either in place; the Developer Guide, GSI.OnlineOps).

When the new indexes would pass DynamoDB's default quota of 20 GSIs per
table (ServiceQuotas, "Global secondary indexes per table"), the access
stack and the deletions go first. Each intermediate template carries
STAGED_METADATA (the build it leads to, its step number) so a later run
reads from the deployed template how far an earlier one got.

A global table's index steps are the same, each with the per-replica index
settings of exactly its indexes; deploy/global_steps.py runs them on the
live replicas before its replica steps.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..stacks.names import ACCESS, DATA, TABLE_ID, account_of_kind
from ..stacks.replication import REPLICATION_SID, SOURCE_ACCOUNT, SOURCE_ARN
from .table_shape import changed_gsis, indexes, is_global, props
from .template_refs import depends_on, references

GSI = "GlobalSecondaryIndexes"
LSI = "LocalSecondaryIndexes"
# DynamoDB's default quota of GSIs per table (adjustable; ServiceQuotas L-F7858A77).
GSI_QUOTA = 20
# Top-level template Metadata of an intermediate step: {"Build": <digest>, "Step": k, "Did": <its summary>}.
STAGED_METADATA = "StagedDeploy"


@dataclass(frozen=True)
class Step:
    """One stack update: the stack (DATA or ACCESS), the template it reaches, what it does."""

    kind: str
    template: dict[str, Any]
    summary: str
    created: str | None = None  # the index this step creates (the deploy waits for its backfill)
    deleted: str | None = None


def build_digest(template: dict[str, Any]) -> str:
    """Names a built data template in its steps' metadata: same build, same digest."""
    text = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def staged_marker(template: dict[str, Any]) -> dict[str, Any] | None:
    """The STAGED_METADATA of a deployed template: which step of which build it is; None when none."""
    found = (template.get("Metadata") or {}).get(STAGED_METADATA)
    return found if isinstance(found, dict) else None


def index_changes(deployed: dict[str, Any], built: dict[str, Any]) -> int:
    """How many GSI creations and deletions deployed -> built needs (a recreated index counts two)."""
    old, new = deployed.get("Resources", {}).get(TABLE_ID), built.get("Resources", {}).get(TABLE_ID)
    if old is None or new is None:
        return 0
    added, removed, recreated = changed_gsis(old, new)
    return len(added) + len(removed) + 2 * len(recreated)


def plan_steps(
    deployed_data: dict[str, Any],
    built_data: dict[str, Any],
    deployed_access: dict[str, Any] | None = None,
    built_access: dict[str, Any] | None = None,
) -> list[Step]:
    """The steps from the deployed data (and access) templates to the built ones, in order.

    Without deployed access or built access templates, the sequence is the data stack's alone.
    A change of at most one index is one data step (then access, when it changes, as today).
    """
    old, new = deployed_data["Resources"].get(TABLE_ID), built_data["Resources"].get(TABLE_ID)
    access_changes = built_access is not None and built_access != deployed_access
    access = [Step(ACCESS, built_access, "the access stack as built")] if access_changes and built_access else []
    if old is None or new is None or index_changes(deployed_data, built_data) == 0:
        return ([] if built_data == deployed_data else [Step(DATA, built_data, "the data stack as built")]) + access
    added, removed, recreated = changed_gsis(old, new)
    before, after = indexes(old, GSI), indexes(new, GSI)
    added = [n for n in after if n in added]  # in the design's order; removals in the deployed order
    removed, recreated = [n for n in before if n in removed], [n for n in before if n in recreated]
    over_quota = len(set(before) | set(added)) > GSI_QUOTA
    moves: list[tuple[str, str]] = [("create", n) for n in added]
    goes = [("delete", n) for n in removed] + [m for n in recreated for m in (("delete", n), ("create", n))]
    order = goes + moves if over_quota else moves + goes
    access_at = 0 if over_quota else len(moves)

    digest = build_digest(built_data)
    steps: list[Step] = []
    current = list(before)
    shaped = dict(before)  # the definition each live index has now
    for number, (move, name) in enumerate(order, start=1):
        if move == "create":
            current.append(name)
            shaped[name] = after[name]
            summary = f"create GSI {name}" + (" again, with its new key or projection" if name in recreated else "")
        else:
            current.remove(name)
            shaped.pop(name)
            summary = f"delete GSI {name}" + (" (its key or projection changes)" if name in recreated else "")
        last = number == len(order)
        staged = _with_indexes(built_data, old, current, shaped)
        template = built_data if last else _marked(staged, digest, number, summary)
        steps.append(
            Step(DATA, template, summary, name if move == "create" else None, name if move == "delete" else None)
        )
    if access_at == 0 and access:
        # The access stack goes first: the data stack's settings as built before it, for the exports it imports.
        settings = _with_indexes(built_data, old, list(before), dict(before))
        if settings != deployed_data:
            summary = "the data stack's settings, indexes as deployed"
            steps.insert(0, Step(DATA, _marked(settings, digest, 0, summary), summary))
            access_at = 1
    return steps[:access_at] + access + steps[access_at:]


def _marked(template: dict[str, Any], digest: str, number: int, did: str) -> dict[str, Any]:
    """An intermediate template, marked with the build it leads to, its place among the index changes
    and what it did (a later run says so)."""
    out = dict(template)
    marker = {"Build": digest, "Step": number, "Did": did}
    out["Metadata"] = {**(template.get("Metadata") or {}), STAGED_METADATA: marker}
    return out


def _with_indexes(
    built: dict[str, Any],
    deployed_table: dict[str, Any],
    names: list[str],
    shaped: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The built template with exactly the named GSIs (each as it is live, or as built when new).

    AttributeDefinitions keep only the attributes some key uses (CloudFormation rejects others);
    resources naming an index not there (an index's auto scaling) wait for a later step. An index
    the build removes loses its auto scaling in the first step and keeps its capacity until it goes.
    """
    template = copy.deepcopy(built)
    after = indexes(built["Resources"][TABLE_ID], GSI)
    table = template["Resources"][TABLE_ID]["Properties"]
    ordered = [n for n in after if n in names] + [n for n in names if n not in after]
    table[GSI] = [copy.deepcopy(shaped[n]) for n in ordered]
    if not table[GSI]:
        del table[GSI]
    used = {k["AttributeName"] for k in table.get("KeySchema", [])}
    for kind in (GSI, LSI):
        for index in table.get(kind, []):
            used |= {k["AttributeName"] for k in index.get("KeySchema", [])}
    definitions = {a["AttributeName"]: a for a in props(built["Resources"][TABLE_ID]).get("AttributeDefinitions", [])}
    for a in props(deployed_table).get("AttributeDefinitions", []):  # built's order first, then the deployed's
        definitions.setdefault(a["AttributeName"], a)
    table["AttributeDefinitions"] = [a for n, a in definitions.items() if n in used]
    if is_global(built["Resources"][TABLE_ID]):
        _replica_indexes(table, props(deployed_table), ordered)
    _drop_absent_index_resources(template, set(after) - set(names))
    return template


def _replica_indexes(table: dict[str, Any], deployed: dict[str, Any], names: list[str]) -> None:
    """A GlobalTable's per-replica index settings for exactly the step's indexes: as built, else as deployed."""
    deployed_replicas = {r.get("Region"): r for r in deployed.get("Replicas", [])}
    for replica in table.get("Replicas", []):
        built = {g["IndexName"]: g for g in replica.get(GSI, [])}
        live = {g["IndexName"]: g for g in deployed_replicas.get(replica.get("Region"), {}).get(GSI, [])}
        entries = [copy.deepcopy(built.get(n) or live[n]) for n in names if n in built or n in live]
        if entries:
            replica[GSI] = entries
        else:
            replica.pop(GSI, None)


def _drop_absent_index_resources(template: dict[str, Any], absent: set[str]) -> None:
    """Remove the resources (and outputs) that name an index not in this step, and what refers to them."""
    resources = template["Resources"]
    dropping = {
        logical_id
        for logical_id, resource in resources.items()
        if logical_id != TABLE_ID and any(f"/index/{n}" in json.dumps(resource) for n in absent)
    }
    dropped: set[str] = set()
    while dropping:
        for logical_id in dropping:
            resources.pop(logical_id)
        dropped |= dropping
        dropping = {k for k, r in resources.items() if k != TABLE_ID and _references(r) & dropping}
    outputs = template.get("Outputs") or {}
    for name in [n for n, o in outputs.items() if _references(o) & dropped]:
        outputs.pop(name)


def _references(node: dict[str, Any]) -> set[str]:
    """The logical IDs a resource or output names: Ref, Fn::GetAtt, Fn::Sub, DependsOn."""
    return set(references(node)) | set(depends_on(node))


# -- a multi-account global table: which account's stack first ------------------------------------------------------


def account_steps(
    source_old: dict[str, Any],
    source_new: dict[str, Any],
    accounts: dict[str, tuple[dict[str, Any] | None, dict[str, Any]]],
) -> list[Step]:
    """The deploy order of a multi-account global table when a replica in another account is new.

    source_*: the source account's data stack as deployed and as built; accounts: each other
    account's data stack kind (account-<account>-data) -> (as deployed or None, as built).
    DynamoDB adds replicas to a multi-account global table only starting from a single-Region table
    (the source), a replica in another account is created from the source's ARN (its stack's
    GlobalTableSourceArn), and the source lets that account join (AssociateTableReplica) before it
    may (the developer guide's tutorial, V2globaltables_MA.tutorial). So for each new replica, in
    the order declared:

    1. source: the source account's data stack with the new account allowed to join, replication
       still among the live replicas only;
    2. replica: that account's data stack as built (created from the source, its own policy naming
       every replica);
    3. source grant: the source's replication extended to the new replica (the source as built
       once no replica is pending), with every replica already live in another account granting it
       too (each replica grants all the others: the guide's Security page).

    The access stacks follow the data stacks (each account's imports its own data stack's
    exports). [] when no replica in another account is new: a plain update of each stack.
    """
    new = [kind for kind, (old, _) in accounts.items() if not _has_table(old)]
    if not new:
        return []
    pending = {_account(kind) for kind in new}
    steps: list[Step] = []
    live = [kind for kind in accounts if kind not in new]
    for kind in new:
        account = _account(kind)
        steps.append(
            Step(
                DATA,
                replication_without(source_new, pending),
                f"source: account {account} may join the table; replication among the live replicas only"
                if _has_table(source_old) or steps
                else f"source: the single-Region table, with account {account} allowed to join",
            )
        )
        steps.append(Step(kind, accounts[kind][1], f"replica in account {account}: created from the source's ARN"))
        pending.discard(account)
        steps.append(
            Step(DATA, replication_without(source_new, pending), f"source grant: replication with account {account}")
        )
        steps += [
            Step(other, replication_without(accounts[other][1], pending), f"replica grant: replication with {account}")
            for other in live
        ]
        live.append(kind)
    return steps


def _account(kind: str) -> str:
    found = account_of_kind(kind)
    assert found is not None, f"{kind} is not another account's stack kind"
    return found[0]


def _has_table(template: dict[str, Any] | None) -> bool:
    return bool(template) and TABLE_ID in (template or {}).get("Resources", {})


def replication_without(template: dict[str, Any], pending: set[str]) -> dict[str, Any]:
    """The template with its tables' replication statement naming no pending account (its SourceAccount
    and SourceArn values); as built when none is pending."""
    if not pending:
        return template
    out = copy.deepcopy(template)
    for resource in out.get("Resources", {}).values():
        if not is_global(resource):
            continue
        for replica in props(resource).get("Replicas", []):
            document = (replica.get("ResourcePolicy") or {}).get("PolicyDocument") or {}
            for statement in document.get("Statement", []):
                if statement.get("Sid") != REPLICATION_SID:
                    continue
                values = statement["Condition"]["StringEquals"]
                values[SOURCE_ACCOUNT] = [a for a in values[SOURCE_ACCOUNT] if a not in pending]
                values[SOURCE_ARN] = [
                    arn for arn in values[SOURCE_ARN] if not any(f":{a}:table/" in json.dumps(arn) for a in pending)
                ]
    return out
