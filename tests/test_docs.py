"""Docs that stay true: every offline command the docs show is run against the docs' own text.

README.md and docs/*.md are read as a user reads them. Every line of a
```sh, ```bash or ```console block that runs this project (`make <target>`,
`python -m templates_src <command>`, `scripts/plan.py`, `scripts/synth.py`)
is checked:

- a `make` target exists (the Makefile has its rule and `make -n <target>
  VAR=...` exits 0), and the command line it expands to parses with the real
  parser, so a variable the Makefile maps to a renamed option fails here;
- a command's `--options` exist in that command's argparse parser
  (`templates_src.cli.build_parser`), and the whole line parses;
- `ENV=`/`--env` name an environment under environments/ (or one the same
  block's `adopt` writes), `DESIGN=`/`--design` a design example,
  `--env-file` a file, `ALLOW=`/`--allow` guard IDs that exist;
- the offline ones run for real (synth, plan --env, cost, rules, report,
  --help), in a scratch git repository whose HEAD is this project's HEAD and
  whose environments/ are your current ones: nothing is written to your
  build/ or docs/;
- an output excerpt shown right after a command (a plain ``` block straight
  after a shell block, or the output lines of a ```console block) appears
  in what the command really prints (`…` skips lines).

Options named in prose (inline `code` spans) exist in the command the span
names, or in some command, unless they belong to another tool
(FOREIGN_OPTIONS). Every local link resolves (file and heading), the README
links every page, and every "docs/<page>.md: Section" reference in the code,
messages, workflows and docs names an existing page and section.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import functools
import io
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from templates_src.change.guards import guard_rules
from templates_src.cli import build_parser, main

from .conftest import ROOT

# The docs' example project: the shipped environments and designs as the docs were written against them.
DOCS_PROJECT = ROOT / "tests" / "fixtures" / "docs-project"

README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
SHELL_LANGUAGES = {"sh", "bash", "console", "shell"}
OUTPUT_LANGUAGES = {"", "text"}
SKIP_LINES = {"…", "...", ""}
# Commands that run offline and cheaply; anything else (deploy, drift, adopt, local, destroy,
# pr-comment, plan --deployed) is only parsed.
RUNNABLE = {"synth", "plan", "cost", "rules", "report"}
# Exit codes a documented run may end with: a plan may be blocked by a guard (3) in your tree.
ACCEPTED_EXIT = {"plan": {0, 3}}
# Options of other tools (aws, gh, checkov, check-jsonschema) the prose names on their own.
FOREIGN_OPTIONS = {
    # curl (docs/deploying.md: the local endpoint's account)
    "--data",
    # pip and uv (README: Set-up; docs/testing.md: bytecode)
    "--compile-bytecode",
    "--require-hashes",
    "--locked",
    "--upgrade",
    "--s3-bucket-owner",
    "--s3-sse-algorithm",
    "--s3-sse-kms-key-id",
    "--skip-download",
    "--template-body",
    "--capabilities",
    "--method",
    "--builtin-schema",
    "--no-deletion-protection-enabled",
}
# A span or line whose program is one of these is another tool's, not this project's.
FOREIGN_PROGRAMS = {
    "aws",
    "gh",
    "git",
    "pip",
    "uv",
    "npm",
    "node",
    "checkov",
    "check-jsonschema",
    "taskcat",
    "pre-commit",
}
PROJECT_PREFIXES = (
    (".venv/bin/python", "-m", "templates_src"),
    ("python", "-m", "templates_src"),
    ("python3", "-m", "templates_src"),
    ("conversation-table-iac",),
)
SCRIPTS = {"scripts/plan.py": "plan", "scripts/synth.py": "synth"}
CONTROL = {"&&", "||", ";", "|", "&", ";;", "(", ")", "{", "}"}
PLACEHOLDER = re.compile(r"<[^>]*>|…|\bOLD\.json\b|\bNEW\.json\b|\bG00x\b")
# The usage lines' metavariables (`cost --env ENV`, `synth [--out DIR]`): not real names.
METAVARIABLES = {"ENV", "F", "FILE", "DIR", "REF", "NAME", "T", "R", "D", "L"}


def is_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.search(value)) or value in METAVARIABLES


# -- reading the docs ------------------------------------------------------------------------


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence
    language: str
    lines: list[str]
    end: int  # line of the closing fence


def fenced_blocks(path: Path) -> list[Block]:
    blocks: list[Block] = []
    current: Block | None = None
    fence = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = raw.strip()
        if current is None:
            match = re.match(r"(`{3,})\s*([\w-]*)", stripped)
            if match:
                fence = match.group(1)
                current = Block(path, number, match.group(2).lower(), [], 0)
        elif stripped == fence:
            current.end = number
            blocks.append(current)
            current = None
        else:
            current.lines.append(raw)
    assert current is None, f"{path.name}:{current.line}: unclosed code fence"
    return blocks


def prose(path: Path) -> str:
    """The page without its fenced blocks (each block's lines kept as blank lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for block in fenced_blocks(path):
        for i in range(block.line - 1, block.end):
            lines[i] = ""
    return "\n".join(lines)


def inline_spans(path: Path) -> list[tuple[int, str]]:
    text = prose(path)
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(1).replace("\\|", "|")) for m in re.finditer(r"`([^`]+)`", text)
    ]


