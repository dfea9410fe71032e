#!/usr/bin/env python3
"""`make synth` side by side with `cdk synth` of as many equivalent stacks (docs/testing.md: Benchmark).

    scripts/cdk_compare.py [--dir /tmp/cdkbench] [--runs 5]

In a scratch directory outside the repository (default /tmp/cdkbench) it
installs the AWS CDK from the npm registry (versions pinned below; once),
and writes a CDK app in plain JavaScript that builds one stack per template
of build/ (33): every resource, parameter and output of that template as CDK
L1 constructs (CfnResource, CfnParameter, CfnOutput). That is the least work
a CDK app can do for these stacks (no L2 constructs, no TypeScript to
compile, no assets), so the ratio is the lowest a CDK equivalent would show.
It checks once that cdk.out holds the same resources, parameters and outputs
as build/ (CDK adds only its own metadata), then times `make synth` and
`node_modules/.bin/cdk synth --quiet` in turns, best and median of --runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
PACKAGES = {"aws-cdk-lib": "2.276.0", "aws-cdk": "2.1149.0", "constructs": "10.8.1"}
# No update check, notices or telemetry: nothing but the synth is timed (and none needs the network).
CDK_ENV = {"CDK_DISABLE_VERSION_CHECK": "1", "CDK_DISABLE_CLI_TELEMETRY": "true", "BUILD_DIR": str(BUILD)}

APP = r"""// One CDK stack per build/**/*.template.json: its resources, parameters and outputs as L1 constructs.
const fs = require("fs");
const path = require("path");
const cdk = require("aws-cdk-lib");
const { Construct } = require("constructs");

const build = process.env.BUILD_DIR;
const files = [];
(function walk(dir) {
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".template.json")) files.push(p);
  }
})(build);

// An intrinsic ({"Fn::Sub": ...}) where CDK takes a string: a token for it, as CDK code writes one.
const str = (v) => (typeof v === "string" ? v : cdk.Token.asString(v));

const app = new cdk.App();
for (const file of files) {
  const t = JSON.parse(fs.readFileSync(file, "utf8"));
  const stack = new cdk.Stack(app, stackId(file), { description: t.Description });
  for (const [name, p] of Object.entries(t.Parameters || {})) {
    new cdk.CfnParameter(stack, name, {
      type: p.Type, description: p.Description, allowedPattern: p.AllowedPattern, default: p.Default,
      allowedValues: p.AllowedValues, noEcho: p.NoEcho,
    });
  }
  for (const [name, r] of Object.entries(t.Resources)) {
    const resource = new cdk.CfnResource(stack, name, { type: r.Type, properties: r.Properties });
    for (const attribute of ["DeletionPolicy", "UpdateReplacePolicy", "DependsOn", "Metadata", "Condition"]) {
      if (r[attribute] !== undefined) resource.addOverride(attribute, r[attribute]);
    }
  }
  const outputs = new Construct(stack, "Outputs"); // outputs may share a parameter's name
  for (const [name, o] of Object.entries(t.Outputs || {})) {
    const output = new cdk.CfnOutput(outputs, name, {
      value: str(o.Value), description: o.Description, exportName: o.Export ? str(o.Export.Name) : undefined,
    });
    output.overrideLogicalId(name);
  }
}
app.synth();

function stackId(file) {
  return path.relative(build, file).replace(/\.template\.json$/, "").replace(/[^A-Za-z0-9-]/g, "-");
}
"""


def stack_id(template: Path) -> str:
    """The app's stackId(): build/dev/data.template.json -> dev-data."""
    rel = template.relative_to(BUILD).as_posix().removesuffix(".template.json")
    return "".join(c if c.isalnum() or c == "-" else "-" for c in rel)


def set_up(scratch: Path) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    wanted = {"name": "cdk-compare", "private": True, "dependencies": PACKAGES}
    package = scratch / "package.json"
    if not package.exists() or json.loads(package.read_text()) != wanted or not (scratch / "node_modules").exists():
        package.write_text(json.dumps(wanted, indent=2) + "\n")
        print(f"installing {', '.join(f'{k}@{v}' for k, v in PACKAGES.items())} into {scratch}", file=sys.stderr)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=scratch, check=True)
    (scratch / "app.js").write_text(APP)
    (scratch / "cdk.json").write_text(json.dumps({"app": "node app.js"}) + "\n")


def _without_cdk_additions(template: dict[str, Any]) -> dict[str, Any]:
    """What CDK adds to every stack left out: its metadata resource and paths, the bootstrap version check."""
    resources = {}
    for name, resource in template.get("Resources", {}).items():
        if resource["Type"] == "AWS::CDK::Metadata":
            continue
        resource = dict(resource)
        metadata = {k: v for k, v in resource.pop("Metadata", {}).items() if k != "aws:cdk:path"}
        if metadata:
            resource["Metadata"] = metadata
        resources[name] = resource
    parameters = {k: v for k, v in template.get("Parameters", {}).items() if k != "BootstrapVersion"}
    return {"Resources": resources, "Parameters": parameters, "Outputs": template.get("Outputs", {})}


def check_equivalent(scratch: Path, templates: list[Path]) -> None:
    for template in templates:
        ours = json.loads(template.read_text(encoding="utf-8"))
        cdk = json.loads((scratch / "cdk.out" / f"{stack_id(template)}.template.json").read_text(encoding="utf-8"))
        expected = {k: ours.get(k, {}) for k in ("Resources", "Parameters", "Outputs")}
        if _without_cdk_additions(cdk) != expected:
            sys.exit(f"cdk.out/{stack_id(template)}.template.json is not {template.relative_to(ROOT)}")


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, default=Path("/tmp/cdkbench"), help="scratch directory (default /tmp/cdkbench)"
    )
    parser.add_argument("--runs", type=int, default=5, help="runs of each, in turns (default 5)")
    args = parser.parse_args()
    scratch = args.dir.resolve()
    if scratch.is_relative_to(ROOT):
        sys.exit("--dir must be outside the repository")
    set_up(scratch)
    # Bytecode caches on for make synth, as make bench runs it (a developer's second run has them).
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, **CDK_ENV}
    make = (["make", "--no-print-directory", "synth"], ROOT, env)
    cdk = ([str(scratch / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--no-notices"], scratch, env)
    timed(*make)  # build/ up to date, as the benchmark measures it
    timed(*cdk)
    templates = sorted(BUILD.rglob("*.template.json"))
    check_equivalent(scratch, templates)
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(args.runs):
        ours.append(timed(*make))
        theirs.append(timed(*cdk))
    print(f"{len(templates)} templates; aws-cdk-lib {PACKAGES['aws-cdk-lib']}, aws-cdk (CLI) {PACKAGES['aws-cdk']}")
    for name, times in (("make synth", ours), ("cdk synth", theirs)):
        print(f"{name:10s}  best {min(times) * 1000:7.0f} ms  median {statistics.median(times) * 1000:7.0f} ms")
    print(
        f"cdk synth / make synth: {min(theirs) / min(ours):.0f}x (best), "
        f"{statistics.median(theirs) / statistics.median(ours):.0f}x (median)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
