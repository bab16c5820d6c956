"""Stream event source mappings end to end: real ``lambdahost serve`` processes on SQLite and on PostgreSQL, a real
boto3 ``kinesis`` client putting records and a real boto3 ``lambda`` client creating the mappings. A poison record
is bisected down to itself, retried, sent to the on-failure destination with its ``KinesisBatchInfo``, and the rest
of the shard is processed in order; ReportBatchItemFailures goes on from the lowest reported sequence number;
records older than MaximumRecordAgeInSeconds go to the destination unprocessed; ParallelizationFactor keeps each
partition key's order; a second node takes over a shard after the first is killed (kill -9) without skipping a
record.

The functions report every batch they get to a "seen" queue (boto3 inside the function, which the platform points
at itself), so the tests see exactly what each invocation received."""

from __future__ import annotations

import collections
import io
import itertools
import json
import signal
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambdahost.client import Client
from lambdahost.core.streams import NewRecord, partition_hash
from lambdahost.storage.base import open_store
from tests.acceptance.conftest import ServerProcess, start_server
from tests.waiting import eventually

ROLE = "arn:aws:iam::123456789012:role/test"
ACCOUNT = "000000000000"
LEASE = ("--lease-seconds", "2", "--heartbeat-seconds", "0.25")

# Reports each batch to SEEN_QUEUE_URL. MODE "throw": a batch holding the record "poison" raises. MODE "report":
# records whose data starts with "bad" are reported failed while the batch starts with the record "r0".
HANDLER = """
import base64, json, os, time
import boto3

sqs = boto3.client("sqs")

def handler(event, context):
    records = event["Records"]
    datas = [base64.b64decode(r["kinesis"]["data"]).decode() for r in records]
    started = time.time()
    time.sleep(float(os.environ.get("SLEEP", "0")))
    seen = {
        "at": started,
        "data": datas,
        "keys": [r["kinesis"]["partitionKey"] for r in records],
        "seqs": [r["kinesis"]["sequenceNumber"] for r in records],
        "first": records[0],
    }
    sqs.send_message(QueueUrl=os.environ["SEEN_QUEUE_URL"], MessageBody=json.dumps(seen))
    mode = os.environ.get("MODE", "throw")
    if mode == "throw" and "poison" in datas:
        raise RuntimeError("poison")
    if mode == "report" and datas[0] == "r0":
        failed = [s for s, d in zip(seen["seqs"], datas) if d.startswith("bad")]
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
    return {"batchItemFailures": []}
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


@dataclass
class Node:
    server: ServerProcess
    store_url: str
    lam: Any
    sqs: Any
    kinesis: Any


def clients(server: ServerProcess, store_url: str) -> Node:
    return Node(
        server, store_url, client("lambda", server.url), client("sqs", server.url), client("kinesis", server.url)
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A store for the module: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('streams-store') / 'lambdahost.db'}"
        return
    pg = request.getfixturevalue("pg_server")
    name = pg.take_migrated()
    try:
        yield pg.url(name)
    finally:
        pg.release(name)


@pytest.fixture(scope="module")
def node(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    running = start_server(tmp_path_factory.mktemp("streams") / "data", "--store", store_url, *LEASE)
    made = clients(running, store_url)
    yield made
    running.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_queue(node: Node) -> tuple[str, str]:
    name = unique("q")
    url: str = node.sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


def make_function(node: Node, **env: str) -> tuple[str, str]:
    """A function that reports its batches; returns (its name, the URL of its "seen" queue)."""
    name = unique("fn")
    seen, _ = make_queue(node)
    node.lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": ZIP},
        Timeout=10,
        Environment={"Variables": {"SEEN_QUEUE_URL": seen, **env}},
    )
    return name, seen


def make_stream(node: Node, shards: int = 1) -> tuple[str, str]:
    name = unique("st")
    node.kinesis.create_stream(StreamName=name, ShardCount=shards)
    arn: str = node.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    return name, arn


def put(node: Node, stream: str, datas: list[str], key: str = "k") -> list[str]:
    result = node.kinesis.put_records(
        StreamName=stream, Records=[{"Data": d.encode(), "PartitionKey": key} for d in datas]
    )
    assert result["FailedRecordCount"] == 0
    return [r["SequenceNumber"] for r in result["Records"]]


def drain(node: Node, url: str, until: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Messages of a queue (JSON bodies) until there are ``until`` of them, in the order they were sent."""
    found: list[dict[str, Any]] = []

    def more() -> bool:
        got = node.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            found.append(json.loads(message["Body"]))
            node.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(found) >= until

    assert eventually(more, timeout=timeout, interval=0), f"got {len(found)} of {until}: {found}"
    return sorted(found, key=lambda body: body.get("at", 0))


