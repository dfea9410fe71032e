"""`make taskcat-lint`: taskcat lint, each template linted once per set of Regions, not once per test.

    .tools/taskcat/bin/python scripts/taskcat_lint.py lint --input-file build/taskcat/.taskcat.yml ...

taskcat's Lint (taskcat/_cfn_lint.py in 0.9.58, Lint._lint) lints every template of
the project for every test, in that test's Regions: five tests made 25 cfn-lint runs
where ten distinct (template, Regions) pairs exist. cfn-lint's run_checks is a
function of the file, its parsed template, the rules and the Regions, so a repeated
call with the same ones returns the first call's findings: taskcat reports exactly
what it reports without this, from a third of the linting. Runs with the taskcat
virtualenv's Python (.tools/taskcat), as taskcat's own console script does.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import cfnlint.core

_run_checks = cfnlint.core.run_checks
# (file, Regions) -> (the template and rules it was run with, the findings).
_linted: dict[tuple[str, tuple[str, ...]], tuple[Any, Any, Any]] = {}


def run_checks_once(filename: str, template: Any, rules: Any, regions: list[str], *args: Any, **kwargs: Any) -> Any:
    key = (filename, tuple(regions))
    seen = _linted.get(key)
    if seen is not None and seen[0] is template and seen[1] is rules and not args and not kwargs:
        return seen[2]
    findings = _run_checks(filename, template, rules, regions, *args, **kwargs)
    _linted[key] = (template, rules, findings)
    return findings


def main() -> Any:
    cfnlint.core.run_checks = run_checks_once
    from taskcat._cli import main as taskcat_main

    # As taskcat's console script (bin/taskcat) runs it.
    sys.argv[0] = re.sub(r"(-script\.pyw|\.exe)?$", "", sys.argv[0])
    return taskcat_main()


if __name__ == "__main__":
    sys.exit(main())
