"""`make local`: deploy to a local AWS endpoint, load samples, run every pattern.

    python -m templates_src.local [--env dev | --design NAME]

Starts a moto server on 127.0.0.1 (unless AWS_ENDPOINT_URL is already set),
creates the built stacks through CloudFormation, loads the design's sample
items, runs each access pattern's example and prints what it returned, then
compares the live table with the design. The server it started is stopped
whatever happens. Exit 0 when every pattern and check passed, 1 otherwise,
2 for bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from .errors import SpecError
from .loader import Spec, load_spec
from .stack_files import StackFiles, stack_files

STACK_TIMEOUT_S = 120.0
DESIGN_ENVIRONMENTS = Path("environments/designs")


def target(args: argparse.Namespace) -> tuple[Path, Path]:
    """(environment file, build directory) for --env or --design."""
    if args.design:
        return DESIGN_ENVIRONMENTS / f"{args.design}.yaml", Path("build/designs") / args.design
    return Path("environments") / f"{args.env}.yaml", Path("build") / args.env


def create_stack(cf: Any, stack: StackFiles) -> dict[str, str]:
    """create_stack from the committed build files; wait; return the outputs."""
    name = stack.name
    cf.create_stack(
        StackName=name, TemplateBody=stack.template, Parameters=stack.parameters,
        Tags=stack.tags, Capabilities=stack.capabilities,
    )
    deadline = time.monotonic() + STACK_TIMEOUT_S
    while True:
        stack = cf.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status == "CREATE_COMPLETE":
            print(f"deploy: {name} {status}")
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            events = cf.describe_stack_events(StackName=name)["StackEvents"]
            reasons = [f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                       if e["ResourceStatus"].endswith("FAILED")]
            raise RuntimeError(f"{name} ended {status}:\n" + "\n".join(reasons))
        time.sleep(0.5)


def run(spec: Spec, build_dir: Path) -> bool:
    import boto3  # only here: keeps `make synth` free of boto3's import cost

    from .smoke import load_samples, run_all, verify_table

    region = spec.env.region
    cf = boto3.client("cloudformation", region_name=region)
    outputs = [create_stack(cf, stack) for stack in stack_files(spec, build_dir)]
    table = outputs[0]["TableName"]
    ddb = boto3.client("dynamodb", region_name=region)
    print(f"data: loaded {load_samples(ddb, table, spec.design)} sample items into {table}")
    results = run_all(ddb, table, spec.design)
    for r in results:
        where = f" on {r.pattern.index}" if r.pattern.index else ""
        print(f"pattern {r.pattern.name} ({r.pattern.operation}{where}): {'ok' if r.ok else 'FAILED'} - {r.detail}")
        for item in r.items:
            print(f"    {json.dumps(item, sort_keys=True)}")
    template = json.loads((build_dir / "data.template.json").read_text())
    checks = verify_table(ddb, table, spec, template["Resources"]["Table"]["Properties"])
    for c in checks:
        print(f"verify: {c.setting}: {c.status} ({c.detail})")
    passed = sum(r.ok for r in results)
    print(f"local: {passed}/{len(results)} access patterns passed")
    return passed == len(results) and all(c.status != "MISMATCH" for c in checks)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--env", default="dev", help="environment under build/ (default dev)")
    group.add_argument("--design", help="a design under build/designs/")
    args = parser.parse_args(argv)
    env_file, build_dir = target(args)
    try:
        spec = load_spec(env_file)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    if not (build_dir / "data.template.json").exists():
        print(f"local: {build_dir}/data.template.json missing; run make synth", file=sys.stderr)
        return 2
    # SIGTERM unwinds like Ctrl-C so the server is always stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from .moto_server import local_aws_environment

    try:
        with endpoint() as url, local_aws_environment(url, spec.env.region):
            ok = run(spec, build_dir)
    except KeyboardInterrupt:
        print("local: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"local: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
