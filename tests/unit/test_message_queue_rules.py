"""Named message queues without a database: SQS's MD5 digests, validation rules, and the engine service on the
in-memory store (ARNs and URLs, idempotent creation, long polling woken by a send, typed errors)."""

from __future__ import annotations

import threading
import time

import pytest

from lambdahost.core import queue_errors as qe
from lambdahost.core import queue_rules as rules
from lambdahost.core.errors import LambdaHostError
from lambdahost.core.messages import MessageAttribute, md5_of_attributes, md5_of_body
from lambdahost.core.settings import Settings
from lambdahost.engine.message_queues import MessageQueues, SendEntry
from lambdahost.storage.memory import InMemoryStore


# -- MD5 digests -----------------------------------------------------------------------------------------------------
def test_md5_of_message_attributes_matches_sqs() -> None:
    # the value SQS returns for this attribute (also checked by LocalStack against AWS)
    assert md5_of_attributes({"timestamp": MessageAttribute("Number", "1493147359900")}) == (
        "235c5c510d26fb653d073faed50ae77c"
    )
    assert md5_of_attributes({}) is None
    assert md5_of_body("hello") == "5d41402abc4b2a76b9719d911017c592"


def test_md5_of_attributes_sorts_names_and_marks_binary_values() -> None:
    a = {"b": MessageAttribute("String", "x"), "a": MessageAttribute("Binary", binary_value=b"x")}
    assert md5_of_attributes(a) == md5_of_attributes(dict(reversed(list(a.items()))))
    as_string = {"b": MessageAttribute("String", "x"), "a": MessageAttribute("String", "x")}
    assert md5_of_attributes(a) != md5_of_attributes(as_string)  # transport byte 2 vs 1


# -- validation ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "fifo", "valid"),
    [
        ("orders_1-a", False, True),
        ("x" * 80, False, True),
        ("x" * 81, False, False),
        ("has space", False, False),
        ("", False, False),
        ("jobs.fifo", True, True),
        ("jobs", True, False),
        ("x" * 76 + ".fifo", True, False),
    ],
)
def test_queue_names(name: str, fifo: bool, valid: bool) -> None:
    if valid:
        rules.check_queue_name(name, fifo)
    else:
        with pytest.raises(qe.InvalidParameterValue):
            rules.check_queue_name(name, fifo)


def test_bodies_must_be_valid_unicode_of_sqs_characters() -> None:
    assert rules.check_body("tab\tnew\nline ✓ 🚀", 100) == len("tab\tnew\nline ✓ 🚀".encode())
    for bad in ("\x00", "bell\x07", "\ud800", "\ufffe"):
        with pytest.raises(qe.InvalidMessageContents):
            rules.check_body(bad, 100)
    with pytest.raises(qe.MissingParameter):
        rules.check_body("", 100)


@pytest.mark.parametrize(
    "attributes",
    [
        {"AWS.reserved": MessageAttribute("String", "x")},
        {"a..b": MessageAttribute("String", "x")},
        {".a": MessageAttribute("String", "x")},
        {"n": MessageAttribute("Number", "ten")},
        {"s": MessageAttribute("String", "")},
        {"b": MessageAttribute("Binary")},
        {"t": MessageAttribute("Date", "today")},
        {f"a{n}": MessageAttribute("String", "x") for n in range(11)},
    ],
    ids=["reserved", "dots", "leading-dot", "nan", "empty", "no-binary", "type", "eleven"],
)
def test_bad_message_attributes_are_invalid_parameter_values(attributes: dict[str, MessageAttribute]) -> None:
    with pytest.raises(qe.InvalidParameterValue):
        rules.check_message_attributes(attributes)


def test_good_message_attributes_count_toward_the_size() -> None:
    size = rules.check_message_attributes(
        {"n": MessageAttribute("Number.float", "-1.5e3"), "b": MessageAttribute("Binary", binary_value=b"12")}
    )
    assert size == len("n") + len("Number.float") + len("-1.5e3") + len("b") + len("Binary") + 2


def test_batches_need_one_to_ten_distinct_valid_ids() -> None:
    with pytest.raises(qe.EmptyBatchRequest):
        rules.check_batch([], "SendMessageBatchRequestEntry")
    with pytest.raises(qe.TooManyEntriesInBatchRequest):
        rules.check_batch([{"Id": str(n)} for n in range(11)], "E")
    with pytest.raises(qe.BatchEntryIdsNotDistinct):
        rules.check_batch([{"Id": "a"}, {"Id": "a"}], "E")
    with pytest.raises(qe.InvalidBatchEntryId):
        rules.check_batch([{"Id": "a b"}], "E")
    rules.check_batch([{"Id": "a"}, {"Id": "b-_1"}], "E")


