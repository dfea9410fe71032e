"""Strict YAML: one file read into data plus the line of every field.

PyYAML (both parsers) silently keeps the last of two equal keys and reads
`yes/no/on/off` as booleans (YAML 1.1). Here a duplicate key at any level,
and an unquoted YAML 1.1 boolean word, are errors naming both lines; only
`true`/`false` are booleans, and unquoted dates stay strings. Every
diagnostic about the file is then reported with its line and with list
items named where they have a name (`access_patterns[list-messages]`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..diagnostics import Diagnostic, PathPart, Rule, format_path
from ..errors import SpecError
from .rules import yaml_input

try:  # libyaml's parser when built in: ~10x faster than the pure-Python one
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML built without libyaml

    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)


_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# The words PyYAML's YAML 1.1 resolver reads as booleans besides true/false.
# (Not y/n: PyYAML never read those as booleans, and N is DynamoDB's number type.)
YAML11_BOOLEAN_WORDS = frozenset(
    w for word in ("yes", "no", "on", "off") for w in (word, word.capitalize(), word.upper())
)


class _StrictResolver(yaml.resolver.Resolver):
    """YAML 1.2 core booleans only; no implicit timestamps (dates stay strings)."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
        for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    }

    # A scalar's tag depends on its kind, text and style alone (no path resolvers here): resolved
    # once per distinct scalar, as libyaml's parser asks for every node (keys repeat across files).
    _resolved: dict[tuple[Any, Any, Any], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        key = (kind, value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = self._resolved[key] = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path resolvers (add_path_resolver is never called): nothing to track."""

    def ascend_resolver(self) -> None:
        """See descend_resolver."""


_StrictResolver.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class _StrictLoader(_Parser, yaml.constructor.SafeConstructor, _StrictResolver):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        yaml.constructor.SafeConstructor.__init__(self)
        _StrictResolver.__init__(self)


class Source(NamedTuple):
    """A parsed YAML file: its label in messages, its data, and each field's line (a NamedTuple: see Spec)."""

    label: str
    data: dict[str, Any]
    lines: dict[tuple[PathPart, ...], int]

    def line_of(self, path: tuple[PathPart, ...]) -> int | None:
        """The line of the field, or of its nearest parent that is in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def display_path(self, path: tuple[PathPart, ...]) -> str:
        """List indexes become [name] where the item has a name."""
        parts: list[PathPart] = []
        node: Any = self.data
        for part in path:
            if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
                item = node[part]
                name = item.get("name") if isinstance(item, dict) else None
                parts.append(f"[{name}]" if isinstance(name, str) and name else part)
                node = item
                continue
            parts.append(part)
            node = node.get(part) if isinstance(node, dict) else None
        return format_path(parts)

    def report(self, rule: Rule, path: tuple[PathPart, ...], message: str) -> Diagnostic:
        return rule.at(self.label, self.display_path(path), message, line=self.line_of(path))


def display_label(path: Path) -> str:
    """Paths relative to the working directory read best in messages.

    (os.path, not Path.resolve and relative_to, which cost more than the rest of reading a small file.)
    """
    full, cwd = os.path.realpath(path), os.path.realpath(os.getcwd())
    if full == cwd:
        return "."
    under = cwd if cwd.endswith(os.sep) else cwd + os.sep
    return full[len(under) :] if full.startswith(under) else str(path)


def read_source(path: Path) -> Source:
    """Parse a YAML file that must hold a mapping, strictly, or raise SpecError."""
    label = display_label(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SpecError([yaml_input.UNREADABLE.at(label, "(file)", f"cannot read: {reason}")]) from None
    return parse_source(text, label)


def parse_source(text: str, label: str) -> Source:
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[tuple[PathPart, ...], int] = {}
        problems: list[Diagnostic] = []
        data = None
        if node is not None:
            try:
                data = _Build(loader, label, lines, problems).value(node, ())
            except Exception:  # anything _Build leaves to PyYAML (or fails on): PyYAML's way, from the start
                lines, problems = {}, []
                _walk(node, (), label, lines, problems)
                if not problems:
                    data = loader.construct_document(node)
        if problems:
            raise SpecError(problems)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise SpecError([yaml_input.SYNTAX.at(label, "(file)", f"YAML syntax error: {reason}", line=line)]) from None
    finally:
        loader.dispose()
    if data is None:
        raise SpecError(
            [yaml_input.NOT_A_MAPPING.at(label, "(top level)", "file is empty; expected a mapping of settings", line=1)]
        )
    if not isinstance(data, dict):
        raise SpecError(
            [
                yaml_input.NOT_A_MAPPING.at(
                    label, "(top level)", f"expected a mapping of settings, got {type(data).__name__}", line=1
                )
            ]
        )
    return Source(label, data, lines)


_STR, _NULL, _BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{t}" for t in ("str", "null", "bool", "int", "float"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


class _Unusual(Exception):
    """A node _Build leaves to PyYAML's constructor: another tag, a merge key, an alias, a key that is no scalar."""


class _Build:
    """What _walk then PyYAML's SafeConstructor give (data, lines, problems), in one walk at a third of the cost.

    For the plain YAML configs are written in: mappings with scalar keys, lists,
    and str, null, bool, int and float scalars (each constructed as
    SafeConstructor does). Anything else raises, and parse_source starts over
    the PyYAML way; tests/test_design_checks.py checks both agree.
    """

    def __init__(
        self, loader: _StrictLoader, label: str, lines: dict[tuple[PathPart, ...], int], problems: list[Diagnostic]
    ):
        self.loader, self.label, self.lines, self.problems = loader, label, lines, problems
        self.seen: set[int] = set()  # collection nodes: an alias reaches one twice

    def value(self, node: Node, path: tuple[PathPart, ...]) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, ScalarNode):
            # Plain (unquoted) scalars only: libyaml gives style "" where PyYAML gives None.
            if not node.style and node.value in YAML11_BOOLEAN_WORDS:
                self.problems.append(_yaml11_boolean(self.label, path, node))
            return self.scalar(node)
        tag = node.tag
        if id(node) in self.seen:
            raise _Unusual("alias")
        self.seen.add(id(node))
        if isinstance(node, SequenceNode) and tag == _SEQ:
            return [self.value(item, path + (i,)) for i, item in enumerate(node.value)]
        if not (isinstance(node, MappingNode) and tag == _MAP):
            raise _Unusual(tag)
        mapping: dict[Any, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _Unusual("key")  # a list or mapping as key
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first_line:
                self.problems.append(_duplicate_key(self.label, path, key, first_line[key], line))
                continue
            first_line[key] = line
            self.lines[path + (key,)] = line
            mapping[self.scalar(key_node)] = self.value(value_node, path + (key,))
        return mapping

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return self.loader.construct_yaml_bool(node)
        if tag == _INT:
            return self.loader.construct_yaml_int(node)
        if tag == _FLOAT:
            return self.loader.construct_yaml_float(node)
        raise _Unusual(tag)


def _duplicate_key(label: str, path: tuple[PathPart, ...], key: str, first: int, line: int) -> Diagnostic:
    return yaml_input.DUPLICATE_KEY.at(
        label,
        format_path(path + (key,)),
        f"key {key!r} appears twice (lines {first} and {line}); YAML would silently keep the last one: remove one",
        line=line,
    )


def _yaml11_boolean(label: str, path: tuple[PathPart, ...], node: ScalarNode) -> Diagnostic:
    return yaml_input.YAML11_BOOLEAN.at(
        label,
        format_path(path),
        f"{node.value!r} is a boolean in YAML 1.1 and a string in YAML 1.2; write true or false "
        "(or quote it for a string)",
        line=node.start_mark.line + 1,
    )


def _walk(
    node: Node,
    path: tuple[PathPart, ...],
    label: str,
    lines: dict[tuple[PathPart, ...], int],
    problems: list[Diagnostic],
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first_line:
                problems.append(_duplicate_key(label, path, key, first_line[key], line))
                continue
            first_line[key] = line
            lines[path + (key,)] = line
            _walk(value_node, path + (key,), label, lines, problems)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), label, lines, problems)
    # Plain (unquoted) scalars only: libyaml gives style "" where PyYAML gives None.
    elif isinstance(node, ScalarNode) and not node.style and node.value in YAML11_BOOLEAN_WORDS:
        problems.append(_yaml11_boolean(label, path, node))
