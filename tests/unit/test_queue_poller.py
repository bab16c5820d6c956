"""The queue poller's outcomes on the in-memory store with a scripted invoker (``triggers.queue_poller``): what is
deleted and what stays in flight after a success, a function error, a throttle, a missing function or an invalid
batch response, and ``LastProcessingResult`` written only when it changes. (Real processes, real functions and
both SQL stores: ``tests/acceptance/test_queue_mappings_boto3.py``.)"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from lambdahost.core.errors import ResourceNotFound, TooManyRequests
from lambdahost.core.event_source_mappings import SourceKind
from lambdahost.core.messages import Message, MessageCounts
from lambdahost.core.settings import Settings
from lambdahost.engine.event_source_mappings import EventSourceMappings
from lambdahost.engine.message_queues import MessageQueues
from lambdahost.storage.memory import InMemoryStore
from lambdahost.triggers.queue_poller import PollerOptions, QueuePoller
from tests.unit.test_event_source_mapping_rules import Functions
from tests.waiting import eventually


@dataclass
class Result:
    payload: bytes
    function_error: str | None = None


class ScriptedInvoker:
    """Answers each invocation with ``answer(event)`` (a Result, or an exception to raise); keeps the events."""

    def __init__(self, answer: Callable[[dict[str, Any]], Result | Exception]) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []

    def invoke(self, function_name: str, payload: bytes = b"", qualifier: str | None = None) -> Result:
        event = json.loads(payload)
        self.events.append(event)
        answer = self.answer(event)
        if isinstance(answer, Exception):
            raise answer
        return answer


class ShortPolls(MessageQueues):
    """Long polls of 50 ms instead of whole seconds, so a poller closes at once."""

    def receive(
        self, ref: str, max_messages: int = 1, visibility_timeout_s: int | None = None, wait_s: int | None = None
    ) -> list[Message]:
        found = super().receive(ref, max_messages, visibility_timeout_s, 0)
        if not found and wait_s:
            time.sleep(0.05)
        return found


class CountingStore(InMemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[str] = []

    def set_processing_result(self, uuid: str, result: str, at: float) -> bool:
        self.results.append(result)
        return super().set_processing_result(uuid, result, at)


@dataclass
class Rig:
    store: CountingStore
    queues: MessageQueues
    mappings: EventSourceMappings
    start: Callable[[ScriptedInvoker], QueuePoller]


@pytest.fixture
def rig() -> Iterator[Rig]:
    store = CountingStore()
    queues = ShortPolls(store, Settings())
    mappings = EventSourceMappings(store, Functions("fn"), {SourceKind.QUEUE: queues.exists})  # type: ignore[arg-type]
    pollers: list[QueuePoller] = []

    def start(invoker: ScriptedInvoker) -> QueuePoller:
        poller = QueuePoller(mappings, queues, invoker, PollerOptions(recheck_s=0.05, backoff_s=0.05))  # type: ignore[arg-type]
        mappings.on_change = poller.refresh
        poller.start()
        pollers.append(poller)
        return poller

    yield Rig(store, queues, mappings, start)
    for poller in pollers:
        poller.close()


def counts(rig: Rig, name: str) -> MessageCounts:
    return rig.queues.counts(name)


def map_queue(rig: Rig, name: str, **settings: Any) -> str:
    rig.queues.create(name, {"VisibilityTimeout": "60"})
    for n in range(3):
        rig.queues.send(name, json.dumps({"n": n}))
    return rig.mappings.create({"FunctionName": "fn", "EventSourceArn": rig.queues.arn(name), **settings}).uuid


def result_of(rig: Rig, uuid: str) -> str:
    return rig.mappings.get(uuid).last_processing_result


def test_a_success_deletes_the_batch_and_records_ok_once(rig: Rig) -> None:
    invoker = ScriptedInvoker(lambda event: Result(b"null"))
    rig.start(invoker)
    uuid = map_queue(rig, "ok")
    assert eventually(lambda: counts(rig, "ok") == MessageCounts(0, 0, 0))
    assert [json.loads(r["body"])["n"] for e in invoker.events for r in e["Records"]] == [0, 1, 2]
    rig.queues.send("ok", json.dumps({"n": 3}))
    assert eventually(lambda: counts(rig, "ok") == MessageCounts(0, 0, 0) and len(invoker.events) == 2)
    assert result_of(rig, uuid) == "OK"
    assert rig.store.results == ["OK"]  # written when it changed, not once per batch


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Result(b'{"errorMessage": "boom"}', "Unhandled"), "PROBLEM: Function call failed"),
        (TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded"), "PROBLEM: Function call throttled"),
        (ResourceNotFound("Function not found: fn"), "PROBLEM: Function not found"),
    ],
)
def test_a_failed_batch_stays_in_flight(rig: Rig, answer: Result | Exception, expected: str) -> None:
    invoker = ScriptedInvoker(lambda event: answer)
    rig.start(invoker)
    uuid = map_queue(rig, "failing")
    assert eventually(lambda: result_of(rig, uuid) == expected)
    assert counts(rig, "failing") == MessageCounts(visible=0, in_flight=3, delayed=0)  # back after 60 s
    assert len(invoker.events) == 1


def test_an_invalid_batch_response_fails_the_whole_batch(rig: Rig) -> None:
    invoker = ScriptedInvoker(lambda event: Result(b'{"batchItemFailures": [{"itemIdentifier": "nope"}]}'))
    rig.start(invoker)
    uuid = map_queue(rig, "invalid", FunctionResponseTypes=["ReportBatchItemFailures"])
    assert eventually(lambda: result_of(rig, uuid) == "PROBLEM: Invalid batch item failures response")
    assert counts(rig, "invalid").in_flight == 3


def test_only_reported_failures_stay(rig: Rig) -> None:
    def answer(event: dict[str, Any]) -> Result:
        failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if json.loads(r["body"])["n"] == 1]
        return Result(json.dumps({"batchItemFailures": failed}).encode())

    rig.start(ScriptedInvoker(answer))
    uuid = map_queue(rig, "partial", FunctionResponseTypes=["ReportBatchItemFailures"])
    assert eventually(lambda: counts(rig, "partial") == MessageCounts(visible=0, in_flight=1, delayed=0))
    assert result_of(rig, uuid) == "OK"


def test_filtered_out_messages_are_deleted_without_invoking(rig: Rig) -> None:
    invoker = ScriptedInvoker(lambda event: Result(b""))
    rig.start(invoker)
    map_queue(rig, "filtered", FilterCriteria={"Filters": [{"Pattern": '{"body": {"n": [2]}}'}]})
    assert eventually(lambda: counts(rig, "filtered") == MessageCounts(0, 0, 0))
    assert [[json.loads(r["body"])["n"] for r in e["Records"]] for e in invoker.events] == [[2]]


def test_a_deleted_mapping_stops_and_its_queue_keeps_new_messages(rig: Rig) -> None:
    invoker = ScriptedInvoker(lambda event: Result(b""))
    poller = rig.start(invoker)
    uuid = map_queue(rig, "gone")
    assert eventually(lambda: counts(rig, "gone") == MessageCounts(0, 0, 0))
    assert poller.feeding() == [uuid]
    rig.mappings.delete(uuid)
    assert poller.feeding() == []  # at once: the service told the poller in this thread
    rig.queues.send("gone", "late")
    assert not eventually(lambda: counts(rig, "gone").visible == 0, timeout=0.3)
