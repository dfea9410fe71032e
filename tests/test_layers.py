"""Imports point one way: spec -> stacks -> change -> deploy; local tooling apart."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "templates_src"
# Base modules every layer may use; the entry points on top may use anything.
BASE = {"errors", "diagnostics", "aws_calls"}
TOP = {"cli", "__main__", "rules_doc", "__init__"}
LAYERS = ["spec", "stacks", "change", "deploy"]


def _layer(module: str) -> str:
    """templates_src.stacks.table -> stacks; templates_src.errors -> errors."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> list[str]:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            found += [n for n in names if n.startswith("templates_src")]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("templates_src")]
    return found


def test_no_module_imports_from_a_layer_above_it_or_from_local() -> None:
    wrong = []
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 30
    for path in modules:
        source = _layer(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for target in _imports(path):
            dest = _layer(target)
            if source in TOP or dest in BASE or dest == source:
                continue
            if dest == "local":
                wrong.append(f"{path.relative_to(ROOT)} imports local tooling {target}")
            elif source in BASE:
                wrong.append(f"{path.relative_to(ROOT)} (base) imports {target}")
            elif source == "local":
                continue  # local tooling may use the product
            elif dest in TOP or LAYERS.index(dest) > LAYERS.index(source):
                wrong.append(f"{path.relative_to(ROOT)} ({source}) imports {target} from a layer above")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_relative_imports() -> None:
    imports = _imports(PACKAGE / "stacks" / "table.py")
    assert "templates_src.spec.loader" in imports and "templates_src.stacks.names" in imports


def test_synth_imports_neither_the_layers_above_nor_boto3_nor_sam(tmp_path: Path) -> None:
    """make synth's speed (docs/testing.md: Benchmark): no deploy, change or local layer, no boto3,
    and troposphere without troposphere.serverless (templates_src/stacks/__init__.py)."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\nfrom templates_src.cli import main\n"
        "assert main(['synth', '--out', sys.argv[1]]) == 0\nprint(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "build")], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(proc.stdout.splitlines()[-1])
    unwanted = [
        m
        for m in loaded
        if m.split(".")[0] in ("boto3", "botocore", "moto")
        or m.startswith(("templates_src.deploy", "templates_src.change", "templates_src.local"))
        or m == "troposphere.serverless"
    ]
    assert unwanted == []
    assert "troposphere.dynamodb" in loaded  # the check above looked at a real synth
