"""``api.auth.RequireSignature`` driven as an ASGI application: what passes, what is rejected, and that the body
is read once and handed on whole."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from lambdahost.api.auth import RequireSignature
from lambdahost.api.invoke import Message, Receive, Scope, Send, read_body
from lambdahost.core.credentials import Credentials
from lambdahost.core.sigv4 import HttpRequest, Verifier, sign

KEY = Credentials("AKIDEXAMPLE", "secret")
INVOKE = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations"


class EchoApp:
    """The wrapped application: answers 200 with the body it received."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def scope_for(method: str, raw_path: str, query: str = "", headers: list[tuple[str, str]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": raw_path.replace("%3A", ":"),
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in [("host", "testserver"), *(headers or [])]],
    }


def signed_scope(method: str, raw_path: str, query: str, body: bytes, key: Credentials = KEY) -> Scope:
    request = HttpRequest(method, raw_path, query, [("host", "testserver")])
    return scope_for(method, raw_path, query, list(sign(request, key, "us-east-1", "lambda", time.time(), body)))


def run(app: Any, scope: Scope, chunks: list[bytes]) -> tuple[int, dict[str, str], bytes, int]:
    """Status, headers, body of the response, and how many times the server's ``receive`` was called."""
    messages: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    received = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal received
        received += 1
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:]), received


def test_signed_request_reaches_the_app_with_its_whole_body() -> None:
    inner = EchoApp()
    app = RequireSignature(inner, Verifier([KEY]))
    body = b'{"part": 1}{"part": 2}'
    status, _, echoed, _ = run(app, signed_scope("POST", INVOKE, "Qualifier=%24LATEST", body), [body[:11], body[11:]])
    assert (status, echoed, inner.calls) == (200, body, 1)


def test_missing_signature_is_rejected_before_the_body_is_read() -> None:
    inner = EchoApp()
    app = RequireSignature(inner, Verifier([KEY]))
    status, headers, body, received = run(app, scope_for("POST", INVOKE), [b"{}"])
    assert status == 403
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert json.loads(body) == {"Type": "User", "message": "Missing Authentication Token"}
    assert (inner.calls, received) == (0, 0)


def test_unknown_key_is_rejected_without_reading_the_body() -> None:
    inner = EchoApp()
    app = RequireSignature(inner, Verifier([KEY]))
    scope = signed_scope("POST", INVOKE, "", b"{}", Credentials("AKIDUNKNOWN", "secret"))
    status, headers, body, received = run(app, scope, [b"{}"])
    assert (status, headers["x-amzn-errortype"], received, inner.calls) == (403, "UnrecognizedClientException", 0, 0)
    assert json.loads(body)["message"] == "The security token included in the request is invalid."


def test_tampered_body_is_a_signature_mismatch() -> None:
    inner = EchoApp()
    app = RequireSignature(inner, Verifier([KEY]))
    status, headers, _, _ = run(app, signed_scope("POST", INVOKE, "", b'{"a": 1}'), [b'{"a": 2}'])
    assert (status, headers["x-amzn-errortype"], inner.calls) == (403, "InvalidSignatureException", 0)


def test_health_is_open_and_nothing_else_is() -> None:
    inner = EchoApp()
    app = RequireSignature(inner, Verifier([KEY]))
    assert run(app, scope_for("GET", "/health"), [b""])[0] == 200
    assert run(app, scope_for("POST", "/health"), [b""])[0] == 403
    assert run(app, scope_for("GET", "/health/"), [b""])[0] == 403
    assert run(app, scope_for("GET", "/lambdahost/v1/invocations"), [b""])[0] == 403
    assert inner.calls == 1