@dataclass
class DocCommand:
    path: Path
    line: int
    text: str
    output: list[str] | None = None  # the excerpt the docs show after it
    adopted: set[str] = field(default_factory=set)  # environments an adopt in the same block writes

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _is_project_line(text: str) -> bool:
    return bool(re.search(r"(^|[\s;&|])make\s|templates_src|conversation-table-iac|scripts/(plan|synth)\.py", text))


def shell_commands(block: Block, following: Block | None) -> list[DocCommand]:
    found: list[DocCommand] = []
    if block.language == "console":
        for offset, raw in enumerate(block.lines, block.line + 1):
            if raw.startswith("$ "):
                found.append(DocCommand(block.path, offset, raw[2:].strip(), []))
            elif found and found[-1].output is not None:
                found[-1].output.append(raw)
    else:
        pending, start = "", 0
        for offset, raw in enumerate(block.lines, block.line + 1):
            if not pending:
                start = offset
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            text = (pending + raw).strip()
            pending = ""
            if text and not text.startswith("#"):
                found.append(DocCommand(block.path, start, text))
        if found and following is not None and following.language in OUTPUT_LANGUAGES:
            found[-1].output = following.lines
    adopted = {env for c in found for env in _adopted_envs(c.text)}
    for command in found:
        command.adopted = adopted
    return [c for c in found if _is_project_line(c.text)]


def _adopted_envs(text: str) -> set[str]:
    if not re.search(r"\badopt\b", text):
        return set()
    return set(re.findall(r"(?:ENV=|--env[ =])([\w-]+)", text))


