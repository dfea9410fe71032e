"""Helpers for the offline IAM proofs: resolve intrinsics, run the simulator.

The access templates reference the data stack through Fn::ImportValue and
pseudo parameters. To simulate, they are resolved to concrete ARNs for the
environment's account and region, as CloudFormation would at deploy time;
the Cognito policy variable is substituted with the caller's identity id,
as IAM does at request time.
"""

from __future__ import annotations

import atexit
import json
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

from templates_src.spec.loader import Spec
from templates_src.stacks.names import (
    KEY_ARN_EXPORT,
    KEY_ID_EXPORT,
    STREAM_ARN_EXPORT,
    TABLE_ARN_EXPORT,
    TABLE_NAME_EXPORT,
    export_name,
)

from .conftest import ROOT

SIMULATOR = ROOT / "tests" / "iam" / "simulate.mjs"
STREAM_LABEL = "2026-01-01T00:00:00.000"
KEY_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@dataclass(frozen=True)
class Arns:
    account: str
    region: str
    table: str
    stream: str
    key: str

    @classmethod
    def for_spec(cls, spec: Spec) -> Arns:
        account, region = spec.env.account_id, spec.env.region
        table = f"arn:aws:dynamodb:{region}:{account}:table/{spec.table_name}"
        return cls(
            account=account,
            region=region,
            table=table,
            stream=f"{table}/stream/{STREAM_LABEL}",
            key=f"arn:aws:kms:{region}:{account}:key/{KEY_ID}",
        )

    def exports(self, spec: Spec) -> dict[str, str]:
        return {
            export_name(spec, TABLE_ARN_EXPORT): self.table,
            export_name(spec, STREAM_ARN_EXPORT): self.stream,
            export_name(spec, KEY_ARN_EXPORT): self.key,
            export_name(spec, KEY_ID_EXPORT): self.key.rsplit("/", 1)[1],
            export_name(spec, TABLE_NAME_EXPORT): self.table.rsplit("/", 1)[1],
        }


def resolve(
    value: Any,
    spec: Spec,
    arns: Arns,
    params: dict[str, str] | None = None,
    attributes: dict[str, str] | None = None,
) -> Any:
    """Resolve the intrinsics the templates use into plain values.

    params: Ref of a parameter or resource -> its value; attributes: "LogicalId.Attribute" -> what
    Fn::GetAtt returns (a data stack's own resources, given by the test as CloudFormation would).
    """
    pseudo = {"AWS::Partition": "aws", "AWS::AccountId": arns.account, "AWS::Region": arns.region}
    params = params or {}
    attributes = attributes or {}

    def again(v: Any) -> Any:
        return resolve(v, spec, arns, params, attributes)

    if isinstance(value, list):
        return [again(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Fn::ImportValue":
            return arns.exports(spec)[again(arg)]
        if fn == "Ref":
            return {**pseudo, **params}[arg]
        if fn == "Fn::GetAtt":
            return attributes[".".join(arg) if isinstance(arg, list) else arg]
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            lookup = {**pseudo, **params, **attributes, **{k: again(v) for k, v in variables.items()}}
            # ${!Literal} escapes and IAM policy variables such as
            # ${cognito-identity.amazonaws.com:sub} (not a CFN name) stay as written.
            return re.sub(r"\$\{([A-Za-z0-9:.]+)\}", lambda m: lookup.get(m[1], m[0]), text)
    return {k: again(v) for k, v in value.items()}


def role_policies(template: dict[str, Any], spec: Spec, arns: Arns) -> dict[str, dict[str, Any]]:
    """Logical role id -> its resolved inline permission policy."""
    out = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        (policy,) = resource["Properties"]["Policies"]
        out[logical_id] = resolve(policy["PolicyDocument"], spec, arns)
    return out


class _Simulator:
    """One Node process for the whole test process, started on first use: a batch of cases is one
    line of JSON in, one line of decisions out. Starting Node and loading the simulator (~0.15 s of
    CPU) cost more than most batches, and the suite sends some seventy."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        # Node's stderr, read back when it fails; open as long as the process (a pipe nobody reads could fill).
        self._errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self._lock = threading.Lock()
        atexit.register(self.close)

    def run(self, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                if not (ROOT / "node_modules" / ".installed").exists():
                    raise AssertionError(
                        "the IAM simulator is not installed (node_modules/): run `make bootstrap`, or `make test`, "
                        "which installs it from package-lock.json"
                    )
                process = self._process = subprocess.Popen(
                    ["node", str(SIMULATOR)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=self._errors,
                    text=True,
                    cwd=ROOT,
                )
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps(cases) + "\n")
                process.stdin.flush()
            except BrokenPipeError:
                pass  # it died: said below, with its stderr
            answer = process.stdout.readline()
            if not answer:
                process.wait()
                self._errors.seek(0)
                raise AssertionError(f"the IAM simulator exited with {process.returncode}: {self._errors.read()}")
            return list(json.loads(answer))

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # it ends its loop at the end of its input
            self._process.wait(timeout=10)


_SIMULATOR = _Simulator()


def simulate(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _SIMULATOR.run(cases)


def substitute_caller(policy: dict[str, Any], identity_id: str) -> dict[str, Any]:
    text = json.dumps(policy).replace("${cognito-identity.amazonaws.com:sub}", identity_id)
    return json.loads(text)
