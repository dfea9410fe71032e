"""Read YAML into validated models; turn every failure into a Problem with a path."""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .design import Design, check_design
from .environment import Environment, check_environment
from .errors import Problem, SpecError, errors_only, format_path

DESIGNS_DIR = Path(__file__).resolve().parent / "designs"
M = TypeVar("M", bound=BaseModel)
# libyaml's loader when built in: ~10x faster than the pure-Python one, which
# dominated synth time. (It is a little laxer: quote flow-mapping strings
# ending in "?", e.g. {content: "Why?"}, so both parsers agree.)
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Spec:
    """One environment joined with its design: everything a builder needs."""

    env_name: str
    env: Environment
    design: Design
    warnings: tuple[Problem, ...] = ()
    env_file: str = ""  # as shown in error messages

    @property
    def stack_prefix(self) -> str:
        return self.env.stack_prefix or f"{self.design.name}-{self.env_name}"

    @property
    def table_name(self) -> str:
        return self.env.table_name or f"{self.design.table_name}-{self.env_name}"

    @property
    def tags(self) -> dict[str, str]:
        standard = {
            "Design": self.design.name,
            "Environment": self.env_name,
            "ManagedBy": "conversation-table-iac",
        }
        return {**standard, **self.env.tags}


def read_yaml_mapping(path: Path, label: str) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping, or raise SpecError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([Problem(label, "(file)", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        reason = getattr(exc, "problem", None) or str(exc)
        raise SpecError([Problem(label, where, f"YAML syntax error: {reason}")]) from None
    if data is None:
        raise SpecError([Problem(label, "(top level)", "file is empty; expected a mapping of settings")])
    if not isinstance(data, dict):
        raise SpecError(
            [Problem(label, "(top level)", f"expected a mapping of settings, got {type(data).__name__}")]
        )
    return data


def validate(model: type[M], data: dict[str, Any], label: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_problem(model, err, label) for err in exc.errors()]) from None


def _problem(model: type[BaseModel], err: Any, label: str) -> Problem:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return Problem(label, format_path(loc), f"unknown key{hint}")
    if kind == "missing":
        return Problem(label, format_path(loc), "required key is missing")
    message = err["msg"]
    if "input" in err and kind not in ("missing",):
        value = err["input"]
        shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
        message += f" (got {shown})"
        if kind == "string_type" and isinstance(value, (int, float)):
            message += "; quote it in YAML to make it a string"
    return Problem(label, format_path(loc), message)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Follow loc through the model's fields to list the keys valid at that level."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue  # list index or dict key: stays on the element type
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = field.annotation
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Optional[X], list[X], dict[str, X] -> X; anything else unchanged."""
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
        elif origin in (list, tuple) and args:
            annotation = args[0]
        elif origin is dict and len(args) == 2:
            annotation = args[1]
        else:
            return annotation


def design_files(designs_dir: Path = DESIGNS_DIR) -> dict[str, Path]:
    return {p.stem: p for p in sorted(designs_dir.glob("*.yaml"))}


def display_path(path: Path) -> str:
    """Paths relative to the working directory read best in error messages."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@functools.lru_cache(maxsize=None)
def load_design(path: Path) -> tuple[Design, list[Problem]]:
    """Return the design and its warnings; raise SpecError on errors.

    Cached: several environments share one design (models are frozen).
    """
    label = display_path(path)
    design = validate(Design, read_yaml_mapping(path, label), label)
    problems = check_design(design, label)
    if errors_only(problems):
        raise SpecError(problems)
    if design.name != path.stem:
        raise SpecError([Problem(label, "name", f"must equal the file name stem {path.stem!r}")])
    return design, problems


def load_spec(env_file: Path, designs_dir: Path = DESIGNS_DIR) -> Spec:
    """Load one environment file and the design it names, with all cross-checks."""
    label = display_path(env_file)
    env_name = env_file.stem
    problems: list[Problem] = []
    if not _valid_env_name(env_name):
        problems.append(
            Problem(label, "(file name)", "environment file names must be lowercase letters, digits and hyphens")
        )
    env = validate(Environment, read_yaml_mapping(env_file, label), label)
    designs = design_files(designs_dir)
    design: Design | None = None
    warnings: list[Problem] = []
    if env.design not in designs:
        problems.append(
            Problem(label, "design", f"unknown design {env.design!r}; allowed: {', '.join(designs) or '(none)'}")
        )
    else:
        try:
            design, warnings = load_design(designs[env.design])
        except SpecError as exc:
            problems.extend(exc.problems)
    problems.extend(check_environment(env, design, label))
    if errors_only(problems) or design is None:
        raise SpecError(problems)
    return Spec(env_name=env_name, env=env, design=design, warnings=tuple(warnings), env_file=label)


def _valid_env_name(name: str) -> bool:
    return bool(name) and all(c.islower() or c.isdigit() or c == "-" for c in name) and name[0].isalpha()
