"""HTTP requests as Lambda events and results as HTTP responses (``core.http_events``): REST API 1.0, HTTP API
2.0 and function URLs."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lambdahost.core.http_events import (
    HttpRequest,
    encode_body,
    error_response,
    format_request_time,
    function_url_event,
    http_v2_event,
    parse_query,
    rest_v1_event,
    v1_response,
    v2_response,
)

EPOCH = 1428582896.789  # 2015-04-09 12:34:56.789 UTC
BINARY = bytes(range(256))
ERROR = (502, [("content-type", "application/json")], b'{"message": "Internal server error"}')


def request(**kwargs: Any) -> HttpRequest:
    values: dict[str, Any] = {
        "method": "GET",
        "raw_path": "/items/42",
        "time_epoch": EPOCH,
        "request_id": "req-1",
        "domain_name": "abc123.execute-api.us-east-1.amazonaws.com",
    }
    values.update(kwargs)
    return HttpRequest(**values)


REPEATED = request(
    raw_query="a=1&b=2&a=3&flag&e=x%20y%2Bz+w",
    headers=[
        ("Host", "example.com"),
        ("X-Thing", "one"),
        ("x-thing", "two"),
        ("User-Agent", "curl/8.0"),
        ("Cookie", "s=1; t=2"),
        ("Cookie", "u=3"),
    ],
)


# --- request time -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (EPOCH, "09/Apr/2015:12:34:56 +0000"),
        (0, "01/Jan/1970:00:00:00 +0000"),
        (1735689599.999, "31/Dec/2024:23:59:59 +0000"),
    ],
)
def test_request_time_format(epoch: float, text: str) -> None:
    assert format_request_time(epoch) == text


def test_both_formats_carry_the_time_in_text_and_milliseconds() -> None:
    v1 = rest_v1_event(request(), "/items/{id}")["requestContext"]
    v2 = http_v2_event(request())["requestContext"]
    assert (v1["requestTime"], v1["requestTimeEpoch"]) == ("09/Apr/2015:12:34:56 +0000", 1428582896789)
    assert (v2["time"], v2["timeEpoch"]) == ("09/Apr/2015:12:34:56 +0000", 1428582896789)


# --- query strings and headers ------------------------------------------------------------------------------------


def test_parse_query_decodes_percent_keeps_plus_and_blank_values() -> None:
    assert parse_query("a=1&&b=&c&d=%2F+x") == [("a", "1"), ("b", ""), ("c", ""), ("d", "/+x")]


def test_v1_repeated_headers_and_query_parameters() -> None:
    event = rest_v1_event(REPEATED, "/items/{id}")
    assert event["queryStringParameters"] == {"a": "3", "b": "2", "flag": "", "e": "x y+z+w"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "3"], "b": ["2"], "flag": [""], "e": ["x y+z+w"]}
    assert event["headers"] == {"Host": "example.com", "X-Thing": "two", "User-Agent": "curl/8.0", "Cookie": "u=3"}
    assert event["multiValueHeaders"] == {
        "Host": ["example.com"],
        "X-Thing": ["one", "two"],
        "User-Agent": ["curl/8.0"],
        "Cookie": ["s=1; t=2", "u=3"],
    }
    assert event["requestContext"]["identity"]["userAgent"] == "curl/8.0"


def test_v2_repeated_headers_and_query_parameters_are_joined_and_cookies_split_out() -> None:
    event = http_v2_event(REPEATED, "GET /items/{id}", {"id": "42"}, "prod")
    assert event["rawQueryString"] == "a=1&b=2&a=3&flag&e=x%20y%2Bz+w"
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2", "flag": "", "e": "x y+z+w"}
    assert event["headers"] == {"host": "example.com", "x-thing": "one,two", "user-agent": "curl/8.0"}
    assert event["cookies"] == ["s=1", "t=2", "u=3"]
    assert event["requestContext"]["http"]["userAgent"] == "curl/8.0"


@pytest.mark.parametrize("fmt", ["v1", "v2", "url"])
def test_empty_query_headers_and_parameters(fmt: str) -> None:
    req = request(raw_query="")
    if fmt == "v1":
        event = rest_v1_event(req, "/items")
        for key in (
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "pathParameters",
            "stageVariables",
            "headers",
            "multiValueHeaders",
            "body",
        ):
            assert event[key] is None, key
        assert event["isBase64Encoded"] is False
        return
    event = http_v2_event(req) if fmt == "v2" else function_url_event(req)
    for key in ("queryStringParameters", "pathParameters", "cookies", "body", "stageVariables"):
        assert key not in event, key
    assert event["rawQueryString"] == ""
    assert event["headers"] == {}
    assert event["isBase64Encoded"] is False


# --- whole events ---------------------------------------------------------------------------------------------------


def test_v1_event_fields() -> None:
    req = request(method="POST", headers=[("Content-Type", "application/json")], body=b'{"x": 1}', source_ip="10.0.0.9")
    event = rest_v1_event(req, "/items/{id}", {"id": "42"}, "dev")
    assert event["httpMethod"] == "POST"
    assert (event["path"], event["resource"]) == ("/items/42", "/items/{id}")
    assert event["pathParameters"] == {"id": "42"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"x": 1}', False)
    ctx = event["requestContext"]
    assert {k: ctx[k] for k in ("accountId", "apiId", "httpMethod", "path", "protocol", "requestId")} == {
        "accountId": "123456789012",
        "apiId": "lambdahost",
        "httpMethod": "POST",
        "path": "/dev/items/42",
        "protocol": "HTTP/1.1",
        "requestId": "req-1",
    }
    assert (ctx["resourcePath"], ctx["stage"], ctx["domainPrefix"]) == ("/items/{id}", "dev", "abc123")
    assert ctx["identity"]["sourceIp"] == "10.0.0.9"
    assert "version" not in event
    json.dumps(event)


def test_v1_event_of_the_default_stage_has_no_stage_in_its_path() -> None:
    ctx = rest_v1_event(request(), "/items/{id}", {"id": "42"}, "$default")["requestContext"]
    assert (ctx["path"], ctx["stage"]) == ("/items/42", "$default")


def test_v2_event_fields() -> None:
    req = request(method="PUT", body=b"hello", headers=[("content-type", "text/plain; charset=utf-8")])
    event = http_v2_event(req, "PUT /items/{id}", {"id": "42"}, "prod")
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "PUT /items/{id}", "/items/42")
    assert event["pathParameters"] == {"id": "42"}
    assert (event["body"], event["isBase64Encoded"]) == ("hello", False)
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "PUT",
        "path": "/items/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert (ctx["routeKey"], ctx["stage"], ctx["requestId"]) == ("PUT /items/{id}", "prod", "req-1")
    assert (ctx["domainName"], ctx["domainPrefix"]) == ("abc123.execute-api.us-east-1.amazonaws.com", "abc123")
    assert (ctx["accountId"], ctx["apiId"]) == ("123456789012", "lambdahost")
    json.dumps(event)


def test_function_url_event_is_v2_with_default_route_and_stage() -> None:
    event = function_url_event(REPEATED)
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "$default"
    assert event["requestContext"]["stage"] == "$default"
    assert event == http_v2_event(REPEATED)


# --- bodies ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        (None, b"plain", True),
        ("text/html; charset=utf-8", "caf\u00e9".encode(), True),
        ("application/json", b"{}", True),
        ("application/vnd.api+json", b"{}", True),
        ("application/atom+xml", b"<a/>", True),
        ("application/x-www-form-urlencoded", b"a=1", True),
        ("Application/JSON", b"{}", True),
        ("application/octet-stream", b"abc", False),
        ("image/png", b"abc", False),
        (None, BINARY, False),
        ("text/plain", b"\xff\xfe", False),
    ],
)
def test_body_text_or_base64(content_type: str | None, body: bytes, text: bool) -> None:
    encoded, is_b64 = encode_body(content_type, body)
    assert is_b64 is not text
    assert (base64.b64decode(encoded) if is_b64 else encoded.encode()) == body


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_binary_body_round_trip(fmt: str) -> None:
    req = request(method="POST", headers=[("Content-Type", "image/png")], body=BINARY)
    event = rest_v1_event(req, "/x") if fmt == "v1" else http_v2_event(req)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == BINARY
    # A function echoing it back:
    result = {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": event["body"]}
    result["isBase64Encoded"] = True
    respond = v1_response if fmt == "v1" else v2_response
    assert respond(result) == (200, [("Content-Type", "image/png")], BINARY)


# --- responses ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"statusCode": 204}, (204, [], b"")),
        ({"statusCode": 200, "body": "caf\u00e9"}, (200, [], "caf\u00e9".encode())),
        (
            {"statusCode": 201, "headers": {"X-A": "1", "X-N": 5, "X-B": True}, "body": "ok"},
            (201, [("X-A", "1"), ("X-N", "5"), ("X-B", "true")], b"ok"),
        ),
        (
            {
                "statusCode": 200,
                "headers": {"Content-Type": "text/plain", "set-cookie": "dropped=1"},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Many": ["x", "y"]},
                "body": "",
            },
            (
                200,
                [
                    ("Content-Type", "text/plain"),
                    ("Set-Cookie", "a=1"),
                    ("Set-Cookie", "b=2"),
                    ("X-Many", "x"),
                    ("X-Many", "y"),
                ],
                b"",
            ),
        ),
        (
            {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True},
            (200, [], b"\0\1"),
        ),
    ],
)
def test_v1_response(result: dict[str, Any], expected: tuple[int, list[tuple[str, str]], bytes]) -> None:
    assert v1_response(result) == expected


@pytest.mark.parametrize(
    "result",
    [
        None,
        "hello",
        42,
        [1],
        {},
        {"body": "no status"},
        {"statusCode": "200"},
        {"statusCode": 200.0},
        {"statusCode": True},
        {"statusCode": 99},
        {"statusCode": 101},
        {"statusCode": 200, "body": {"x": 1}},
        {"statusCode": 200, "body": 5},
        {"statusCode": 200, "headers": ["X-A", "1"]},
        {"statusCode": 200, "headers": {"X-A": {"nested": 1}}},
        {"statusCode": 200, "multiValueHeaders": {"X-A": "not a list"}},
        {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
    ],
)
def test_v1_malformed_results_are_502(result: object) -> None:
    assert v1_response(result) == ERROR


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"statusCode": 200, "body": "hi"}, (200, [], b"hi")),
        (
            {"statusCode": 302, "headers": {"Location": "/x"}, "cookies": ["a=1; Path=/", "b=2"]},
            (302, [("Location", "/x"), ("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2")], b""),
        ),
        ({"statusCode": 200, "headers": {"x-multi": "a,b"}}, (200, [("x-multi", "a,b")], b"")),
    ],
)
def test_v2_structured_response(result: dict[str, Any], expected: tuple[int, list[tuple[str, str]], bytes]) -> None:
    assert v2_response(result) == expected


@pytest.mark.parametrize(
    ("result", "body"),
    [
        ("Hello, world!", b"Hello, world!"),
        ({"message": "Hello"}, b'{"message": "Hello"}'),
        ({"body": "no status"}, b'{"body": "no status"}'),
        ([1, 2], b"[1, 2]"),
        (42, b"42"),
        (None, b"null"),
        (True, b"true"),
    ],
)
def test_v2_inferred_200_for_results_without_status_code(result: object, body: bytes) -> None:
    assert v2_response(result) == (200, [("content-type", "application/json")], body)


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": None},
        {"statusCode": 200, "body": {"x": 1}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "cookies": [1]},
        {"statusCode": 200, "headers": "x"},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
    ],
)
def test_v2_malformed_results_are_502(result: object) -> None:
    assert v2_response(result) == ERROR


def test_error_response() -> None:
    assert error_response() == ERROR
    assert json.loads(error_response()[2]) == {"message": "Internal server error"}
