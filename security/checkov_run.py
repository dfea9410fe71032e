"""checkov, as its console script runs it, with JSONPath's parse table built once per process.

    .tools/checkov/bin/python security/checkov_run.py [checkov's arguments]
    .tools/checkov/bin/python security/checkov_run.py --self-check

checkov's graph builder parses a JSONPath expression for every Fn::Sub it
resolves (bc_jsonpath_ng), and bc_jsonpath_ng builds PLY's LALR table anew for
each expression ("we regenerate the parse table every time": upstream
kennknowles/python-jsonpath-rw#69, h2non/jsonpath-ng#233). Over build/ that was
256 tables, ~10 s of a ~18 s scan. The table is a function of the grammar
alone, so one parser per grammar and start symbol is built and reused: PLY's
parser keeps no state between parse() calls. The grammar's actions use only
their argument, never the parser instance they were bound to.

--self-check parses a set of expressions of the shapes checkov builds with the
stock parser and with the cached one, and exits 1 unless every result is the
same (make checkov, so make security and make test, runs it before the scan).
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from typing import Any

import ply.yacc
from bc_jsonpath_ng import parser as jsonpath_parser
from bc_jsonpath_ng.ext import parser as ext_parser

_stock_parse_token_stream = jsonpath_parser.JsonPathParser.parse_token_stream
# Per thread: PLY's parser keeps its stacks on itself while it parses.
_tables = threading.local()


def _parse_token_stream(self: Any, token_iterator: Any, start_symbol: str = "jsonpath") -> Any:
    key = (type(self), self.debug, start_symbol)
    built: dict[tuple[Any, ...], Any] = _tables.__dict__.setdefault("built", {})
    lr = built.get(key)
    if lr is None:
        # As the stock method calls it (its table module's name and directory), once.
        lr = built[key] = ply.yacc.yacc(
            module=self,
            debug=self.debug,
            tabmodule=f"parser_{start_symbol}_parsetab",
            outputdir=os.path.dirname(jsonpath_parser.__file__),
            write_tables=0,
            start=start_symbol,
            errorlog=jsonpath_parser.logger,
        )
    return lr.parse(lexer=jsonpath_parser.IteratorToTokenStream(token_iterator))


def install() -> None:
    jsonpath_parser.JsonPathParser.parse_token_stream = _parse_token_stream  # type: ignore[method-assign]


# Shapes checkov's CloudFormation graph builder parses (blocks.py: the attribute's path, with list
# indexes), for both grammars; and the extended grammar's own: filters, sorts, arithmetic.
SELF_CHECK = [
    "Properties.KeySchema[0].AttributeName",
    "Properties.Policies[1].PolicyDocument.Statement[2].Resource[0]",
    "Properties.SSESpecification.KMSMasterKeyId",
    "Resources.*.Properties",
    "Statement[*].Action",
    "a.b[1:3].c",
    "`this`.x | y",
]
SELF_CHECK_EXTENDED = [
    "$..Statement[?(@.Effect == 'Deny')]",
    "foo[\\size] + 1",
    "objects[/cow,\\cat]",
]


def _shape(node: Any) -> Any:
    """A parse result as plain data: each node's class and attributes (some nodes have no repr)."""
    if isinstance(node, (list, tuple)):
        return [_shape(n) for n in node]
    if hasattr(node, "__dict__"):
        return (type(node).__name__, {k: _shape(v) for k, v in sorted(vars(node).items())})
    return repr(node)


def self_check() -> int:
    """Each expression parsed by the stock parser and by the cached one: both must parse it, alike."""
    cases = [(jsonpath_parser.JsonPathParser, e) for e in SELF_CHECK]
    cases += [(ext_parser.ExtentedJsonPathParser, e) for e in SELF_CHECK + SELF_CHECK_EXTENDED]
    problems = []
    for grammar, expression in cases:
        try:
            tokens = grammar().lexer_class().tokenize(expression)
            stock = _shape(_stock_parse_token_stream(grammar(), tokens))
            cached = _shape(grammar().parse(expression))
        except Exception as exc:  # an expression that does not parse compares nothing
            problems.append(f"{grammar.__name__} {expression!r}: {type(exc).__name__}: {exc}")
            continue
        if stock != cached:
            problems.append(f"{grammar.__name__} {expression!r}: stock {stock} != cached {cached}")
    for line in problems:
        print(f"checkov_run self-check: {line}", file=sys.stderr)
    print(f"checkov_run self-check: {len(cases) - len(problems)} of {len(cases)} parses the same")
    return 1 if problems else 0


def main() -> Any:
    install()
    if sys.argv[1:] == ["--self-check"]:
        return self_check()
    from checkov.main import Checkov

    # As checkov's console script (bin/checkov) runs it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=SyntaxWarning)
        return Checkov().run()


if __name__ == "__main__":
    sys.exit(main())