def receive_some(node: Node, url: str) -> list[dict[str, Any]]:
    """What a queue holds now (waiting up to a second for something), deleted once read."""
    found: list[dict[str, Any]] = []
    got = node.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for message in got.get("Messages", []):
        found.append(json.loads(message["Body"]))
        node.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def nothing_more(node: Node, url: str, wait_s: int = 1) -> bool:
    return "Messages" not in node.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s)


def test_a_poison_record_is_bisected_to_itself_sent_to_the_destination_and_the_shard_goes_on(node: Node) -> None:
    function, seen = make_function(node, MODE="throw")
    stream, stream_arn = make_stream(node)
    failures, failures_arn = make_queue(node)
    datas = ["d0", "d1", "d2", "d3", "d4", "poison", "d6", "d7"]
    sequences = put(node, stream, datas)
    mapping = node.lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
        BatchSize=8,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )
    assert mapping["StartingPosition"] == "TRIM_HORIZON" and mapping["BisectBatchOnFunctionError"] is True
    batches = drain(node, seen, 7)
    assert [b["data"] for b in batches] == [
        datas,
        ["d0", "d1", "d2", "d3"],
        ["d4", "poison", "d6", "d7"],
        ["d4", "poison"],
        ["d4"],
        ["poison"],
        ["poison"],  # its one retry
    ]
    info = drain(node, failures, 1)[0]
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["requestContext"]["approximateInvokeCount"] == 2
    assert info["requestContext"]["functionArn"].endswith(f":function:{function}")
    assert info["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    batch_info = info["KinesisBatchInfo"]
    assert batch_info["startSequenceNumber"] == batch_info["endSequenceNumber"] == sequences[5]
    assert (batch_info["batchSize"], batch_info["shardId"], batch_info["streamArn"]) == (
        1,
        "shardId-000000000000",
        stream_arn,
    )
    assert info["version"] == "1.0" and batch_info["approximateArrivalOfFirstRecord"].endswith("Z")
    later = put(node, stream, ["d8", "d9"])
    rest = drain(node, seen, 2)
    assert [b["data"] for b in rest] == [["d6", "d7"], ["d8", "d9"]]  # past the poison record, in order
    first = rest[1]["first"]
    assert first["eventID"] == f"shardId-000000000000:{later[0]}"
    assert (first["eventSource"], first["eventName"], first["eventSourceARN"]) == (
        "aws:kinesis",
        "aws:kinesis:record",
        stream_arn,
    )
    assert first["kinesis"]["kinesisSchemaVersion"] == "1.0" and first["invokeIdentityArn"] == ROLE
    assert nothing_more(node, failures)

    def result_ok() -> bool:
        found = node.lam.get_event_source_mapping(UUID=mapping["UUID"])
        return str(found["LastProcessingResult"]) == "OK"

    assert eventually(result_ok, timeout=5)


def test_report_batch_item_failures_retries_from_the_lowest_reported_sequence_number(node: Node) -> None:
    function, seen = make_function(node, MODE="report")
    stream, stream_arn = make_stream(node)
    datas = ["r0", "r1", "r2", "bad3", "r4", "bad5", "r6"]
    sequences = put(node, stream, datas)
    node.lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    batches = drain(node, seen, 2)
    assert [b["data"] for b in batches] == [datas, datas[3:]]
    assert batches[1]["seqs"][0] == sequences[3]
    assert nothing_more(node, seen)


def test_records_older_than_the_maximum_age_go_to_the_destination_unprocessed(node: Node) -> None:
    function, seen = make_function(node)
    stream, stream_arn = make_stream(node)
    failures, failures_arn = make_queue(node)
    store = open_store(node.store_url)  # records put two minutes ago, as the server's store holds them
    try:
        old = [NewRecord("k", f"old{n}".encode(), partition_hash("k")) for n in range(3)]
        assert store.put_records(stream, old, time.time() - 120) is not None
    finally:
        store.close()
    put(node, stream, ["new0", "new1"])
    node.lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRecordAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )
    assert [b["data"] for b in drain(node, seen, 1)] == [["new0", "new1"]]
    info = drain(node, failures, 1)[0]
    assert info["requestContext"]["condition"] == "RecordAgeExceeded"
    assert info["requestContext"]["approximateInvokeCount"] == 0
    assert info["KinesisBatchInfo"]["batchSize"] == 3


