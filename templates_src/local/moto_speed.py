"""The local endpoint's speed: moto_shim's fix 17. Nothing here changes what moto answers.

A migration's rehearsal makes tens of thousands of requests, a deploy reads its templates again
and again; moto's server spent most of its time on four things that do not depend on the request:

1. Routing: it listed moto's package directory (some 170 isdir calls, under its one dispatch
   lock) to find the backend. The list is read once.
2. Connections: werkzeug's development server closes every connection after one response (its
   run_wsgi: http.server cannot drain an unread body before the next request line), so each
   call made a new TCP connection, a new server thread, and a 10 ms wait for the client to hang
   up. Here a request whose body has a Content-Length (every botocore call but a chunked upload)
   is read whole before the app runs and the response is sent with its length, so the
   connection serves the next request. Anything else goes to werkzeug's own handling, which closes.
   A Content-Length that is not a length is answered 400 (as AWS answers it), and "100 Continue"
   leaves at once (the response's buffered writes would hold it back).
3. DynamoDB items: moto's response serializer walks the AttributeValue shape member by member
   for every attribute of every item (ten members, each through its alias lookups), so a Scan of
   5,000 items took seconds. An attribute value that is already plain DynamoDB JSON (S, N,
   BOOL, NULL, SS, NS, and M or L of those) is written as it is, which is what that walk
   produces for it; anything else (binary, moto's own objects) still takes the walk.
4. Templates: moto read every template body, JSON included, with PyYAML's pure-Python loader
   (twice per change set, for the stack's and the change set's), a third of its CPU in a deploy.
   A body that is JSON is read as JSON, which gives what that loader gives for it (quoted
   strings stay strings; JSON has no tags); anything else still goes to moto's YAML reading.

moto_shim's fix 20, in the same spirit:

5. Request headers: http.server parses each request's header block with the email package's
   feed parser, a quarter of the server's CPU on a PutItem. A block whose every line is a plain
   `Name: value` field in printable ASCII, ended by an empty line (what botocore sends), is
   split here into the same message, field for field; any other block (a folded line, a line
   without a colon, a byte outside printable ASCII, no empty line) goes to the email parser.
6. Dispatch: moto listed its response class's methods (inspect.getmembers) on every request to
   see whether the action is one; the list is made once per class.
"""

from __future__ import annotations

import functools
import http.client
import io
import json
import re
import traceback
from typing import Any

import moto.core.responses
import moto.server
from moto import backends
from moto.cloudformation.models import ChangeSet, Stack
from moto.core.serialize import BaseJSONSerializer
from moto.core.utils import method_names_from_class
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.exceptions import InternalServerError

# No body allowed in these responses (RFC 9110, 6.4.1): no Content-Length added either.
_BODYLESS = frozenset({204, 304})
_ITEM_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})


class KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive is HTTP/1.1's default
    # Headers and body leave in one write (a buffered wfile, flushed once), without Nagle's delay:
    # else the client's delayed ACK holds every kept-alive response back some 40 ms.
    wbufsize = -1
    disable_nagle_algorithm = True

    def handle_expect_100(self) -> bool:
        """http.server's "100 Continue", sent now: the client waits for it before sending the body."""
        answered = super().handle_expect_100()
        self.wfile.flush()
        return answered

    def run_wsgi(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            super().run_wsgi()  # closes the connection, as werkzeug always does
            return
        length = self.headers.get("Content-Length") or "0"
        if not (length.isascii() and length.isdigit()):  # "abc", "-1", "²": as a length, it would fail or hang
            self.send_error(400, "Bad Request", f"Content-Length is not a length: {length!r}")  # and closes
            return
        environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(length)))
        try:
            status, headers, body = _call(self.server.app, environ)
        except Exception:  # as werkzeug answers an app's failure: logged, a 500, and the connection closed
            self.server.log("error", f"Error on request:\n{traceback.format_exc()}")
            self.close_connection = True
            status, headers, body = _call(InternalServerError(), environ)
        text, _, reason = status.partition(" ")
        code = int(text)
        self.send_response(code, reason)
        for key, value in headers:
            self.send_header(key, value)
        if code >= 200 and code not in _BODYLESS and "content-length" not in {k.lower() for k, _ in headers}:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:  # said, or the client would send its next call down a closed socket
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """The app's status, headers and whole body (local responses are small)."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return started[0], started[1], b"".join(chunks)


def plain_attribute(value: Any) -> Any:
    """An AttributeValue as moto's JSON serializer writes it, or None where that takes its walk."""
    if type(value) is not dict or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return {kind: inner} if type(inner) is str else None
    if kind in ("BOOL", "NULL"):
        return {kind: inner} if type(inner) is bool else None
    if kind in ("SS", "NS"):
        return {kind: list(inner)} if type(inner) is list and all(type(v) is str for v in inner) else None
    if kind == "M" and type(inner) is dict:
        members = {k: plain_attribute(v) for k, v in inner.items()}
        return {"M": members} if None not in members.values() else None
    if kind == "L" and type(inner) is list:
        elements = [plain_attribute(v) for v in inner]
        return {"L": elements} if None not in elements else None
    return None  # B, BS: moto's blob handling


