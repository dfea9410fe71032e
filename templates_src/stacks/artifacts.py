"""build/: the files a stack renders to, written all or nothing, and read back.

The only module that knows the file names under build/<env>/; synth writes
through it and plan, deploy and local read through it.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from troposphere import Template

from ..errors import BadInput
from .encode import template_json
from .names import IAM, NAMED_IAM, REPLICA_KEY_KIND_PREFIX, STACK_KINDS, account_kind, stack_name

BUILD_DIR = Path("build")
ACCESS_REPORT_FILE = "access-report.md"


def template_file(kind: str) -> str:
    return f"{kind}.template.json"


def parameters_file(kind: str) -> str:
    return f"{kind}.parameters.json"


def tags_file(kind: str) -> str:
    return f"{kind}.tags.json"


def render_json(data: Any) -> str:
    """Sorted keys, 2-space indent, trailing newline: byte-stable across runs.

    orjson writes exactly what json.dumps(indent=2, sort_keys=True,
    ensure_ascii=False) writes (tests/test_snapshot.py checks it) at a
    thirtieth of the cost: the indented stdlib encoder is pure Python.
    """
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode("utf-8") + "\n"


class Stack:
    """A built stack, before it is written.

    A plain class (its template rendered once, cached on it): a dataclass compiles its methods
    at import, and synth imports this module (docs/testing.md: Benchmark).
    """

    def __init__(
        self,
        kind: str,
        name: str,
        template: Template,
        parameters: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind  # names.DATA or names.ACCESS
        self.name = name  # CloudFormation stack name
        self.template = template
        self.parameters: dict[str, str] = {} if parameters is None else parameters
        self.tags: dict[str, str] = {} if tags is None else tags

    def __repr__(self) -> str:
        return f"Stack(kind={self.kind!r}, name={self.name!r})"

    def with_kind(self, kind: str) -> Stack:
        """The same stack under another kind (another account's files: names.account_kind)."""
        return Stack(kind, self.name, self.template, self.parameters, self.tags)

    @functools.cached_property
    def template_json(self) -> str:
        """The template file's text, rendered once (troposphere validates on each to_dict)."""
        return template_json(self.template)

    @functools.cached_property
    def template_dict(self) -> dict[str, Any]:
        """The rendered template as data: its file's text read back (orjson, either way, beats a Python walk)."""
        data: dict[str, Any] = orjson.loads(self.template_json)
        return data

    def files(self) -> dict[str, str]:
        """File name -> content for build/<env>/."""
        return {
            template_file(self.kind): self.template_json,
            # The list `aws cloudformation create-stack --parameters file://` reads.
            parameters_file(self.kind): render_json(
                [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(self.parameters.items())]
            ),
            # The list `--tags file://` reads.
            tags_file(self.kind): render_json([{"Key": k, "Value": v} for k, v in sorted(self.tags.items())]),
        }


class StackFiles(NamedTuple):
    """A stack as committed under build/<env>/, ready for create-stack or a change set.

    A NamedTuple (a changed copy: `stack._replace(template=...)`): see Stack.
    """

    kind: str
    name: str
    template: str
    parameters: list[dict[str, str]]
    tags: list[dict[str, str]]

    @property
    def capabilities(self) -> list[str]:
        """What create-stack must acknowledge: named IAM roles, or IAM resources at all."""
        return capabilities_for(self.template_dict)

    @property
    def template_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.template))


def capabilities_for(template: dict[str, Any]) -> list[str]:
    resources = template.get("Resources", {}).values()
    iam = [r for r in resources if str(r.get("Type", "")).startswith("AWS::IAM::")]
    if any("RoleName" in r.get("Properties", {}) for r in iam):
        return [NAMED_IAM]
    return [IAM] if iam else []


def read_stack_files(spec: Any, env_build_dir: Path, account: str | None = None) -> list[StackFiles]:
    """The environment's built stacks: STACK_KINDS in deploy order, then any replica key stacks.

    A global table's key-<region> stacks carry their Region in their kind
    (names.replica_key_region); deploy puts them between data stack updates.
    account: a multi-account global table's other account: its stacks (account-<account>-<kind> files),
    each read as its plain kind (that account's data and access stacks).
    """
    out = []
    # Sorted by file name: a byte-stable order; deploy orders replicas from the data template.
    key_kinds = sorted(
        p.name.removesuffix(template_file("")) for p in env_build_dir.glob(template_file(f"{REPLICA_KEY_KIND_PREFIX}*"))
    )
    for kind in STACK_KINDS if account is not None else (*STACK_KINDS, *key_kinds):
        stack = read_stack_file(spec, env_build_dir, kind, kind if account is None else account_kind(account, kind))
        if stack is not None:
            out.append(stack)
    if not out:
        raise BadInput(f"{env_build_dir}: no templates{f' for account {account}' if account else ''}; run make synth")
    return out


