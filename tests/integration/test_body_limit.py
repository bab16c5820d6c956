"""The request body limit over real HTTP: a body announced over the limit is refused with 413 before it is read
(AWS's message for a function's zip), one streamed without a length is refused as it passes the limit (its bytes
not kept), also before a signature is checked, and a body within the limit goes through untouched."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdahost.api.body_limit import API_LIMIT
from lambdahost.code.limits import MAX_BASE64_REQUEST_BYTES
from lambdahost.core.credentials import Credentials
from lambdahost.core.settings import Settings
from lambdahost.server import Platform
from lambdahost.web.forms import MAX_FORM_BYTES
from tests.integration.serving import http_server


@pytest.fixture(params=["open", "signed"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    credentials = Credentials("AKIDLIMIT", "limit-secret") if request.param == "signed" else None
    platform = Platform(Settings(data_dir=tmp_path, credentials=credentials))
    try:
        with http_server(platform) as address:
            yield address
    finally:
        platform.close()


def connect(url: str) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)


def announced(url: str, method: str, path: str, length: int, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Send only the headers (and a few bytes) of a body of ``length`` bytes; the answer."""
    connection = connect(url)
    try:
        connection.putrequest(method, path)
        for name, value in {
            "Content-Length": str(length),
            "Content-Type": "application/json",
            **(headers or {}),
        }.items():
            connection.putheader(name, value)
        connection.endheaders(b"{")
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def streamed(url: str, path: str, total: int, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Send ``total`` bytes chunked (no Content-Length), stopping if the server closes; its answer."""
    connection = connect(url)
    sent = 0
    try:
        connection.putrequest("POST", path)
        for name, value in {
            "Transfer-Encoding": "chunked",
            "Content-Type": "application/json",
            **(headers or {}),
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        chunk = b"x" * (1024 * 1024)
        try:
            while sent < total:
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still sending
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_an_announced_body_over_the_limit_is_refused_unread(url: str) -> None:
    status, body = announced(url, "POST", "/2015-03-31/functions", MAX_BASE64_REQUEST_BYTES + 1)
    assert status == 413
    assert json.loads(body)["message"] == (
        f"Request must be smaller than {MAX_BASE64_REQUEST_BYTES} bytes for the CreateFunction operation"
    )
    status, body = announced(url, "PUT", "/2015-03-31/functions/f/code", MAX_BASE64_REQUEST_BYTES + 1)
    assert status == 413 and "UpdateFunctionCode operation" in body
    status, body = announced(url, "POST", "/2015-03-31/functions/f/invocations", 10**12)
    assert (status == 413 and json.loads(body)["Type"] == "User") or "RequestEntityTooLarge" in body
    status, body = announced(url, "POST", "/ui/functions", MAX_FORM_BYTES + 1)
    assert status == 413 and "The form must be smaller" in body


def looks_signed() -> dict[str, str]:
    """Headers of a SigV4 signature over the body (whose check must read the body first), with a wrong signature."""
    now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return {
        "X-Amz-Date": now,
        "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDLIMIT/{now[:8]}/us-east-1/lambda/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}",
    }


def test_a_streamed_body_is_refused_as_it_passes_the_limit(url: str) -> None:
    total = API_LIMIT.max_bytes + 16 * 1024 * 1024
    status, body = streamed(url, "/2015-03-31/functions/f/invocations", total, looks_signed())
    assert status == 413 and json.loads(body)["message"] == API_LIMIT.message


def test_a_body_within_the_limit_goes_through(url: str, request: pytest.FixtureRequest) -> None:
    connection = connect(url)
    try:
        connection.request("POST", "/2015-03-31/functions/missing/invocations", b'{"a": 1}')
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    # read and answered by the endpoint (or the signature check): not the limit's 413
    assert response.status in (403, 404), answer
