"""Asynchronous settings driven by real clients against a running server: boto3's ``lambda`` client for event
invoke configs and provisioned concurrency, boto3's ``sqs`` client reading a dead-letter queue and a destination
queue, a function that invokes itself through boto3 until the loop is stopped, and the CLI for lanes."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

HANDLER = """
import json, os, time

def handler(event, context):
    if event.get("loop"):
        import boto3
        boto3.client("lambda").invoke(
            FunctionName=context.function_name, InvocationType="Event", Payload=json.dumps({"loop": True})
        )
        return os.environ.get("_X_AMZN_TRACE_ID")
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"), "event": event}
"""
ROLE = "arn:aws:iam::123456789012:role/test"
T = TypeVar("T")


def make_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", HANDLER)
    return buf.getvalue()


def wait_for(check: Callable[[], T | None], timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up after {timeout} s")


def _client(service: str, server: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30),
    )


@pytest.fixture(scope="module")
def lam(server: Any) -> Iterator[Any]:
    client = _client("lambda", server)
    yield client
    client.close()


@pytest.fixture(scope="module")
def sqs(server: Any) -> Iterator[Any]:
    client = _client("sqs", server)
    yield client
    client.close()


@pytest.fixture
def fn(lam: Any) -> Iterator[str]:
    name = f"async-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
    )
    yield name
    try:
        lam.delete_function(FunctionName=name)
    except ClientError:
        pass


def queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def messages(sqs: Any, url: str, count: int = 1) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def more() -> list[dict[str, Any]] | None:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        found.extend(got.get("Messages", []))
        return found if len(found) >= count else None

    return wait_for(more)


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_event_invoke_config_lifecycle_through_boto3(lam: Any, fn: str, sqs: Any) -> None:
    _url, arn = queue(sqs)
    with pytest.raises(ClientError) as missing:
        lam.get_function_event_invoke_config(FunctionName=fn)
    assert code_of(missing) == ("ResourceNotFoundException", 404)
    assert "doesn't have an EventInvokeConfig" in missing.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as too_many:
        lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=3)
    assert code_of(too_many) == ("ValidationException", 400)

    put = lam.put_function_event_invoke_config(
        FunctionName=fn, MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    assert put["FunctionArn"].endswith(f":function:{fn}:$LATEST")
    assert put["MaximumRetryAttempts"] == 1 and put["DestinationConfig"] == {"OnFailure": {"Destination": arn}}
    assert abs(put["LastModified"].timestamp() - time.time()) < 60, "a timestamp botocore parses"
    updated = lam.update_function_event_invoke_config(FunctionName=fn, MaximumEventAgeInSeconds=600)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 600)
    listed = lam.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"]
    assert [c["MaximumEventAgeInSeconds"] for c in listed] == [600]
    assert lam.get_function_event_invoke_config(FunctionName=fn, Qualifier="$LATEST")["MaximumRetryAttempts"] == 1
    lam.delete_function_event_invoke_config(FunctionName=fn)
    with pytest.raises(ClientError):
        lam.get_function_event_invoke_config(FunctionName=fn)


def test_dead_letter_queue_and_on_failure_queue_through_boto3_and_sqs(lam: Any, fn: str, sqs: Any) -> None:
    dlq_url, dlq_arn = queue(sqs)
    failures_url, failures_arn = queue(sqs)
    lam.update_function_configuration(FunctionName=fn, DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(
        FunctionName=fn, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": failures_arn}}
    )
    response = lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b'{"fail": true, "id": 41}')
    request_id = response["ResponseMetadata"]["RequestId"]
    [dead] = messages(sqs, dlq_url)
    assert json.loads(dead["Body"]) == {"fail": True, "id": 41}
    attributes = {k: (v["DataType"], v["StringValue"]) for k, v in dead["MessageAttributes"].items()}
    assert attributes == {
        "RequestID": ("String", request_id),
        "ErrorCode": ("Number", "200"),
        "ErrorMessage": ("String", "asked to fail"),
    }
    [record] = messages(sqs, failures_url)
    body = json.loads(record["Body"])
    assert body["requestContext"]["requestId"] == request_id
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 1
    assert body["responseContext"]["functionError"] == "Unhandled"


def test_a_function_invoking_itself_through_boto3_is_stopped_at_the_seventeenth_run(
    lam: Any, fn: str, sqs: Any, server: Any
) -> None:
    url, arn = queue(sqs)
    lam.put_function_event_invoke_config(FunctionName=fn, DestinationConfig={"OnFailure": {"Destination": arn}})
    lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b'{"loop": true}')
    [stopped] = messages(sqs, url)
    body = json.loads(stopped["Body"])
    assert body["requestContext"]["condition"] == "RecursiveInvocationException"
    from lambdahost.client import Client

    with Client(server.url) as client:  # the record goes out before the final status is stored: wait for it

        def all_finished() -> list[dict[str, Any]] | None:
            listed = client.list_invocations(fn, limit=50)
            return listed if len(listed) >= 17 and all(r["finished_at"] for r in listed) else None

        runs = wait_for(all_finished)
    assert len(runs) == 17, "16 runs, then the 17th was stopped instead of run"
    statuses = sorted(r["status"] for r in runs)
    assert statuses == ["succeeded"] * 16 + ["terminated"]
    with Client(server.url) as client:
        detail = client.get_invocation(body["requestContext"]["requestId"])
    assert (detail["status"], detail["error_type"]) == ("terminated", "RecursiveInvocationException")
    assert (detail["routed_to"], detail["route_condition"]) == (arn, "RecursiveInvocationException")
    assert "Lineage=" in detail["trace"], "the chain is visible on the invocation"


def test_provisioned_concurrency_keeps_initialised_environments(lam: Any, fn: str) -> None:
    with pytest.raises(ClientError) as none:
        lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="$LATEST")
    assert code_of(none) == ("ProvisionedConcurrencyConfigNotFoundException", 404)
    put = lam.put_provisioned_concurrency_config(
        FunctionName=fn, Qualifier="$LATEST", ProvisionedConcurrentExecutions=2
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202 and put["RequestedProvisionedConcurrentExecutions"] == 2

    def ready() -> dict[str, Any] | None:
        got: dict[str, Any] = lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="$LATEST")
        return got if got["Status"] == "READY" else None

    got = wait_for(ready)
    assert got["AllocatedProvisionedConcurrentExecutions"] == 2 and got["AvailableProvisionedConcurrentExecutions"] == 2
    result = lam.invoke(FunctionName=fn, Payload=b"{}", LogType="Tail")
    assert json.loads(result["Payload"].read())["init"] == "provisioned-concurrency"
    import base64

    assert "Init Duration" not in base64.b64decode(result["LogResult"]).decode(), "not a cold start"
    listed = lam.list_provisioned_concurrency_configs(FunctionName=fn)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[-1] for c in listed] == ["$LATEST"]
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=2)
    with pytest.raises(ClientError) as bad:
        lam.put_provisioned_concurrency_config(FunctionName=fn, Qualifier="$LATEST", ProvisionedConcurrentExecutions=3)
    assert code_of(bad) == ("InvalidParameterValueException", 400)
    assert lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="$LATEST")["Status"] == "READY"
    lam.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier="$LATEST")
    with pytest.raises(ClientError):
        lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="$LATEST")


def test_lanes_from_the_cli_and_the_lane_header(fn: str, cli: Callable[..., Any], lam: Any, server: Any) -> None:
    shown = cli("lanes", fn)
    assert shown.returncode == 0 and "one lane" in shown.stdout
    set_ = cli("lanes", fn, "4", "1")
    assert set_.returncode == 0 and f"{fn} lane 1: up to 1 at once" in set_.stdout
    invoked = cli("invoke", fn, "--async", "--lane", "1", "--payload", "{}")
    assert invoked.returncode == 0, invoked.stderr
    wrong = cli("invoke", fn, "--async", "--lane", "2", "--payload", "{}")
    assert wrong.returncode == 2 and "Lane 2 does not exist" in wrong.stderr

    def add_lane(request: Any, **kwargs: Any) -> None:
        request.headers["X-Lambdahost-Lane"] = "1"

    lam.meta.events.register("before-sign.lambda.Invoke", add_lane)
    try:
        lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b"{}")
    finally:
        lam.meta.events.unregister("before-sign.lambda.Invoke", add_lane)
    from lambdahost.client import Client

    with Client(server.url) as client:
        lanes = wait_for(lambda: [r["lane"] for r in client.list_invocations(fn)] or None)
    assert lanes == [1, 1], "both invocations went to lane 1 (CLI option and header)"
    config = cli("event-config", fn, "--max-retries", "0", "--max-age", "120")
    assert config.returncode == 0 and "retries      0" in config.stdout and "max age      120 s" in config.stdout
    assert cli("event-config", fn, "--delete").returncode == 0
    assert "no event invoke config" in cli("event-config", fn).stdout