def test_latest_starts_after_the_mapping_and_parallelization_keeps_each_keys_order(node: Node) -> None:
    function, seen = make_function(node, MODE="none", SLEEP="0.05")
    stream, stream_arn = make_stream(node)
    put(node, stream, ["before"], key="k0")
    node.lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="LATEST",
        BatchSize=3,
        ParallelizationFactor=4,
    )
    keys = [f"key-{n}" for n in range(6)]
    for round_ in range(5):
        for key in keys:
            put(node, stream, [f"{key}:{round_}"], key=key)
    expected = len(keys) * 5

    batches: list[dict[str, Any]] = []

    def all_seen() -> bool:
        batches.extend(receive_some(node, seen))
        return sum(len(b["data"]) for b in batches) >= expected

    assert eventually(all_seen, timeout=40, interval=0)
    batches.sort(key=lambda b: b["at"])
    per_key: dict[str, list[int]] = {}
    for batch in batches:
        for data in batch["data"]:
            key, n = data.split(":")
            per_key.setdefault(key, []).append(int(n))
    assert per_key == {key: list(range(5)) for key in keys}  # each key in order, once; "before" never
    overlapping = any(a["at"] < b["at"] < a["at"] + 0.05 for a, b in itertools.pairwise(batches))
    assert overlapping  # batches of one shard ran at once


def test_at_timestamp_starts_at_the_first_record_that_arrived_then(node: Node) -> None:
    function, seen = make_function(node, MODE="none")
    stream, stream_arn = make_stream(node)
    put(node, stream, ["old-1", "old-2"])
    time.sleep(1.1)
    since = time.time()
    time.sleep(0.1)
    put(node, stream, ["new-1", "new-2", "new-3"])
    node.lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=since,
        BatchSize=10,
    )
    batches = drain(node, seen, until=1)
    assert [d for b in batches for d in b["data"]] == ["new-1", "new-2", "new-3"]
    assert nothing_more(node, seen)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def own_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store of the test's own (no other node polls it)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def test_a_second_node_takes_over_a_shard_after_the_first_is_killed(own_store_url: str, tmp_path: Path) -> None:
    first = start_server(tmp_path / "a", "--store", own_store_url, *LEASE)
    second: ServerProcess | None = None
    try:
        one = clients(first, own_store_url)
        function, seen = make_function(one, MODE="none", SLEEP="0.1")
        stream, stream_arn = make_stream(one)
        datas = [f"x{n}" for n in range(30)]
        put(one, stream, datas)
        one.lam.create_event_source_mapping(
            EventSourceArn=stream_arn, FunctionName=function, StartingPosition="TRIM_HORIZON", BatchSize=2
        )
        early = drain(one, seen, 3)
        first.stop(signal.SIGKILL)
        second = start_server(tmp_path / "b", "--store", own_store_url, *LEASE)
        two = clients(second, own_store_url)
        rest: list[dict[str, Any]] = []

        def everything() -> bool:
            rest.extend(receive_some(two, seen))
            return {d for b in early + rest for d in b["data"]} >= set(datas)

        assert eventually(everything, timeout=40, interval=0)
        processed = [d for b in sorted(early + rest, key=lambda b: b["at"]) for d in b["data"]]
        # in order, without a gap; what the dead node was running when it died may run again (at least once)
        deduplicated = [d for n, d in enumerate(processed) if d not in processed[:n]]
        assert deduplicated == datas
        assert len(processed) - len(datas) <= 4
    finally:
        first.stop(signal.SIGKILL)
        if second is not None:
            second.stop()


def test_two_nodes_share_a_streams_shards(own_store_url: str, tmp_path: Path) -> None:
    """Each node takes an equal share of the shards (live nodes are those whose worker heartbeats), so a second node
    processes shards too, not only the first one to start."""
    first = start_server(tmp_path / "a", "--store", own_store_url, *LEASE)
    second: ServerProcess | None = None
    try:
        one = clients(first, own_store_url)
        function, seen = make_function(one, MODE="none")
        stream, stream_arn = make_stream(one, shards=4)
        one.lam.create_event_source_mapping(
            EventSourceArn=stream_arn, FunctionName=function, StartingPosition="TRIM_HORIZON", BatchSize=5
        )
        second = start_server(tmp_path / "b", "--store", own_store_url, *LEASE)
        owners: dict[str, str] = {}

        def shared() -> bool:
            with Client(first.url) as native:
                mapping = native.triggers(function)["EventSourceMappings"][0]
            owners.clear()
            owners.update({s["ShardId"]: s["Owner"] for s in mapping["Lag"]["Shards"] if s["Owner"]})
            held = sorted(collections.Counter(owners.values()).values())
            return len(owners) == 4 and held == [2, 2]

        assert eventually(shared, timeout=30, interval=0.3), owners
        datas = [f"r{n}" for n in range(40)]
        for n, data in enumerate(datas):
            put(one, stream, [data], key=f"key-{n}")  # spread over the shards by partition key
        got: list[dict[str, Any]] = []

        def everything() -> bool:
            got.extend(receive_some(one, seen))
            return sorted(d for b in got for d in b["data"]) == sorted(datas)

        assert eventually(everything, timeout=30, interval=0)
    finally:
        first.stop()
        if second is not None:
            second.stop()
