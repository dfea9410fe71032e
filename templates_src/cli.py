"""The command line: `python -m templates_src <command>` (console script `conversation-table-iac`).

A thin layer over the library: each command parses its arguments and calls
one function of a layer. Every expected failure is a ToolError; `main`
prints it and returns its exit code, here and nowhere else:

    0 ok   1 AWS failure   2 bad input   3 refused by a guard   4 drifted   130 interrupted

Layers are imported inside the commands, so `synth` never pays for boto3.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import BadInput, ExitCode, SpecError, ToolError

PROG = "python -m templates_src"
BUILD = Path("build")
ENVIRONMENTS = Path("environments")


# -- commands ------------------------------------------------------------------------------


def cmd_synth(args: argparse.Namespace) -> ExitCode:
    import gc

    # A short-lived, allocation-heavy run (pydantic builds its validators, troposphere
    # its templates): no cyclic garbage worth collecting before exit. Saves ~10% of synth.
    # Called in-process (tests, a script), the collector is left as it was found.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _synth(args)
    finally:
        if collecting:
            gc.enable()


def _synth(args: argparse.Namespace) -> ExitCode:
    from .spec.loader import DESIGNS_DIR
    from .stacks.artifacts import write_tree
    from .stacks.synth import Target, all_targets, render_all
    from .stacks.workflow import CI_DIR, DEPLOY_WORKFLOW, WORKFLOW_FILE

    started = time.perf_counter()
    designs_dir = args.designs_dir or DESIGNS_DIR
    if args.env_file:
        targets = [Target(f, f.stem) for f in args.env_file]
    else:
        targets = all_targets(args.environments_dir)
        if not targets:
            raise BadInput(f"{args.environments_dir}: no *.yaml environment configs found")
    try:
        rendered = render_all(targets, designs_dir, with_taskcat=not args.env_file)
    except SpecError as exc:
        raise SpecError(exc.problems, consequence=f"nothing written to {args.out}/") from None
    for warning in rendered.warnings:
        print(warning, file=sys.stderr)
    wrote = write_tree(args.out, rendered.tree, replace_all=not args.env_file)
    if args.out == BUILD and CI_DIR in rendered.tree:  # the project's own build: GitHub reads the workflow here
        workflow = rendered.tree[CI_DIR][WORKFLOW_FILE]
        if not DEPLOY_WORKFLOW.is_file() or DEPLOY_WORKFLOW.read_text(encoding="utf-8") != workflow:
            DEPLOY_WORKFLOW.parent.mkdir(parents=True, exist_ok=True)
            DEPLOY_WORKFLOW.write_text(workflow, encoding="utf-8")
            print(f"synth: wrote {DEPLOY_WORKFLOW} (from {args.out}/{CI_DIR}/{WORKFLOW_FILE})", file=sys.stderr)
    elapsed = (time.perf_counter() - started) * 1000
    action = "wrote" if wrote else "up to date:"
    # stderr: stdout stays clean for commands that synth first (make plan > comment.md).
    print(
        f"synth: {action} {rendered.file_count} files for {', '.join(rendered.tree)} in {args.out}/ ({elapsed:.0f} ms)",
        file=sys.stderr,
    )
    return ExitCode.OK


def cmd_plan(args: argparse.Namespace) -> ExitCode:
    from .change.plan import (
        environment_plan,
        parse_allow,
        plan_environment,
        plan_stack,
        read_template,
        refuse_if_blocked,
        render_json,
        render_markdown,
        render_text,
    )
    from .spec.loader import environment_file

    allowed = parse_allow(args.allow)
    if args.env:
        if args.old or args.new:
            raise BadInput("give OLD.json NEW.json, or --env ENV, not both")
        env_file = environment_file(args.env, args.environments_dir)
        if args.deployed:  # against what CloudFormation has now: no git involved
            from .deploy.deployer import plan_deployed
            from .spec.loader import DESIGNS_DIR, load_spec
            from .stacks.artifacts import read_stack_files
            from .stacks.synth import Target, check_current

            designs_dir = args.designs_dir or DESIGNS_DIR
            check_current(Target(env_file, args.env), args.build, designs_dir)
            spec = load_spec(env_file, designs_dir)
            plans = plan_deployed(spec, read_stack_files(spec, args.build / args.env))
        else:
            plans, env_findings = plan_environment(args.env, args.build, args.base, env_file, args.designs_dir)
            if env_findings:
                plans.append(environment_plan(str(env_file), env_findings))
    elif args.deployed:
        raise BadInput("--deployed plans an environment: give --env ENV")
    elif args.old and args.new:
        plans = [plan_stack(f"{args.old} -> {args.new}", read_template(args.old), read_template(args.new))]
    else:
        raise BadInput("give OLD.json NEW.json, or --env ENV")
    render = {"text": render_text, "markdown": render_markdown, "json": render_json}[args.format]
    print(render(plans, allowed))
    refuse_if_blocked(plans, allowed)
    return ExitCode.OK


def _deploy(args: argparse.Namespace, destroy: bool) -> ExitCode:
    from .change.plan import parse_allow
    from .deploy.deployer import deploy_environment, import_environment, release_environment
    from .spec.loader import DESIGNS_DIR, environment_file, load_spec
    from .stacks.artifacts import read_stack_files
    from .stacks.synth import Target, check_current

    allowed = frozenset() if destroy else parse_allow(args.allow)  # destroy allows no guard
    env_file = environment_file(args.env, args.environments_dir)
    designs_dir = args.designs_dir or DESIGNS_DIR
    spec = load_spec(env_file, designs_dir)
    account = getattr(args, "account", None)
    if account is not None:  # a multi-account global table's other account: its own stacks
        from .deploy.accounts import account_spec

        spec = account_spec(spec, account)
    stacks = read_stack_files(spec, args.build / args.env, account)
    if not destroy:  # never deploy templates that are not what the YAML says now
        check_current(Target(env_file, args.env), args.build, designs_dir)
    if getattr(args, "import_table", False):
        import_environment(spec, stacks)
    elif getattr(args, "release_table", False):
        release_environment(spec, stacks)
    else:
        deploy_environment(spec, stacks, allowed, destroy=destroy)
    return ExitCode.OK


def cmd_migrate(args: argparse.Namespace) -> ExitCode:
    from .change.plan import parse_allow
    from .deploy.migrate import migrate_environment
    from .spec.loader import DESIGNS_DIR, environment_file, load_spec
    from .stacks.artifacts import read_stack_file, read_stack_files
    from .stacks.names import MIGRATION
    from .stacks.synth import Target, check_current

    env_file = environment_file(args.env, args.environments_dir)
    designs_dir = args.designs_dir or DESIGNS_DIR
    spec = load_spec(env_file, designs_dir)
    check_current(Target(env_file, args.env), args.build, designs_dir)
    stacks = read_stack_files(spec, args.build / args.env)
    consumer = read_stack_file(spec, args.build / args.env, MIGRATION)
    stacks += [consumer] if consumer is not None else []
    migrate_environment(spec, stacks, args.bucket, parse_allow(args.allow), rollback=args.rollback)
    return ExitCode.OK


def cmd_deploy(args: argparse.Namespace) -> ExitCode:
    return _deploy(args, destroy=False)


def cmd_destroy(args: argparse.Namespace) -> ExitCode:
    return _deploy(args, destroy=True)


def cmd_local(args: argparse.Namespace) -> ExitCode:
    import signal

    # The one import of local tooling: the product layers never import it.
    from .local.runner import run_local
    from .spec.loader import DESIGN_EXAMPLES_SUBDIR, DESIGNS_DIR, environment_file, load_spec

    if args.design:
        env_file = environment_file(args.design, args.environments_dir / DESIGN_EXAMPLES_SUBDIR)
        build_dir = args.build / DESIGN_EXAMPLES_SUBDIR / args.design
    else:
        env_file = environment_file(args.env, args.environments_dir)
        build_dir = args.build / args.env
    spec = load_spec(env_file, args.designs_dir or DESIGNS_DIR)
    # SIGTERM unwinds like Ctrl-C so the server is always stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return ExitCode.OK if run_local(spec, build_dir) else ExitCode.AWS_FAILURE


def cmd_report(args: argparse.Namespace) -> ExitCode:
    from .stacks.artifacts import ACCESS_REPORT_FILE

    envs = [args.env] if args.env else sorted(p.parent.name for p in args.build.glob(f"*/{ACCESS_REPORT_FILE}"))
    if not envs:
        raise BadInput(f"{args.build}/: no access reports; run make synth")
    for env in envs:
        path = args.build / env / ACCESS_REPORT_FILE
        if not path.is_file():
            raise BadInput(f"{path}: no access report (the environment has no access: section, or run make synth)")
        print(path.read_text(encoding="utf-8"))
    return ExitCode.OK


def cmd_pr_comment(args: argparse.Namespace) -> ExitCode:
    from .change.plan import environment_plan, parse_allow, plan_environment
    from .change.pr_comment import EnvironmentPlan, allowed_by_labels, refuse_if_blocked, render_comment
    from .stacks.synth import all_targets

    allowed = parse_allow(args.allow) | allowed_by_labels(args.labels)
    environments = []
    for target in all_targets(args.environments_dir):
        if not target.is_environment:
            continue  # design examples are not deployed
        plans, env_findings = plan_environment(target.subdir, args.build, args.base, target.env_file, args.designs_dir)
        if env_findings:
            plans.append(environment_plan(str(target.env_file), env_findings))
        environments.append(EnvironmentPlan(target.subdir, plans))
    if not environments:
        raise BadInput(f"{args.environments_dir}: no *.yaml environment configs found")
    print(render_comment(environments, allowed, args.log_hint))
    refuse_if_blocked(environments, allowed)
    return ExitCode.OK


def cmd_adopt(args: argparse.Namespace) -> ExitCode:
    from .deploy.adopt import (
        adoption,
        check_targets,
        design_name_for,
        refuse_legacy_global_table,
        with_observed,
        write_adoption,
    )
    from .deploy.aws import aws_errors, session
    from .deploy.live import read_existing, regional_clients
    from .spec.loader import DESIGNS_DIR, environment_file

    designs = args.designs_dir or DESIGNS_DIR
    design_name = args.design or design_name_for(args.table)
    env_path = environment_file(args.env, args.environments_dir)
    check_targets(design_name, designs / f"{design_name}.yaml", env_path, args.force)  # before any AWS call
    with aws_errors(f"adopt {args.table}"):
        aws = session()
        account = aws.client("sts", region_name=args.region).get_caller_identity()["Account"]
        found = read_existing(
            args.table,
            aws.client("dynamodb", region_name=args.region),
            aws.client("kms", region_name=args.region),
            regional_clients(aws),
        )
    if found is None:
        raise BadInput(
            f"--table: no table {args.table} in {args.region} (account {account}); check the name and --region"
        )
    table, facts = found
    with aws_errors(f"adopt {args.table}"):
        refuse_legacy_global_table(table, aws.client("dynamodb", region_name=args.region))
    result = adoption(facts, args.region, account, design_name)
    if args.traffic:
        from .deploy.traffic_logs import read_logs

        with aws_errors(f"read the CloudTrail logs in {args.traffic}"):
            s3 = aws.client("s3", region_name=args.region) if args.traffic.startswith("s3://") else None
            result = with_observed(result, read_logs(args.traffic, args.table, s3), table)
    design_path, env_path = write_adoption(result, designs / f"{design_name}.yaml", env_path, args.table, args.force)
    print(f"adopt: wrote {design_path} and {env_path} from table {args.table} ({args.region}, account {account})")
    for line in result.report:
        print(f"  - {line}")
    print(
        f"next: make synth, review build/{args.env}/, make drift ENV={args.env} (in sync but for what is listed "
        f"above), then make import ENV={args.env}, make plan ENV={args.env} DEPLOYED=1 and make deploy ENV={args.env}"
    )
    return ExitCode.OK


def cmd_drift(args: argparse.Namespace) -> ExitCode:
    from .deploy.drift import drift_environment, render_markdown, render_text
    from .spec.loader import DESIGNS_DIR, environment_file, load_spec
    from .stacks.artifacts import read_stack_files, template_file
    from .stacks.names import DATA

    spec = load_spec(environment_file(args.env, args.environments_dir), args.designs_dir or DESIGNS_DIR)
    stacks = read_stack_files(spec, args.build / args.env)
    report = drift_environment(spec, stacks, str(args.build / args.env / template_file(DATA)))
    print((render_markdown if args.format == "markdown" else render_text)(report))
    return ExitCode.OK if report.in_sync else ExitCode.DRIFTED


def cmd_cost(args: argparse.Namespace) -> ExitCode:
    from .change.cost import estimate_spec
    from .change.cost.render import render_markdown, render_text, to_json
    from .spec.loader import DESIGNS_DIR, environment_file, load_spec
    from .stacks.data_stack import build_data_stack

    if bool(args.env) == bool(args.env_file):
        raise BadInput("give --env ENV or --env-file FILE")
    env_file = args.env_file or environment_file(args.env, args.environments_dir)
    spec = load_spec(env_file, args.designs_dir or DESIGNS_DIR)
    estimate = estimate_spec(spec, build_data_stack(spec).template_dict)
    if estimate is None:
        raise BadInput(
            f"{spec.env_file}: traffic: no traffic profile to price; add one (docs/cost.md: Cost and capacity)"
        )
    render = {"text": render_text, "markdown": render_markdown, "json": to_json}[args.format]
    print(render(spec.env_name, estimate))
    return ExitCode.OK


def cmd_rules(args: argparse.Namespace) -> ExitCode:
    from .rules_doc import render_rules

    print(render_rules(markdown=args.format == "markdown"), end="")
    return ExitCode.OK


# -- parser --------------------------------------------------------------------------------


def _options(wanted: set[str]) -> dict[str, argparse.ArgumentParser]:
    """Options several commands share, each declared once (argparse parents): those wanted."""
    options: dict[str, argparse.ArgumentParser] = {}
    if "dirs" in wanted:
        options["dirs"] = dirs = argparse.ArgumentParser(add_help=False)
        dirs.add_argument("--environments-dir", type=Path, default=ENVIRONMENTS, help="default environments")
        dirs.add_argument("--designs-dir", type=Path, help="default templates_src/designs")
    if "build" in wanted:
        options["build"] = build = argparse.ArgumentParser(add_help=False)
        build.add_argument("--build", type=Path, default=BUILD, help="build directory (default build)")
    if "allow" in wanted:
        options["allow"] = allow = argparse.ArgumentParser(add_help=False)
        allow.add_argument(
            "--allow",
            default=os.environ.get("ALLOW", ""),
            help="guard IDs to allow, comma-separated (default: $ALLOW)",
        )
    if "env" in wanted:
        options["env"] = env = argparse.ArgumentParser(add_help=False)
        env.add_argument("--env", required=True, help="environment name (environments/<env>.yaml)")
    return options


# Each command: its handler, its help, the shared options it takes.
COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], ExitCode], str, tuple[str, ...]]] = {
    "synth": (cmd_synth, "render build/ from environments/ and the designs (no AWS account needed)", ("dirs",)),
    "plan": (
        cmd_plan,
        "offline plan of a change with data-loss guards (exit 3 when blocked)",
        ("build", "dirs", "allow"),
    ),
    "deploy": (
        cmd_deploy,
        "change-set deploy of an environment's data then access stack",
        ("env", "build", "dirs", "allow"),
    ),
    "migrate": (
        cmd_migrate,
        "move an environment's table to its design's new key schema, phase by phase (docs/migrations.md)",
        ("env", "build", "dirs", "allow"),
    ),
    "destroy": (cmd_destroy, "delete an unprotected environment's stacks (access first)", ("env", "build", "dirs")),
    "local": (
        cmd_local,
        "deploy to a moto server on 127.0.0.1, load samples, run every access pattern",
        ("build", "dirs"),
    ),
    "report": (cmd_report, "print who may do what (build/<env>/access-report.md)", ("build",)),
    "pr-comment": (
        cmd_pr_comment,
        "every environment's plan as one pull-request comment (exit 3 when blocked)",
        ("build", "dirs", "allow"),
    ),
    "adopt": (
        cmd_adopt,
        "write a design and environment from an existing table (reads AWS, changes nothing)",
        ("dirs",),
    ),
    "drift": (
        cmd_drift,
        "compare the live table with build/<env>/ (exit 4 when drifted)",
        ("env", "build", "dirs"),
    ),
    "cost": (cmd_cost, "monthly cost and capacity of an environment under its traffic profile", ("dirs",)),
    "rules": (cmd_rules, "list every spec rule and plan guard with its ID", ()),
}


def _synth_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--env-file",
        action="append",
        type=Path,
        help="synthesise only this environment config (repeatable); default: every one",
    )
    p.add_argument("--out", type=Path, default=BUILD, help="output directory (default build)")


def _plan_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", nargs="?", type=Path, help="old template JSON")
    p.add_argument("new", nargs="?", type=Path, help="new template JSON")
    p.add_argument("--env", help="plan build/<env>/ against --base")
    p.add_argument("--base", default="HEAD", help="git ref for --env (default HEAD)")
    p.add_argument(
        "--deployed",
        action="store_true",
        help="with --env: plan against the deployed stacks (AWS credentials) instead of --base",
    )
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")


def _deploy_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--account",
        help="a multi-account global table: deploy the stacks of the replica in this account, with its credentials "
        "(docs/global-tables.md: Multi-account global tables)",
    )
    moves = p.add_mutually_exclusive_group()
    moves.add_argument(
        "--import",
        dest="import_table",
        action="store_true",
        help="take the existing table (see adopt), or the one --release-table let go, into the data stack with an "
        "IMPORT change set",
    )
    moves.add_argument(
        "--release-table",
        dest="release_table",
        action="store_true",
        help="remove the (Retained) table from the data stack, kept, exports unchanged: the first step from a "
        "table to a global table (docs/global-tables.md: Moving a live table to a global table)",
    )


def _migrate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--bucket", help="the S3 bucket the old table is exported to (default: access.roles.ops.export_bucket)"
    )
    p.add_argument(
        "--rollback",
        action="store_true",
        help="undo the freeze (and the cutover): the old table takes writes and is granted again",
    )


def _adopt_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--table", required=True, help="the live table's name")
    p.add_argument("--region", required=True, help="its region")
    p.add_argument("--env", required=True, help="the environment to write (environments/<env>.yaml)")
    p.add_argument("--design", help="the design's name (default: from the table name)")
    p.add_argument("--force", action="store_true", help="replace existing design and environment files")
    p.add_argument(
        "--traffic",
        metavar="LOGS",
        help="CloudTrail data-event logs (a folder, a file, or s3://bucket/prefix): propose the access patterns, "
        "roles and traffic profile they show",
    )


def _drift_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "markdown"), default="text")


def _local_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--env", default="dev", help="an environment under build/ (default dev)")
    group.add_argument("--design", help="a design's example deployment under build/designs/")


def _report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", help="one environment (default: every one with an access stack)")


def _pr_comment_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", required=True, help="git ref of the PR's base, e.g. origin/main")
    p.add_argument("--labels", default="", help="the PR's labels, comma-separated; allow:G00x allows that guard")
    p.add_argument("--log-hint", default="the full plan is in the job log", help="where a truncated comment points to")


def _cost_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", help="environment name (environments/<env>.yaml)")
    p.add_argument("--env-file", type=Path, help="an environment config anywhere")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")


def _rules_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "markdown"), default="text")


# Each command's own arguments (besides the shared options of COMMANDS).
ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "synth": _synth_arguments,
    "plan": _plan_arguments,
    "deploy": _deploy_arguments,
    "migrate": _migrate_arguments,
    "adopt": _adopt_arguments,
    "drift": _drift_arguments,
    "local": _local_arguments,
    "report": _report_arguments,
    "pr-comment": _pr_comment_arguments,
    "cost": _cost_arguments,
    "rules": _rules_arguments,
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `only` (a command's name), that command's subparser alone.

    main() asks for `only` when the first argument names a command: building
    every subparser costs more than some commands' work. Without it (help, a
    mistyped command) every command is listed.
    """
    # The console script and scripts/*.py show their own name; `python -m` shows PROG.
    invoked = Path(sys.argv[0]).name
    parser = argparse.ArgumentParser(
        prog=PROG if invoked in ("__main__.py", "-c", "") else invoked,
        description="Conversation-table infrastructure as code: designs + environments -> CloudFormation.",
        epilog="Exit codes: 0 ok, 1 AWS failure, 2 bad input, 3 refused by a guard, 4 drifted (drift). "
        "`make` reports any failure as 2: call this command for the exact code.",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    commands = {only: COMMANDS[only]} if only is not None else COMMANDS
    shared = _options({k for _, _, parents in commands.values() for k in parents})
    for name, (handler, text, parents) in commands.items():
        p = sub.add_parser(name, help=text, description=text, parents=[shared[k] for k in parents])
        p.set_defaults(handler=handler)
        if name in ARGUMENTS:
            ARGUMENTS[name](p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every expected failure becomes its message and exit code here."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    try:
        return int(args.handler(args))
    except ToolError as exc:
        for line in exc.details():
            print(line, file=sys.stderr)
        message = str(exc)  # said once: a message that already starts with the command keeps its own start
        said = message.startswith((f"{args.command}:", f"{args.command} "))
        print(message if said else f"{args.command}: {message}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(f"{args.command}: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`| head`): not an error of ours; keep Python from
        # complaining again while flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
