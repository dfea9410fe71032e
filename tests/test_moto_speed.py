"""The local endpoint's speed patches (templates_src/local/moto_speed.py) answer exactly as moto does.

The items are serialized by moto's own walk and by the shortcut, and the two bodies compared;
the connections are checked on the wire (one socket, two answers; a chunked request still closed).
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .conftest import ROOT, MotoServers, fixture_build

# Every attribute type DynamoDB has, nested both ways, binary among plain values.
ITEMS: list[dict[str, Any]] = [
    {
        "pk": {"S": "USER#u-1"},
        "n": {"N": "42.50"},
        "empty": {"S": ""},
        "yes": {"BOOL": True},
        "no": {"BOOL": False},
        "nothing": {"NULL": True},
        "tags": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2.5"]},
        "meta": {"M": {"title": {"S": "t"}, "parts": {"L": [{"N": "1"}, {"M": {"x": {"BOOL": True}}}]}}},
        "list": {"L": [{"S": "one"}, {"SS": ["x"]}, {"L": []}, {"M": {}}]},
    },
    {"pk": {"S": "USER#u-2"}, "blob": {"B": b"\x00\xff"}, "blobs": {"BS": [b"a", b"b"]}},
    {"pk": {"S": "USER#u-3"}, "deep": {"M": {"raw": {"B": b"\x01"}, "s": {"S": "kept"}}}},
]


@pytest.fixture(scope="module")
def moto_speed() -> ModuleType:
    """The module under test, imported by the tests that run moto in this process, not at collection:
    importing moto takes over a second, and every xdist worker collects every module."""
    from templates_src.local import moto_speed as module

    return module


def _scan_body(moto_speed: ModuleType, monkeypatch: pytest.MonkeyPatch, shortcut: bool) -> Any:
    from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    structure = moto_speed._serialize_structure if shortcut else moto_speed._original_structure
    monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", structure)
    model = get_service_model("dynamodb").operation_model("Scan")
    serializer = JSONSerializer(operation_model=model, value_picker=XFormedAttributePicker())
    return json.loads(serializer.serialize({"Items": ITEMS, "Count": 3, "ScannedCount": 3})["body"])


def test_items_serialize_exactly_as_motos_own_walk_does(
    moto_speed: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked = _scan_body(moto_speed, monkeypatch, shortcut=False)
    taken: list[Any] = []
    plain = moto_speed.plain_attribute
    monkeypatch.setattr(moto_speed, "plain_attribute", lambda value: taken.append(plain(value)) or taken[-1])
    assert _scan_body(moto_speed, monkeypatch, shortcut=True) == walked
    assert {"S": "USER#u-1"} in taken and None in taken  # the shortcut was taken, and left to moto
    # And what both write is DynamoDB's JSON: binary base64-encoded, the rest as stored.
    assert walked["Items"][1] == {"pk": {"S": "USER#u-2"}, "blob": {"B": "AP8="}, "blobs": {"BS": ["YQ==", "Yg=="]}}
    assert walked["Items"][2]["deep"] == {"M": {"raw": {"B": "AQ=="}, "s": {"S": "kept"}}}
    assert walked["Items"][0]["meta"] == ITEMS[0]["meta"]


def test_the_shortcut_takes_plain_values_and_leaves_binary_and_objects_to_moto(moto_speed: ModuleType) -> None:
    assert moto_speed.plain_attribute({"S": "x"}) == {"S": "x"}
    assert moto_speed.plain_attribute({"NS": ["1", "2"]}) == {"NS": ["1", "2"]}
    assert moto_speed.plain_attribute({"NULL": True}) == {"NULL": True}
    assert moto_speed.plain_attribute({"L": [{"M": {"a": {"BOOL": False}}}]}) == {"L": [{"M": {"a": {"BOOL": False}}}]}
    assert moto_speed.plain_attribute({"B": "AP8="}) is None
    assert moto_speed.plain_attribute({"BS": [b"a"]}) is None
    assert moto_speed.plain_attribute({"M": {"a": {"S": "x"}, "b": {"B": b"\x00"}}}) is None
    assert moto_speed.plain_attribute({"L": [{"S": "x"}, {"B": b"\x00"}]}) is None
    assert moto_speed.plain_attribute({"N": 5}) is None  # not text: moto's walk writes it as it does
    assert moto_speed.plain_attribute({"SS": ["a", 1]}) is None
    assert moto_speed.plain_attribute({"S": "x", "N": "1"}) is None
    assert moto_speed.plain_attribute(object()) is None


def test_a_json_template_reads_as_motos_yaml_reading_reads_it_and_yaml_still_goes_there(
    moto_speed: ModuleType,
) -> None:
    templates = sorted(fixture_build().rglob("*.template.json"))
    assert len(templates) > 20
    for path in templates:
        body = path.read_text(encoding="utf-8")
        assert moto_speed.parse_template(body) == moto_speed._original_parse_template(body), path
    # Not JSON: moto's own reading, its short forms included.
    yaml_body = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Name\n"
    assert moto_speed.parse_template(yaml_body) == {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Name"}}}}
    }
    # A quoted scalar YAML would read as a boolean or a date stays text, as in moto's reading.
    quoted = '{"A": "yes", "B": "2012-10-17", "C": 1.5, "D": [true, null]}'
    assert moto_speed.parse_template(quoted) == {"A": "yes", "B": "2012-10-17", "C": 1.5, "D": [True, None]}
    assert moto_speed._original_parse_template(quoted) == moto_speed.parse_template(quoted)


def test_install_puts_each_shortcut_in_place(moto_speed: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.core.responses
    import moto.server
    from moto import backends
    from moto.cloudformation.models import ChangeSet, Stack
    from moto.core.serialize import BaseJSONSerializer

    targets = [
        (backends, "list_of_moto_modules"),
        (moto.server, "MotoRequestHandler"),
        (BaseJSONSerializer, "_serialize_type_structure"),
        (Stack, "parse_template"),
        (ChangeSet, "_parse_template"),
        (http.client, "parse_headers"),
        (moto.core.responses, "method_names_from_class"),
    ]
    for target, name in targets:  # each put back after the test, as it was (a staticmethod too)
        monkeypatch.setattr(target, name, vars(target)[name])
    moto_speed.install()
    assert backends.list_of_moto_modules is moto_speed._moto_modules
    assert moto.server.MotoRequestHandler is moto_speed.KeepAliveHandler  # type: ignore[attr-defined]
    assert BaseJSONSerializer._serialize_type_structure is moto_speed._serialize_structure
    assert Stack.parse_template is moto_speed.parse_template
    assert ChangeSet._parse_template is moto_speed._parse_change_set_template
    assert "dynamodb" in backends.list_of_moto_modules() and "cloudformation" in backends.list_of_moto_modules()
    assert http.client.parse_headers is moto_speed.parse_headers
    assert moto.core.responses.method_names_from_class is moto_speed._method_names


# Header blocks as they reach http.server: what botocore and curl send, then each shape the email
# parser reads its own way (folding, no colon, bytes outside printable ASCII, a "From " line, no end).
PLAIN_BLOCKS = [
    b"Host: 127.0.0.1:5000\r\nAccept-Encoding: identity\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\nUser-Agent: Boto3/1.40 md/Botocore#1.40 ua/2.1 os/linux\r\n"
    b"X-Amz-Date: 20261207T180000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/"
    b"dynamodb/aws4_request, SignedHeaders=content-type;host, Signature=abc\r\nContent-Length: 120\r\n\r\n",
    b"Host: a\nContent-Length: 0\n\n",  # bare line feeds
    b"X-Blank:\r\nX-Space: \r\nX-Tabs:\t a\tb \t\r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n",  # blanks kept but the leading
    b"\r\n",  # no field at all
    b"Weird!#$%&'*+-.^_`|~Name: v: w\r\n\r\n",  # every name character the email parser takes; a colon in a value
]
ODD_BLOCKS = [
    b"X-Folded: a\r\n  b\r\n\r\n",
    b"Host: a\r\nno colon here\r\nX: b\r\n\r\n",
    b"X-Latin: caf\xe9\r\n\r\n",
    b"X-Form-Feed: a\x0cb\r\n\r\n",
    b"From someone\r\nHost: a\r\n\r\n",
    b"Host: a\r\n",  # the connection ended before the empty line
    b": no name\r\n\r\n",
    b"X : space before the colon\r\n\r\n",
    b"Host: a\rX: b\r\n\r\n",  # a lone carriage return
]


def _shape(message: Any) -> dict[str, Any]:
    """Everything a message holds (its defects by kind: a defect is equal only to itself)."""
    return {**vars(message), "defects": [type(defect) for defect in message.defects]}


@pytest.mark.parametrize("block", PLAIN_BLOCKS + ODD_BLOCKS)
def test_request_headers_parse_into_the_message_the_email_parser_makes(
    moto_speed: ModuleType, monkeypatch: pytest.MonkeyPatch, block: bytes
) -> None:
    import email.parser
    import io

    expected = email.parser.Parser(_class=http.client.HTTPMessage).parsestr(block.decode("iso-8859-1"))
    handed_on: list[list[bytes]] = []
    email_parsed = moto_speed.email_parsed
    monkeypatch.setattr(
        moto_speed, "email_parsed", lambda lines, _class: handed_on.append(lines) or email_parsed(lines, _class)
    )
    ended = block.endswith((b"\n\r\n", b"\n\n")) or block == b"\r\n"
    body = b"the body" if ended else b""  # else the body would be read as a header line, by either parser
    stream = io.BytesIO(block + body)
    message = moto_speed.parse_headers(stream, http.client.HTTPMessage)
    assert type(message) is http.client.HTTPMessage
    assert _shape(message) == _shape(expected)
    assert stream.read() == body  # the body is left where it was
    assert bool(handed_on) == (block in ODD_BLOCKS)


def test_header_limits_stand(moto_speed: ModuleType) -> None:
    import io

    with pytest.raises(http.client.HTTPException, match="more than 100 headers"):
        moto_speed.parse_headers(io.BytesIO(b"X: 1\r\n" * 101 + b"\r\n"))
    with pytest.raises(http.client.LineTooLong):
        moto_speed.parse_headers(io.BytesIO(b"X: " + b"a" * 70000 + b"\r\n\r\n"))


def test_actions_are_looked_up_among_the_response_classs_methods_once(moto_speed: ModuleType) -> None:
    import inspect

    from moto.dynamodb.responses import DynamoHandler

    names = moto_speed._method_names(DynamoHandler)
    assert names == {name for name, _ in inspect.getmembers(DynamoHandler, inspect.isfunction)}
    assert {"put_item", "scan", "call_action"} <= names
    assert moto_speed._method_names(DynamoHandler) is names


@pytest.fixture
def server(moto_servers: MotoServers) -> Iterator[tuple[str, int]]:
    with moto_servers.fresh("111111111111") as url:
        address = urlsplit(url)
        assert address.hostname is not None and address.port is not None
        yield address.hostname, address.port


def test_one_connection_serves_request_after_request(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=10)
    answers = []
    for _ in range(3):
        connection.request("GET", "/moto-api/data.json")
        response = connection.getresponse()
        answers.append((response.status, response.getheader("Connection"), json.loads(response.read())))
        assert connection.sock is not None  # not closed by the answer
    socket = connection.sock
    connection.request("HEAD", "/moto-api/data.json")
    head = connection.getresponse()
    assert (head.status, head.read()) == (200, b"")
    assert connection.sock is socket
    connection.close()
    assert [(status, header) for status, header, _ in answers] == [(200, None)] * 3
    assert answers[0][2] == answers[2][2]


def test_a_chunked_request_is_answered_and_its_connection_closed(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=10)
    connection.request("POST", "/moto-api/reset", body=iter([b"{}"]), encode_chunked=True)
    response = connection.getresponse()
    assert (response.status, response.getheader("Connection")) == (200, "close")
    response.read()
    connection.close()


def test_a_call_moto_fails_on_closes_its_connection_and_says_so(server: tuple[str, int]) -> None:
    """moto raises on an action it does not implement: a 500, said to close, so the client's next call
    goes down a new connection (unsaid, it went down the closed one: "Connection was closed")."""
    connection = http.client.HTTPConnection(*server, timeout=10)
    headers = {
        "X-Amz-Target": "DynamoDB_20120810.DescribeContributorInsights",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=x/20261207/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=x",
    }
    connection.request("POST", "/", body=b'{"TableName": "t"}', headers=headers)
    response = connection.getresponse()
    assert (response.status, response.getheader("Connection")) == (500, "close")
    response.read()
    connection.close()
    # Through botocore, no retry to hide a dropped connection: two failures, then a call that works.
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=f"http://{server[0]}:{server[1]}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )
    for _ in range(2):
        with pytest.raises(ClientError, match=r"\(500\)"):
            dynamodb.describe_contributor_insights(TableName="t")
    assert dynamodb.list_tables()["TableNames"] == []


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize(
    "framing", [b"Content-Length: 2\r\n", b"Transfer-Encoding: chunked\r\n"], ids=["length", "chunked"]
)
def test_a_client_waiting_for_100_continue_is_answered_at_once(server: tuple[str, int], framing: bytes) -> None:
    """The client holds its body back until "100 Continue" (botocore does for large uploads): sent
    now, not left in the server's buffer (curl gives up waiting after a second and sends anyway)."""
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(b"POST /moto-api/reset HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n" + framing + b"\r\n")
        sock.settimeout(0.5)
        assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.settimeout(5)
        if b"Length" in framing:  # kept alive: a last request closes it
            sock.sendall(b"{}GET /moto-api/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        else:  # werkzeug's own handling, which closes once it has read to the end of what the client sends
            sock.sendall(b"2\r\n{}\r\n0\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
        answer = _answer(sock)
    assert b"HTTP/1.1 200 OK" in answer and b'{"status": "ok"}' in answer


@pytest.mark.parametrize("length", [b"abc", b"-1", b"\xb2"])  # the last: "²", a digit to str.isdigit
def test_a_length_that_is_not_one_is_a_bad_request(server: tuple[str, int], length: bytes) -> None:
    """Read as a length, "abc" dropped the connection unanswered and -1 waited for the client to hang up."""
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(b"POST /moto-api/reset HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n{}")
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close\r\n" in answer
    assert f"400 - Content-Length is not a length: {length.decode('latin-1')!r}.".encode() in answer


# Counts the reads of botocore's endpoints file while the server's module is imported (moto makes
# sessions as it is imported) and while two more sessions list Regions, as moto's backends do.
_ENDPOINT_READS = """
import sys
import botocore.loaders
reads = []
real = botocore.loaders.JSONFileLoader.load_file
def counting(self, path):
    reads.append(path)
    return real(self, path)
botocore.loaders.JSONFileLoader.load_file = counting
import templates_src.local.moto_shim
import boto3
for _ in range(2):
    boto3.Session().get_available_regions("dynamodb")
print(sum(path.endswith("/endpoints") for path in reads))
"""


def test_the_servers_sessions_read_botocores_endpoints_once() -> None:
    """Fix 18: the shim shares one botocore loader before moto is imported. (moto alone read the
    endpoints file five times here: once per session it makes, three as moto.ec2 is imported.)"""
    proc = subprocess.run(
        [sys.executable, "-c", _ENDPOINT_READS], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"