def read_stack_file(spec: Any, env_build_dir: Path, kind: str, file_kind: str | None = None) -> StackFiles | None:
    """One built stack of the environment, or None when it builds none of that kind.

    file_kind: the files' kind when it differs from the stack's (another account's account-<id>-<kind>).
    """
    file_kind = file_kind or kind
    template = env_build_dir / template_file(file_kind)
    if not template.exists():
        return None
    try:
        parameters = json.loads((env_build_dir / parameters_file(file_kind)).read_text(encoding="utf-8"))
        tags = json.loads((env_build_dir / tags_file(file_kind)).read_text(encoding="utf-8"))
        text = template.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(f"{env_build_dir}: {file_kind} stack files unreadable ({exc}); run make synth") from None
    return StackFiles(kind, stack_name(spec, kind), text, parameters, tags)


def _current(directory: Path) -> dict[str, str] | None:
    """Every file under directory (relative path -> text), or None when unreadable.

    os.scandir and binary reads, not Path.rglob and read_text: a synth reads all of build/ (~100
    files) to compare, and pathlib's and text I/O's objects cost more than the reading. Each entry's
    kind comes with its directory listing (no stat per file); as os.walk, directories reached
    through a symbolic link are not entered, files are.
    """
    found: dict[str, str] = {}
    try:
        _read_files(os.fspath(directory), "", found)
    except (OSError, UnicodeDecodeError):
        return None
    return found


def _read_files(directory: str, prefix: str, found: dict[str, str]) -> None:
    with os.scandir(directory) as entries:
        listed = list(entries)
    for entry in listed:
        if entry.is_dir(follow_symlinks=False):
            _read_files(entry.path, f"{prefix}{entry.name}/", found)
        elif entry.is_file():
            with open(entry.path, "rb") as f:
                text = f.read().decode("utf-8")
            if "\r" in text:  # as text mode reads it (universal newlines)
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            found[prefix + entry.name] = text


def _flatten(tree: dict[str, dict[str, str]]) -> dict[str, str]:
    return {f"{subdir}/{name}": content for subdir, files in tree.items() for name, content in files.items()}


def is_current(out: Path, tree: dict[str, dict[str, str]], replace_all: bool) -> bool:
    """True when out already holds exactly this tree (with replace_all: and nothing else)."""
    if not out.is_dir():
        return False
    if replace_all:
        return _current(out) == _flatten(tree)
    return all(_current(out / subdir) == files for subdir, files in tree.items())


def write_tree(out: Path, tree: dict[str, dict[str, str]], replace_all: bool) -> bool:
    """Write into a sibling temp dir, then swap directories in; False when out was already current.

    With replace_all the whole out dir is swapped (stale stacks vanish);
    otherwise only the named subdirectories are. An up-to-date out is left
    untouched (no rewrite, mtimes kept), which is most runs of the edit loop.
    """
    if is_current(out, tree, replace_all):
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    staging: Path | None = _staging_dir(out)
    assert staging is not None
    try:
        for subdir, files in tree.items():
            (staging / subdir).mkdir(parents=True)
            for name, content in files.items():
                (staging / subdir / name).write_text(content, encoding="utf-8")
        if replace_all:
            _swap(staging, out)
            staging = None
        else:
            out.mkdir(exist_ok=True)
            for subdir in tree:
                (out / subdir).parent.mkdir(parents=True, exist_ok=True)
                _swap(staging / subdir, out / subdir)
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging)
    return True


def _staging_dir(out: Path) -> Path:
    """A new empty directory beside out, made by mkdir: its mode follows the umask, as git checkout's do.

    Not tempfile.mkdtemp, whose 0700 the swap would give out itself (build/ left drwx------).
    """
    for _ in range(100):
        path = out.parent / f".{out.name}.tmp-{os.urandom(6).hex()}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{out.parent}: no free name for a staging directory of {out.name}")


def _swap(new: Path, target: Path) -> None:
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    if old.exists():
        shutil.rmtree(old)
