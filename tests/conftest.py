"""Shared fixtures: the repository layout and helpers to synthesise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from templates_src.loader import Spec, load_spec

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ROOT / "environments"
BUILD = ROOT / "build"
ENV_NAMES = sorted(p.stem for p in ENVIRONMENTS.glob("*.yaml"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def spec_for(env: str) -> Spec:
    return load_spec(ENVIRONMENTS / f"{env}.yaml")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}
