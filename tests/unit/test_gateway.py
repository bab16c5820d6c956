"""The gateway's pure parts: which requests are function URLs (by Host or by path prefix), the base URL clients
are given (``gateway_url``), and ``lambdahost serve --routes-listen``'s value."""

from __future__ import annotations

import asyncio
from typing import Any

import click
import pytest

from lambdahost.api.gateway import function_url_target, send_response
from lambdahost.cli.serve import parse_listen
from lambdahost.core.settings import Settings
from lambdahost.engine.function_urls import gateway_url, host_without_port

URL_ID = "abcdefghij0123456789abcdefghij01"


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        (f"{URL_ID}.lambda-url.us-east-1.localhost:9001", "/a/b", (URL_ID, "/a/b")),
        (f"{URL_ID.upper()}.LAMBDA-URL.eu-west-1.localhost", "/", (URL_ID, "/")),
        ("127.0.0.1:9001", f"/lambda-url/{URL_ID}/x/y", (URL_ID, "/x/y")),
        ("127.0.0.1:9001", f"/lambda-url/{URL_ID}", (URL_ID, "/")),
        ("127.0.0.1:9001", f"/lambda-url/{URL_ID}/", (URL_ID, "/")),
        ("127.0.0.1:9001", f"/lambda-url/{URL_ID}x/", None),
        ("127.0.0.1:9001", "/lambda-url/short/", None),
        ("127.0.0.1:9001", "/items/1", None),
        (None, "/items/1", None),
    ],
)
def test_function_url_targets(host: str | None, path: str, expected: tuple[str, str] | None) -> None:
    assert function_url_target(host, path) == expected


def test_host_without_port() -> None:
    assert host_without_port("example.com:9001") == "example.com"
    assert host_without_port("[::1]:9001") == "[::1]"
    assert host_without_port("example.com") == "example.com"
    assert host_without_port(None) == "localhost"


def test_gateway_url_uses_the_clients_host_only_for_a_wildcard_listener() -> None:
    assert gateway_url(Settings(port=9000)) == "http://127.0.0.1:9001"
    assert gateway_url(Settings(routes_listen=("127.0.0.2", 8080)), "api.example:9000") == "http://127.0.0.2:8080"
    wildcard = Settings(routes_listen=("0.0.0.0", 8080))
    assert gateway_url(wildcard, "10.1.2.3:9000") == "http://10.1.2.3:8080"
    assert gateway_url(wildcard) == "http://127.0.0.1:8080"


def test_routes_listen_values() -> None:
    assert parse_listen(None, "127.0.0.1", 9000) == ("127.0.0.1", 9001)
    assert parse_listen(None, "127.0.0.1", 0) == ("127.0.0.1", 0)
    assert parse_listen("off", "127.0.0.1", 9000) is None
    assert parse_listen("OFF", "127.0.0.1", 9000) is None
    assert parse_listen("8080", "::1", 9000) == ("::1", 8080)
    assert parse_listen("0.0.0.0:8080", "127.0.0.1", 9000) == ("0.0.0.0", 8080)
    assert parse_listen("[::1]:8080", "127.0.0.1", 9000) == ("::1", 8080)
    for bad in ("host:port", "70000", ":8080", "1.2.3.4:"):
        with pytest.raises(click.BadParameter):
            parse_listen(bad, "127.0.0.1", 9000)
    with pytest.raises(click.BadParameter):
        parse_listen(None, "127.0.0.1", 65535)


def sent(
    response: tuple[int, list[tuple[str, str]], bytes], head: bool = False
) -> tuple[int, dict[bytes, bytes], bytes]:
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(send_response(send, response, "req-1", head))
    start, body = messages
    return start["status"], dict(start["headers"]), body["body"]


def test_responses_get_their_length_and_request_id_and_lose_server_headers() -> None:
    status, headers, body = sent(
        (200, [("X-A", "1"), ("Content-Length", "99"), ("Transfer-Encoding", "chunked")], b"hi")
    )
    assert (status, body) == (200, b"hi")
    assert headers == {b"X-A": b"1", b"content-length": b"2", b"x-amzn-requestid": b"req-1"}
    assert sent((200, [], b"hello"), head=True)[1:] == ({b"content-length": b"5", b"x-amzn-requestid": b"req-1"}, b"")
    assert sent((204, [], b"ignored"))[2] == b""


@pytest.mark.parametrize("header", [("x-a", "1\r\nSet-Cookie: evil=1"), ("x-a", "caf\u00e9\u2603"), ("x\nb", "1")])
def test_a_header_http_cannot_carry_makes_a_502(header: tuple[str, str]) -> None:
    status, _, body = sent((200, [header], b"hi"))
    assert (status, body) == (502, b'{"message": "Internal server error"}')
