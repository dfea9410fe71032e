"""One error root and its exit codes.

Every expected failure is a ToolError subclass; the command line
(`cli.py`) turns it into a message and its exit code in one place, so no
traceback reaches a user for bad input, a refused change or an AWS failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from .diagnostics import Diagnostic, errors_only


class ExitCode(IntEnum):
    OK = 0
    AWS_FAILURE = 1  # AWS refused, failed or rolled back; credentials; endpoint
    BAD_INPUT = 2  # a config, template, argument or build file is wrong
    REFUSED = 3  # a guard blocks the change (data loss or a deploy-time failure)
    DRIFTED = 4  # drift: the live table differs from the template
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class ToolError(Exception):
    """Root of every expected failure; carries its exit code.

    str(error) is the one-line cause and what to do; details() are lines
    printed before it (every diagnostic of a SpecError).
    """

    exit_code: ExitCode = ExitCode.AWS_FAILURE

    def details(self) -> list[str]:
        return []


class BadInput(ToolError):
    exit_code = ExitCode.BAD_INPUT


class SpecError(BadInput):
    """Every problem found in the input, so users fix them in one round."""

    def __init__(self, diagnostics: Iterable[Diagnostic], consequence: str = "") -> None:
        self.problems = list(diagnostics)
        summary = f"{len(errors_only(self.problems))} error(s)"
        super().__init__(f"{summary}; {consequence}" if consequence else summary)

    def details(self) -> list[str]:
        return [str(p) for p in self.problems]


class AwsFailure(ToolError):
    exit_code = ExitCode.AWS_FAILURE


class Refused(ToolError):
    exit_code = ExitCode.REFUSED
