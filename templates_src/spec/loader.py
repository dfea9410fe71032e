"""Read designs and environments into validated models, every problem at once.

Strict YAML (spec/source.py) -> pydantic models (types, ranges, unknown
keys) -> the rules of spec/rules/ (cross-field and cross-file). Errors carry
the file, the line and the field path.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from ..diagnostics import Diagnostic, errors_only
from ..errors import SpecError
from .design import Design
from .environment import STANDARD_TAG_KEYS, Backup, Environment
from .multi_account import MultiAccount, source_view
from .rules import check_design, check_environment, files
from .rules.schema import schema_diagnostics
from .source import Source, display_label, read_source

# Where the project keeps its inputs (relative to the working directory,
# except the designs, which ship inside the package).
DESIGNS_DIR = Path(__file__).resolve().parent.parent / "designs"
ENVIRONMENTS_DIR = Path("environments")
# environments/designs/<design>.yaml: one example deployment per design.
DESIGN_EXAMPLES_SUBDIR = "designs"
MANAGED_BY = "conversation-table-iac"
M = TypeVar("M", bound=BaseModel)


class Spec(NamedTuple):
    """One environment joined with its design: everything a builder needs.

    A NamedTuple (a changed copy: `spec._replace(env=...)`), as Source, Grant and the multi-account
    records: immutable, and cheaper to define than a frozen dataclass, which compiles six methods
    at import (docs/testing.md: Benchmark).
    """

    env_name: str
    env: Environment
    design: Design
    source: Source  # the environment file, for diagnostics found while building
    warnings: tuple[Diagnostic, ...] = ()
    # A multi-account global table: the replica set and the account this Spec builds (multi_account.py).
    multi_account: MultiAccount | None = None

    @property
    def env_file(self) -> str:
        """The environment file as shown in messages."""
        return self.source.label

    @property
    def stack_prefix(self) -> str:
        return self.env.stack_prefix or f"{self.design.name}-{self.env_name}"

    @property
    def table_name(self) -> str:
        return self.env.table_name or f"{self.design.table_name}-{self.env_name}"

    @property
    def backup(self) -> Backup | None:
        """The backup plan in effect: the environment's, or the default when protected."""
        backup = (
            self.env.backup
            if self.env.backup is not None
            else (Backup.model_construct() if self.env.protected else None)
        )
        return backup if backup is not None and backup.enabled else None

    @property
    def tags(self) -> dict[str, str]:
        standard = dict(zip(STANDARD_TAG_KEYS, (self.design.name, self.env_name, MANAGED_BY), strict=True))
        return {**standard, **self.env.tags}


def validate(model: type[M], src: Source) -> M:
    try:
        return model.model_validate(src.data)
    except ValidationError as exc:
        raise SpecError(schema_diagnostics(model, exc, src)) from None


def design_files(designs_dir: Path = DESIGNS_DIR) -> dict[str, Path]:
    """Design name -> file, by name: designs_dir's *.yaml (os.listdir: each environment asks, and Path.glob
    costs ten times as much)."""
    try:
        names = sorted(n for n in os.listdir(designs_dir) if n.endswith(".yaml"))
    except OSError:  # as Path.glob: a missing directory holds no designs
        return {}
    return {n[:-5] if n != ".yaml" else n: designs_dir / n for n in names}  # Path.stem's name


def environment_file(name: str, environments_dir: Path = ENVIRONMENTS_DIR) -> Path:
    return environments_dir / f"{name}.yaml"


def load_design(path: Path) -> tuple[Design, list[Diagnostic]]:
    """Return the design and its warnings; raise SpecError on errors.

    Cached per file version: several environments share one design (models
    are frozen), and a file edited since is read again.
    """
    try:
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = (0, 0)  # read_source reports the unreadable file
    return _load_design(path, version)


@functools.cache
def _load_design(path: Path, version: tuple[int, int]) -> tuple[Design, list[Diagnostic]]:
    src = read_source(path)
    design = validate(Design, src)
    found = check_design(design, src)
    if design.name != path.stem:
        found.append(
            src.report(files.DESIGN_NAME_IS_FILE_NAME, ("name",), f"must equal the file name stem {path.stem!r}")
        )
    if errors_only(found):
        raise SpecError(found)
    return design, found


def load_spec(env_file: Path, designs_dir: Path = DESIGNS_DIR) -> Spec:
    """Load one environment file and the design it names, with all cross-checks."""
    env_name = env_file.stem
    problems: list[Diagnostic] = []
    src = read_source(env_file)
    if not files.valid_environment_name(env_name):
        problems.append(
            files.ENVIRONMENT_FILE_NAME.at(
                display_label(env_file),
                "(file name)",
                "environment file names must be lowercase letters, digits and hyphens, starting with a letter",
            )
        )
    env = validate(Environment, src)
    designs = design_files(designs_dir)
    design: Design | None = None
    warnings: list[Diagnostic] = []
    if env.design not in designs:
        problems.append(
            src.report(
                files.UNKNOWN_DESIGN,
                ("design",),
                f"unknown design {env.design!r}; allowed: {', '.join(designs) or '(none)'}",
            )
        )
    else:
        try:
            design, warnings = load_design(designs[env.design])
        except SpecError as exc:
            problems.extend(exc.problems)
    problems.extend(check_environment(env, design, src))
    if errors_only(problems) or design is None:
        raise SpecError(problems)
    # The design's warnings, then the environment's own (errors raised above).
    # (A new list: the design's is cached and shared.)
    warnings = [*warnings, *(p for p in problems if not p.is_error and p not in warnings)]
    return source_view(Spec(env_name=env_name, env=env, design=design, source=src, warnings=tuple(warnings)))
