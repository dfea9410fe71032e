"""`make local`: deploy to a local AWS endpoint, load samples, run every pattern.

Starts a moto server on 127.0.0.1 (unless AWS_ENDPOINT_URL is already set),
creates the built stacks through CloudFormation, loads the design's sample
items, runs each access pattern's example and prints what it returned, then
compares the live table with the design. The server it started is stopped
whatever happens. Nothing in the product imports this package.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..deploy.aws import aws_errors
from ..errors import AwsFailure, BadInput
from ..spec.loader import Spec
from ..stacks.artifacts import StackFiles, read_stack_files, template_file
from ..stacks.names import DATA, TABLE_ID, TABLE_NAME_EXPORT

STACK_TIMEOUT_S = 120.0


def create_stack(cf: Any, stack: StackFiles) -> dict[str, str]:
    """create_stack from the committed build files; wait; return the outputs."""
    name = stack.name
    cf.create_stack(
        StackName=name,
        TemplateBody=stack.template,
        Parameters=stack.parameters,
        Tags=stack.tags,
        Capabilities=stack.capabilities,
    )
    deadline = time.monotonic() + STACK_TIMEOUT_S
    while True:
        described = cf.describe_stacks(StackName=name)["Stacks"][0]
        status = described["StackStatus"]
        if status == "CREATE_COMPLETE":
            print(f"deploy: {name} {status}")
            return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            events = cf.describe_stack_events(StackName=name)["StackEvents"]
            reasons = [
                f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
                for e in events
                if e["ResourceStatus"].endswith("FAILED")
            ]
            raise AwsFailure(f"{name} ended {status}:\n" + "\n".join(reasons))
        time.sleep(0.5)


def run(spec: Spec, build_dir: Path) -> bool:
    import boto3  # only here: keeps `make synth` free of boto3's import cost

    from .smoke import load_samples, run_all, verify_table

    region = spec.env.region
    cf = boto3.client("cloudformation", region_name=region)
    outputs = [create_stack(cf, stack) for stack in read_stack_files(spec, build_dir)]
    table = outputs[0][TABLE_NAME_EXPORT]
    ddb = boto3.client("dynamodb", region_name=region)
    print(f"data: loaded {load_samples(ddb, table, spec.design)} sample items into {table}")
    results = run_all(ddb, table, spec.design)
    for r in results:
        where = f" on {r.pattern.index}" if r.pattern.index else ""
        state = "not run" if r.skipped else "ok" if r.ok else "FAILED"
        print(f"pattern {r.pattern.name} ({r.pattern.operation}{where}): {state} - {r.detail}")
        for item in r.items:
            print(f"    {json.dumps(item, sort_keys=True)}")
    template = json.loads((build_dir / template_file(DATA)).read_text(encoding="utf-8"))
    checks = verify_table(ddb, table, spec, template["Resources"][TABLE_ID]["Properties"])
    for c in checks:
        print(f"verify: {c.setting}: {c.status} ({c.detail})")
    ran = [r for r in results if not r.skipped]
    passed = sum(r.ok for r in ran)
    skipped = len(results) - len(ran)
    print(
        f"local: {passed}/{len(ran)} access patterns passed" + (f", {skipped} not run (no example)" if skipped else "")
    )
    mismatched = [c.setting for c in checks if c.status == "MISMATCH"]
    if mismatched:
        print(f"local: the live table differs from the design in {len(mismatched)}: {', '.join(mismatched)}")
    return passed == len(ran) and not mismatched


@contextlib.contextmanager
def endpoint() -> Iterator[str]:
    existing = os.environ.get("AWS_ENDPOINT_URL")
    if existing:
        print(f"local: using AWS_ENDPOINT_URL={existing}")
        yield existing
        return
    from .moto_server import running_moto_server

    with running_moto_server() as url:
        print(f"local: moto server started on {url}")
        try:
            yield url
        finally:
            print("local: moto server stopped")


def refuse_global_table(spec: Spec) -> None:
    """moto cannot create an AWS::DynamoDB::GlobalTable: say so before any server starts."""
    if spec.env.global_table:
        raise BadInput(
            f"{spec.env_file}: global_table: moto has no AWS::DynamoDB::GlobalTable; make local cannot deploy "
            f"{spec.env_name} (nor its replicas in {', '.join(r.region for r in spec.env.replicas) or 'no Region'}). "
            "Run make local with a single-Region environment of the same design (global_table: false), and "
            "deploy the global one to an AWS account"
        )


def run_local(spec: Spec, build_dir: Path) -> bool:
    """Deploy and check on a local endpoint; True when every pattern and check passed."""
    from .moto_server import local_aws_environment

    refuse_global_table(spec)
    read_stack_files(spec, build_dir)  # BadInput before any server starts when nothing is built
    with endpoint() as url, local_aws_environment(url, spec.env.region), aws_errors(f"local {url}"):
        return run(spec, build_dir)
