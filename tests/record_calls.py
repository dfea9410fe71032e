"""A pytest plugin that records every AWS request the tool itself sends.

Loaded with `-p tests.record_calls` and RECORD_AWS_CALLS=<file>: each
botocore request made from `templates_src` code (not from the tests' own
checks, not from the local smoke tooling, which acts as the application's
roles) is appended to <file> as one JSON line: service, operation, region,
parameters and the test that made it. tests/test_deploy_role_calls.py then
simulates each one against the generated deploy role.
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

_OUT = os.environ.get("RECORD_AWS_CALLS")
_current_test = ""


def _tool_frame() -> str | None:
    """The innermost templates_src module on the stack above botocore, or None."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("templates_src."):
            return None if module.startswith("templates_src.local") else module
        if module.startswith("tests."):
            return None
        frame = frame.f_back  # type: ignore[assignment]
    return None


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


def pytest_configure(config: pytest.Config) -> None:
    if not _OUT:
        return
    original = BaseClient._make_api_call
    out = Path(_OUT)

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        module = _tool_frame()
        if module is not None:
            record = {
                "service": self.meta.service_model.service_name,
                "prefix": self.meta.service_model.signing_name,
                "operation": operation_name,
                "region": self.meta.region_name,
                "params": _jsonable(api_params),
                "module": module,
                "test": _current_test,
            }
            with out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
