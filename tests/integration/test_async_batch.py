"""Batches of asynchronous invocations in an embedded Platform (real SQLite file, real environments):
``Enqueuer.enqueue_many`` and its limits, and the native ``POST /lambdahost/v1/functions/{name}/invocations``
served over real HTTP to ``Client.invoke_async_batch`` and to raw requests."""

from __future__ import annotations

import base64
import http.client
import io
import json
import zipfile
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from lambdahost.client import Client
from lambdahost.core.batches import MAX_BATCH_BYTES, MAX_BATCH_INVOCATIONS
from lambdahost.core.errors import (
    InvalidParameterValue,
    InvalidRequestContent,
    RequestTooLarge,
    ResourceNotFound,
)
from lambdahost.core.model import InvocationStatus
from lambdahost.core.settings import Settings
from lambdahost.server import Platform
from tests.integration.platforms import finished
from tests.integration.serving import http_server

S = InvocationStatus
ECHO = "def handler(event, context):\n    return event\n"
MB = 1048576


def zipped() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", ECHO)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with Platform(Settings(data_dir=tmp_path_factory.mktemp("data"))) as p:
        p.functions.create(
            {"FunctionName": "echo", "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": zipped()}}
        )
        yield p


@pytest.fixture
def url(platform: Platform) -> Iterator[str]:
    with http_server(platform) as served:
        yield served


def nothing_queued(platform: Platform) -> bool:
    return platform.store.list_invocations("echo") == []


# -- the engine ----------------------------------------------------------------------------------------------------
def test_a_batch_runs_every_payload_in_order_with_the_trace(platform: Platform) -> None:
    payloads = [json.dumps({"n": n}).encode() for n in range(20)]
    ids = platform.enqueuer.enqueue_many("echo", payloads, trace="Root=1-5f84c7a1-0123456789abcdef01234567")
    assert len(ids) == len(set(ids)) == 20
    records = [finished(platform, request_id) for request_id in ids]
    assert [r.status for r in records] == [S.SUCCEEDED] * 20
    assert [json.loads(r.result or b"") for r in records] == [{"n": n} for n in range(20)]
    created = [r.created_at for r in records]
    assert created == sorted(created) and len(set(created)) == 20, "created in the order given, each its own time"
    assert created[-1] - created[0] < 0.001
    assert all((r.trace or "").startswith("Root=1-5f84c7a1-0123456789abcdef01234567;") for r in records), "carried on"
    assert platform.enqueuer.enqueue_many("echo", []) == []


