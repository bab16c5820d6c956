"""HTTP routes and function URLs, end to end: a real ``lambdahost serve`` (on SQLite and on PostgreSQL) with its
routes listener, requests through a real HTTP client (``http.client``: repeated headers, raw bytes, any Host), and
function URL configs through an unmodified boto3 ``lambda`` client.

Covers: binary bodies both ways, path parameters, ``{proxy+}``, ANY, payload formats 1.0 and 2.0, query strings and
multi-value headers, cookies, 404, 502 for a throwing function and for a malformed result, 429 when throttled, 413
past 6 MB, concurrent requests running concurrently, function URLs by path prefix and by Host header, CORS
preflight, AWS_IAM refused without a signature, and routes and URLs deleted with their function."""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdahost.client import Client
from tests.acceptance.conftest import ServerProcess, start_server
from tests.conftest import PgServer
from tests.waiting import eventually

APP = """
import base64, json, time

def echo(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}

def reverse(event, context):
    raw = event.get("body") or ""
    data = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/octet-stream"},
        "body": base64.b64encode(data[::-1]).decode(),
        "isBase64Encoded": True,
    }

def cookies(event, context):
    if event.get("version") == "2.0":
        return {"statusCode": 200, "cookies": ["a=1; Path=/", "b=2"], "headers": {"x-one": "1"}, "body": "ok"}
    return {"statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1; Path=/", "b=2"]}, "body": "ok"}

def plain(event, context):
    return {"hello": "world"}

def boom(event, context):
    raise RuntimeError("boom")

def malformed(event, context):
    return {"statusCode": "two hundred"}

def nocontent(event, context):
    return {"statusCode": 204, "headers": {"x-done": "yes"}, "body": "ignored"}

def sleepy(event, context):
    time.sleep(0.5)
    return {"statusCode": 200, "body": str(time.time())}
"""
READY_ROUTES_RE = re.compile(r"HTTP routes and function URLs at (http://\S+)")
BINARY = bytes(range(256)) * 4 + b"\x00\xff\xfe"


def app_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP)
    return buf.getvalue()


def routes_url_of(server: ServerProcess) -> str:
    """The routes listener's base URL, from what ``lambdahost serve`` printed."""
    found: list[str] = []
    assert eventually(lambda: bool(found.extend(READY_ROUTES_RE.findall(server.output())) or found))
    return found[0]


