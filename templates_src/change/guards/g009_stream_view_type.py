"""G009: a stream's view type changed in place: the update fails.

DynamoDB cannot change the StreamViewType of an enabled stream: the stream
must be disabled, then enabled with the new view type, which creates a new
stream (new ARN, consumers must move) ("You receive a ValidationException if
you try to enable a stream on a table that already has a stream";
StreamSpecification).
"""

from __future__ import annotations

from ...diagnostics import Diagnostic, Rule
from ...stacks.names import TABLE_TYPES
from ..diff import ResourceChange
from ..table_shape import props
from . import Guard, g018_global_stream_change

RULE = Rule(
    "G009",
    "A stream's view type is not changed in place (the update fails)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html#Streams.Enabling",
)


def check(change: ResourceChange) -> list[Diagnostic]:
    if change.resource_type not in TABLE_TYPES or change.action != "Modify":
        return []
    if g018_global_stream_change.multi_replica_eventual(change):
        return []  # G018's way applies: removing the stream of a replicated table is not one
    old = (props(change.old).get("StreamSpecification") or {}).get("StreamViewType")
    new = (props(change.new).get("StreamSpecification") or {}).get("StreamViewType")
    if not (old and new and old != new):
        return []
    return [
        RULE.at(
            change.logical_id,
            "StreamSpecification.StreamViewType",
            f"stream view type {old} -> {new} on an enabled stream: DynamoDB refuses it and the stack rolls back",
            "deploy 1: remove stream_view_type (the stream and its 24 h of records go; stop consumers first); "
            "deploy 2: set the new view type (a new stream ARN); move consumers to it",
        )
    ]


GUARD = Guard(RULE, change=check)
