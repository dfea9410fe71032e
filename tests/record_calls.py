"""A pytest plugin that records every AWS request the tool itself sends, with the deploy role that should allow it.

Registered by tests/conftest.py. Each botocore request made from
`templates_src` code (not from the tests' own checks, not from the local
smoke tooling, which acts as the application's roles) is kept with the
environment it was made for (the `spec` the calling code holds) and that
environment's generated deploy role and key policies, resolved to plain
ARNs for its account. tests/test_deploy_role_calls.py simulates each one.
With RECORD_AWS_CALLS=<file> the records also go to <file>, one JSON line
each (the test's fallback when it runs without the recorded test modules).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient

from templates_src.spec.environment import Ci
from templates_src.spec.loader import Spec
from templates_src.stacks.names import DEPLOY_ROLE, GLOBAL_KEY_ID, KEY_ID, REPLICA_KEY_ID, replica_key_region
from templates_src.stacks.synth import build_stacks

from .iam_support import Arns, resolve

RECORDS: list[dict[str, Any]] = []
TESTS_RUN: set[str] = set()
_roles: dict[str, dict[str, Any]] = {}
_current_test = ""
# An environment without `ci:` (an adopted one, a hand-deployed one) gets the role it would have with it.
_CI = Ci(github_repository="example-org/chat-platform-infra")


def _caller() -> tuple[str, Spec | None] | None:
    """(the innermost templates_src module, the Spec its callers hold) or None for a test's own call."""
    frame: Any = sys._getframe(2)
    module, spec = None, None
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.startswith("tests.") and module is None:
            return None
        if name.startswith("templates_src.local"):
            return None
        if name.startswith("templates_src."):
            module = module or name
            if spec is None:
                found = frame.f_locals.get("spec")
                owner = frame.f_locals.get("self")
                spec = found if isinstance(found, Spec) else getattr(owner, "spec", None)
                spec = spec if isinstance(spec, Spec) else None
        frame = frame.f_back
    return (module, spec) if module is not None else None


def deploy_role_of(spec: Spec) -> dict[str, Any]:
    """The environment's deploy role and key policies, resolved for its account (cached per environment)."""
    with_ci = spec if spec.env.ci is not None else spec._replace(env=spec.env.model_copy(update={"ci": _CI}))
    cache_key = f"{spec.env_file}:{with_ci.env.model_dump_json()}"
    if cache_key in _roles:
        return _roles[cache_key]
    arns = Arns.for_spec(spec)
    key_policies: dict[str, Any] = {}
    role: dict[str, Any] = {}
    for stack in build_stacks(with_ci):
        resources = stack.template_dict.get("Resources", {})
        if stack.kind == DEPLOY_ROLE:
            role = resources["DeployRole"]
        region = replica_key_region(stack.kind) or spec.env.region
        for logical_id in (KEY_ID, GLOBAL_KEY_ID, REPLICA_KEY_ID):
            if logical_id in resources:
                key_policies[region] = resolve(resources[logical_id]["Properties"]["KeyPolicy"], spec, arns)
    (policy,) = role["Properties"]["Policies"]
    path = role["Properties"]["Path"]
    _roles[cache_key] = found = {
        "account": spec.env.account_id,
        "principal": f"arn:aws:iam::{spec.env.account_id}:role{path}{role['Properties']['RoleName']}",
        "policy": resolve(policy["PolicyDocument"], spec, arns),
        "key_policies": key_policies,
        "role_path": spec.env.access.role_path if spec.env.access is not None else "/",
        "table": spec.table_name,
        "encryption": spec.env.encryption,
        "protected": spec.env.protected,
    }
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k not in ("TemplateBody", "StackPolicyBody")}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@pytest.fixture(autouse=True)
def _name_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    global _current_test
    _current_test = request.node.nodeid
    yield
    TESTS_RUN.add(request.node.nodeid)


def pytest_configure(config: pytest.Config) -> None:
    original = BaseClient._make_api_call
    out = Path(os.environ["RECORD_AWS_CALLS"]) if os.environ.get("RECORD_AWS_CALLS") else None

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        caller = _caller()
        if caller is not None:
            module, spec = caller
            record = {
                "prefix": self.meta.service_model.signing_name,
                "service": self.meta.service_model.service_name,
                "operation": operation_name,
                "region": self.meta.region_name,
                "params": _jsonable(api_params),
                "module": module,
                "test": _current_test,
                "env": deploy_role_of(spec) if spec is not None else None,
            }
            RECORDS.append(record)
            if out is not None:
                with out.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(record, sort_keys=True) + "\n")
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
