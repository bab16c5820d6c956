"""The AWS Lambda API driven by real, unmodified clients (boto3, the AWS CLI) against a running server."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

HANDLER = """
import json, os, time

def handler(event, context):
    action = event.get("action") if isinstance(event, dict) else None
    if action == "fail":
        raise KeyError("missing")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "env":
        return {k: os.environ.get(k) for k in event["keys"]}
    if action == "context":
        cc = context.client_context
        return {"request_id": context.aws_request_id, "arn": context.invoked_function_arn,
                "custom": cc.custom if cc else None}
    if action == "boto3":
        import boto3
        client = boto3.client("lambda")
        return sorted(f["FunctionName"] for f in client.list_functions()["Functions"])
    print("handling", json.dumps(event))
    return {"echo": event, "version": "v1"}
"""


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


ZIP = make_zip({"app.py": HANDLER})
ROLE = "arn:aws:iam::123456789012:role/test"


@pytest.fixture(scope="module")
def lam(server: Any) -> Iterator[Any]:
    client = boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30),
    )
    yield client
    client.close()  # its pooled keep-alive sockets; left to the garbage collector they warn in a later test


@pytest.fixture
def fn(lam: Any) -> Iterator[str]:
    name = f"fn-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": ZIP},
        Timeout=5,
    )
    yield name
    try:
        lam.delete_function(FunctionName=name)
    except ClientError:
        pass


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_create_function_shape_and_waiter(lam: Any) -> None:
    name = f"shape-{uuid.uuid4().hex[:8]}"
    created = lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": ZIP},
        Description="d",
        MemorySize=256,
        Environment={"Variables": {"ALPHA": "1"}},
        Tags={"team": "perf"},
    )
    try:
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert created["FunctionName"] == name
        assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(ZIP).digest()).decode()
        assert created["CodeSize"] == len(ZIP)
        assert (created["Version"], created["PackageType"], created["MemorySize"], created["Timeout"]) == (
            "$LATEST",
            "Zip",
            256,
            3,
        )
        assert created["Environment"] == {"Variables": {"ALPHA": "1"}}
        assert created["EphemeralStorage"] == {"Size": 512}
        assert created["LastModified"].endswith("+0000") and len(created["LastModified"]) == 28
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
        got = lam.get_function(FunctionName=name)
        assert got["Configuration"]["State"] == "Active"
        assert got["Tags"] == {"team": "perf"}
        with urllib.request.urlopen(got["Code"]["Location"]) as resp:
            assert resp.read() == ZIP
        config = lam.get_function_configuration(FunctionName=created["FunctionArn"])
        assert config["RevisionId"] == created["RevisionId"]
    finally:
        lam.delete_function(FunctionName=name)


def test_invoke_result_log_tail_and_request_id(lam: Any, fn: str) -> None:
    resp = lam.invoke(FunctionName=fn, Payload=json.dumps({"hello": "world"}), LogType="Tail")
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert json.loads(resp["Payload"].read()) == {"echo": {"hello": "world"}, "version": "v1"}
    log = base64.b64decode(resp["LogResult"]).decode()
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert 'handling {"hello": "world"}' in log
    assert f"END RequestId: {request_id}" in log and f"REPORT RequestId: {request_id}" in log
    ctx = json.loads(lam.invoke(FunctionName=fn, Payload=b'{"action": "context"}')["Payload"].read())
    assert ctx["arn"].endswith(f":function:{fn}")


def test_invoke_with_client_context_and_arn(lam: Any, fn: str) -> None:
    client_context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}}).encode()).decode()
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{fn}"
    resp = lam.invoke(FunctionName=arn, Payload=b'{"action": "context"}', ClientContext=client_context)
    body = json.loads(resp["Payload"].read())
    assert body["custom"] == {"tenant": "t1"}
    assert body["request_id"] == resp["ResponseMetadata"]["RequestId"]


def test_function_error_is_200_with_header(lam: Any, fn: str) -> None:
    resp = lam.invoke(FunctionName=fn, Payload=b'{"action": "fail"}')
    assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
    body = json.loads(resp["Payload"].read())
    assert body["errorType"] == "KeyError" and body["errorMessage"] == "'missing'"
    assert body["requestId"] == resp["ResponseMetadata"]["RequestId"]


def test_timeout_through_the_api(lam: Any, fn: str) -> None:
    lam.update_function_configuration(FunctionName=fn, Timeout=1)
    resp = lam.invoke(FunctionName=fn, Payload=b'{"action": "sleep", "seconds": 5}')
    body = json.loads(resp["Payload"].read())
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_dry_run_and_unknown_invocation_type(lam: Any, fn: str) -> None:
    resp = lam.invoke(FunctionName=fn, InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    assert resp["Payload"].read() == b""  # read to the end: that returns the connection to the client's pool
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="does-not-exist", InvocationType="DryRun")
    assert error_of(caught)[0] == "ResourceNotFoundException"


def test_payload_limits_and_invalid_json(lam: Any, fn: str) -> None:
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=fn, Payload=b'"' + b"x" * 6291456 + b'"')
    code, message, status = error_of(caught)
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    assert message == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=fn, Payload=b"{not json")
    assert error_of(caught)[0] == "InvalidRequestContentException"


def test_not_found_and_conflict_messages(lam: Any, fn: str) -> None:
    with pytest.raises(ClientError) as caught:
        lam.get_function(FunctionName="nope")
    assert error_of(caught) == (
        "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope",
        404,
    )
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="nope")
    assert error_of(caught)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        lam.create_function(
            FunctionName=fn, Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": ZIP}
        )
    assert error_of(caught) == ("ResourceConflictException", f"Function already exist: {fn}", 409)


def test_list_functions_pagination(lam: Any) -> None:
    names = [f"page-{i}-{uuid.uuid4().hex[:6]}" for i in range(5)]
    created: list[str] = []
    try:
        for name in names:
            lam.create_function(
                FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": ZIP}
            )
            created.append(name)
        first = lam.list_functions(MaxItems=2)
        assert len(first["Functions"]) == 2 and first["NextMarker"]
        seen = [
            f["FunctionName"]
            for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
            for f in page["Functions"]
        ]
        assert set(names) <= set(seen)
        assert len(seen) == len(set(seen))
    finally:
        for name in created:  # only those that exist: a failed create is the error to see, not a cleanup 404
            lam.delete_function(FunctionName=name)


def test_update_code_retires_environments(lam: Any, fn: str) -> None:
    assert json.loads(lam.invoke(FunctionName=fn, Payload=b"{}")["Payload"].read())["version"] == "v1"
    before = lam.get_function_configuration(FunctionName=fn)
    new_zip = make_zip({"app.py": HANDLER.replace('"version": "v1"', '"version": "v2"')})
    updated = lam.update_function_code(FunctionName=fn, ZipFile=new_zip)
    assert updated["CodeSha256"] == base64.b64encode(hashlib.sha256(new_zip).digest()).decode()
    assert updated["RevisionId"] != before["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    assert json.loads(lam.invoke(FunctionName=fn, Payload=b"{}")["Payload"].read())["version"] == "v2"
    with pytest.raises(ClientError) as caught:
        lam.update_function_code(FunctionName=fn, ZipFile=new_zip, RevisionId=before["RevisionId"])
    assert error_of(caught)[0] == "PreconditionFailedException"


def test_update_configuration_environment(lam: Any, fn: str) -> None:
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {"COLOR": "blue"}}, MemorySize=512)
    body = json.loads(
        lam.invoke(
            FunctionName=fn,
            Payload=json.dumps(
                {
                    "action": "env",
                    "keys": [
                        "COLOR",
                        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                        "AWS_REGION",
                        "AWS_LAMBDA_FUNCTION_NAME",
                        "_HANDLER",
                        "AWS_ENDPOINT_URL",
                    ],
                }
            ),
        )["Payload"].read()
    )
    assert body["COLOR"] == "blue" and body["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert body["AWS_REGION"] == "us-east-1" and body["AWS_LAMBDA_FUNCTION_NAME"] == fn
    assert body["_HANDLER"] == "app.handler" and body["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    with pytest.raises(ClientError) as caught:
        lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {"AWS_REGION": "x"}})
    code, message, _ = error_of(caught)
    assert code == "InvalidParameterValueException" and "AWS_REGION" in message
    with pytest.raises(ClientError) as caught:
        lam.update_function_configuration(FunctionName=fn, Timeout=901)
    assert error_of(caught)[0] == "InvalidParameterValueException"


def test_boto3_inside_a_function_reaches_the_platform(lam: Any, fn: str) -> None:
    resp = lam.invoke(FunctionName=fn, Payload=b'{"action": "boto3"}')
    assert "FunctionError" not in resp, resp["Payload"].read()
    assert fn in json.loads(resp["Payload"].read())


def test_concurrency_settings_and_throttle(lam: Any, fn: str) -> None:
    assert lam.get_function_concurrency(FunctionName=fn).get("ReservedConcurrentExecutions") is None
    assert (
        lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=1)["ReservedConcurrentExecutions"]
        == 1
    )
    assert lam.get_function_concurrency(FunctionName=fn)["ReservedConcurrentExecutions"] == 1
    assert lam.get_function(FunctionName=fn)["Concurrency"] == {"ReservedConcurrentExecutions": 1}
    results: list[Any] = []
    slow = threading.Thread(
        target=lambda: results.append(lam.invoke(FunctionName=fn, Payload=b'{"action": "sleep", "seconds": 1.5}'))
    )
    slow.start()
    try:
        import time

        time.sleep(0.5)
        with pytest.raises(ClientError) as caught:
            lam.invoke(FunctionName=fn, Payload=b"{}")
        code, message, status = error_of(caught)
        assert (code, message, status) == ("TooManyRequestsException", "Rate Exceeded.", 429)
        assert caught.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    finally:
        slow.join()
    assert results[0]["StatusCode"] == 200
    assert json.loads(results[0]["Payload"].read()) == {"echo": {"action": "sleep", "seconds": 1.5}, "version": "v1"}
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=fn, Payload=b"{}")
    assert error_of(caught)[0] == "TooManyRequestsException"
    lam.delete_function_concurrency(FunctionName=fn)
    unreserved = lam.invoke(FunctionName=fn, Payload=b"{}")
    assert (unreserved["StatusCode"], json.loads(unreserved["Payload"].read())) == (200, {"echo": {}, "version": "v1"})
    with pytest.raises(ClientError) as caught:
        lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=100000)
    assert "UnreservedConcurrentExecution below its minimum value" in error_of(caught)[1]


def test_account_settings(lam: Any, fn: str) -> None:
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["CodeSizeUnzipped"] == 262144000
    assert (
        settings["AccountLimit"]["ConcurrentExecutions"] >= settings["AccountLimit"]["UnreservedConcurrentExecutions"]
    )
    assert settings["AccountUsage"]["FunctionCount"] >= 1


def test_delete_function(lam: Any) -> None:
    name = f"del-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": ZIP}
    )
    assert lam.delete_function(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as caught:
        lam.delete_function(FunctionName=name)
    assert error_of(caught)[0] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (b"not a zip at all", "Could not unzip uploaded file"),
        (make_zip({"../escape.py": "x"}), "escape.py"),
    ],
)
def test_bad_zips_are_rejected_and_nothing_is_created(lam: Any, code: bytes, fragment: str) -> None:
    name = f"bad-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as caught:
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": code}
        )
    err_code, message, status = error_of(caught)
    assert (err_code, status) == ("InvalidParameterValueException", 400)
    assert fragment in message
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=name)


def test_unsupported_runtime_is_a_clear_error(lam: Any) -> None:
    with pytest.raises(ClientError) as caught:
        lam.create_function(
            FunctionName="node-fn",
            Runtime="nodejs20.x",
            Role=ROLE,
            Handler="index.handler",
            Code={"ZipFile": ZIP},
        )
    code, message, _ = error_of(caught)
    assert code == "InvalidParameterValueException" and "nodejs20.x" in message


def test_aws_cli_works_unchanged(server: Any, fn: str, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "--endpoint-url",
            server.url,
            "lambda",
            "invoke",
            "--function-name",
            fn,
            "--payload",
            '{"via": "cli"}',
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["StatusCode"] == 200
    assert json.loads(out.read_text())["echo"] == {"via": "cli"}


def test_health_is_json_without_credentials(server: Any, fn: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=10)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 200 and response.getheader("Content-Type") == "application/json"
    assert body["status"] == "ok" and body["store"] == "sqlite" and body["version"]
    assert set(body["environments"]) >= {"idle", "busy", "cold_starts"}


def _finished_record(server: Any, request_id: str, timeout: float = 15.0) -> dict[str, Any]:
    from lambdahost.client import Client
    from lambdahost.core.errors import LambdaHostError

    deadline = time.monotonic() + timeout
    with Client(server.url) as client:
        while True:
            try:
                record = client.get_invocation(request_id)
            except LambdaHostError:  # not recorded yet
                record = {}
            if record.get("status") in ("succeeded", "failed", "terminated") or time.monotonic() > deadline:
                return record
            time.sleep(0.05)


def test_event_invocations_are_queued_then_run_by_the_worker(lam: Any, fn: str, server: Any) -> None:
    accepted = lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"n": 7}))
    assert accepted["StatusCode"] == 202 and accepted["Payload"].read() == b""
    request_id = accepted["ResponseMetadata"]["RequestId"]
    record = _finished_record(server, request_id)
    assert record["status"] == "succeeded" and record["type"] == "Event"
    assert json.loads(record["result"])["echo"] == {"n": 7}
    steps = [t["status"] for t in record["transitions"]]
    assert steps == ["created", "pending", "ready", "running", "succeeded"]
    assert record["worker"] and all(t["worker"] for t in record["transitions"])
    assert f"START RequestId: {request_id}" in record["log"]

    failing = lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"action": "fail"}))
    failed = _finished_record(server, failing["ResponseMetadata"]["RequestId"])
    assert (failed["status"], failed["error_type"], failed["function_error"]) == ("failed", "KeyError", "Unhandled")
    assert failed["attempt"] == 3, "two retries (the server runs with --retry-delays 0.2,0.4)"
    assert [t["status"] for t in failed["transitions"]].count("running") == 3


def test_event_invocation_limits_and_errors(lam: Any, fn: str) -> None:
    with pytest.raises(ClientError) as too_big:
        lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b'"' + b"x" * 1048576 + b'"')
    assert too_big.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert too_big.value.response["Error"]["Message"] == (
        "Request must be smaller than 1048576 bytes for the InvokeFunction operation"
    )
    with pytest.raises(ClientError) as not_json:
        lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b"{nope")
    assert not_json.value.response["Error"]["Code"] == "InvalidRequestContentException"
    with pytest.raises(ClientError) as missing:
        lam.invoke(FunctionName=f"{fn}-missing", InvocationType="Event", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_legacy_invoke_async(lam: Any, fn: str, server: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        answer = lam.invoke_async(FunctionName=fn, InvokeArgs=json.dumps({"legacy": True}))
    assert answer["Status"] == 202
    record = _finished_record(server, answer["ResponseMetadata"]["RequestId"])
    assert record["status"] == "succeeded" and json.loads(record["result"])["echo"] == {"legacy": True}