@dataclass
class Gateway:
    server: ServerProcess
    url: str
    client: Client
    lam: Any
    suffix: str  # makes function names unique per backend

    def fn(self, handler: str) -> str:
        return f"{handler}-{self.suffix}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: list[tuple[str, str]] | None = None,
        base: str | None = None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(base or self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_host=any(k.lower() == "host" for k, _ in headers or []))
            for key, value in headers or []:
                conn.putheader(key, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, _, body = self.request(method, path, **kwargs)
        return status, json.loads(body)


def header(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in headers if k.lower() == name]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    args: list[str] = []
    database = None
    pg: PgServer | None = None
    if request.param == "postgres":
        pg = request.getfixturevalue("pg_server")
        database = pg.take_migrated()
        args = ["--store", pg.url(database)]
    server = start_server(tmp_path_factory.mktemp("gateway") / "data", *args)
    client = Client(server.url)
    lam = boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    gw = Gateway(server, routes_url_of(server), client, lam, uuid.uuid4().hex[:6])
    code = app_zip()
    try:
        for handler in ("echo", "reverse", "cookies", "plain", "boom", "malformed", "sleepy", "nocontent"):
            client.create_function(gw.fn(handler), code, f"app.{handler}")
        yield gw
    finally:
        lam.close()
        client.close()
        server.stop()
        if pg is not None and database is not None:
            pg.release(database)


def add_route(gw: Gateway, key: str, handler: str, payload_format: str = "2.0") -> dict[str, Any]:
    method, path = key.split(" ", 1)
    return gw.client.create_route(method, path, gw.fn(handler), payload_format=payload_format)


# -- routes --------------------------------------------------------------------------------------------------------
def test_v2_event_with_path_parameters_query_multi_value_headers_and_cookies(gateway: Gateway) -> None:
    route = add_route(gateway, "GET /v2/items/{id}", "echo")
    assert route["Url"] == f"{gateway.url}/v2/items/{{id}}"
    status, event = gateway.json(
        "GET",
        "/v2/items/a%20b?x=1&x=2&y=%C3%A9",
        headers=[("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "s=1; t=2"), ("User-Agent", "test-agent")],
    )
    assert status == 200
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /v2/items/{id}"
    assert event["rawPath"] == "/v2/items/a%20b"
    assert event["rawQueryString"] == "x=1&x=2&y=%C3%A9"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["queryStringParameters"] == {"x": "1,2", "y": "é"}
    assert event["headers"]["x-multi"] == "one,two"
    assert event["cookies"] == ["s=1", "t=2"]
    assert "cookie" not in event["headers"]
    assert event["requestContext"]["http"] == {
        "method": "GET",
        "path": "/v2/items/a%20b",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "test-agent",
    }
    assert event["isBase64Encoded"] is False


def test_v1_event_with_multi_value_query_and_headers(gateway: Gateway) -> None:
    add_route(gateway, "POST /v1/orders/{order}/lines", "echo", payload_format="1.0")
    status, event = gateway.json(
        "POST",
        "/v1/orders/42/lines?tag=a&tag=b",
        body=b'{"qty": 3}',
        headers=[("Content-Type", "application/json"), ("X-Multi", "one"), ("X-Multi", "two")],
    )
    assert status == 200
    assert event["resource"] == "/v1/orders/{order}/lines"
    assert event["path"] == "/v1/orders/42/lines"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"order": "42"}
    assert event["queryStringParameters"] == {"tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert event["multiValueHeaders"]["x-multi"] == ["one", "two"]
    assert event["body"] == '{"qty": 3}'
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["resourcePath"] == "/v1/orders/{order}/lines"


@pytest.mark.parametrize("payload_format", ["1.0", "2.0"])
def test_binary_bodies_both_ways(gateway: Gateway, payload_format: str) -> None:
    add_route(gateway, f"PUT /bin{payload_format[0]}/{{name}}", "reverse", payload_format=payload_format)
    status, headers, body = gateway.request(
        "PUT", f"/bin{payload_format[0]}/blob", body=BINARY, headers=[("Content-Type", "application/octet-stream")]
    )
    assert status == 201
    assert body == BINARY[::-1]
    assert header(headers, "content-type") == ["application/octet-stream"]


def test_proxy_any_and_precedence(gateway: Gateway) -> None:
    add_route(gateway, "ANY /files/{proxy+}", "echo")
    add_route(gateway, "GET /files/special", "plain")
    status, event = gateway.json("DELETE", "/files/a/b%2Fc/d.txt")
    assert status == 200
    assert event["routeKey"] == "ANY /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c/d.txt"}
    assert event["requestContext"]["http"]["method"] == "DELETE"
    assert gateway.json("GET", "/files/special") == (200, {"hello": "world"})  # inferred 200, JSON
    assert gateway.json("POST", "/files/special")[1]["routeKey"] == "ANY /files/{proxy+}"


def test_head_and_no_content_answers_carry_no_body(gateway: Gateway) -> None:
    add_route(gateway, "ANY /head/{proxy+}", "echo")
    add_route(gateway, "DELETE /gone", "nocontent")
    status, headers, body = gateway.request("HEAD", "/head/x")
    assert (status, body) == (200, b"")
    assert int(header(headers, "content-length")[0]) > 100  # the length of the GET's body
    status, headers, body = gateway.request("DELETE", "/gone")
    assert (status, body, header(headers, "x-done")) == (204, b"", ["yes"])


def test_cookies_and_multi_value_response_headers(gateway: Gateway) -> None:
    add_route(gateway, "GET /cookies/v2", "cookies")
    add_route(gateway, "GET /cookies/v1", "cookies", payload_format="1.0")
    for path in ("/cookies/v2", "/cookies/v1"):
        status, headers, body = gateway.request("GET", path)
        assert (status, body) == (200, b"ok")
        assert header(headers, "set-cookie") == ["a=1; Path=/", "b=2"]


def test_no_route_is_404_and_errors_are_502(gateway: Gateway) -> None:
    add_route(gateway, "GET /boom", "boom")
    add_route(gateway, "GET /malformed", "malformed", payload_format="1.0")
    add_route(gateway, "GET /malformed2", "malformed")
    assert gateway.json("GET", "/nowhere/at/all") == (404, {"message": "Not Found"})
    assert gateway.json("POST", "/boom") == (404, {"message": "Not Found"})
    for path in ("/boom", "/malformed", "/malformed2"):
        assert gateway.json("GET", path) == (502, {"message": "Internal server error"})


def test_routes_never_reach_the_platforms_api(gateway: Gateway) -> None:
    add_route(gateway, "GET /2015-03-31/functions", "plain")
    assert gateway.json("GET", "/2015-03-31/functions") == (200, {"hello": "world"})
    assert gateway.json("GET", "/health") == (404, {"message": "Not Found"})


def test_throttled_function_is_429(gateway: Gateway) -> None:
    name = f"throttled-{gateway.suffix}"
    gateway.client.create_function(name, app_zip(), "app.plain")
    gateway.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    gateway.client.create_route("GET", "/throttled", name)
    status, headers, body = gateway.request("GET", "/throttled")
    assert (status, json.loads(body)) == (429, {"message": "Too Many Requests"})
    assert header(headers, "retry-after") == ["1"]


def test_a_body_over_6_mb_is_413(gateway: Gateway) -> None:
    add_route(gateway, "POST /upload", "echo")
    status, _, body = gateway.request("POST", "/upload", body=b"x" * (6 * 1024 * 1024 + 1))
    assert (status, json.loads(body)) == (413, {"message": "Request Entity Too Large"})


def test_concurrent_requests_run_concurrently(gateway: Gateway) -> None:
    add_route(gateway, "GET /slow", "sleepy")
    count = 8

    def burst() -> tuple[float, list[int]]:
        statuses: list[int] = []
        threads = [
            threading.Thread(target=lambda: statuses.append(gateway.request("GET", "/slow")[0])) for _ in range(count)
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.monotonic() - started, statuses

    burst()  # the environments start (cold) on the first burst
    elapsed, statuses = burst()
    assert statuses == [200] * count
    assert elapsed < 2.0, f"{count} requests of 0.5 s each took {elapsed:.2f} s: they did not run concurrently"


def test_deleting_the_function_deletes_its_routes_and_url(gateway: Gateway) -> None:
    name = f"doomed-{gateway.suffix}"
    gateway.client.create_function(name, app_zip(), "app.plain")
    gateway.client.create_route("GET", "/doomed", name)
    url = gateway.lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    path = urlsplit(url).path
    assert gateway.json("GET", "/doomed") == (200, {"hello": "world"})
    assert gateway.json("GET", path) == (200, {"hello": "world"})
    gateway.lam.delete_function(FunctionName=name)
    assert gateway.client.list_routes(name) == []
    assert eventually(lambda: gateway.request("GET", "/doomed")[0] == 404 and gateway.request("GET", path)[0] == 404)


# -- function URLs -------------------------------------------------------------------------------------------------
def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_function_url_operations_through_boto3(gateway: Gateway) -> None:
    lam, name = gateway.lam, gateway.fn("echo")
    cors = {"AllowOrigins": ["https://app.example.com"], "AllowMethods": ["GET", "POST"], "MaxAge": 300}
    created = lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=cors)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    url = created["FunctionUrl"]
    assert re.fullmatch(re.escape(gateway.url) + r"/lambda-url/[a-z0-9]{32}/", url)
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert (created["AuthType"], created["Cors"], created["InvokeMode"]) == ("NONE", cors, "BUFFERED")
    assert "LastModifiedTime" not in created
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", created["CreationTime"])

    got = lam.get_function_url_config(FunctionName=name)
    assert (got["FunctionUrl"], got["CreationTime"]) == (url, created["CreationTime"])
    assert got["LastModifiedTime"] == created["CreationTime"]

    updated = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM", InvokeMode="RESPONSE_STREAM")
    assert (updated["FunctionUrl"], updated["AuthType"], updated["Cors"]) == (url, "AWS_IAM", cors)
    assert updated["InvokeMode"] == "RESPONSE_STREAM"
    assert updated["LastModifiedTime"] >= created["CreationTime"]

    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [(c["FunctionUrl"], c["AuthType"]) for c in listed] == [(url, "AWS_IAM")]
    assert lam.list_function_url_configs(FunctionName=name, MaxItems=1)["FunctionUrlConfigs"][0]["FunctionUrl"] == url

    assert lam.delete_function_url_config(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []


def test_function_url_errors_through_boto3(gateway: Gateway) -> None:
    lam, name = gateway.lam, gateway.fn("plain")
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    try:
        with pytest.raises(lam.exceptions.ResourceConflictException) as conflict:
            lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        assert "FunctionUrlConfig exists for this Lambda function" in error_of(conflict)[1]
        with pytest.raises(ClientError) as bad_auth:
            lam.update_function_url_config(FunctionName=name, AuthType="IAM")
        assert error_of(bad_auth)[0] == "ValidationException"
        assert "at 'authType' failed to satisfy constraint" in error_of(bad_auth)[1]
        with pytest.raises(ClientError) as bad_age:
            lam.update_function_url_config(FunctionName=name, Cors={"MaxAge": 86401})
        assert error_of(bad_age)[0] == "ValidationException"
        with pytest.raises(ClientError) as latest:
            lam.get_function_url_config(FunctionName=name, Qualifier="$LATEST")
        assert error_of(latest)[0] == "ValidationException"
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function_url_config(FunctionName=name, Qualifier="live")
        with pytest.raises(ClientError) as too_many:
            lam.list_function_url_configs(FunctionName=name, MaxItems=51)
        assert error_of(too_many)[0] == "ValidationException"
    finally:
        lam.delete_function_url_config(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
        lam.get_function_url_config(FunctionName=name)
    assert error_of(missing)[1] == "The resource you requested does not exist."
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.create_function_url_config(FunctionName=f"nope-{gateway.suffix}", AuthType="NONE")


def test_a_function_url_by_path_prefix_and_by_host_with_cors(gateway: Gateway) -> None:
    name = gateway.fn("cookies")
    origin = "https://app.example.com"
    cors = {
        "AllowOrigins": [origin],
        "AllowMethods": ["GET", "PUT"],
        "AllowHeaders": ["x-token"],
        "ExposeHeaders": ["x-one"],
        "MaxAge": 600,
    }
    url = gateway.lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=cors)["FunctionUrl"]
    try:
        url_id = url.rstrip("/").rsplit("/", 1)[1]
        preflight = [("Origin", origin), ("Access-Control-Request-Method", "PUT")]
        status, headers, body = gateway.request("OPTIONS", urlsplit(url).path + "any/path", headers=preflight)
        assert (status, body) == (200, b"")
        assert header(headers, "access-control-allow-origin") == [origin]
        assert header(headers, "access-control-allow-methods") == ["GET,PUT"]
        assert header(headers, "access-control-allow-headers") == ["x-token"]
        assert header(headers, "access-control-max-age") == ["600"]

        status, headers, body = gateway.request("GET", urlsplit(url).path, headers=[("Origin", origin)])
        assert (status, body) == (200, b"ok")
        assert header(headers, "set-cookie") == ["a=1; Path=/", "b=2"]
        assert header(headers, "access-control-allow-origin") == [origin]
        assert header(headers, "access-control-expose-headers") == ["x-one"]
        status, headers, _ = gateway.request("GET", urlsplit(url).path, headers=[("Origin", "https://evil.example")])
        assert status == 200 and header(headers, "access-control-allow-origin") == []

        port = urlsplit(gateway.url).port
        host = [("Host", f"{url_id}.lambda-url.us-east-1.localhost:{port}")]
        gateway.lam.update_function_url_config(FunctionName=name, Cors={})
        echo_url = gateway.lam.create_function_url_config(FunctionName=gateway.fn("echo"), AuthType="NONE")
        echo_id = echo_url["FunctionUrl"].rstrip("/").rsplit("/", 1)[1]
        status, event = gateway.json(
            "POST",
            "/deep/path?q=1",
            body=BINARY,
            headers=[("Host", f"{echo_id}.lambda-url.us-east-1.localhost:{port}"), ("Content-Type", "image/png")],
        )
        assert status == 200
        assert (event["rawPath"], event["rawQueryString"], event["routeKey"]) == ("/deep/path", "q=1", "$default")
        assert event["requestContext"]["domainName"] == f"{echo_id}.lambda-url.us-east-1.localhost"
        assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == BINARY
        assert gateway.request("GET", "/", headers=host)[2] == b"ok"
        assert gateway.json("GET", "/lambda-url/" + "0" * 32 + "/") == (404, {"message": "Not Found"})
    finally:
        gateway.lam.delete_function_url_config(FunctionName=name)
        try:
            gateway.lam.delete_function_url_config(FunctionName=gateway.fn("echo"))
        except ClientError:
            pass


def test_aws_iam_url_refuses_unsigned_requests(gateway: Gateway) -> None:
    name = gateway.fn("reverse")
    url = gateway.lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]
    try:
        status, _, body = gateway.request("GET", urlsplit(url).path)
        assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    finally:
        gateway.lam.delete_function_url_config(FunctionName=name)


def test_routes_api_lists_gets_and_deletes(gateway: Gateway) -> None:
    name = gateway.fn("plain")
    created = gateway.client.create_route("GET", "/listed/{id}", name, payload_format="1.0")
    assert created["RouteKey"] == "GET /listed/{id}" and created["PayloadFormatVersion"] == "1.0"
    assert gateway.client.get_route(created["RouteId"]) == created
    assert created in gateway.client.list_routes(name)
    with pytest.raises(Exception, match="conflicts with route GET /listed/\\{id\\}"):
        gateway.client.create_route("GET", "/listed/{other}", name)
    with pytest.raises(Exception, match="Invalid route path"):
        gateway.client.create_route("GET", "/bad//path", name)
    with pytest.raises(Exception, match="Function not found"):
        gateway.client.create_route("GET", "/ghost", f"ghost-{gateway.suffix}")
    gateway.client.delete_route(created["RouteId"])
    assert created not in gateway.client.list_routes(name)
    with pytest.raises(Exception, match="Route not found"):
        gateway.client.get_route(created["RouteId"])


def test_the_routes_listener_can_be_turned_off(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--routes-listen", "off")
    try:
        assert READY_ROUTES_RE.search(server.output()) is None
        with Client(server.url) as client:
            assert client.health()["status"] == "ok"
    finally:
        server.stop()