def test_errors_render_as_sqs_json_errors() -> None:
    error = qe.QueueDoesNotExist("The specified queue does not exist.")
    assert isinstance(error, LambdaHostError)
    assert error.body() == {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": error.message}
    assert error.headers() == {"x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"}
    assert qe.InternalError("x").headers() == {"x-amzn-query-error": "InternalError;Receiver"}
    assert qe.by_code()["QueueNameExists"] is qe.QueueNameExists


# -- the engine service ----------------------------------------------------------------------------------------------
@pytest.fixture
def queues() -> MessageQueues:
    return MessageQueues(InMemoryStore(), Settings(port=9999), poll_s=5.0)


def test_queues_are_addressed_by_name_url_or_arn(queues: MessageQueues) -> None:
    queues.create("jobs")
    assert queues.arn("jobs") == "arn:aws:sqs:us-east-1:000000000000:jobs"
    assert queues.url("jobs") == "http://127.0.0.1:9999/000000000000/jobs"
    for ref in ("jobs", queues.arn("jobs"), queues.url("jobs"), "http://elsewhere:1/000000000000/jobs"):
        assert queues.get(ref).name == "jobs"
    for ref in ("arn:aws:sqs:us-east-1:111111111111:jobs", "http://h/111111111111/jobs", "missing"):
        with pytest.raises(qe.QueueDoesNotExist):
            queues.get(ref)
    assert queues.exists(queues.arn("jobs")) and not queues.exists("arn:bad")


def test_create_is_idempotent_with_the_same_attributes(queues: MessageQueues) -> None:
    first = queues.create("q", {"VisibilityTimeout": "10"})
    assert queues.create("q", {"VisibilityTimeout": "10"}) == first
    assert queues.create("q") == first
    with pytest.raises(qe.QueueNameExists):
        queues.create("q", {"VisibilityTimeout": "11"})
    with pytest.raises(qe.InvalidAttributeValue):
        queues.create("r", {"DelaySeconds": "901"})
    with pytest.raises(qe.InvalidParameterValue):
        queues.create(
            "r", {"RedrivePolicy": '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:0:x", "maxReceiveCount": 1}'}
        )


def test_send_to_a_missing_queue_arn_is_a_typed_error(queues: MessageQueues) -> None:
    with pytest.raises(qe.QueueDoesNotExist) as caught:
        queues.send("arn:aws:sqs:us-east-1:000000000000:dlq", "{}")
    assert caught.value.status == 400


def test_dead_letter_records_arrive_with_their_attributes(queues: MessageQueues) -> None:
    queues.create("dlq")
    attributes = {"RequestID": ("String", "r-1"), "ErrorCode": ("Number", "200"), "ErrorMessage": ("String", "boom")}
    message_id = queues.send_record(queues.arn("dlq"), '{"event": 1}', attributes)
    [message] = queues.receive("dlq")
    assert message.id == message_id and message.body == '{"event": 1}'
    assert message.attributes["ErrorMessage"] == MessageAttribute.string("boom")


def test_send_batch_keeps_each_entrys_error_in_its_place(queues: MessageQueues) -> None:
    queues.create("q")
    results = queues.send_batch("q", [SendEntry("a"), SendEntry("b", delay_s=901), SendEntry("c")])
    assert [None if isinstance(r, qe.QueueError) else r.body for r in results] == ["a", None, "c"]
    assert isinstance(results[1], qe.InvalidParameterValue)


def test_a_long_poll_returns_as_soon_as_a_message_is_sent(queues: MessageQueues) -> None:
    queues.create("q")
    threading.Timer(0.2, lambda: queues.send("q", "late")).start()
    started = time.monotonic()
    [message] = queues.receive("q", wait_s=10)  # poll_s is 5 s: only the wake-up can make this fast
    assert message.body == "late"
    assert time.monotonic() - started < 2.0


def test_receipt_handles_belong_to_their_queue(queues: MessageQueues) -> None:
    queues.create("a")
    queues.create("b")
    queues.send("a", "m")
    [message] = queues.receive("a")
    handle = queues.receipt_handle(message)
    for bad in ("garbage", "", handle + "x"):
        with pytest.raises(qe.ReceiptHandleIsInvalid):
            queues.delete_message("a", bad)
    with pytest.raises(qe.ReceiptHandleIsInvalid):
        queues.delete_message("b", handle)
    queues.change_visibility("a", handle, 0)
    queues.delete_message("a", handle)
    assert queues.counts("a").visible == 0
