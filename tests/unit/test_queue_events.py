"""The SQS event a queue mapping sends (``core.queue_events.sqs_record``) and AWS's ReportBatchItemFailures rules
(``failed_items``, ``kept_ids``): what counts as all succeeded, what fails the whole batch, and FIFO's stop at the
first failure."""

from __future__ import annotations

import json

import pytest

from lambdahost.core.messages import Message, MessageAttribute, md5_of_attributes
from lambdahost.core.queue_events import (
    EMPTY_EVENT_BYTES,
    WholeBatchFailed,
    event_json,
    failed_items,
    kept_ids,
    record_size,
    sqs_record,
)

IDS = ["a", "b", "c", "d"]
ARN = "arn:aws:sqs:eu-west-1:000000000000:orders"


def message(**changes: object) -> Message:
    base = Message(
        id="m1",
        queue_name="orders",
        sequence=7,
        body='{"x": 1}',
        sent_at=1_700_000_000.25,
        visible_at=0.0,
        receive_count=2,
        first_received_at=1_700_000_001.5,
        receipt_token="t",
    )
    return base.replace(**changes)


def test_a_standard_record() -> None:
    record = sqs_record(message(), "handle", ARN, "eu-west-1", "000000000000", fifo=False)
    assert record == {
        "messageId": "m1",
        "receiptHandle": "handle",
        "body": '{"x": 1}',
        "attributes": {
            "ApproximateReceiveCount": "2",
            "SentTimestamp": "1700000000250",
            "SenderId": "000000000000",
            "ApproximateFirstReceiveTimestamp": "1700000001500",
        },
        "messageAttributes": {},
        "md5OfBody": message().md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": ARN,
        "awsRegion": "eu-west-1",
    }
    records = [record, record]
    assert len(event_json(records)) == EMPTY_EVENT_BYTES - 1 + 2 * record_size(record)
    assert json.loads(event_json(records)) == {"Records": records}


def test_a_fifo_record_with_attributes() -> None:
    attributes = {"s": MessageAttribute.string("v"), "b": MessageAttribute("Binary.raw", binary_value=b"\xff")}
    fifo = message(group_id="g", dedup_id="d", attributes=attributes)
    record = sqs_record(fifo, "h", ARN + ".fifo", "eu-west-1", "000000000000", fifo=True)
    assert record["attributes"]["SequenceNumber"] == "00000000000000000007"
    assert (record["attributes"]["MessageGroupId"], record["attributes"]["MessageDeduplicationId"]) == ("g", "d")
    assert record["messageAttributes"] == {
        "b": {"binaryValue": "/w==", "stringListValues": [], "binaryListValues": [], "dataType": "Binary.raw"},
        "s": {"stringValue": "v", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
    }
    assert record["md5OfMessageAttributes"] == md5_of_attributes(attributes)
    assert list(record).index("md5OfMessageAttributes") == list(record).index("md5OfBody") + 1


@pytest.mark.parametrize(
    "response",
    [b"", b"null", b"{}", b'{"batchItemFailures": null}', b'{"batchItemFailures": []}', b'"done"', b"[1]", b"42"],
)
def test_responses_that_mean_every_message_succeeded(response: bytes) -> None:
    assert failed_items(response, IDS) == []


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"batchItemFailures": {"itemIdentifier": "a"}}', "not a list"),
        (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', "null or empty"),
        (b'{"batchItemFailures": [{"itemIdentifier": null}]}', "null or empty"),
        (b'{"batchItemFailures": [{"itemIdentifer": "a"}]}', "no itemIdentifier"),
        (b'{"batchItemFailures": ["a"]}', "no itemIdentifier"),
        (b'{"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "zz"}]}', "zz is not a message"),
    ],
)
def test_responses_that_fail_the_whole_batch(response: bytes, reason: str) -> None:
    with pytest.raises(WholeBatchFailed, match=reason):
        failed_items(response, IDS)


def test_only_the_listed_messages_stay_and_fifo_keeps_everything_from_the_first_failure() -> None:
    response = b'{"batchItemFailures": [{"itemIdentifier": "c"}, {"itemIdentifier": "b"}, {"itemIdentifier": "c"}]}'
    failed = failed_items(response, IDS)
    assert failed == ["c", "b"]
    assert kept_ids(failed, IDS, fifo=False) == ["b", "c"]
    assert kept_ids(failed, IDS, fifo=True) == ["b", "c", "d"]
    assert kept_ids(["d"], IDS, fifo=True) == ["d"]
    assert kept_ids([], IDS, fifo=True) == []
