"""AWS's failure rules for stream batches (``LaneRunner``) with a fake function: retries, bisection down to a poison
record, ReportBatchItemFailures by sequence number, maximum record age, throttles that use no retry; and the pure
event shapes of ``core/stream_events.py``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence

import pytest

from lambdahost.core.event_source_mappings import EventSourceMapping, SourceKind
from lambdahost.core.stream_events import failure_record, filter_view, kinesis_record, lane_of
from lambdahost.core.streams import StreamRecord
from lambdahost.triggers.stream_batches import Invoked, LaneRunner, batches

T0 = 1_700_000_000.0
ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"


def records(count: int, arrival: float = T0, key: str = "k") -> list[StreamRecord]:
    return [StreamRecord("s", "shardId-000000000000", n, key, f"r{n}".encode(), arrival) for n in range(1, count + 1)]


def mapping(**changes: object) -> EventSourceMapping:
    base = EventSourceMapping("m", "fn", ARN, SourceKind.STREAM, T0, batch_size=100, maximum_retry_attempts=2)
    return base.replace(**changes)


class Fake:
    """A function: ``answer(batch)`` decides each invocation; every batch it saw is kept."""

    def __init__(self, answer: Callable[[Sequence[StreamRecord]], Invoked]) -> None:
        self.answer = answer
        self.seen: list[list[int]] = []
        self.given_up: list[tuple[list[int], str, int]] = []
        self.waits: list[float] = []

    def invoke(self, batch: Sequence[StreamRecord]) -> Invoked:
        self.seen.append([r.sequence for r in batch])
        return self.answer(batch)

    def give_up(self, batch: Sequence[StreamRecord], condition: str, count: int, last: Invoked | None) -> None:
        self.given_up.append(([r.sequence for r in batch], condition, count))

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return True

    def runner(self, config: EventSourceMapping, now: float = T0) -> LaneRunner:
        return LaneRunner(config, self.invoke, self.give_up, self.wait, lambda: now)


def poison(sequence: int) -> Callable[[Sequence[StreamRecord]], Invoked]:
    def answer(batch: Sequence[StreamRecord]) -> Invoked:
        bad = any(r.sequence == sequence for r in batch)
        return Invoked("req", b'{"errorMessage":"boom"}' if bad else b"null", "Unhandled" if bad else None)

    return answer


def test_a_poison_record_is_bisected_down_to_itself_retried_and_given_up() -> None:
    fake = Fake(poison(6))
    assert fake.runner(mapping(bisect_batch_on_function_error=True)).run(records(8))
    assert fake.seen == [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [5, 6],
        [5],
        [6],
        [6],
        [6],  # two retries of the poison record alone
        [7, 8],
    ]
    assert fake.given_up == [([6], "RetryAttemptsExhausted", 3)]


def test_without_bisection_the_whole_batch_is_retried_then_given_up() -> None:
    fake = Fake(poison(2))
    assert fake.runner(mapping(maximum_retry_attempts=1)).run(records(3))
    assert fake.seen == [[1, 2, 3], [1, 2, 3]]
    assert fake.given_up == [([1, 2, 3], "RetryAttemptsExhausted", 2)]
    assert fake.waits == [0.05]


def test_report_batch_item_failures_goes_on_from_the_lowest_reported_sequence() -> None:
    calls: list[int] = []

    def answer(batch: Sequence[StreamRecord]) -> Invoked:
        calls.append(1)
        if len(calls) == 1:
            failed = [{"itemIdentifier": batch[6].sequence_number}, {"itemIdentifier": batch[4].sequence_number}]
            return Invoked("req", json.dumps({"batchItemFailures": failed}).encode())
        return Invoked("req", b'{"batchItemFailures": []}')

    fake = Fake(answer)
    assert fake.runner(mapping(function_response_types=("ReportBatchItemFailures",))).run(records(8))
    assert fake.seen == [[1, 2, 3, 4, 5, 6, 7, 8], [5, 6, 7, 8]]
    assert fake.given_up == []


@pytest.mark.parametrize("payload", [b"not json", b'{"batchItemFailures": [{"itemIdentifier": "unknown"}]}'])
def test_a_malformed_batch_response_fails_the_whole_batch(payload: bytes) -> None:
    fake = Fake(lambda batch: Invoked("req", payload))
    config = mapping(function_response_types=("ReportBatchItemFailures",), maximum_retry_attempts=0)
    assert fake.runner(config).run(records(3))
    assert fake.given_up == [([1, 2, 3], "RetryAttemptsExhausted", 1)]


def test_records_older_than_the_maximum_age_are_given_up_without_an_invocation() -> None:
    fake = Fake(poison(99))
    old, new = records(2, T0 - 120), records(4, T0)[2:]
    assert fake.runner(mapping(maximum_record_age_s=60)).run([*old, *new])
    assert fake.given_up == [([1, 2], "RecordAgeExceeded", 0)]
    assert fake.seen == [[3, 4]]


def test_a_failing_batch_is_given_up_once_its_records_are_too_old() -> None:
    now = [T0]

    def answer(batch: Sequence[StreamRecord]) -> Invoked:
        now[0] += 40  # each attempt takes 40 s
        return Invoked("req", b"{}", "Unhandled")

    fake = Fake(answer)
    runner = LaneRunner(
        mapping(maximum_record_age_s=60, maximum_retry_attempts=-1),
        fake.invoke,
        fake.give_up,
        fake.wait,
        lambda: now[0],
    )
    assert runner.run(records(2))
    assert fake.seen == [[1, 2], [1, 2]]
    assert fake.given_up == [([1, 2], "RecordAgeExceeded", 2)]


def test_without_a_maximum_age_a_record_is_given_up_when_the_retention_ends() -> None:
    now = [T0]

    def answer(batch: Sequence[StreamRecord]) -> Invoked:
        now[0] += 3600
        return Invoked("req", b"{}", "Unhandled")

    fake = Fake(answer)
    config = mapping(maximum_record_age_s=-1, maximum_retry_attempts=-1)
    runner = LaneRunner(config, fake.invoke, fake.give_up, fake.wait, lambda: now[0], retention_s=86_400)
    assert runner.run(records(1))
    assert len(fake.seen) == 25 and fake.given_up == [([1], "RecordAgeExceeded", 25)]  # older than 24 h


def test_throttles_are_retried_without_using_a_retry_and_a_stop_ends_the_lane() -> None:
    answers = iter([Invoked("r", system_error="TooManyRequestsException")] * 3 + [Invoked("r", b"null")])
    fake = Fake(lambda batch: next(answers))
    assert fake.runner(mapping(maximum_retry_attempts=0)).run(records(2))
    assert len(fake.seen) == 4 and fake.given_up == []
    stopping = Fake(poison(1))
    runner = LaneRunner(mapping(), stopping.invoke, stopping.give_up, lambda s: False, lambda: T0)
    assert runner.run(records(2)) is False
    assert stopping.given_up == []


def test_batches_respect_the_size_and_the_six_megabytes() -> None:
    assert [len(b) for b in batches(records(7), 3)] == [3, 3, 1]
    big = [StreamRecord("s", "shardId-000000000000", n, "k", b"x" * 1_000_000, T0) for n in range(1, 8)]
    assert [len(b) for b in batches(big, 100)] == [4, 3]


def test_event_shapes() -> None:
    record = StreamRecord("s", "shardId-000000000001", 7, "key", b'{"t": 3}', T0 + 0.5)
    shaped = kinesis_record(record, ARN, "us-east-1", "arn:aws:iam::000000000000:role/r")
    assert shaped["eventID"] == f"shardId-000000000001:{record.sequence_number}"
    assert shaped["kinesis"]["data"] == base64.b64encode(b'{"t": 3}').decode()
    assert shaped["kinesis"]["approximateArrivalTimestamp"] == T0 + 0.5
    assert filter_view(shaped, record.data)["data"] == {"t": 3}
    assert "data" not in filter_view({"kinesis": {}}, b"not json")
    same = [lane_of(StreamRecord("s", "x", n, "same-key", b"", T0), 4) for n in range(5)]
    assert len(set(same)) == 1
    assert {lane_of(StreamRecord("s", "x", 1, f"key-{n}", b"", T0), 4) for n in range(40)} == {0, 1, 2, 3}
    assert lane_of(record, 1) == 0
    info = failure_record([record, record], ARN, "arn:fn", "RetryAttemptsExhausted", 3, "req", {}, T0)
    assert info["KinesisBatchInfo"]["batchSize"] == 2
    assert info["KinesisBatchInfo"]["approximateArrivalOfFirstRecord"] == "2023-11-14T22:13:20.500Z"
    assert info["requestContext"] == {
        "requestId": "req",
        "functionArn": "arn:fn",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 3,
    }
