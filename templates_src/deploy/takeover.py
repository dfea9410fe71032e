"""Taking a live table over into the data stack (import_table: an IMPORT change set) and letting it
go again (release_table: an update without it, Retain, exports keeping their values). Apart as the
one-off moves of a table between unmanaged and managed, not a deploy; the Deployer hands them its
change sets (change_sets.py). An administrator runs them: the IMPORT change set and the release's
resource read are made here (the deploy role denies them: tests/test_deploy_role_calls.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import datetime, timezone
from typing import Any

from ..change.template_refs import references as _references
from ..errors import AwsFailure, BadInput, Refused
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.names import GLOBAL_KEY_ID, KEY_ID, TABLE_ID, TABLE_TYPE
from .aws import error_code, exists
from .change_sets import SUCCESS, UPDATABLE, ChangeSets, resource_changes
from .live import Difference, Facts, differences, not_reconcilable, read_existing, template_facts
from .release import (
    TableValues,
    on_deployed_key,
    policy_allowing_table_removal,
    referrers,
    released,
    released_values,
    with_table,
)
from .replicas import global_table, is_strong, restricted, table_regions


def _setting(prop: str, value: Callable[[Any], Any]) -> Callable[[dict[str, Any], Any], None]:
    """Sets (or, for None, removes) one table property from a live fact."""

    def put(properties: dict[str, Any], live: Any) -> None:
        shaped = value(live)
        if shaped is None:
            properties.pop(prop, None)
        else:
            properties[prop] = shaped

    return put


# A live fact (live.py) -> the table property that says it, for the import template (Takeover._as_live).
AS_LIVE: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "DeletionProtectionEnabled": _setting("DeletionProtectionEnabled", bool),
    "TableClass": _setting("TableClass", str),
    "StreamViewType": _setting("StreamSpecification", lambda v: {"StreamViewType": v} if v else None),
    "TimeToLiveAttribute": _setting(
        "TimeToLiveSpecification", lambda v: {"AttributeName": v, "Enabled": True} if v else None
    ),
    "PointInTimeRecovery": _setting(
        "PointInTimeRecoverySpecification",
        lambda v: (
            {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": v[1]}
            if v[0]
            else {"PointInTimeRecoveryEnabled": False}
        ),
    ),
    "ContributorInsights": _setting("ContributorInsightsSpecification", lambda v: {"Enabled": bool(v)}),
    "Tags": lambda properties, live: None,  # every tag is set as live below
}


class Takeover:
    def __init__(self, spec: Spec, change_sets: ChangeSets, dynamodb: Any, out: Callable[[str], None]) -> None:
        self.spec, self.change_sets, self.dynamodb, self.out = spec, change_sets, dynamodb, out
        self.cf = change_sets.cf

    # -- import ------------------------------------------------------------------------

    def import_table(self, stack: StackFiles, kms: Any) -> None:
        """An IMPORT change set that takes the live table into the data stack, as adopted.

        Only the table is imported (an import creates nothing else); the next
        ordinary deploy adds the rest of the template through the plan and guards.
        A GlobalTable is imported with its home replica only: the live table is
        one Region's, and the next deploys add the other replicas one per update.

        Into a data stack that exists and no longer holds the table (released:
        `deploy --release-table`), the import template is the deployed one plus
        the table, everything else exactly as deployed; the table may then refer
        to the resources the stack holds (its key).
        """
        self._refuse_importing_strong(stack)
        described = self.change_sets.describe(stack.name)
        template = stack.template_dict
        if global_table(template) is not None:
            template = restricted(template, {self.spec.env.region})
        table = template["Resources"][TABLE_ID]
        name = table["Properties"]["TableName"]
        live_template = self._released_stack(stack, described, name)
        on_table_key = on_deployed_key(table, live_template)
        moves_key = on_table_key is not table
        if moves_key:
            table = on_table_key
            self.out(
                f"{stack.name}: the table is imported on the stack's {KEY_ID} (its key now); the next deploy moves "
                f"it to the global table's multi-Region {GLOBAL_KEY_ID} and lets {KEY_ID} go (Retained)"
            )
        known = set(live_template.get("Resources", {})) | set(live_template.get("Parameters", {}))
        self._refuse_dangling_references(stack.name, table, known, existing=bool(live_template))
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            if table.get(policy) != "Retain":
                raise Refused(f"{stack.name}: import refused: {TABLE_ID}.{policy} must be Retain (retention: Retain)")
        existing = read_existing(name, self.dynamodb, kms)
        if existing is None:
            raise BadInput(f"{self.spec.env_file}: table_name: no table {name} in {self.spec.env.region} to import")
        _, live = existing
        found = differences(template_facts(table), live, standard_tags_pending=True)
        blocking = not_reconcilable(found)
        if blocking:
            for d in blocking:
                self.out(f"  {d.property}: template {d.template!r}, live {d.live!r}")
            raise Refused(
                f"{stack.name}: import refused: the template differs from table {name} in what no update can "
                f"change in place ({', '.join(d.property for d in blocking)}); adopt it again or fix the YAML"
            )
        if table["Type"] == TABLE_TYPE:
            table, later = self._as_live(stack.name, table, existing[0], live, found)
            for what in later:
                self.out(f"  imported as it is live; the next deploy changes {what}")
        else:
            for d in found:
                self.out(f"  after the import, the next deploy changes {d.property}: {d.live!r} -> {d.template!r}")
        to_import = [
            {"ResourceType": table["Type"], "LogicalResourceId": TABLE_ID, "ResourceIdentifier": {"TableName": name}}
        ]
        change_set_name = f"import-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
        if live_template:
            assert described is not None
            self.out(
                f"{stack.name}: importing table {name} as {table['Type']} into the existing stack (every other "
                "resource and output as deployed)"
            )
            change_set = self.cf.create_change_set(
                StackName=stack.name,
                ChangeSetName=change_set_name,
                ChangeSetType="IMPORT",
                ResourcesToImport=to_import,
                TemplateBody=json.dumps(with_table(live_template, table), sort_keys=True),
                **self._as_deployed(described, stack.capabilities),
            )["Id"]
        else:
            body = {
                "AWSTemplateFormatVersion": template.get("AWSTemplateFormatVersion", "2010-09-09"),
                "Description": template.get("Description", ""),
                "Resources": {TABLE_ID: table},
            }
            change_set = self.cf.create_change_set(
                StackName=stack.name,
                ChangeSetName=change_set_name,
                ChangeSetType="IMPORT",
                ResourcesToImport=to_import,
                TemplateBody=json.dumps(body, sort_keys=True),
                Tags=stack.tags,
            )["Id"]
        described_set = self.change_sets.wait(stack.name, change_set)
        if described_set["Status"] == "FAILED":
            raise AwsFailure(f"{stack.name}: import change set failed: {described_set.get('StatusReason', '')}")
        final = self.change_sets.execute(stack.name, change_set)
        if final != "IMPORT_COMPLETE":
            raise AwsFailure(f"{stack.name}: import ended {final}; the table itself is unchanged (Retain)")
        env = self.spec.env_name
        replicas = table_regions(stack.template_dict)[1:]
        if moves_key:
            then = (
                f"make deploy ENV={env} ALLOW=G001,G005 (it moves the table to "
                f"{GLOBAL_KEY_ID}, lets {KEY_ID} go, Retained: keep it enabled until DynamoDB reports the "
                "re-encryption done"
                + (f", then adds the replicas {', '.join(replicas)}, one per update)" if replicas else ")")
            )
        elif replicas:
            then = f"make deploy ENV={env} (it adds the replicas {', '.join(replicas)}, one per update)"
        elif live_template and global_table(stack.template_dict) is not None:
            then = (
                f"make deploy ENV={env} for the rest of the stack; then list the replicas (replicas:), make synth "
                f"and deploy: one replica per update"
            )
        else:
            then = f"make deploy ENV={env} to add the rest of the stack"
        self.out(
            f"{stack.name}: imported table {name}. Next: make plan ENV={env} DEPLOYED=1 (against the deployed "
            f"stack), then {then}"
        )

    def _as_live(
        self, name: str, table: dict[str, Any], described: dict[str, Any], live: Facts, found: list[Difference]
    ) -> tuple[dict[str, Any], list[str]]:
        """The table as the import template must say it: as it is live.

        An import changes nothing (import-resources, "CloudFormation doesn't modify the resource"), and
        a later update applies only what its template changes against the imported one: a setting the
        import template already says would never reach the table. So the import says what is live (the
        tags, the resource policy, each setting below that differs), and the next deploy's change set
        carries the difference, reviewed. A difference no setting here can say is refused.
        """
        out = json.loads(json.dumps(table))
        p = out["Properties"]
        later: list[str] = []
        for d in found:
            prop = d.property.split("[")[0]
            if prop not in AS_LIVE:
                raise Refused(
                    f"{name}: import refused: {d.property} differs (template {d.template!r}, live {d.live!r}) and an "
                    "import cannot change it: import with what is live (adopt again, or set it back in the YAML, "
                    "make synth), then change it in a reviewed deploy"
                )
            AS_LIVE[prop](p, d.live)
            later.append(f"{d.property}: {d.live!r} -> {d.template!r}")
        tags = [{"Key": k, "Value": v} for k, v in sorted(live.values["Tags"].items())]
        if tags != sorted(p.get("Tags", []), key=lambda t: t["Key"]):
            later.append("Tags: the project's standard tags added")
        p["Tags"] = tags
        if not tags:
            del p["Tags"]
        if "ResourcePolicy" in p and not self._has_resource_policy(described["TableArn"]):
            del p["ResourcePolicy"]
            later.append("ResourcePolicy: none -> the template's")
        return out, later

    def _has_resource_policy(self, arn: str) -> bool:
        try:
            self.dynamodb.get_resource_policy(ResourceArn=arn)
        except Exception as exc:  # botocore ClientError: PolicyNotFoundException means none
            if error_code(exc) == "PolicyNotFoundException":
                return False
            raise
        return True

    def _released_stack(self, stack: StackFiles, described: dict[str, Any] | None, name: str) -> dict[str, Any]:
        """The deployed template of a data stack that released table `name`; {} when there is no stack yet.

        Refuses a stack that holds the table (already managed) and one left by
        a failed create or import (it holds nothing of ours).
        """
        if not described or described["StackStatus"] == "REVIEW_IN_PROGRESS":
            return {}
        status = described["StackStatus"]
        deployed = self.change_sets.deployed_template(stack.name)
        held = TABLE_ID in deployed.get("Resources", {})
        if held and not status.endswith(("ROLLBACK_COMPLETE", "_FAILED")):
            raise BadInput(
                f"{stack.name} exists ({status}) and holds the table: it is already managed; "
                f"make deploy ENV={self.spec.env_name}"
            )
        if not held and released_values(deployed, name):
            if status not in UPDATABLE:
                raise AwsFailure(f"{stack.name} is {status}: cannot import now; wait for it to finish")
            return deployed
        raise BadInput(
            f"{stack.name} is {status} from a failed create or import and does not hold the table: delete the "
            f"stack (make destroy ENV={self.spec.env_name}; the table is not in it), then import again"
        )

    @staticmethod
    def _as_deployed(described: dict[str, Any], capabilities: list[str] | None = None) -> dict[str, Any]:
        """Parameters, capabilities and tags of an update that keeps the stack's own (nothing else changes)."""
        extra: dict[str, Any] = {
            "Parameters": [
                {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in described.get("Parameters", [])
            ],
            "Tags": described.get("Tags", []),
        }
        # The stack's own; else the build's (an IAM role in the template needs CAPABILITY_IAM on every update).
        if described.get("Capabilities") or capabilities:
            extra["Capabilities"] = described.get("Capabilities") or capabilities
        return extra

    # -- release: the table leaves the data stack, kept -------------------------------------

    def release_table(self, stack: StackFiles) -> None:
        """An UPDATE of the data stack without the Table (Retain: the table stays, unmanaged).

        The template is the deployed one minus the Table, each reference to it
        replaced by its live value (release.released), so every export keeps its
        value and the access stack keeps working. Refused before any change
        unless the deployed Table is Retain on delete and on replacement, and
        refused (its change set deleted) unless the change set removes the
        Table and nothing else and replaces nothing.
        """
        described = self.change_sets.describe(stack.name)
        if described is None or described["StackStatus"] == "REVIEW_IN_PROGRESS":
            raise BadInput(f"{stack.name} does not exist: there is no managed table to release")
        status = described["StackStatus"]
        if status not in UPDATABLE:
            raise AwsFailure(f"{stack.name} is {status}: cannot release now; wait for it to finish or fix it")
        deployed = self.change_sets.deployed_template(stack.name)
        resource = deployed.get("Resources", {}).get(TABLE_ID)
        if resource is None:
            raise BadInput(
                f"{stack.name} holds no {TABLE_ID}: already released; next: deploy --env {self.spec.env_name} --import"
            )
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            if resource.get(policy) != "Retain":
                raise Refused(
                    f"{stack.name}: release refused: the deployed {TABLE_ID} has {policy} "
                    f"{resource.get(policy, 'Delete (the default)')}; removing it from the stack would delete the "
                    "table. Set retention: Retain and deploy that first"
                )
        # The stack policy is enforced on an executed change set: it must let the table go (and comes back after).
        stack_policy = self.change_sets.stack_policy(stack.name)
        during_release = policy_allowing_table_removal(stack_policy) if stack_policy is not None else None
        name = self.cf.describe_stack_resource(StackName=stack.name, LogicalResourceId=TABLE_ID)["StackResourceDetail"][
            "PhysicalResourceId"
        ]
        table = self.dynamodb.describe_table(TableName=name)["Table"]
        values = TableValues(table["TableName"], table["TableArn"], table.get("LatestStreamArn"))
        body = released(deployed, values)
        self.out(f"{stack.name}: release table {name}: the stack forgets it (Retain), the table stays")
        for where in referrers(deployed):
            self.out(f"  {where}: reference to {TABLE_ID} -> its live value")
        if table.get("DeletionProtectionEnabled"):
            self.out(f"  deletion protection stays on table {name} (a table setting, not the stack's)")

        change_set = self.cf.create_change_set(
            StackName=stack.name,
            ChangeSetName=f"release-{datetime.now(timezone.utc):%Y%m%d%H%M%S}",
            ChangeSetType="UPDATE",
            TemplateBody=json.dumps(body, sort_keys=True),
            **self._as_deployed(described, stack.capabilities),
        )["Id"]
        described_set = self.change_sets.wait(stack.name, change_set)
        if described_set["Status"] == "FAILED":
            self.cf.delete_change_set(StackName=stack.name, ChangeSetName=change_set)
            raise AwsFailure(f"{stack.name}: release change set failed: {described_set.get('StatusReason', '')}")
        changes = resource_changes(described_set)
        self.change_sets.print_changes(stack.name, "UPDATE", changes)
        unexpected = self._release_problems(changes, resource["Type"])
        if unexpected:
            self.cf.delete_change_set(StackName=stack.name, ChangeSetName=change_set)
            raise Refused(
                f"{stack.name}: release refused (change set deleted): it must remove {TABLE_ID} and nothing else, "
                f"and replace nothing; it would {unexpected}"
            )

        final = self.change_sets.execute(stack.name, change_set, during_release, stack_policy)
        if final not in SUCCESS:
            raise AwsFailure(f"{stack.name}: release ended {final}; the table is unchanged")
        if not exists(lambda: self.dynamodb.describe_table(TableName=name), "ResourceNotFoundException"):
            raise AwsFailure(f"{stack.name}: released, but table {name} is gone; restore it from its backups")
        self.out(f"released: table {name} kept, no longer managed by {stack.name}")
        self.out(
            f"  its exports keep their values. Next: set global_table: true (no replicas yet), make synth, then "
            f"python -m templates_src deploy --env {self.spec.env_name} --import"
        )

    def _release_problems(self, changes: list[dict[str, Any]], table_type: str) -> str:
        """What the release change set does beyond removing the table: '' when nothing."""
        problems = []
        removed_table = False
        for c in changes:
            logical_id, action = c["LogicalResourceId"], c["Action"]
            if action == "Remove" and logical_id == TABLE_ID and c["ResourceType"] == table_type and not removed_table:
                removed_table = True
            elif action == "Remove":
                problems.append(f"remove {logical_id}")
            elif action not in ("Modify", "Dynamic") or c.get("Replacement") in ("True", "Conditional"):
                problems.append(f"{action.lower()} {logical_id} (Replacement={c.get('Replacement', 'n/a')})")
        if not removed_table:
            problems.insert(0, f"not remove {TABLE_ID}")
        return ", ".join(problems)

    def _refuse_importing_strong(self, stack: StackFiles) -> None:
        """No AWS call needed: an existing table with data cannot become an MRSC global table."""
        if is_strong(stack.template_dict):
            raise Refused(
                f"{stack.name}: import refused: multi_region_consistency STRONG: AWS turns on multi-Region "
                "strong consistency only on an empty table (its replicas and witness are added when the global "
                "table is created), so a table with data cannot be imported as one; import it as EVENTUAL, or "
                "copy the data into a new STRONG table"
            )

    def _refuse_dangling_references(
        self, name: str, table: dict[str, Any], known: Collection[str] = (), existing: bool = False
    ) -> None:
        """The import creates nothing: a Ref or GetAtt must name what the (deployed) stack already holds."""
        others = sorted(set(_references(table)) - {TABLE_ID} - set(known))
        if existing and others:
            raise Refused(
                f"{name}: import refused: the table refers to {', '.join(others)}, which the deployed stack does "
                "not hold and an IMPORT change set cannot create; import with the settings the live table has, "
                "then change them in a later, reviewed deploy"
            )
        if others:
            raise Refused(
                f"{name}: import refused: the table refers to {', '.join(others)}, which an IMPORT change set "
                "cannot create (it holds the table alone); import with the settings the live table has (adopt "
                "writes them, e.g. encryption: aws_managed), then change them in a later, reviewed deploy"
            )