_original_structure = BaseJSONSerializer._serialize_type_structure


def _serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
    if key and shape.name == "AttributeValue" and self.operation_model.service_model.service_name in _ITEM_SERVICES:
        plain = plain_attribute(value)
        if plain is not None:
            self._default_serialize(serialized, plain, shape, key)
            return
    _original_structure(self, serialized, value, shape, key)


_original_parse_template = Stack.parse_template


def parse_template(template: str) -> Any:
    try:
        return json.loads(template)
    except ValueError:  # YAML (or not a template: moto's reading says so)
        return _original_parse_template(template)


def _parse_change_set_template(self: Any) -> None:
    self.template_dict = parse_template(self.template)


# A field the feed parser reads as `Name: value` (its header pattern: a name of printable ASCII but
# the colon) with a value of printable ASCII and tabs; the value's leading blanks are not its own.
_PLAIN_FIELD = re.compile(rb"([!-9;-~]+):[ \t]*([\t -~]*)\r?\n")
_original_parse_headers = http.client.parse_headers
_read_headers = getattr(http.client, "_read_headers", None)  # the size limits' reader (3.10+)


def parse_headers(fp: Any, _class: Any = http.client.HTTPMessage) -> Any:
    """http.client.parse_headers, for a block of plain fields without the email parser."""
    assert _read_headers is not None  # install() patches only where the reader is there
    lines = _read_headers(fp)
    fields = [_PLAIN_FIELD.fullmatch(line) for line in lines[:-1]]
    if lines[-1] not in (b"\r\n", b"\n") or None in fields:
        return email_parsed(lines, _class)
    message = _class()
    for field in fields:
        assert field is not None
        message.set_raw(field[1].decode("ascii"), field[2].decode("ascii"))
    message.set_payload("")
    return message


def email_parsed(lines: list[bytes], _class: Any = http.client.HTTPMessage) -> Any:
    """What http.client.parse_headers makes of lines already read."""
    return _original_parse_headers(io.BytesIO(b"".join(lines)), _class)


@functools.cache
def _method_names(cls: type) -> frozenset[str]:  # a response class's methods do not change while serving
    return frozenset(method_names_from_class(cls))


_original_modules = backends.list_of_moto_modules


@functools.cache
def _moto_modules() -> frozenset[str]:  # the package directory does not change while serving
    return frozenset(_original_modules())


def install() -> None:
    backends.list_of_moto_modules = _moto_modules
    moto.server.MotoRequestHandler = KeepAliveHandler  # type: ignore[attr-defined]
    BaseJSONSerializer._serialize_type_structure = _serialize_structure  # type: ignore[method-assign]
    Stack.parse_template = staticmethod(parse_template)  # type: ignore[method-assign]
    ChangeSet._parse_template = _parse_change_set_template  # type: ignore[method-assign]
    if _read_headers is not None:
        http.client.parse_headers = parse_headers  # http.server looks it up on each request
    moto.core.responses.method_names_from_class = _method_names  # type: ignore[attr-defined,assignment]
