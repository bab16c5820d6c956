"""``lambdahost routes`` and ``lambdahost urls`` through the real CLI against a running server, and a function URL
with AuthType AWS_IAM on a server with credentials: refused unsigned or badly signed, served when signed (SigV4 by
botocore for service ``lambda``)."""

from __future__ import annotations

import http.client
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from lambdahost.client import Client
from lambdahost.core.credentials import Credentials
from tests.acceptance.conftest import ServerProcess
from tests.acceptance.test_http_routes import app_zip, routes_url_of

KEY_ID, SECRET = "AKIDROUTESTEST", "routes-test-secret"


def get(url: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST" if body is not None else "GET", parts.path or "/", body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_routes_and_urls_commands(server: ServerProcess, cli: Callable[..., Any]) -> None:
    name = f"cli-routes-{uuid.uuid4().hex[:6]}"
    with Client(server.url) as client:
        client.create_function(name, app_zip(), "app.plain")
    gateway = routes_url_of(server)

    added = cli("routes", "add", "GET", "/cli/{id}", name, "--payload-format", "1.0")
    assert added.returncode == 0, added.stderr
    match = re.match(rf"route (\w+): GET /cli/\{{id\}} -> {name} \(payload 1.0\) at (\S+)", added.stdout)
    assert match is not None, added.stdout
    route_id = match.group(1)
    assert get(f"{gateway}/cli/7") == (502, b'{"message": "Internal server error"}')  # a plain result is not 1.0
    listed = cli("routes", "list", "--function", name)
    assert listed.returncode == 0 and re.search(rf"{route_id}\s+GET\s+/cli/\{{id\}}\s+{name}\s+1.0", listed.stdout)
    conflict = cli("routes", "add", "GET", "/cli/{other}", name)
    assert conflict.returncode == 2 and "ResourceConflictException" in conflict.stderr

    created = cli("urls", "create", name, "--cors-origin", "*", "--cors-max-age", "60")
    assert created.returncode == 0, created.stderr
    url = created.stdout.splitlines()[0]
    assert url.startswith(f"{gateway}/lambda-url/") and "AllowOrigins *" in created.stdout
    assert get(url) == (200, b'{"hello": "world"}')
    updated = cli("urls", "update", name, "--auth-type", "AWS_IAM")
    assert updated.returncode == 0 and "auth type    AWS_IAM" in updated.stdout
    assert get(url)[0] == 403
    shown = cli("urls", "get", name)
    assert shown.returncode == 0 and shown.stdout.splitlines()[0] == url
    listed_urls = cli("urls", "list", name)
    assert listed_urls.returncode == 0 and url in listed_urls.stdout and "AWS_IAM" in listed_urls.stdout

    assert cli("urls", "rm", name).returncode == 0
    missing = cli("urls", "get", name)
    assert missing.returncode == 2 and "ResourceNotFoundException" in missing.stderr
    removed = cli("routes", "rm", route_id)
    assert removed.returncode == 0 and f"route {route_id} deleted" in removed.stdout
    assert route_id not in cli("routes", "list").stdout


def signed_headers(url: str, body: bytes, key_id: str, secret: str) -> dict[str, str]:
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(BotoCredentials(key_id, secret), "lambda", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_aws_iam_function_url_needs_a_valid_signature(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(tmp_path / "data", "--access-key-id", KEY_ID, "--secret-access-key", SECRET)
    name = "iam-echo"
    with Client(server.url, credentials=Credentials(KEY_ID, SECRET)) as client:
        client.create_function(name, app_zip(), "app.echo")
        url = client.create_function_url(name, "AWS_IAM")["FunctionUrl"]
    body = b'{"signed": true}'
    assert get(url, body=body)[0] == 403
    assert get(url, signed_headers(url, body, KEY_ID, "wrong-secret"), body) == (403, b'{"Message":"Forbidden"}')
    assert get(url, signed_headers(url, b"other body", KEY_ID, SECRET), body)[0] == 403
    status, answer = get(url, signed_headers(url, body, KEY_ID, SECRET), body)
    assert status == 200
    event = json.loads(answer)
    assert event["body"] == '{"signed": true}' and event["headers"]["authorization"].startswith("AWS4-HMAC-SHA256")