@pytest.mark.parametrize(
    ("payloads", "error", "message"),
    [
        ([b"{}", b"{}", b'{"a": ', b"{}"], InvalidRequestContent, r"^Payloads\[2\]: Could not parse payload into json"),
        (
            [b"{}"] * 3 + [b'"' + b"x" * MB + b'"'],
            RequestTooLarge,
            r"^Payloads\[3\]: Request must be smaller than 1048576 bytes for the InvokeFunction operation$",
        ),
        ([b"{}"] * (MAX_BATCH_INVOCATIONS + 1), RequestTooLarge, r"^A batch holds at most 10000 payloads, not 10001"),
        (
            [b'"' + b"x" * (MB - 10) + b'"'] * 7,
            RequestTooLarge,
            rf"^The payloads of a batch must total at most {MAX_BATCH_BYTES} bytes",
        ),
    ],
    ids=["not-json", "payload-too-large", "too-many", "too-large-in-total"],
)
def test_a_bad_payload_queues_nothing_and_is_named_by_its_index(
    platform: Platform, payloads: list[bytes], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        platform.enqueuer.enqueue_many("echo", payloads)
    assert nothing_queued(platform)


def test_a_missing_function_or_lane_queues_nothing(platform: Platform) -> None:
    with pytest.raises(ResourceNotFound):
        platform.enqueuer.enqueue_many("nope", [b"{}"])
    with pytest.raises(InvalidParameterValue, match=r"^Lane 1 does not exist"):
        platform.enqueuer.enqueue_many("echo", [b"{}"], lane=1)
    assert nothing_queued(platform)


# -- the HTTP API and the client -----------------------------------------------------------------------------------
def test_the_client_queues_json_values_and_gets_ids_in_order(platform: Platform, url: str) -> None:
    values = [{"b": 1, "a": [1, 2.5, None]}, "text", 7, None, {"é": "ü\u2028"}]
    with Client(url) as client:
        ids = client.invoke_async_batch("echo", values)
        assert client.invoke_async_batch("echo", []) == []
    records = [finished(platform, request_id) for request_id in ids]
    assert [r.payload for r in records] == [
        b'{"b":1,"a":[1,2.5,null]}',
        b'"text"',
        b"7",
        b"null",
        '{"é":"ü\u2028"}'.encode(),
    ], "compact JSON, keys in the client's order, non-ASCII as UTF-8"
    assert [json.loads(r.result or b"null") for r in records] == values


def test_the_client_splits_a_batch_larger_than_one_request(platform: Platform, url: str) -> None:
    big = "x" * (MB - 100)
    values = [{"n": n, "pad": big} for n in range(8)]  # about 8 MB: two requests
    with Client(url) as client:
        ids = client.invoke_async_batch("echo", values, lane=0)
        with pytest.raises(RequestTooLarge, match=r"^Payloads\[1\]: Request must be smaller than 1048576"):
            client.invoke_async_batch("echo", [{}, "x" * MB, {}])
    assert len(ids) == 8
    assert [json.loads(finished(platform, i).payload)["n"] for i in ids] == list(range(8))


def post(
    url: str, body: bytes, headers: dict[str, str] | None = None, path: str = "echo"
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request("POST", f"/lambdahost/v1/functions/{path}/invocations", body, headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_the_api_answers_202_with_the_ids_and_takes_lane_and_trace_from_headers(platform: Platform, url: str) -> None:
    trace = "Root=1-5f84c7a1-0123456789abcdef01234567;Lineage=a87bd80c:0"
    status, headers, body = post(
        url, b'{"Payloads": [{"x": 1}, [2]], "Lane": 0}', {"X-Lambdahost-Lane": "0", "X-Amzn-Trace-Id": trace}
    )
    assert status == 202 and headers["content-type"] == "application/json" and headers["x-amzn-requestid"]
    ids = json.loads(body)["RequestIds"]
    assert [finished(platform, i).payload for i in ids] == [b'{"x":1}', b"[2]"]
    assert all((finished(platform, i).trace or "").startswith("Root=1-5f84c7a1-") for i in ids), "carried on"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code", "message"),
    [
        (b"[1, 2]", {}, 400, "InvalidRequestContentException", "expected a JSON object"),
        (b'{"Payloads": ', {}, 400, "InvalidRequestContentException", "Could not parse request body into json"),
        (b'{"Payloads": {"a": 1}}', {}, 400, "InvalidParameterValueException", "Payloads must be a list"),
        (b'{"payloads": []}', {}, 400, "InvalidParameterValueException", "Unknown key 'payloads'"),
        (b'{"Payloads": [1], "Lane": true}', {}, 400, "InvalidParameterValueException", "Lane must be a lane number"),
        (b'{"Payloads": [1], "Lane": -1}', {}, 400, "InvalidParameterValueException", "Lane must be 0 or more"),
        (
            b'{"Payloads": [1], "Lane": 0}',
            {"X-Lambdahost-Lane": "2"},
            400,
            "InvalidParameterValueException",
            "Lane is given twice with different values",
        ),
        (b'{"Payloads": [1]}', {"X-Lambdahost-Lane": "x"}, 400, "InvalidParameterValueException", "X-Lambdahost-Lane"),
        (b'{"Payloads": [1], "Lane": 3}', {}, 400, "InvalidParameterValueException", "Lane 3 does not exist"),
        (b'{"Payloads": [1], "Qualifier": 5}', {}, 400, "InvalidParameterValueException", "Qualifier must be a string"),
        (
            b'{"Payloads": [' + b"0," * MAX_BATCH_INVOCATIONS + b"0]}",
            {},
            413,
            "RequestEntityTooLargeException",
            "A batch holds at most 10000 payloads, not 10001.",
        ),
        (
            b'{"Payloads": ["' + b"x" * MAX_BATCH_BYTES + b'"]}',
            {},
            413,
            "RequestEntityTooLargeException",
            f"Request must be smaller than {MAX_BATCH_BYTES} bytes for a batch of invocations",
        ),
    ],
    ids=[
        "not-an-object",
        "not-json",
        "payloads-not-a-list",
        "unknown-key",
        "lane-bool",
        "lane-negative",
        "lane-conflict",
        "lane-header-not-a-number",
        "lane-missing",
        "qualifier-not-a-string",
        "too-many",
        "body-too-large",
    ],
)
def test_bad_requests_are_aws_format_errors_and_queue_nothing(
    platform: Platform, url: str, body: bytes, headers: dict[str, str], status: int, code: str, message: str
) -> None:
    got, answer_headers, answer = post(url, body, headers)
    assert (got, answer_headers["x-amzn-errortype"]) == (status, code)
    assert message in json.loads(answer)["message"]
    assert nothing_queued(platform)


def test_a_missing_function_is_404(platform: Platform, url: str) -> None:
    status, headers, _ = post(url, b'{"Payloads": [1]}', path="nope")
    assert (status, headers["x-amzn-errortype"]) == (404, "ResourceNotFoundException")