def doc_commands() -> list[DocCommand]:
    commands: list[DocCommand] = []
    for path in PAGES:
        blocks = fenced_blocks(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, block in enumerate(blocks):
            if block.language not in SHELL_LANGUAGES:
                continue
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            # An output excerpt follows its command directly: nothing but blank lines between.
            if nxt is not None and any(lines[n].strip() for n in range(block.end, nxt.line - 1)):
                nxt = None
            commands.extend(shell_commands(block, nxt))
    return commands


COMMANDS = doc_commands()


# -- shell words -----------------------------------------------------------------------------


def simple_commands(text: str) -> list[list[str]]:
    """A command line split into simple commands (redirections dropped), as a shell would."""
    lex = shlex.shlex(text, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    out: list[list[str]] = [[]]
    skip = False
    for word in lex:
        if skip:
            skip = False
        elif word in CONTROL:
            out.append([])
        elif word[0] in "<>":
            skip = True  # the redirection's target
        else:
            out[-1].append(word)
    return [c for c in out if c]


def _strip_assignments(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[i]):
        i += 1
    return words[i:]


def project_argv(words: list[str]) -> list[str] | None:
    """The templates_src argv of a simple command, or None when it runs something else."""
    words = _strip_assignments(words)
    for prefix in PROJECT_PREFIXES:
        if tuple(words[: len(prefix)]) == prefix:
            return words[len(prefix) :]
    if words and words[0] in SCRIPTS:
        return [SCRIPTS[words[0]], *words[1:]]
    return None


# -- the parser ------------------------------------------------------------------------------


@functools.cache
def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("build_parser has no subcommands")


def options_of(command: str) -> set[str]:
    return {o for a in subparsers()[command]._actions for o in a.option_strings}


def all_options() -> set[str]:
    return {o for name in subparsers() for o in options_of(name)}


def parses(argv: list[str]) -> str | None:
    """None when build_parser accepts argv, else argparse's complaint."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            return err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else f"exit {exc.code}"
    return None


def environments() -> set[str]:
    return {p.stem for p in (ROOT / "environments").glob("*.yaml")}


def design_examples() -> set[str]:
    return {p.stem for p in (ROOT / "environments" / "designs").glob("*.yaml")}


def guard_ids() -> set[str]:
    return {r.id for r in guard_rules()}


def _option_values(argv: list[str], option: str) -> list[str]:
    values = []
    for i, word in enumerate(argv):
        if word == option and i + 1 < len(argv):
            values.append(argv[i + 1])
        elif word.startswith(option + "="):
            values.append(word.split("=", 1)[1])
    return values


def _named_things(
    where: str, env: list[str], design: list[str], allow: list[str], adopted: set[str], adopting: bool
) -> list[str]:
    """What an ENV/--env, DESIGN/--design, ALLOW/--allow names that does not exist."""
    problems = []
    for name in env:
        if not is_placeholder(name) and name not in environments() | adopted:
            problems.append(f"{where}: environment {name!r} is not under environments/")
    for name in design:
        if not adopting and not is_placeholder(name) and name not in design_examples():
            problems.append(f"{where}: design {name!r} has no example under environments/designs/")
    for ids in allow:
        for guard in ids.split(","):
            if re.fullmatch(r"G\d{3}", guard) and guard not in guard_ids():
                problems.append(f"{where}: {guard} is not a guard")
    return problems


def check_cli(where: str, argv: list[str], adopted: set[str], synopsis: bool = False) -> list[str]:
    """Static checks of one templates_src command line; [] when it is right."""
    if not argv or argv[0] not in subparsers():
        return [f"{where}: {' '.join(argv[:1]) or '(nothing)'} is not a command of {build_parser().prog}"]
    command = argv[0]
    known = options_of(command)
    problems = [
        f"{where}: {command} has no option {option}"
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", " ".join(argv))
        if option not in known
    ]
    if not synopsis and not problems:
        complaint = parses(argv)
        if complaint:
            problems.append(f"{where}: {' '.join(argv)}: {complaint}")
    problems += _named_things(
        where,
        _option_values(argv, "--env"),
        _option_values(argv, "--design"),
        _option_values(argv, "--allow"),
        adopted,
        command == "adopt",
    )
    for env_file in _option_values(argv, "--env-file"):
        if not is_placeholder(env_file) and not (ROOT / env_file).is_file():
            problems.append(f"{where}: --env-file {env_file}: no such file")
    return problems


@functools.cache
def make_dry_run(target: str, variables: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-n", target, *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def check_make(
    where: str, words: list[str], adopted: set[str], expand: bool = True
) -> tuple[list[str], list[list[str]]]:
    """Static checks of one make command; the problems, and the templates_src argvs it expands to.

    Prose names a target on its own (`make plan`): there only the target and the variables it names are
    checked, not the command line it would expand to without the rest.
    """
    variables = tuple(w for w in words[1:] if "=" in w and not w.startswith("-"))
    targets = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
    if not targets:
        return [], []
    values = dict(v.split("=", 1) for v in variables)
    problems = _named_things(
        where,
        [values["ENV"]] if "ENV" in values else [],
        [values["DESIGN"]] if "DESIGN" in values else [],
        [values["ALLOW"]] if "ALLOW" in values else [],
        adopted,
        targets[0] == "adopt",
    )
    # ENV=<env>, or a target named in prose: the targets and the names given are all there is to check.
    template = not expand or any(PLACEHOLDER.search(v) for v in variables)
    expanded: list[list[str]] = []
    for target in targets:
        # make -n succeeds for a name that is only .PHONY: the Makefile must have its rule.
        if not re.search(rf"^{re.escape(target)}\s*:(?!=)", MAKEFILE.read_text(encoding="utf-8"), re.M):
            problems.append(f"{where}: the Makefile has no target {target}")
            continue
        proc = make_dry_run(target, () if template else variables)
        if proc.returncode != 0:
            problems.append(f"{where}: make -n {target} {' '.join(variables)}: {proc.stderr.strip()}")
            continue
        for line in [] if template else proc.stdout.splitlines():
            for words_ in simple_commands(line) if "templates_src" in line else []:
                argv = project_argv(words_)
                if argv is not None:
                    problems += check_cli(f"{where} (make {target} runs)", argv, adopted)
                    expanded.append(argv)
    return problems, expanded


# -- running ---------------------------------------------------------------------------------


def _clean_environment() -> dict[str, str]:
    """os.environ without the test price book (the docs describe the real one) and without GIT_* (a
    hook's GIT_DIR would point the scratch repository's git calls at yours)."""
    return {k: v for k, v in os.environ.items() if k != "PRICE_BOOK" and not k.startswith("GIT_")}


@contextlib.contextmanager
def _in(directory: Path) -> Iterator[None]:
    before, saved = Path.cwd(), dict(os.environ)
    os.environ.clear()
    os.environ.update(_clean_environment())
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)
        os.environ.clear()
        os.environ.update(saved)


def runnable(argv: list[str]) -> bool:
    if "--help" in argv or "-h" in argv:
        return True
    if argv[0] == "plan":
        return "--env" in argv and "--deployed" not in argv
    return argv[0] in RUNNABLE


@dataclass
class Scratch:
    """A git repository of the docs' example project (environments/, build/), its HEAD the same."""

    root: Path
    runs: dict[tuple[str, ...], tuple[int, str, str]] = field(default_factory=dict)

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        if argv and argv[0] in subparsers() and "--designs-dir" in options_of(argv[0]) and "--designs-dir" not in argv:
            argv = [*argv, "--designs-dir", str(DOCS_PROJECT / "designs")]
        key = tuple(argv)
        if key not in self.runs:
            out, err = io.StringIO(), io.StringIO()
            with _in(self.root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(list(argv))
                except SystemExit as exc:  # --help
                    code = exc.code if isinstance(exc.code, int) else 0
            self.runs[key] = (code, out.getvalue(), err.getvalue())
        return self.runs[key]


def _git(cwd: Path, *args: str) -> str:
    identity = ["-c", "user.name=docs", "-c", "user.email=docs@example.com", "-c", "commit.gpgsign=false"]
    proc = subprocess.run(
        ["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=True, env=_clean_environment()
    )
    return proc.stdout


def _bases() -> set[str]:
    """Every git ref a documented plan is run against."""
    found = set()
    for command in COMMANDS:
        found |= set(re.findall(r"(?:BASE=|--base[ =])([\w./-]+)", command.text))
    return found - {"HEAD"}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Scratch:
    """The docs' example project: the environments and designs the docs were written against, frozen in
    tests/fixtures/docs-project/ (the shipped ones when they were written), synthesised and committed.
    Your own environments and designs never change what the docs' examples print."""
    root = tmp_path_factory.mktemp("docs-project")
    shutil.copytree(DOCS_PROJECT / "environments", root / "environments")
    project = Scratch(root)
    code, _, err = project.run(["synth", "--out", "build"])
    assert code == 0, f"synth of the docs' example project failed: {err}"
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "the docs' example project")
    for ref in _bases():
        _git(root, "update-ref", f"refs/remotes/{ref}", "HEAD")
    project.runs.clear()
    return project


def _normalise(line: str) -> str:
    return " ".join(line.split())


def excerpt_problems(where: str, excerpt: list[str], output: str) -> list[str]:
    printed = [_normalise(line) for line in output.splitlines()]
    return [
        f"{where}: the docs show {line.strip()!r}, which the command does not print"
        for line in excerpt
        if line.strip() not in SKIP_LINES and not any(_normalise(line) in p for p in printed)
    ]


# -- the tests -------------------------------------------------------------------------------


def test_the_docs_show_the_offline_commands() -> None:
    shown = {" ".join(c.text.split()[:2]) for c in COMMANDS}
    assert {"make synth", "make plan", "make cost", "make rules", "make access-report"} <= shown, sorted(shown)
    assert any(c.output for c in COMMANDS), "no output excerpt found: the parser of the docs is broken"


@pytest.mark.parametrize("command", COMMANDS, ids=[f"{c.where} {c.text[:60]}" for c in COMMANDS])
def test_a_documented_command_is_right_and_runs(command: DocCommand, scratch: Scratch) -> None:
    problems: list[str] = []
    to_run: list[list[str]] = []
    if "[--" in command.text:  # a usage synopsis, e.g. scripts/plan.py OLD.json NEW.json [--format markdown|json]
        argv = project_argv(command.text.replace("[", " ").replace("]", " ").split())
        assert argv is not None, f"{command.where}: {command.text}"
        problems += check_cli(command.where, argv, command.adopted, synopsis=True)
    else:
        for words in simple_commands(command.text):
            words = _strip_assignments(words)
            if words and words[0] == "make":
                make_problems, expanded = check_make(command.where, words, command.adopted)
                problems += make_problems
                to_run += [argv for argv in expanded if runnable(argv)]
            elif (argv := project_argv(words)) is not None:
                problems += check_cli(command.where, argv, command.adopted)
                if runnable(argv) and not any(map(is_placeholder, argv[1:])):
                    to_run.append(argv)
    assert not problems, "\n".join(problems)

    output = ""
    for argv in to_run:
        code, out, err = scratch.run(argv)
        assert code in ACCEPTED_EXIT.get(argv[0], {0}), f"{command.where}: {' '.join(argv)} exited {code}: {err}"
        output += out
    if command.output:
        assert to_run, f"{command.where}: the docs show the output of {command.text!r}, which this test does not run"
        missing = excerpt_problems(command.where, command.output, output)
        assert not missing, "\n".join(missing)


def test_options_named_in_prose_exist() -> None:
    problems = []
    for path in PAGES:
        for line, span in inline_spans(path):
            options = re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", span)
            if not options:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            words = span.replace("[", " ").replace("]", " ").split()
            argv = project_argv(words)
            if argv is None and words[0] in subparsers():
                argv = words
            if argv is not None:
                problems += check_cli(where, argv, set(), synopsis=True)
            elif words[0] in FOREIGN_PROGRAMS:
                continue
            else:
                problems += [
                    f"{where}: `{span}`: {o} is no command's option (another tool's? add it to FOREIGN_OPTIONS)"
                    for o in options
                    if o not in all_options() | FOREIGN_OPTIONS
                ]
    assert not problems, "\n".join(problems)


def test_make_commands_named_in_prose_exist() -> None:
    problems = []
    for path in PAGES:
        for line, span in inline_spans(path):
            words = span.split()
            if len(words) > 1 and words[0] == "make" and not words[1].startswith("-"):
                problems += check_make(f"{path.relative_to(ROOT)}:{line}", words, set(), expand=False)[0]
    assert not problems, "\n".join(problems)


# -- links and references ----------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def headings(path: Path) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.+)$", prose(path), re.M)]


def links(path: Path) -> list[tuple[int, str]]:
    text = prose(path)
    text = re.sub(r"`[^`]*`", "", text)
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in re.finditer(r"\]\(([^)\s]+)\)", text)]


def test_every_local_link_resolves() -> None:
    problems = []
    for path in PAGES:
        for line, target in links(path):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            resolved = (path.parent / file).resolve() if file else path
            where = f"{path.relative_to(ROOT)}:{line}: {target}"
            if not resolved.exists():
                problems.append(f"{where}: no such file")
            elif anchor and resolved.suffix == ".md" and anchor not in {slug(h) for h in headings(resolved)}:
                problems.append(f"{where}: no heading #{anchor} in {resolved.name}")
    assert not problems, "\n".join(problems)


def test_the_readme_links_every_page() -> None:
    linked = {(README.parent / file).resolve() for _, t in links(README) for file in [t.partition("#")[0]] if file}
    missing = [p.relative_to(ROOT).as_posix() for p in DOCS if p.resolve() not in linked]
    assert not missing, f"README.md does not link {missing}"


def sections(path: Path) -> set[str]:
    """What a reference may name in a page: its headings and its bold lead-ins."""
    bold = re.findall(r"\*\*([^*]+)\*\*", prose(path))
    return {_section(s) for s in [*headings(path), *bold]}


def _section(text: str) -> str:
    return " ".join(text.replace("`", "").split()).strip(" .:").lower()


REFERENCE = re.compile(r"docs/([a-z0-9-]+\.md)(?::[\s#]*([A-Z][^;()\"'|\]\n]*))?")
REFERENCING_FILES = ("templates_src", "tests", "scripts", "environments", ".github", "docs", "security")


def _tree(top: Path) -> list[Path]:
    """Every file under top, not descending into installed packages (security/node_modules) or caches."""
    found = []
    for folder, subdirs, names in os.walk(top):
        subdirs[:] = sorted(d for d in subdirs if d not in ("node_modules", "__pycache__"))
        found += [Path(folder) / name for name in names]
    return sorted(found)


def referencing_files() -> list[Path]:
    files = [README, ROOT / "Makefile", ROOT / ".pre-commit-config.yaml", ROOT / "pyproject.toml"]
    for top in REFERENCING_FILES:
        files += [
            p
            for p in _tree(ROOT / top)
            if p.suffix in {".py", ".yaml", ".yml", ".md", ".mjs", ".toml"} and p != Path(__file__)
        ]
    return files


def test_references_to_doc_sections_name_a_page_and_its_section() -> None:
    problems = []
    seen = 0
    for path in referencing_files():
        text = path.read_text(encoding="utf-8")
        for match in REFERENCE.finditer(text):
            seen += 1
            where = f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
            page = ROOT / "docs" / match.group(1)
            if not page.is_file():
                problems.append(f"{where}: docs/{match.group(1)} does not exist")
                continue
            if match.group(2):
                ref = _section(match.group(2))
                if not any(ref.startswith(s) or s.startswith(ref) for s in sections(page) if s):
                    problems.append(f"{where}: docs/{match.group(1)} has no section {match.group(2).strip()!r}")
    assert seen > 20, "the references were not found: has their form changed?"
    assert not problems, "\n".join(problems)


def test_no_reference_points_to_the_readme_for_what_moved() -> None:
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in referencing_files()
        if p != README
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"README[:\s\"']+[A-Z]", line) and "README.md" not in line
    ]
    assert not found, "point to the docs/ page instead:\n" + "\n".join(found)


