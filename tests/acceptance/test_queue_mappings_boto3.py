"""Queue event source mappings driven by real, unmodified boto3 ``lambda`` and ``sqs`` clients against a real
``lambdahost serve`` process, on SQLite and on PostgreSQL: the Create/Get/List/Update/DeleteEventSourceMapping API
with AWS's shapes and errors, and the poller: a batch of 50 where record 30 fails is retried as exactly that
record, a FIFO batch stops at its first failure, a throwing function's batch reappears after the visibility timeout
and reaches the dead-letter queue after maxReceiveCount, filters drop what they do not match, a disabled mapping
stops polling; batches run concurrently up to MaximumConcurrency, stop before 6 MB, and a server and a worker
sharing PostgreSQL poll one queue with each message processed once.

The functions report every batch they get by sending its records to a "seen" queue (with boto3 inside the
function, which the platform points at itself), so the tests see exactly what each invocation received."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdahost.client import Client
from tests.acceptance.conftest import ServerProcess, start_server
from tests.acceptance.processes import start_worker
from tests.waiting import eventually

ROLE = "arn:aws:iam::123456789012:role/test"
ACCOUNT = "000000000000"

# Reports each batch to SEEN_QUEUE_URL; a record whose body says {"fail": true} fails while its receive count is
# below FAIL_UNTIL (reported with ReportBatchItemFailures, or the whole batch when MODE is "throw"); MODE "garbage"
# answers something that is not JSON.
HANDLER = """
import json, os, time
import boto3

sqs = boto3.client("sqs")

def fails(record, until):
    try:
        body = json.loads(record["body"])
    except ValueError:
        return False
    return body.get("fail") and int(record["attributes"]["ApproximateReceiveCount"]) < until

def handler(event, context):
    records = event["Records"]
    started = time.time()
    time.sleep(float(os.environ.get("SLEEP_S", "0")))
    report = {"records": records, "started": started, "ended": time.time()}
    if os.environ.get("SHORT"):  # large bodies: report their numbers and the event's size only
        report["records"] = [{"messageId": r["messageId"], "body": json.dumps({"n": json.loads(r["body"])["n"]})}
                             for r in records]
        report["bytes"] = len(json.dumps(event, separators=(",", ":")))
    sqs.send_message(QueueUrl=os.environ["SEEN_QUEUE_URL"], MessageBody=json.dumps(report))
    until = int(os.environ.get("FAIL_UNTIL", "2"))
    failing = [r["messageId"] for r in records if fails(r, until)]
    mode = os.environ.get("MODE", "report")
    if mode == "throw" and failing:
        raise RuntimeError("poison")
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failing]}
"""


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


ZIP = make_zip({"app.py": HANDLER})


def client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30),
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def node(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per store for the module: SQLite in its data dir, or a fresh PostgreSQL database."""
    data_dir: Path = tmp_path_factory.mktemp("mappings") / "data"
    if request.param == "sqlite":
        running = start_server(data_dir)
        running.store_url = f"sqlite:///{data_dir / 'lambdahost.db'}"  # type: ignore[attr-defined]
        yield running
        running.stop()
        return
    pg = request.getfixturevalue("pg_server")
    name = pg.take_migrated()
    try:
        running = start_server(data_dir, "--store", pg.url(name))
        running.store_url = pg.url(name)  # type: ignore[attr-defined]
        yield running
        running.stop()
    finally:
        pg.release(name)


@pytest.fixture(scope="module")
def lam(node: ServerProcess) -> Iterator[Any]:
    made = client("lambda", node.url)
    yield made
    made.close()


@pytest.fixture(scope="module")
def sqs(node: ServerProcess) -> Iterator[Any]:
    made = client("sqs", node.url)
    yield made
    made.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


def make_queue(sqs: Any, name: str, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def make_function(lam: Any, sqs: Any, **env: str) -> tuple[str, str]:
    """A function that reports its batches; returns (its name, the URL of its "seen" queue)."""
    name = unique("fn")
    seen = make_queue(sqs, unique("seen"))
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": ZIP},
        Timeout=2,  # at most the visibility timeout of the queues it is mapped to
        Environment={"Variables": {"SEEN_QUEUE_URL": seen, **env}},
    )
    return name, seen


