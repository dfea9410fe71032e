"""Drift: the live table against build/<env>/data.template.json, property by property.

Our comparison reads the same describe calls as `adopt` (deploy/live.py); a global table's
replicas each in their own Region.
With a CloudFormation endpoint that supports it, DetectStackDrift's result
for the data stack is shown beside it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadInput
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles
from ..stacks.names import DATA, TABLE_ID
from .aws import aws_errors, endpoint_lacks, session, stack_missing
from .deployer import check_caller
from .live import MANAGED_TAGS, Difference, differences, read_existing, regional_clients, shown, template_facts

POLL_S = 2.0
DETECTION_TIMEOUT_S = 300.0


@dataclass
class DriftReport:
    env: str
    table: str
    template_file: str
    found: list[Difference]
    missing: bool = False  # the table does not exist
    notes: list[str] = field(default_factory=list)
    cloudformation: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not self.found and not self.missing


def render_text(report: DriftReport) -> str:
    head = f"drift of {report.env}: table {report.table} against {report.template_file}"
    if report.missing:
        lines = [head, "  DRIFTED: the table does not exist"]
    elif report.in_sync:
        lines = [head, "  in sync"]
    else:
        lines = [head, f"  DRIFTED: {len(report.found)} difference(s)"]
        lines += [f"  ~ {d.property}: template {shown(d.template)}, live {shown(d.live)}" for d in report.found]
    lines += [f"  note: {n}" for n in report.notes]
    lines += [f"  CloudFormation: {c}" for c in report.cloudformation]
    return "\n".join(lines)


def render_markdown(report: DriftReport) -> str:
    state = "the table does not exist" if report.missing else "in sync" if report.in_sync else "drifted"
    lines = [
        f"### Drift of `{report.env}`: {state}",
        "",
        f"Table `{report.table}` against `{report.template_file}`.",
        "",
    ]
    if report.found:
        lines += ["| property | template | live |", "|---|---|---|"]
        lines += [f"| `{d.property}` | `{shown(d.template)}` | `{shown(d.live)}` |" for d in report.found]
        lines.append("")
    lines += [f"- {n}" for n in report.notes]
    lines += [f"- CloudFormation: {c}" for c in report.cloudformation]
    return "\n".join(lines) + "\n"


def cloudformation_drift(cf: Any, stack: str, sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """DetectStackDrift on the data stack, where the endpoint supports it."""
    try:
        detection = cf.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
        deadline = time.monotonic() + DETECTION_TIMEOUT_S
        while True:
            status = cf.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
            if status["DetectionStatus"] != "DETECTION_IN_PROGRESS" or time.monotonic() > deadline:
                break
            sleep(POLL_S)
        drifts = cf.describe_stack_resource_drifts(
            StackName=stack, StackResourceDriftStatusFilters=["MODIFIED", "DELETED"]
        )["StackResourceDrifts"]
    except Exception as exc:  # an endpoint without drift detection (moto); any other failure is one
        if not endpoint_lacks(exc):
            raise
        return [f"DetectStackDrift unavailable for {stack}: the endpoint does not support it"]
    out = [f"{stack}: {status.get('StackDriftStatus', status['DetectionStatus'])}"]
    for d in drifts:
        paths = ", ".join(p["PropertyPath"] for p in d.get("PropertyDifferences", []))
        out.append(f"{d['LogicalResourceId']} {d['StackResourceDriftStatus']}" + (f": {paths}" if paths else ""))
    return out


def drift_environment(spec: Spec, stacks: list[StackFiles], template_file: str) -> DriftReport:
    (data,) = [s for s in stacks if s.kind == DATA]
    resource = data.template_dict["Resources"].get(TABLE_ID)
    if resource is None:
        raise BadInput(f"{template_file}: no {TABLE_ID} resource; run make synth")
    name = resource["Properties"]["TableName"]
    with aws_errors(f"drift {spec.env_name}"):
        aws = session()
        region = spec.env.region
        check_caller(spec, aws.client("sts", region_name=region), aws.region_name)
        report = DriftReport(spec.env_name, name, template_file, [])
        existing = read_existing(
            name,
            aws.client("dynamodb", region_name=region),
            aws.client("kms", region_name=region),
            regional_clients(aws),
        )
        if existing is None:
            report.missing = True
            return report
        _, live = existing
        cf = aws.client("cloudformation", region_name=region)
        try:
            cf.describe_stacks(StackName=data.name)
        except Exception as exc:  # not deployed: nothing for CloudFormation to compare
            if not stack_missing(exc):
                raise
            deployed = None
            report.cloudformation = [f"{data.name} is not deployed: no stack drift to detect"]
        else:
            deployed = cf.get_template(StackName=data.name)["TemplateBody"]
            report.cloudformation = cloudformation_drift(cf, data.name)
        pending = _standard_tags_pending(deployed)
        report.found = differences(template_facts(resource), live, standard_tags_pending=pending)
        if pending:
            report.notes.append(
                "the standard tags (Design, Environment, ManagedBy) are not compared: the data stack has not "
                "applied them yet (not deployed, or just imported); the next deploy adds them"
            )
        report.notes += list(live.notes)
        return report


def _standard_tags_pending(deployed: Any) -> bool:
    """No stack yet, or one whose table does not carry the standard tags (the import's template)."""
    if deployed is None:
        return True
    if isinstance(deployed, str):
        deployed = json.loads(deployed)
    table = (deployed.get("Resources") or {}).get(TABLE_ID) or {}
    tags = {t.get("Key") for t in (table.get("Properties") or {}).get("Tags", [])}
    return not set(MANAGED_TAGS) <= tags
