"""The SQS API subset driven by a real, unmodified boto3 ``sqs`` client (JSON protocol) against a running server:
every operation, SQS's errors as boto3's modelled exceptions, long polling, redrive to a dead-letter queue, FIFO,
and SigV4 for service ``sqs`` when the server requires signatures."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdahost.core.messages import MessageAttribute, md5_of_attributes
from tests.acceptance.conftest import ServerProcess, start_server

KEY_ID, SECRET = "AKIDSQSTEST", "sqs-test-secret"


def sqs_client(url: str, key_id: str = "test", secret: str = "test") -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30),
    )


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Iterator[Any]:
    client = sqs_client(server.url)
    yield client
    client.close()


def unique(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def attributes_of(sqs: Any, url: str, *names: str) -> dict[str, str]:
    found: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"])["Attributes"]
    return found


# -- queues ----------------------------------------------------------------------------------------------------------
def test_create_get_list_and_delete_queues(sqs: Any, server: ServerProcess) -> None:
    prefix = unique("lst")
    urls = [sqs.create_queue(QueueName=f"{prefix}-{n}")["QueueUrl"] for n in range(3)]
    assert urls[0] == f"{server.url}/000000000000/{prefix}-0"
    assert sqs.get_queue_url(QueueName=f"{prefix}-1")["QueueUrl"] == urls[1]
    assert sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"] == urls
    page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert page["QueueUrls"] == urls[:2]
    assert sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=page["NextToken"])["QueueUrls"] == urls[2:]
    paged = [
        u
        for p in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix, MaxResults=1)
        for u in p["QueueUrls"]
    ]
    assert paged == urls
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique("none"))

    sqs.delete_queue(QueueUrl=urls[0])
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as caught:
        sqs.get_queue_url(QueueName=f"{prefix}-0")
    assert error_of(caught) == ("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=urls[0], MessageBody="x")


def test_create_queue_is_idempotent_only_with_the_same_attributes(sqs: Any) -> None:
    name = unique()
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"]
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as caught:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "41"})
    assert error_of(caught)[0] == "QueueAlreadyExists"
    with pytest.raises(ClientError) as bad:
        sqs.create_queue(QueueName="bad name!")
    assert error_of(bad)[0] == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.create_queue(QueueName=unique(), Attributes={"Colour": "blue"})
    with pytest.raises(ClientError) as bad_value:
        sqs.create_queue(QueueName=unique(), Attributes={"VisibilityTimeout": "43201"})
    assert error_of(bad_value) == ("InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout.")


def test_attributes_are_exact_and_settable(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=unique(), tags={"team": "core"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    everything = attributes_of(sqs, url)
    assert everything["ApproximateNumberOfMessages"] == "1"
    assert everything["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert everything["ApproximateNumberOfMessagesDelayed"] == "1"
    assert everything["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:" + url.rsplit("/", 1)[1]
    assert everything["VisibilityTimeout"] == "30" and everything["MessageRetentionPeriod"] == "345600"
    assert abs(int(everything["CreatedTimestamp"]) - time.time()) < 60
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5", "DelaySeconds": "2"})
    assert attributes_of(sqs, url, "VisibilityTimeout", "DelaySeconds") == {
        "VisibilityTimeout": "5",
        "DelaySeconds": "2",
    }
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
    sqs.purge_queue(QueueUrl=url)
    assert attributes_of(sqs, url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "0"


# -- messages --------------------------------------------------------------------------------------------------------
def test_send_receive_and_delete_with_attributes_and_md5s(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    attributes = {
        "kind": {"DataType": "String", "StringValue": "order ✓"},
        "n": {"DataType": "Number.int", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    body = '{"order": 17, "note": "ünïcödé"}'
    sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
    expected_md5 = md5_of_attributes(
        {
            "kind": MessageAttribute("String", "order ✓"),
            "n": MessageAttribute("Number.int", "42"),
            "blob": MessageAttribute("Binary", binary_value=b"\x00\x01\xff"),
        }
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == expected_md5

    got = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"], VisibilityTimeout=1
    )["Messages"]
    assert len(got) == 1
    message = got[0]
    assert (message["MessageId"], message["Body"], message["MD5OfBody"]) == (
        sent["MessageId"],
        body,
        sent["MD5OfMessageBody"],
    )
    assert message["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01\xff"
    assert message["MD5OfMessageAttributes"] == expected_md5
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert abs(int(message["Attributes"]["SentTimestamp"]) / 1000 - time.time()) < 60
    only = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["kind"], WaitTimeSeconds=3)["Messages"][0]
    assert list(only["MessageAttributes"]) == ["kind"]
    assert "Attributes" not in only

    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):  # received again since: the old handle is stale
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=only["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=only["ReceiptHandle"])  # gone: still a success, as on AWS
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_message_validation_errors_are_sqs_errors(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    with pytest.raises(ClientError) as too_long:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 262_145)
    assert error_of(too_long) == (
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.",
    )
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="bell \x07")
    with pytest.raises(ClientError) as delay:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert error_of(delay)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as many:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert error_of(many) == (
        "InvalidParameterValue",
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.",
    )


def test_batches_report_each_entry(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    sent = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b", "MessageBody": "two", "DelaySeconds": 1000},
            {"Id": "c", "MessageBody": "three"},
        ],
    )
    assert [e["Id"] for e in sent["Successful"]] == ["a", "c"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in sent["Failed"]] == [("b", "InvalidParameterValue", True)]
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}])
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"i{n}", "MessageBody": "m"} for n in range(11)])
    with pytest.raises(sqs.exceptions.InvalidBatchEntryId):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "no spaces", "MessageBody": "m"}])

    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    assert sorted(m["Body"] for m in got) == ["one", "three"]
    handles = {f"m{n}": m["ReceiptHandle"] for n, m in enumerate(got)}
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[{"Id": key, "ReceiptHandle": h, "VisibilityTimeout": 0} for key, h in handles.items()]
        + [{"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 0}],
    )
    assert sorted(e["Id"] for e in changed["Successful"]) == ["m0", "m1"]
    assert [(e["Id"], e["Code"]) for e in changed["Failed"]] == [("bad", "ReceiptHandleIsInvalid")]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    deleted = sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": f"d{n}", "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(again)]
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["d0", "d1"] and deleted["Failed"] == []
    assert attributes_of(sqs, url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "0"


def test_change_message_visibility_hides_and_reveals(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert again["Body"] == "m"
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)


def test_long_polling_returns_as_soon_as_a_message_arrives(sqs: Any, server: ServerProcess) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    sender = sqs_client(server.url)
    timer = threading.Timer(0.5, lambda: sender.send_message(QueueUrl=url, MessageBody="late"))
    started = time.monotonic()
    timer.start()
    try:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    finally:
        timer.join()
        sender.close()
    elapsed = time.monotonic() - started
    assert [m["Body"] for m in got["Messages"]] == ["late"]
    assert 0.4 < elapsed < 3.0
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert 0.9 < time.monotonic() - started < 3.0


def test_redrive_to_the_dead_letter_queue_after_max_receive_count(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    dlq_arn = attributes_of(sqs, dlq, "QueueArn")["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    source = sqs.create_queue(QueueName=unique("src"), Attributes={"RedrivePolicy": policy})["QueueUrl"]
    assert json.loads(attributes_of(sqs, source, "RedrivePolicy")["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": 2,
    }
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]
    sqs.send_message(QueueUrl=source, MessageBody="poison")
    for _ in range(2):
        got = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"]
        assert got[0]["Body"] == "poison"
    assert "Messages" not in sqs.receive_message(QueueUrl=source)
    dead = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert dead["Body"] == "poison"
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == dlq_arn.rsplit(":", 1)[0] + ":" + source.rsplit("/", 1)[1]
    with pytest.raises(ClientError) as missing:
        sqs.set_queue_attributes(
            QueueUrl=source,
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn + "x", "maxReceiveCount": 1})},
        )
    assert error_of(missing)[0] == "InvalidParameterValue"


def poisoned(sqs: Any, dlq_arn: str, body: str) -> str:
    """A queue whose message ``body`` has been received twice and moved to the dead-letter queue ``dlq_arn``."""
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    url: str = sqs.create_queue(QueueName=unique("src"), Attributes={"RedrivePolicy": policy})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=body)
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["Body"] == body
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # moved on this receive
    return url


def test_message_move_tasks_take_dead_letters_back_to_their_own_sources(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    dlq_arn = attributes_of(sqs, dlq, "QueueArn")["QueueArn"]
    first, second = poisoned(sqs, dlq_arn, "from-first"), poisoned(sqs, dlq_arn, "from-second")
    assert attributes_of(sqs, dlq, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "2"

    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert sqs.receive_message(QueueUrl=first)["Messages"][0]["Body"] == "from-first"
    assert sqs.receive_message(QueueUrl=second)["Messages"][0]["Body"] == "from-second"
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq)
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert [(t["TaskHandle"], t["Status"], t["ApproximateNumberOfMessagesMoved"]) for t in tasks] == [
        (handle, "COMPLETED", 2)
    ]
    assert tasks[0]["SourceArn"] == dlq_arn and "DestinationArn" not in tasks[0]

    elsewhere = sqs.create_queue(QueueName=unique("elsewhere"))["QueueUrl"]
    elsewhere_arn = attributes_of(sqs, elsewhere, "QueueArn")["QueueArn"]
    poisoned(sqs, dlq_arn, "again")
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=elsewhere_arn, MaxNumberOfMessagesPerSecond=50)
    assert sqs.receive_message(QueueUrl=elsewhere)["Messages"][0]["Body"] == "again"
    latest = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]  # default: the most recent one
    assert len(latest) == 1 and latest[0]["DestinationArn"] == elsewhere_arn
    assert latest[0]["MaxNumberOfMessagesPerSecond"] == 50

    with pytest.raises(ClientError) as not_a_dlq:
        sqs.start_message_move_task(SourceArn=elsewhere_arn)
    assert error_of(not_a_dlq) == ("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
    with pytest.raises(ClientError) as done:
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert "COMPLETED" in error_of(done)[1]
    with pytest.raises(ClientError) as unknown:
        sqs.cancel_message_move_task(TaskHandle="nope")
    assert error_of(unknown)[0] == "ResourceNotFoundException"


def test_fifo_queues_keep_group_order_and_deduplicate(sqs: Any) -> None:
    name = unique("f") + ".fifo"
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    assert attributes_of(sqs, url, "FifoQueue")["FifoQueue"] == "true"
    first = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a", MessageDeduplicationId="1")
    dup = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a", MessageDeduplicationId="1")
    assert dup["MessageId"] == first["MessageId"] and dup["SequenceNumber"] == first["SequenceNumber"]
    sqs.send_message(QueueUrl=url, MessageBody="a2", MessageGroupId="a", MessageDeduplicationId="2")
    sqs.send_message(QueueUrl=url, MessageBody="b1", MessageGroupId="b", MessageDeduplicationId="3")
    head = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, MessageSystemAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in head] == ["a1"]
    assert head[0]["Attributes"]["MessageGroupId"] == "a" and head[0]["Attributes"]["SequenceNumber"]
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["b1"]  # group a waits for a1
    sqs.delete_message(QueueUrl=url, ReceiptHandle=head[0]["ReceiptHandle"])
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["a2"]
    with pytest.raises(ClientError) as no_group:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="9")
    assert error_of(no_group) == ("MissingParameter", "The request must contain the parameter MessageGroupId.")
    with pytest.raises(ClientError) as no_dedup:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="a")
    assert error_of(no_dedup)[0] == "InvalidParameterValue"


# -- signatures ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = start_server(
        tmp_path_factory.mktemp("sqs-secured") / "data", "--access-key-id", KEY_ID, "--secret-access-key", SECRET
    )
    yield running
    running.stop()


def test_signed_sqs_requests_are_verified(secured: ServerProcess) -> None:
    good = sqs_client(secured.url, KEY_ID, SECRET)
    wrong = sqs_client(secured.url, KEY_ID, "not-the-secret")
    try:
        url = good.create_queue(QueueName=unique())["QueueUrl"]
        good.send_message(QueueUrl=url, MessageBody="signed")
        assert good.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "signed"
        with pytest.raises(ClientError) as caught:
            wrong.list_queues()
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        good.close()
        wrong.close()