def send(sqs: Any, url: str, bodies: list[dict[str, Any]], **extra: Any) -> None:
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(n), "MessageBody": json.dumps(body), **extra}
            for n, body in enumerate(bodies[start : start + 10])
        ]
        if url.endswith(".fifo"):
            for n, entry in enumerate(entries):
                entry["MessageDeduplicationId"] = f"d{start + n}"
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def reports_seen(sqs: Any, seen: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The first ``count`` reports of the function (``records``, ``started``, ``ended``), in the order it started
    them."""
    found: list[dict[str, Any]] = []

    def more() -> bool:
        got = sqs.receive_message(QueueUrl=seen, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=seen, ReceiptHandle=message["ReceiptHandle"])
        return len(found) >= count

    assert eventually(more, timeout=timeout, interval=0), f"saw {len(found)} of {count} batches"
    return sorted(found, key=lambda report: float(report["started"]))


def batches_seen(sqs: Any, seen: str, count: int, timeout: float = 15.0) -> list[list[dict[str, Any]]]:
    """The records of the first ``count`` batches the function got, in the order it got them."""
    return [report["records"] for report in reports_seen(sqs, seen, count, timeout)]


def nothing_more(sqs: Any, seen: str, wait_s: int = 2) -> bool:
    return "Messages" not in sqs.receive_message(QueueUrl=seen, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s)


def counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def bodies(records: list[dict[str, Any]]) -> list[int]:
    return [json.loads(r["body"])["n"] for r in records]


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


# -- the API ---------------------------------------------------------------------------------------------------------
def test_create_get_list_update_delete_with_botocores_shapes(lam: Any, sqs: Any) -> None:
    function_name, _ = make_function(lam, sqs)
    name = unique("src")
    make_queue(sqs, name)
    created = lam.create_event_source_mapping(
        FunctionName=function_name,
        EventSourceArn=queue_arn(name),
        BatchSize=20,
        MaximumBatchingWindowInSeconds=2,
        ScalingConfig={"MaximumConcurrency": 3},
        FunctionResponseTypes=["ReportBatchItemFailures"],
        FilterCriteria={"Filters": [{"Pattern": '{"body": {"kind": ["a"]}}'}]},
        Enabled=False,
    )
    uuid_ = created["UUID"]
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    assert created["EventSourceArn"] == queue_arn(name)
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function_name}"
    assert created["EventSourceMappingArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{uuid_}"
    assert (created["BatchSize"], created["MaximumBatchingWindowInSeconds"]) == (20, 2)
    assert created["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert created["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert created["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": {"kind": ["a"]}}'}]}
    assert abs(created["LastModified"].timestamp() - time.time()) < 60  # epoch seconds, parsed by botocore
    assert "StartingPosition" not in created and "ParallelizationFactor" not in created

    got = lam.get_event_source_mapping(UUID=uuid_)
    assert (got["State"], got["StateTransitionReason"], got["LastProcessingResult"]) == (
        "Disabled",
        "USER_INITIATED",
        "No records processed",
    )
    listed = lam.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid_]
    assert [
        m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=queue_arn(name))["EventSourceMappings"]
    ] == [uuid_]
    paged = [
        m["UUID"]
        for page in lam.get_paginator("list_event_source_mappings").paginate(
            FunctionName=function_name, PaginationConfig={"PageSize": 1}
        )
        for m in page["EventSourceMappings"]
    ]
    assert paged == [uuid_]

    updated = lam.update_event_source_mapping(UUID=uuid_, Enabled=True, BatchSize=5, FilterCriteria={"Filters": []})
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (updated["State"], updated["BatchSize"], updated["MaximumBatchingWindowInSeconds"]) == ("Enabling", 5, 2)
    assert "FilterCriteria" not in updated
    assert lam.get_event_source_mapping(UUID=uuid_)["State"] == "Enabled"

    with pytest.raises(lam.exceptions.ResourceConflictException) as conflict:
        lam.create_event_source_mapping(FunctionName=function_name, EventSourceArn=queue_arn(name))
    assert uuid_ in error_of(conflict)[1] and error_of(conflict)[2] == 409

    deleted = lam.delete_event_source_mapping(UUID=uuid_)
    assert (deleted["ResponseMetadata"]["HTTPStatusCode"], deleted["State"]) == (202, "Deleting")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
        lam.get_event_source_mapping(UUID=uuid_)
    assert error_of(missing)[2] == 404
    assert lam.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"] == []


def test_awss_errors(lam: Any, sqs: Any) -> None:
    function_name, _ = make_function(lam, sqs)
    name = unique("src")
    make_queue(sqs, name)
    fifo = unique("src") + ".fifo"
    make_queue(sqs, fifo, FifoQueue="true")
    brief = unique("brief")
    make_queue(sqs, brief, VisibilityTimeout="1")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"BatchSize": 11}, "InvalidParameterValueException", "Maximum batch window in seconds must be greater than 0"),
        ({"BatchSize": 10001, "MaximumBatchingWindowInSeconds": 1}, "ValidationException", "batchSize"),
        ({"MaximumBatchingWindowInSeconds": 301}, "ValidationException", "maximumBatchingWindowInSeconds"),
        ({"ScalingConfig": {"MaximumConcurrency": 1001}}, "ValidationException", "maximumConcurrency"),
        ({"StartingPosition": "LATEST"}, "InvalidParameterValueException", "StartingPosition"),
        ({"FilterCriteria": {"Filters": [{"Pattern": "{nope"}]}}, "InvalidParameterValueException", "filter pattern"),
        ({"EventSourceArn": queue_arn(unique("absent"))}, "InvalidParameterValueException", "NonExistentQueue"),
        (
            {"EventSourceArn": queue_arn(fifo), "BatchSize": 20, "MaximumBatchingWindowInSeconds": 1},
            "InvalidParameterValueException",
            "FIFO",
        ),
        ({"FunctionName": unique("absent")}, "ResourceNotFoundException", "Function not found"),
        (
            {"EventSourceArn": queue_arn(brief)},
            "InvalidParameterValueException",
            "Queue visibility timeout: 1 seconds is less than Function timeout: 2 seconds",
        ),
    ]
    for extra, code, message in cases:
        request = {"FunctionName": function_name, "EventSourceArn": queue_arn(name), **extra}
        with pytest.raises(ClientError) as caught:
            lam.create_event_source_mapping(**request)
        assert error_of(caught)[0] == code, extra
        assert message in error_of(caught)[1], extra
    assert lam.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"] == []
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.update_event_source_mapping(UUID=str(uuid.uuid4()), BatchSize=1)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_event_source_mapping(UUID=str(uuid.uuid4()))


# -- the poller ------------------------------------------------------------------------------------------------------
def test_a_batch_of_50_where_record_30_fails_is_retried_as_exactly_that_record(lam: Any, sqs: Any) -> None:
    function_name, seen = make_function(lam, sqs)
    name = unique("orders")
    url = make_queue(sqs, name, VisibilityTimeout="2")
    send(sqs, url, [{"n": n, "fail": n == 30} for n in range(50)])
    mapping = lam.create_event_source_mapping(
        FunctionName=function_name,
        EventSourceArn=queue_arn(name),
        BatchSize=50,
        MaximumBatchingWindowInSeconds=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    first, retry = batches_seen(sqs, seen, 2)
    assert sorted(bodies(first)) == list(range(50))
    assert bodies(retry) == [30]
    failed = next(r for r in first if json.loads(r["body"])["n"] == 30)
    assert retry[0]["messageId"] == failed["messageId"]
    assert retry[0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert eventually(lambda: counts(sqs, url) == (0, 0), timeout=10)
    assert nothing_more(sqs, seen, wait_s=1)

    record = first[0]
    assert list(record) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        queue_arn(name),
        "us-east-1",
    )
    assert eventually(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"] == "OK")


def test_message_attributes_in_lambdas_shape(lam: Any, sqs: Any) -> None:
    function_name, seen = make_function(lam, sqs)
    name = unique("attrs")
    url = make_queue(sqs, name)
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"n": 1}),
        MessageAttributes={
            "team": {"DataType": "String", "StringValue": "perf"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    lam.create_event_source_mapping(FunctionName=function_name, EventSourceArn=queue_arn(name))
    (batch,) = batches_seen(sqs, seen, 1)
    record = batch[0]
    assert record["messageAttributes"] == {
        "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
        "team": {"stringValue": "perf", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
    }
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]


def test_a_fifo_batch_stops_at_its_first_failure(lam: Any, sqs: Any) -> None:
    function_name, seen = make_function(lam, sqs)
    name = unique("ordered") + ".fifo"
    url = make_queue(sqs, name, FifoQueue="true", VisibilityTimeout="2")
    send(sqs, url, [{"n": n, "fail": n == 3} for n in range(10)], MessageGroupId="g")
    lam.create_event_source_mapping(
        FunctionName=function_name,
        EventSourceArn=queue_arn(name),
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    first, retry = batches_seen(sqs, seen, 2)
    assert bodies(first) == list(range(10))
    assert bodies(retry) == list(range(3, 10))  # 3 failed: it and everything after it stayed, in order
    assert [r["attributes"]["ApproximateReceiveCount"] for r in retry] == ["2"] * 7
    assert retry[0]["attributes"]["MessageGroupId"] == "g"
    assert {"SequenceNumber", "MessageDeduplicationId"} <= set(retry[0]["attributes"])
    assert eventually(lambda: counts(sqs, url) == (0, 0), timeout=10)


def test_a_throwing_function_sends_the_message_to_the_dead_letter_queue(lam: Any, sqs: Any) -> None:
    function_name, seen = make_function(lam, sqs, MODE="throw", FAIL_UNTIL="1000")
    dlq_name, name = unique("dlq"), unique("poison")
    dlq = make_queue(sqs, dlq_name)
    policy = json.dumps({"deadLetterTargetArn": queue_arn(dlq_name), "maxReceiveCount": 2})
    url = make_queue(sqs, name, VisibilityTimeout="2", RedrivePolicy=policy)
    send(sqs, url, [{"n": 1, "fail": True}, {"n": 2}])
    mapping = lam.create_event_source_mapping(FunctionName=function_name, EventSourceArn=queue_arn(name))
    first, second = batches_seen(sqs, seen, 2)
    # the whole batch failed twice (the good message with it), then both went to the dead-letter queue
    assert sorted(bodies(first)) == sorted(bodies(second)) == [1, 2]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in second} == {"2"}
    assert eventually(lambda: counts(sqs, dlq) == (2, 0), timeout=10)
    assert counts(sqs, url) == (0, 0)
    result = lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"]
    assert result == "PROBLEM: Function call failed"


def test_filters_drop_what_they_do_not_match(lam: Any, sqs: Any) -> None:
    function_name, seen = make_function(lam, sqs)
    name = unique("filtered")
    url = make_queue(sqs, name)
    send(sqs, url, [{"n": n, "kind": "keep" if n % 2 else "drop"} for n in range(6)])
    sqs.send_message(QueueUrl=url, MessageBody="plain text keep-me")
    lam.create_event_source_mapping(
        FunctionName=function_name,
        EventSourceArn=queue_arn(name),
        BatchSize=10,
        FilterCriteria={
            "Filters": [{"Pattern": '{"body": {"kind": ["keep"]}}'}, {"Pattern": '{"body": [{"prefix": "plain"}]}'}]
        },
    )
    assert eventually(lambda: counts(sqs, url) == (0, 0), timeout=10)
    seen_bodies = [r["body"] for batch in batches_seen(sqs, seen, 1) for r in batch]
    time.sleep(0.5)
    seen_bodies += [r["body"] for batch in _drain(sqs, seen) for r in batch]
    assert sorted(seen_bodies) == sorted(
        [json.dumps({"n": n, "kind": "keep"}) for n in (1, 3, 5)] + ["plain text keep-me"]
    )


def _drain(sqs: Any, seen: str) -> list[list[dict[str, Any]]]:
    found = []
    while True:
        got = sqs.receive_message(QueueUrl=seen, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return found
        for message in got:
            found.append(json.loads(message["Body"])["records"])
            sqs.delete_message(QueueUrl=seen, ReceiptHandle=message["ReceiptHandle"])


def test_a_disabled_mapping_stops_polling_and_an_enabled_one_resumes(lam: Any, sqs: Any) -> None:
    function_name, seen = make_function(lam, sqs)
    name = unique("paused")
    url = make_queue(sqs, name)
    mapping = lam.create_event_source_mapping(FunctionName=function_name, EventSourceArn=queue_arn(name))
    send(sqs, url, [{"n": 1}])
    assert bodies(batches_seen(sqs, seen, 1)[0]) == [1]
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    send(sqs, url, [{"n": 2}, {"n": 3}])
    assert nothing_more(sqs, seen, wait_s=1)
    assert counts(sqs, url) == (2, 0)
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    assert sorted(n for batch in batches_seen(sqs, seen, 1) for n in bodies(batch))[:1] in ([2], [3])
    assert eventually(lambda: counts(sqs, url) == (0, 0), timeout=10)
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    send(sqs, url, [{"n": 4}])
    assert nothing_more(sqs, seen, wait_s=1)
    assert counts(sqs, url) == (1, 0)


def most_at_once(reports: list[dict[str, Any]]) -> int:
    """The most invocations that ran at the same moment."""
    edges = sorted([(r["started"], 1) for r in reports] + [(r["ended"], -1) for r in reports])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


@pytest.mark.parametrize("node", ["sqlite"], indirect=True)  # the poller's threads, whatever the store
@pytest.mark.parametrize(("scaling", "expected"), [(None, range(3, 6)), (2, range(2, 3))])
def test_batches_run_concurrently_up_to_the_maximum_concurrency(
    lam: Any, sqs: Any, scaling: int | None, expected: range
) -> None:
    function_name, seen = make_function(lam, sqs, SLEEP_S="0.5")
    name = unique("busy")
    url = make_queue(sqs, name)
    send(sqs, url, [{"n": n} for n in range(40)])
    extra = {} if scaling is None else {"ScalingConfig": {"MaximumConcurrency": scaling}}
    lam.create_event_source_mapping(FunctionName=function_name, EventSourceArn=queue_arn(name), BatchSize=5, **extra)
    reports = reports_seen(sqs, seen, 8, timeout=30)
    assert sorted(n for report in reports for n in bodies(report["records"])) == list(range(40))
    assert most_at_once(reports) in expected


@pytest.mark.parametrize("node", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_nodes_share_a_queue_and_each_message_is_processed_once(
    lam: Any, sqs: Any, node: ServerProcess, tmp_path: Path
) -> None:
    worker = start_worker(tmp_path / "worker", node.store_url, node.url)  # type: ignore[attr-defined]
    try:
        function_name, seen = make_function(lam, sqs, SLEEP_S="0.2")
        name = unique("shared")
        url = make_queue(sqs, name)
        send(sqs, url, [{"n": n} for n in range(100)])
        lam.create_event_source_mapping(FunctionName=function_name, EventSourceArn=queue_arn(name), BatchSize=5)
        reports = reports_seen(sqs, seen, 20, timeout=30)
        assert sorted(n for report in reports for n in bodies(report["records"])) == list(range(100))
        assert eventually(lambda: counts(sqs, url) == (0, 0), timeout=10)
        assert nothing_more(sqs, seen, wait_s=1)
        with Client(node.url) as client:  # both nodes ran batches (their records are written in the background)
            assert eventually(
                lambda: len({i["worker"] for i in client.list_invocations(function_name, limit=100)}) == 2
            )
    finally:
        worker.stop()


def test_the_maximum_concurrency_holds_across_two_nodes(
    lam: Any, sqs: Any, node: ServerProcess, tmp_path: Path
) -> None:
    """Each consumer holds one of the mapping's slots in the store, so two nodes together run at most 2 batches."""
    worker = start_worker(tmp_path / "worker", node.store_url, node.url)  # type: ignore[attr-defined]
    try:
        function_name, seen = make_function(lam, sqs, SLEEP_S="0.4")
        name = unique("capped")
        url = make_queue(sqs, name)
        send(sqs, url, [{"n": n} for n in range(60)])
        lam.create_event_source_mapping(
            FunctionName=function_name,
            EventSourceArn=queue_arn(name),
            BatchSize=5,
            ScalingConfig={"MaximumConcurrency": 2},
        )
        reports = reports_seen(sqs, seen, 12, timeout=40)
        assert sorted(n for report in reports for n in bodies(report["records"])) == list(range(60))
        assert most_at_once(reports) == 2
    finally:
        worker.stop()


@pytest.mark.parametrize("node", ["sqlite"], indirect=True)  # the poller's batching, whatever the store
def test_a_batch_stops_before_6_mb(lam: Any, sqs: Any) -> None:
    function_name, seen = make_function(lam, sqs, SHORT="1")
    name = unique("large")
    url = make_queue(sqs, name)
    for n in range(30):  # 30 x 240 KB: more than one invocation's 6 MB
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n, "pad": "x" * 240_000}))
    lam.create_event_source_mapping(
        FunctionName=function_name, EventSourceArn=queue_arn(name), BatchSize=100, MaximumBatchingWindowInSeconds=1
    )
    first, second = reports_seen(sqs, seen, 2)
    assert sorted(bodies(first["records"]) + bodies(second["records"])) == list(range(30))
    assert len(first["records"]) >= 24 and first["bytes"] <= 6_291_456
    assert eventually(lambda: counts(sqs, url) == (0, 0), timeout=10)
    assert nothing_more(sqs, seen, wait_s=1)
