"""The Kinesis API subset driven by a real, unmodified boto3 ``kinesis`` client (JSON 1.1) against a running server:
create, describe, list, put (single and batched, routed to shards by the partition key's MD5), read back through
shard iterators of every type, delete; Kinesis's errors as boto3's modelled exceptions; SigV4 for service
``kinesis`` when the server requires signatures."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.acceptance.conftest import ServerProcess, start_server

KEY_ID, SECRET = "AKIDKINESISTEST", "kinesis-test-secret"
ACCOUNT = "000000000000"


def kinesis_client(url: str, key_id: str = "test", secret: str = "test") -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture(scope="module")
def kinesis(server: ServerProcess) -> Iterator[Any]:
    client = kinesis_client(server.url)
    yield client
    client.close()


def unique(prefix: str = "s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def read_all(kinesis: Any, name: str, shard_id: str, **position: Any) -> list[dict[str, Any]]:
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id, **position)["ShardIterator"]
    found: list[dict[str, Any]] = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=3)
        found += page["Records"]
        iterator = page["NextShardIterator"]
        if not page["Records"]:
            return found


def test_create_describe_list_and_delete(kinesis: Any) -> None:
    name = unique()
    kinesis.create_stream(StreamName=name, ShardCount=3)
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["StreamARN"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"
    assert (summary["StreamStatus"], summary["OpenShardCount"], summary["RetentionPeriodHours"]) == ("ACTIVE", 3, 24)
    assert abs(summary["StreamCreationTimestamp"].timestamp() - time.time()) < 60  # epoch seconds on the wire
    by_arn = kinesis.describe_stream_summary(StreamARN=summary["StreamARN"])["StreamDescriptionSummary"]
    assert by_arn["StreamName"] == name
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert [s["ShardId"] for s in shards] == [f"shardId-{i:012d}" for i in range(3)]
    assert shards[0]["HashKeyRange"] == {
        "StartingHashKey": "0",
        "EndingHashKey": "113427455640312821154458202477256070484",  # what Kinesis gives 3 shards
    }
    assert shards[2]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)
    page = kinesis.list_shards(StreamName=name, MaxResults=2)
    assert [s["ShardId"] for s in page["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    rest = kinesis.list_shards(NextToken=page["NextToken"])["Shards"]
    assert [s["ShardId"] for s in rest] == ["shardId-000000000002"]
    described = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert described["Shards"] == shards and described["HasMoreShards"] is False
    assert name in kinesis.list_streams()["StreamNames"]
    with pytest.raises(kinesis.exceptions.ResourceInUseException) as taken:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    assert error_of(taken) == ("ResourceInUseException", f"Stream {name} under account {ACCOUNT} already exists.")
    kinesis.delete_stream(StreamARN=summary["StreamARN"])
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as gone:
        kinesis.describe_stream_summary(StreamName=name)
    assert error_of(gone) == ("ResourceNotFoundException", f"Stream {name} under account {ACCOUNT} not found.")
    assert name not in kinesis.list_streams()["StreamNames"]


def test_put_routes_by_partition_key_and_reads_back_in_order(kinesis: Any) -> None:
    name = unique()
    kinesis.create_stream(StreamName=name, ShardCount=2)
    key = "user-1"
    low_half = int(hashlib.md5(key.encode()).hexdigest(), 16) < 2**127
    expected = "shardId-000000000000" if low_half else "shardId-000000000001"
    first = kinesis.put_record(StreamName=name, Data=b"\x00binary\xff", PartitionKey=key)
    assert first["ShardId"] == expected
    batch = kinesis.put_records(
        StreamName=name,
        Records=[{"Data": f"e{i}".encode(), "PartitionKey": key} for i in range(5)]
        + [{"Data": b"high", "PartitionKey": "x", "ExplicitHashKey": str(2**128 - 1)}],
    )
    assert batch["FailedRecordCount"] == 0
    assert [r["ShardId"] for r in batch["Records"]] == [expected] * 5 + ["shardId-000000000001"]
    sequences = [first["SequenceNumber"]] + [r["SequenceNumber"] for r in batch["Records"][:5]]
    assert sequences == sorted(sequences) and sequences == sorted(sequences, key=int)  # text and number order agree
    records = read_all(kinesis, name, expected, ShardIteratorType="TRIM_HORIZON")
    mine = [r for r in records if r["PartitionKey"] == key]
    assert [r["Data"] for r in mine] == [b"\x00binary\xff"] + [f"e{i}".encode() for i in range(5)]
    assert [r["SequenceNumber"] for r in mine] == sequences
    after = read_all(
        kinesis, name, expected, ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=sequences[2]
    )
    assert [r["SequenceNumber"] for r in after if r["PartitionKey"] == key] == sequences[3:]
    at = read_all(kinesis, name, expected, ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=sequences[2])
    assert [r["SequenceNumber"] for r in at if r["PartitionKey"] == key] == sequences[2:]
    latest = kinesis.get_shard_iterator(StreamName=name, ShardId=expected, ShardIteratorType="LATEST")["ShardIterator"]
    assert kinesis.get_records(ShardIterator=latest)["Records"] == []
    kinesis.put_record(StreamName=name, Data=b"later", PartitionKey=key)
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=latest)["Records"]] == [b"later"]
    stamp = kinesis.get_shard_iterator(
        StreamName=name, ShardId=expected, ShardIteratorType="AT_TIMESTAMP", Timestamp=time.time() + 3600
    )["ShardIterator"]
    assert kinesis.get_records(ShardIterator=stamp)["Records"] == []
    arrival = mine[0]["ApproximateArrivalTimestamp"].timestamp()
    assert abs(arrival - time.time()) < 60


def test_errors_are_kinesis_exceptions(kinesis: Any) -> None:
    name = unique()
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    with pytest.raises(ClientError) as too_big:
        kinesis.put_record(StreamName=name, Data=b"x" * (1024 * 1024), PartitionKey="k")
    assert error_of(too_big)[0] == "ValidationException"
    with pytest.raises(kinesis.exceptions.InvalidArgumentException) as bad_hash:
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128))
    assert "ExplicitHashKey" in error_of(bad_hash)[1]
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000009", ShardIteratorType="LATEST")
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.get_records(ShardIterator="not-an-iterator")
    with pytest.raises(ClientError) as bad_name:
        kinesis.create_stream(StreamName="no spaces", ShardCount=1)
    assert error_of(bad_name)[0] == "ValidationException"
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.describe_stream_summary(StreamARN=f"arn:aws:kinesis:us-east-1:111122223333:stream/{name}")


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = start_server(
        tmp_path_factory.mktemp("kinesis-secured") / "data", "--access-key-id", KEY_ID, "--secret-access-key", SECRET
    )
    yield running
    running.stop()


def test_signed_kinesis_requests_are_verified(secured: ServerProcess) -> None:
    good = kinesis_client(secured.url, KEY_ID, SECRET)
    wrong = kinesis_client(secured.url, KEY_ID, "not-the-secret")
    try:
        good.create_stream(StreamName="signed", ShardCount=1)
        assert good.put_record(StreamName="signed", Data=b"x", PartitionKey="k")["ShardId"] == "shardId-000000000000"
        with pytest.raises(ClientError) as caught:
            wrong.list_streams()
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        good.close()
        wrong.close()


def test_cli_manages_streams_that_boto3_reads(server: ServerProcess, kinesis: Any) -> None:
    name = unique("cli")
    created = server.run_cli("streams", "create", name, "--shards", "2")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"
    put = server.run_cli("streams", "put", name, "one", "two", "-k", "key")
    assert put.returncode == 0, put.stderr
    lines = [line.split() for line in put.stdout.splitlines()]
    assert len(lines) == 2 and lines[0][0] == lines[1][0] and int(lines[0][1]) < int(lines[1][1])
    records = read_all(kinesis, name, lines[0][0], ShardIteratorType="TRIM_HORIZON")
    assert [r["Data"] for r in records] == [b"one", b"two"]
    described = server.run_cli("streams", "describe", name)
    assert "shardId-000000000001" in described.stdout and "24 hours" in described.stdout
    assert name in server.run_cli("streams", "list").stdout
    assert server.run_cli("streams", "delete", name).returncode == 0
    missing = server.run_cli("streams", "describe", name)
    assert missing.returncode == 2 and "ResourceNotFoundException" in missing.stderr
