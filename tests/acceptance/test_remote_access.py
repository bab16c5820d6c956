"""A server started with credentials (SigV4), driven by real boto3, the AWS CLI, the lambdahost CLI and plain
``http.client``; and the rule that only a server with credentials may listen on a non-loopback address."""

from __future__ import annotations

import http.client
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .conftest import ServerProcess, clean_env, start_server

KEY_ID = "AKIDLAMBDAHOSTTEST01"
SECRET = "remote-access-test-secret"
ROLE = "arn:aws:iam::123456789012:role/test"
HANDLER = """
import os

def handler(event, context):
    if event.get("action") == "boto3":
        import boto3
        names = sorted(f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"])
        return {"names": names, "key_id": os.environ["AWS_ACCESS_KEY_ID"]}
    return {"echo": event}
"""


def make_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buf.getvalue()


def lambda_client(url: str, key_id: str = KEY_ID, secret: str = SECRET) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30),
    )


def no_credentials_env(**extra: str) -> dict[str, str]:
    """The environment without any LAMBDAHOST_* or AWS_* variable (tests choose their own)."""
    env = {key: value for key, value in clean_env().items() if not key.startswith("AWS_")}
    env.update(extra)
    return env


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("secured") / "data"
    running = start_server(data_dir, "--access-key-id", KEY_ID, "--secret-access-key", SECRET)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def lam(secured: ServerProcess) -> Iterator[Any]:
    client = lambda_client(secured.url)
    yield client
    client.close()  # its pooled keep-alive sockets; left to the garbage collector they warn in a later test


@pytest.fixture(scope="module")
def fn(lam: Any) -> str:
    name = f"secured-{uuid.uuid4().hex[:8]}"
    created = lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
    )
    assert created["FunctionName"] == name
    return name


def raw_request(url: str, method: str, path: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_ready_line_names_the_key(secured: ServerProcess) -> None:
    assert f"SigV4 key {KEY_ID}" in secured.output()
    assert SECRET not in secured.output()


def test_boto3_with_the_right_keys_creates_invokes_and_lists(lam: Any, fn: str) -> None:
    response = lam.invoke(FunctionName=fn, Payload=json.dumps({"hello": "signed"}), LogType="Tail")
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"echo": {"hello": "signed"}}
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{fn}"
    by_arn = lam.invoke(FunctionName=arn, Qualifier="$LATEST", Payload=b'{"n": 1}')
    assert json.loads(by_arn["Payload"].read()) == {"echo": {"n": 1}}
    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]
    assert fn in names
    assert lam.list_functions(MaxItems=1)["Functions"]
    assert lam.get_function_configuration(FunctionName=arn)["FunctionName"] == fn


def test_wrong_secret_is_invalid_signature(secured: ServerProcess, fn: str, request: pytest.FixtureRequest) -> None:
    wrong = lambda_client(secured.url, secret="not-the-secret")
    request.addfinalizer(wrong.close)
    with pytest.raises(ClientError) as caught:
        wrong.invoke(FunctionName=fn, Payload=b"{}")
    assert error_of(caught) == (
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details.",
        403,
    )
    with pytest.raises(ClientError) as listing:
        wrong.list_functions()
    assert error_of(listing)[0] == "InvalidSignatureException"


def test_unknown_key_is_unrecognized_client(secured: ServerProcess, fn: str, request: pytest.FixtureRequest) -> None:
    unknown = lambda_client(secured.url, key_id="AKIDNOBODY")
    request.addfinalizer(unknown.close)
    with pytest.raises(ClientError) as caught:
        unknown.invoke(FunctionName=fn, Payload=b'{"big": "' + b"x" * 100_000 + b'"}')
    assert error_of(caught) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        403,
    )
    # the connection stays usable after a rejected request whose body was never read
    with pytest.raises(ClientError) as again:
        unknown.list_functions()
    assert error_of(again)[0] == "UnrecognizedClientException"


def test_unsigned_requests_get_missing_authentication_token(secured: ServerProcess, fn: str) -> None:
    for method, path, body in (
        ("POST", f"/2015-03-31/functions/{fn}/invocations", b"{}"),
        ("GET", "/2015-03-31/functions", None),
        ("GET", "/lambdahost/v1/invocations", None),
        ("GET", "/no/such/route", None),
    ):
        status, headers, reply = raw_request(secured.url, method, path, body)
        assert status == 403, (path, reply)
        assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
        assert json.loads(reply) == {"Type": "User", "message": "Missing Authentication Token"}


