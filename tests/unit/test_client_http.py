"""``lambdahost.client.Client`` against a real tiny HTTP server (``http.server`` in a thread): wire format,
keep-alive reuse, reconnects, errors, upload progress."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lambdahost.client import UPLOAD_CHUNK, Client, ServerUnreachable
from lambdahost.core import errors
from lambdahost.core.credentials import Credentials
from lambdahost.core.sigv4 import HttpRequest, Verifier


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    port: int


Reply = tuple[int, dict[str, str], bytes]


@dataclass
class FakeServer:
    url: str
    seen: list[Seen] = field(default_factory=list)
    respond: Callable[[Seen], Reply] = lambda seen: (200, {}, b"{}")
    drop_after_reply: bool = False  # close the socket without announcing it (a stale keep-alive)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeServer

    def _any(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen = Seen(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, self.client_address[1]
        )
        self.fake.seen.append(seen)
        status, headers, reply = self.fake.respond(seen)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
        if self.fake.drop_after_reply:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    handler = type("Handler", (_Handler,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server = FakeServer(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    handler.fake = server
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def json_reply(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def test_requests_reuse_one_keep_alive_connection(fake: FakeServer) -> None:
    fake.respond = lambda seen: json_reply({"status": "ok"})
    with Client(fake.url) as client:
        for _ in range(3):
            assert client.health() == {"status": "ok"}
    assert len({s.port for s in fake.seen}) == 1


def test_reconnects_when_the_server_dropped_an_idle_connection(fake: FakeServer) -> None:
    fake.respond = lambda seen: json_reply({"status": "ok"})
    fake.drop_after_reply = True
    with Client(fake.url) as client:
        assert client.health() == {"status": "ok"}
        time.sleep(0.05)
        assert client.health() == {"status": "ok"}
    assert len(fake.seen) == 2
    assert fake.seen[0].port != fake.seen[1].port


def test_error_response_raises_the_core_error_class(fake: FakeServer) -> None:
    message = "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
    fake.respond = lambda seen: json_reply(
        {"Type": "User", "Message": message}, 404, {"x-amzn-ErrorType": "ResourceNotFoundException"}
    )
    with Client(fake.url) as client, pytest.raises(errors.ResourceNotFound) as caught:
        client.get_function("nope")
    assert caught.value.message == message


def test_throttle_over_http(fake: FakeServer) -> None:
    fake.respond = lambda seen: json_reply(
        {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."},
        429,
        {"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": "2"},
    )
    with Client(fake.url) as client, pytest.raises(errors.TooManyRequests) as caught:
        client.invoke("f", {})
    assert caught.value.reason == "ConcurrentInvocationLimitExceeded"
    assert caught.value.retry_after_s == 2


def test_connection_refused_names_the_endpoint_and_suggests_serve() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with Client(url) as client, pytest.raises(ServerUnreachable) as caught:
        client.health()
    assert isinstance(caught.value, ConnectionError)
    assert url in str(caught.value)
    assert "lambdahost serve" in str(caught.value)


def test_no_answer_within_the_timeout(fake: FakeServer) -> None:
    def slow(seen: Seen) -> Reply:
        time.sleep(0.5)
        return json_reply({})

    fake.respond = slow
    with Client(fake.url, timeout=0.1) as client, pytest.raises(TimeoutError, match=r"within 0\.1 s"):
        client.health()


def test_invoke_wire_format(fake: FakeServer) -> None:
    log = "START RequestId: r1 Version: $LATEST\nboom\nEND RequestId: r1\n"
    fake.respond = lambda seen: (
        200,
        {
            "x-amzn-RequestId": "r1",
            "X-Amz-Function-Error": "Unhandled",
            "X-Amz-Executed-Version": "$LATEST",
            "X-Amz-Log-Result": base64.b64encode(log.encode()).decode(),
        },
        b'{"errorType": "ValueError", "errorMessage": "boom"}',
    )
    with Client(fake.url) as client:
        result = client.invoke(
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            {"a": 1},
            log=True,
            client_context={"custom": {"k": "v"}},
        )
    sent = fake.seen[0]
    assert sent.method == "POST"
    assert sent.path == "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations"
    assert json.loads(sent.body) == {"a": 1}
    assert sent.headers["x-amz-invocation-type"] == "RequestResponse"
    assert sent.headers["x-amz-log-type"] == "Tail"
    assert json.loads(base64.b64decode(sent.headers["x-amz-client-context"])) == {"custom": {"k": "v"}}
    assert "content-type" not in sent.headers
    assert result.request_id == "r1"
    assert result.status == 200
    assert result.function_error == "Unhandled"
    assert result.executed_version == "$LATEST"
    assert result.log == log
    assert result.json() == {"errorType": "ValueError", "errorMessage": "boom"}


@pytest.mark.parametrize(("payload", "body"), [(None, b""), ("[1]", b"[1]"), (b'"x"', b'"x"'), ([1], b"[1]")])
def test_invoke_payload_forms(fake: FakeServer, payload: Any, body: bytes) -> None:
    fake.respond = lambda seen: (200, {"x-amzn-RequestId": "r"}, b"null")
    with Client(fake.url) as client:
        result = client.invoke("f", payload)
    assert fake.seen[0].body == body
    assert result.log is None
    assert result.function_error is None
    assert result.json() is None


def test_dry_run(fake: FakeServer) -> None:
    fake.respond = lambda seen: (204, {"X-Amz-Executed-Version": "$LATEST"}, b"")
    with Client(fake.url) as client:
        result = client.dry_run("f")
    assert fake.seen[0].headers["x-amz-invocation-type"] == "DryRun"
    assert result.status == 204
    assert result.executed_version == "$LATEST"


def test_list_functions_follows_next_marker(fake: FakeServer) -> None:
    def pages(seen: Seen) -> Reply:
        if "Marker=b" in seen.path:
            return json_reply({"Functions": [{"FunctionName": "c"}]})
        return json_reply({"Functions": [{"FunctionName": "a"}, {"FunctionName": "b"}], "NextMarker": "b"})

    fake.respond = pages
    with Client(fake.url) as client:
        names = [f["FunctionName"] for f in client.list_functions()]
    assert names == ["a", "b", "c"]
    assert [s.path for s in fake.seen] == ["/2015-03-31/functions", "/2015-03-31/functions?Marker=b"]


def test_create_function_uploads_in_chunks_with_progress(fake: FakeServer) -> None:
    fake.respond = lambda seen: json_reply({"FunctionName": "f"}, 201)
    code = bytes(range(256)) * 2400  # ~600 KB of zip bytes, ~800 KB of base64 JSON
    calls: list[tuple[int, int]] = []
    with Client(fake.url) as client:
        client.create_function(
            "f",
            code,
            "app.handler",
            memory=256,
            environment={"A": "1"},
            progress=lambda sent, total: calls.append((sent, total)),
        )
    request = json.loads(fake.seen[0].body)
    assert base64.b64decode(request.pop("Code")["ZipFile"]) == code
    assert request == {
        "FunctionName": "f",
        "Runtime": "python3.11",
        "Handler": "app.handler",
        "MemorySize": 256,
        "Environment": {"Variables": {"A": "1"}},
    }
    total = len(fake.seen[0].body)
    assert [sent for sent, _ in calls] == [*range(UPLOAD_CHUNK, total, UPLOAD_CHUNK), total]
    assert {t for _, t in calls} == {total}


def test_update_configuration_sends_only_given_fields(fake: FakeServer) -> None:
    fake.respond = lambda seen: json_reply({"FunctionName": "f"})
    with Client(fake.url) as client:
        client.update_function_configuration("f", timeout=10, EphemeralStorage={"Size": 1024})
    assert fake.seen[0].method == "PUT"
    assert fake.seen[0].path == "/2015-03-31/functions/f/configuration"
    assert json.loads(fake.seen[0].body) == {"Timeout": 10, "EphemeralStorage": {"Size": 1024}}


def test_native_api_paths_and_base_path(fake: FakeServer) -> None:
    event = {"id": "i1", "finished_at": 2.0, "status": "succeeded", "log": "hi\n"}
    fake.respond = lambda seen: json_reply({"Invocations": [], "Events": [event], "NextToken": "tok=", "id": "x"})
    with Client(fake.url + "/prefix/") as client:
        client.list_invocations(function="f", status="failed", limit=5)
        client.get_invocation("abc")
        first = client.function_logs("f", after=1.5, limit=10)
        client.function_logs("f", limit=10, next_token=first.next_token)
    assert (first.events, first.next_token) == ([event], "tok=")
    assert [s.path for s in fake.seen] == [
        "/prefix/lambdahost/v1/invocations?function=f&status=failed&limit=5",
        "/prefix/lambdahost/v1/invocations/abc",
        "/prefix/lambdahost/v1/functions/f/logs?after=1.5&limit=10",
        "/prefix/lambdahost/v1/functions/f/logs?next=tok%3D&limit=10",
    ]


def test_endpoint_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        Client("127.0.0.1:9000")


def test_with_credentials_every_request_is_signed_and_verifies(fake: FakeServer) -> None:
    fake.respond = lambda seen: json_reply({"Functions": [], "Invocations": []})
    key = Credentials("AKIDCLIENT", "client-secret")
    with Client(fake.url, credentials=key, region="eu-central-1") as client:
        client.list_functions()
        client.invoke("arn:aws:lambda:us-east-1:000000000000:function:f", {"a": "é"}, qualifier="$LATEST")
        client.list_invocations(function="a b", status="failed")
        client.create_function("f", b"PK\x03\x04" * 1000, "app.handler")
    assert [s.path.split("?")[0] for s in fake.seen][1].startswith("/2015-03-31/functions/arn%3Aaws%3Alambda")
    assert "function=a%20b" in fake.seen[2].path
    verifier = Verifier([key])
    for seen in fake.seen:
        path, _, query = seen.path.partition("?")
        request = HttpRequest(seen.method, path, query, list(seen.headers.items()))
        assert "lambda/aws4_request" in seen.headers["authorization"]
        assert verifier.verify(request, seen.body) == key.access_key_id


def test_without_credentials_nothing_is_signed(fake: FakeServer) -> None:
    fake.respond = lambda seen: json_reply({"status": "ok"})
    with Client(fake.url) as client:
        client.health()
    assert "authorization" not in fake.seen[0].headers
    assert fake.seen[0].headers["host"] == fake.url.removeprefix("http://")
