"""The access report's Mermaid flowchart: roles, access patterns, the table and its indexes, with
the patterns observed in CloudTrail traffic (adopt --traffic) drawn apart. Expected text written out."""

from __future__ import annotations

from templates_src.spec.design import OBSERVED_MARKER, Design
from templates_src.spec.loader import Spec
from templates_src.stacks.report import render_access_report, render_flowchart

from .conftest import fixture_build, fixture_spec

DESIGN = {
    "name": "conversations",
    "table_name": "conversations",
    "partition_key": {"name": "pk", "type": "S"},
    "sort_key": {"name": "sk", "type": "S"},
    "global_secondary_indexes": [
        {"name": "ByTitle", "partition_key": {"name": "title", "type": "S"}},
        {"name": "Unused", "partition_key": {"name": "other", "type": "S"}},
    ],
    "local_secondary_indexes": [{"name": "ByAt", "sort_key": {"name": "at", "type": "S"}}],
    "access_patterns": [
        {
            "name": "get-chat",
            "description": "declared by hand",
            "operation": "GetItem",
            "key_condition": "pk = :pk AND sk = :sk",
            "roles": ["app", "reader"],
        },
        {
            "name": "query-before",
            "description": f"{OBSERVED_MARKER}2026-11-01 to 2026-11-11: 3 call(s) by arn:aws:iam::1:role/x",
            "operation": "Query",
            "index": "ByAt",
            "key_condition": "pk = :pk AND at < :at",
            "roles": ["reader"],
        },
        {
            "name": "put-chat",
            "description": f"{OBSERVED_MARKER}2026-11-01 to 2026-11-11: 9 call(s) by arn:aws:iam::1:role/y",
            "operation": "PutItem",
            "roles": ["app", "per_user"],
        },
        {
            "name": "by-title",
            "operation": "Query",
            "index": "ByTitle",
            "key_condition": "title = :t",
            "roles": ["app"],
        },
    ],
}


def _spec() -> Spec:
    spec = fixture_spec("dev")
    return spec._replace(design=Design.model_validate(DESIGN))


def test_the_flowchart_draws_roles_patterns_table_and_indexes_with_observed_patterns_marked() -> None:
    spec = _spec()
    lines = render_flowchart(spec)
    start = lines.index("```mermaid")
    assert lines[start:] == [
        "```mermaid",
        "flowchart LR",
        "    subgraph roles [Roles]",
        '        role_app["app<br/>conversations-dev-app"]',
        '        role_reader["reader<br/>conversations-dev-reader"]',
        '        role_stream_consumer["stream_consumer<br/>conversations-dev-stream-consumer"]',
        '        role_ops["ops<br/>conversations-dev-ops"]',
        '        role_per_user["per_user<br/>conversations-dev-per-user"]',
        "    end",
        "    subgraph patterns [Access patterns]",
        '        p1["get-chat<br/>GetItem<br/>pk = :pk AND sk = :sk"]',
        # "<" is Mermaid syntax inside a label: its entity code.
        '        p2(["query-before<br/>Query on ByAt<br/>pk = :pk AND at #60; :at<br/>observed in traffic"])',
        '        p3(["put-chat<br/>PutItem<br/>observed in traffic"])',
        '        p4["by-title<br/>Query on ByTitle<br/>title = :t"]',
        "    end",
        '    subgraph data ["Table conversations-dev"]',
        '        table[("conversations-dev<br/>pk, sk")]',
        '        gsi1[/"GSI ByTitle<br/>title"/]',
        '        gsi2[/"GSI Unused<br/>other"/]',
        '        lsi1[/"LSI ByAt<br/>pk, at"/]',
        "    end",
        "    gsi1 --- table",
        "    gsi2 --- table",
        "    lsi1 --- table",
        "    role_app --> p1",
        "    role_reader --> p1",
        "    p1 --> table",
        "    role_reader -.-> p2",
        "    p2 -.-> lsi1",
        "    role_app -.-> p3",
        "    role_per_user -.-> p3",
        "    p3 -.-> table",
        "    role_app --> p4",
        "    p4 --> gsi1",
        '    role_stream_consumer -->|"reads the stream"| table',
        '    role_ops -->|"backups and exports"| table',
        "    classDef observed stroke-dasharray: 5 5",
        "    class p2,p3 observed",
        "```",
        "",
    ]


def test_a_label_escapes_what_mermaid_reads_as_syntax() -> None:
    from templates_src.stacks.report import _label

    assert _label('a "b" #c <d> e') == '"a #34;b#34; #35;c #60;d#62; e"'


def test_the_report_ends_with_the_diagram_and_is_deterministic() -> None:
    spec = _spec()
    first = render_access_report(spec)
    assert first == render_access_report(spec)
    assert first.index("## Diagram") > first.index("Access patterns (the source")


def test_a_roleless_environment_draws_the_patterns_and_the_table() -> None:
    spec = fixture_spec("dev")
    bare = spec._replace(env=spec.env.model_copy(update={"access": None}), design=Design.model_validate(DESIGN))
    lines = render_flowchart(bare)
    assert "    subgraph roles [Roles]" in lines and not any(line.startswith("        role_") for line in lines)
    assert not any(line.startswith("    role_") for line in lines), "no edge from a role that is not configured"
    assert "    p1 --> table" in lines


def test_every_built_report_has_its_diagram() -> None:
    for env in ("dev", "prod", "global"):
        text = (fixture_build() / env / "access-report.md").read_text()
        assert text.count("```mermaid\nflowchart LR\n") == 1, env