def test_health_is_open(secured: ServerProcess) -> None:
    status, _, reply = raw_request(secured.url, "GET", "/health")
    assert status == 200 and json.loads(reply)["status"] == "ok"


def test_boto3_inside_a_function_reaches_the_platform(lam: Any, fn: str) -> None:
    response = lam.invoke(FunctionName=fn, Payload=b'{"action": "boto3"}')
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    assert fn in body["names"]
    assert body["key_id"].startswith("LHFN") and body["key_id"] != KEY_ID  # the functions' own key pair


def test_aws_cli_with_the_right_keys(secured: ServerProcess, fn: str, tmp_path: Path) -> None:
    def aws(*args: str, secret: str = SECRET) -> subprocess.CompletedProcess[str]:
        env = no_credentials_env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1")
        return subprocess.run(
            [sys.executable, "-m", "awscli", "--endpoint-url", secured.url, "lambda", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    out = tmp_path / "out.json"
    invoked = aws("invoke", "--function-name", fn, "--payload", '{"via": "cli"}', str(out))
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(out.read_text()) == {"echo": {"via": "cli"}}
    listed = aws("list-functions")
    assert listed.returncode == 0, listed.stderr
    assert fn in [f["FunctionName"] for f in json.loads(listed.stdout)["Functions"]]
    refused = aws("list-functions", secret="wrong")
    assert refused.returncode != 0
    assert "InvalidSignatureException" in refused.stderr


def test_lambdahost_cli_with_keys_and_without(secured: ServerProcess, fn: str) -> None:
    def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lambdahost", *args, "--endpoint", secured.url],
            capture_output=True,
            text=True,
            env=no_credentials_env(**env),
            timeout=60,
            check=False,
        )

    flags = cli("invoke", fn, "--payload", '{"via": "flags"}', "--access-key-id", KEY_ID, "--secret-access-key", SECRET)
    assert flags.returncode == 0, flags.stderr
    assert json.loads(flags.stdout) == {"echo": {"via": "flags"}}
    from_env = cli("list", LAMBDAHOST_ACCESS_KEY_ID=KEY_ID, LAMBDAHOST_SECRET_ACCESS_KEY=SECRET)
    assert from_env.returncode == 0, from_env.stderr
    assert fn in from_env.stdout
    from_aws_env = cli("invocations", "list", "--function", fn, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)
    assert from_aws_env.returncode == 0, from_aws_env.stderr
    assert "succeeded" in from_aws_env.stdout
    logs = cli("logs", fn, LAMBDAHOST_ACCESS_KEY_ID=KEY_ID, LAMBDAHOST_SECRET_ACCESS_KEY=SECRET)
    assert logs.returncode == 0, logs.stderr
    assert "START RequestId:" in logs.stdout

    without = cli("list")
    assert without.returncode == 2
    assert without.stderr.startswith("error: MissingAuthenticationTokenException: Missing Authentication Token")
    assert "--access-key-id" in without.stderr and "--secret-access-key" in without.stderr
    wrong = cli("list", "--access-key-id", KEY_ID, "--secret-access-key", "wrong")
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("error: InvalidSignatureException: The request signature we calculated")
    half = cli("list", "--access-key-id", KEY_ID)
    assert half.returncode == 2
    assert "--access-key-id and --secret-access-key go together" in half.stderr


def test_non_loopback_host_without_credentials_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambdahost", "serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=no_credentials_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "'0.0.0.0' is not a loopback address" in result.stderr
    assert "--access-key-id" in result.stderr and "--secret-access-key" in result.stderr
    assert not os.listdir(tmp_path)  # nothing was created


def test_non_loopback_host_with_credentials_serves(tmp_path: Path) -> None:
    server = start_server(
        tmp_path / "data", "--host", "0.0.0.0", "--access-key-id", KEY_ID, "--secret-access-key", SECRET
    )
    try:
        assert server.url.startswith("http://127.0.0.1:")
        client = lambda_client(server.url)
        try:
            assert client.list_functions()["Functions"] == []
        finally:
            client.close()
        status, headers, _ = raw_request(server.url, "GET", "/2015-03-31/functions")
        assert (status, headers["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")
    finally:
        assert server.stop() == 0