# -- tables that mirror the code ---------------------------------------------------------------


def test_the_guards_table_lists_every_guard() -> None:
    text = prose(ROOT / "docs" / "plan-and-guards.md")
    listed = re.findall(r"^\| (G\d{3}) \|", text, re.M)
    assert listed == sorted(guard_ids()), "docs/plan-and-guards.md: the guards table and the guard registry differ"


def _layout_paths(path: Path) -> list[str]:
    """The paths in the first column of a page's layout tables (headed `path` or `outside the package`)."""
    spans: list[str] = []
    for table in re.findall(r"(?:^\|.*\n)+", prose(path), re.M):
        rows = [row.split("|")[1].strip() for row in table.splitlines()]
        if rows[0] in ("path", "outside the package"):
            spans += [s for row in rows[2:] for s in re.findall(r"`([^`]+)`", row) if "{" not in s]
    return spans


def _glob(span: str) -> list[str]:
    """A layout path as globs, from the root and from templates_src/: <env> and g00x are wildcards."""
    pattern = re.sub(r"\d+x", "*", re.sub(r"<[^>]+>", "*", span))
    return [pattern, f"templates_src/{pattern}"]


def test_the_layout_names_every_module_and_only_paths_that_exist() -> None:
    problems = [
        f"{page.relative_to(ROOT)}: `{span}` does not exist"
        for page in (README, ROOT / "docs" / "layout.md")
        for span in _layout_paths(page)
        if not any(list(ROOT.glob(g.rstrip("/"))) for g in _glob(span))
    ]
    patterns = [g + "*" if g.endswith("/") else g for s in _layout_paths(ROOT / "docs" / "layout.md") for g in _glob(s)]
    modules = [p.relative_to(ROOT).as_posix() for p in (ROOT / "templates_src").rglob("*.py")]
    problems += [
        f"docs/layout.md does not name {m}"
        for m in sorted(modules)
        if not m.endswith("__init__.py") and not any(fnmatch.fnmatchcase(m, p) for p in patterns)
    ]
    assert not problems, "\n".join(problems)


def test_the_readme_fits_on_a_few_screens() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 150, "README.md is the map: move detail to docs/"
