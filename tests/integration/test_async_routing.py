"""What happens to an asynchronous invocation after its last attempt, in an embedded Platform (real SQLite file, real
environments): event invoke configs (retries, maximum event age), OnSuccess/OnFailure destinations (a function, a
queue) with AWS's record, the dead-letter queue with its message attributes, invocations stopped before they run
(reserved concurrency 0, too old, a recursive loop), lanes with their own maximum concurrency, hand-back on close."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lambdahost.core.errors import InvalidParameterValue, ResourceNotFound, ValidationError
from lambdahost.core.model import ClaimRequest, Invocation, InvocationStatus, InvocationType, Transition
from lambdahost.core.settings import Settings
from lambdahost.engine import lineage
from lambdahost.server import Platform
from tests.integration.platforms import finished

APP = """
import time

def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"echo": event, "request_id": context.aws_request_id}
"""
S = InvocationStatus
ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def zipped(source: str = APP) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), retry_delays_s=(0.1, 0.2))
    with Platform(settings) as p:
        yield p


def create(platform: Platform, name: str, **extra: Any) -> None:
    request = {"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": zipped()}}
    platform.functions.create(request | extra)


T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float, message: str) -> T:
    """``check()``'s first answer that is not None (or empty), waiting up to ``timeout`` seconds for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(message)


def delivered(platform: Platform, function_name: str, count: int = 1) -> list[dict[str, Any]]:
    """The payloads of the invocations queued for ``function_name`` (a destination), once there are ``count``."""

    def found() -> list[Invocation] | None:
        listed = platform.store.list_invocations(function_name, limit=100)
        return listed if len(listed) >= count else None

    listed = wait_for(found, timeout=20, message=f"{function_name} did not receive {count} records")
    records = [platform.store.get_invocation(i.id) for i in listed]
    return [json.loads(r.payload) for r in records if r is not None]


def received(platform: Platform, queue: str) -> list[Any]:
    return wait_for(
        lambda: platform.message_queues.receive(queue, max_messages=10, wait_s=0) or None,
        timeout=20,
        message=f"nothing reached {queue}",
    )


# -- event invoke config -----------------------------------------------------------------------------------------
def test_event_invoke_config_put_update_get_list_delete_with_aws_rules(platform: Platform) -> None:
    create(platform, "fn")
    create(platform, "target")
    configs = platform.event_configs
    with pytest.raises(InvalidParameterValue, match="at least one of error handling or destination"):
        configs.put("fn", None, {})
    with pytest.raises(ValidationError, match="less than or equal to 2"):
        configs.put("fn", None, {"MaximumRetryAttempts": 3})
    with pytest.raises(ValidationError, match="greater than or equal to 60"):
        configs.put("fn", None, {"MaximumEventAgeInSeconds": 59})
    with pytest.raises(ValidationError, match="less than or equal to 21600"):
        configs.put("fn", None, {"MaximumEventAgeInSeconds": 21601})
    with pytest.raises(InvalidParameterValue, match="destination for itself"):
        configs.put("fn", None, {"DestinationConfig": {"OnFailure": {"Destination": ARN + "fn"}}})
    with pytest.raises(InvalidParameterValue, match="is invalid"):
        configs.put("fn", None, {"DestinationConfig": {"OnFailure": {"Destination": ARN + "missing"}}})
    with pytest.raises(InvalidParameterValue, match="no such queue"):
        configs.put("fn", None, {"DestinationConfig": {"OnSuccess": {"Destination": platform.message_queues.arn("q")}}})
    with pytest.raises(ResourceNotFound, match="doesn't exist"):
        configs.put("missing", None, {"MaximumRetryAttempts": 1})
    with pytest.raises(ResourceNotFound, match="doesn't have an EventInvokeConfig"):
        configs.update("fn", None, {"MaximumRetryAttempts": 1})
    assert platform.store.list_event_invoke_configs("fn") == [], "rejected requests stored nothing"

    put = configs.put(
        "fn", None, {"MaximumRetryAttempts": 1, "DestinationConfig": {"OnFailure": {"Destination": ARN + "target"}}}
    )
    assert (put.maximum_retry_attempts, put.maximum_event_age_s, put.on_failure) == (1, None, ARN + "target")
    merged = configs.update("fn", "$LATEST", {"MaximumEventAgeInSeconds": 120})
    assert (merged.maximum_retry_attempts, merged.maximum_event_age_s, merged.on_failure) == (1, 120, ARN + "target")
    replaced = configs.put("fn", None, {"MaximumEventAgeInSeconds": 300})
    assert (replaced.maximum_retry_attempts, replaced.on_failure) == (None, None), "put replaces the whole config"
    assert configs.get(ARN + "fn", None) == replaced
    assert configs.effective("fn").max_event_age_s == 300 and configs.effective("fn").retry_attempts == 2
    page, marker = configs.list("fn", None, None)
    assert [c.qualifier for c in page] == ["$LATEST"] and marker is None
    configs.delete("fn", None)
    with pytest.raises(ResourceNotFound):
        configs.get("fn", None)
    assert configs.effective("fn").retry_attempts == 2, "the defaults again"


def test_maximum_retry_attempts_zero_runs_once_and_routes_the_failure_to_a_function(platform: Platform) -> None:
    create(platform, "fails")
    create(platform, "on-failure")
    platform.event_configs.put(
        "fails",
        None,
        {"MaximumRetryAttempts": 0, "DestinationConfig": {"OnFailure": {"Destination": ARN + "on-failure"}}},
    )
    request_id = platform.enqueuer.enqueue("fails", b'{"fail": true, "n": 7}')
    record = finished(platform, request_id)
    assert record.status is S.FAILED and record.attempt == 1
    assert [t.status for t in record.transitions].count(S.RUNNING) == 1
    assert (record.routed_to, record.route_condition) == (ARN + "on-failure", "RetriesExhausted")
    [sent] = delivered(platform, "on-failure")
    assert sent["version"] == "1.0" and sent["timestamp"].endswith("Z")
    assert sent["requestContext"] == {
        "requestId": request_id,
        "functionArn": ARN + "fails:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 1,
    }
    assert sent["requestPayload"] == {"fail": True, "n": 7}
    assert sent["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert sent["responsePayload"]["errorType"] == "ValueError"
    assert sent["responsePayload"]["errorMessage"] == "asked to fail"


def test_success_goes_to_the_on_success_queue_with_the_response(platform: Platform) -> None:
    create(platform, "ok")
    platform.message_queues.create("successes")
    queue_arn = platform.message_queues.arn("successes")
    platform.event_configs.put("ok", None, {"DestinationConfig": {"OnSuccess": {"Destination": queue_arn}}})
    request_id = platform.enqueuer.enqueue("ok", b'{"k": "v"}')
    record = finished(platform, request_id)
    assert record.status is S.SUCCEEDED and (record.routed_to, record.route_condition) == (queue_arn, "Success")
    [message] = received(platform, "successes")
    body = json.loads(message.body)
    assert body["requestContext"]["condition"] == "Success" and body["requestContext"]["approximateInvokeCount"] == 1
    assert body["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert body["responsePayload"] == {"echo": {"k": "v"}, "request_id": request_id}


def test_retries_exhausted_reach_the_dead_letter_queue_and_the_on_failure_queue(platform: Platform) -> None:
    queues = platform.message_queues
    queues.create("dlq")
    queues.create("failures")
    create(platform, "broken", DeadLetterConfig={"TargetArn": queues.arn("dlq")})
    platform.event_configs.put(
        "broken",
        None,
        {"MaximumRetryAttempts": 1, "DestinationConfig": {"OnFailure": {"Destination": queues.arn("failures")}}},
    )
    request_id = platform.enqueuer.enqueue("broken", b'{"fail": true}')
    record = finished(platform, request_id)
    assert record.status is S.FAILED and record.attempt == 2
    assert record.routed_to == f"{queues.arn('failures')}, {queues.arn('dlq')}"
    [dead] = received(platform, "dlq")
    assert dead.body == '{"fail": true}', "the raw event"
    attributes = {name: (a.data_type, a.string_value) for name, a in dead.attributes.items()}
    assert attributes == {
        "RequestID": ("String", request_id),
        "ErrorCode": ("Number", "200"),
        "ErrorMessage": ("String", "asked to fail"),
    }
    [failure] = received(platform, "failures")
    assert json.loads(failure.body)["requestContext"]["approximateInvokeCount"] == 2


def test_zero_reserved_concurrency_routes_without_running(platform: Platform) -> None:
    create(platform, "off")
    create(platform, "on-failure")
    platform.functions.put_concurrency("off", 0)
    platform.event_configs.put("off", None, {"DestinationConfig": {"OnFailure": {"Destination": ARN + "on-failure"}}})
    request_id = platform.enqueuer.enqueue("off", b"{}")
    record = finished(platform, request_id)
    assert record.status is S.TERMINATED and record.error_type == "ZeroReservedConcurrency"
    assert [t.status for t in record.transitions] == [S.CREATED, S.PENDING, S.READY, S.TERMINATED]
    [sent] = delivered(platform, "on-failure")
    assert sent["requestContext"]["condition"] == "ZeroReservedConcurrency"
    assert sent["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in sent and "responsePayload" not in sent, "the function never ran"


def test_an_event_older_than_its_maximum_age_is_not_run(platform: Platform) -> None:
    create(platform, "slow-queue")
    create(platform, "on-failure")
    platform.event_configs.put(
        "slow-queue",
        None,
        {"MaximumEventAgeInSeconds": 60, "DestinationConfig": {"OnFailure": {"Destination": ARN + "on-failure"}}},
    )
    now = time.time()
    old = Invocation(
        id="old-event",
        function_name="slow-queue",
        version="$LATEST",
        type=InvocationType.EVENT,
        status=S.PENDING,
        created_at=now - 61,
        transitions=(Transition(S.CREATED, now - 61), Transition(S.PENDING, now - 61)),
        payload=b'{"late": true}',
        available_at=now,
    )
    platform.store.enqueue(old)
    platform.worker.wake()
    record = finished(platform, "old-event")
    assert record.status is S.TERMINATED and record.error_type == "EventAgeExceeded"
    assert record.duration_ms is None, "nothing ran"
    [sent] = delivered(platform, "on-failure")
    assert sent["requestContext"]["condition"] == "EventAgeExceeded" and sent["requestPayload"] == {"late": True}


def test_the_seventeenth_run_of_a_function_in_one_chain_is_stopped(platform: Platform) -> None:
    create(platform, "looping")
    create(platform, "on-failure")
    platform.event_configs.put(
        "looping", None, {"DestinationConfig": {"OnFailure": {"Destination": ARN + "on-failure"}}}
    )
    trace = None
    for _ in range(lineage.MAX_RUNS_PER_CHAIN - 1):
        trace, _runs = lineage.extend(trace, "looping", time.time())
    sixteenth = platform.enqueuer.enqueue("looping", b"{}", trace=trace)
    record = finished(platform, sixteenth)
    assert record.status is S.SUCCEEDED, "the 16th run is allowed"
    assert record.trace is not None and lineage.runs_of(record.trace, "looping") == 16
    seventeenth = platform.enqueuer.enqueue("looping", b"{}", trace=record.trace)
    stopped = finished(platform, seventeenth)
    assert stopped.status is S.TERMINATED and stopped.error_type == "RecursiveInvocationException"
    assert stopped.error_message is not None and "recursive loop" in stopped.error_message
    [sent] = delivered(platform, "on-failure")
    assert sent["requestContext"]["condition"] == "RecursiveInvocationException"
    # a synchronous invoke carrying such a chain is refused the same way, before anything runs
    from lambdahost.core.errors import RecursiveInvocation

    with pytest.raises(RecursiveInvocation):
        platform.invoker.invoke("looping", b"{}", trace=record.trace)


def test_lanes_each_have_their_own_maximum_concurrency(platform: Platform) -> None:
    create(platform, "laned", Timeout=30)
    platform.functions.set_lanes("laned", [3, 1])
    with pytest.raises(InvalidParameterValue, match="lanes 0 to 1"):
        platform.enqueuer.enqueue("laned", b"{}", lane=2)
    with pytest.raises(InvalidParameterValue, match="at least 1"):
        platform.functions.set_lanes("laned", [3, 0])
    ids = [platform.enqueuer.enqueue("laned", b'{"sleep": 0.4}', lane=lane) for lane in (0,) * 6 + (1,) * 3]
    peak: dict[int, int] = {0: 0, 1: 0}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for depth in platform.store.queue_depth():
                if depth.function_name == "laned" and depth.status in (S.READY, S.RUNNING):
                    running = sum(
                        d.count
                        for d in platform.store.queue_depth()
                        if d.lane == depth.lane and d.function_name == "laned" and d.status in (S.READY, S.RUNNING)
                    )
                    peak[depth.lane] = max(peak[depth.lane], running)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        records = [finished(platform, request_id, timeout=30) for request_id in ids]
    finally:
        stop.set()
        watcher.join()
    assert all(r.status is S.SUCCEEDED for r in records)
    assert peak == {0: 3, 1: 1}, "each lane ran up to its own maximum, no more"
    lane1 = [r for r in records if r.lane == 1]
    lane0_last_start = max(r.transitions[3].at for r in records if r.lane == 0)
    assert min(r.transitions[3].at for r in lane1) < lane0_last_start, "lane 1 did not wait for lane 0's backlog"


def test_close_lets_the_running_invocation_finish_before_it_returns(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = tmp_path_factory.mktemp("data")
    platform = Platform(Settings(data_dir=data, worker_slots=1)).start()
    try:
        create(platform, "slow", Timeout=30)
        running = platform.enqueuer.enqueue("slow", b'{"sleep": 0.5}')
        wait_for(lambda: platform.store.get_invocation(running).status is S.RUNNING, 10, "never ran")  # type: ignore[union-attr]
    finally:
        platform.close()
    again = Platform(Settings(data_dir=data, worker_slots=0))
    try:
        record = again.store.get_invocation(running)
        assert record is not None and record.status is S.SUCCEEDED, "close() let the running invocation finish"
        assert record.lease_owner is None
    finally:
        again.close()


def test_a_cancel_through_another_process_stops_the_environment_running_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    store_url = f"sqlite:///{tmp_path_factory.mktemp('shared') / 'lambdahost.db'}"
    api_only = Settings(data_dir=tmp_path_factory.mktemp("a"), store_url=store_url, worker_slots=0)
    running_node = Settings(data_dir=tmp_path_factory.mktemp("b"), store_url=store_url, heartbeat_s=0.1, lease_s=5.0)
    with Platform(api_only) as a, Platform(running_node) as b:
        create(a, "long", Timeout=60)
        request_id = a.enqueuer.enqueue("long", b'{"sleep": 30}')
        b.worker.wake()
        wait_for(lambda: b.pool.stats()["busy"] == 1, 10, "never started on the other node")
        cancelled_at = time.monotonic()
        assert a.worker.cancel(request_id), "cancelled in the store by the API-only node"
        wait_for(lambda: b.pool.stats()["busy"] == 0, 5, "the other node did not stop its environment")
        assert time.monotonic() - cancelled_at < 2.0, "found by the next heartbeat"
        record = a.store.get_invocation(request_id)
        assert record is not None and record.status is S.TERMINATED


def test_a_throttled_event_waits_pending_and_uses_no_attempt(platform: Platform) -> None:
    create(platform, "narrow", Timeout=30)
    platform.functions.put_concurrency("narrow", 1)
    holder = threading.Thread(target=platform.invoker.invoke, args=("narrow", b'{"sleep": 1.0}'))
    holder.start()  # a synchronous invocation holds the function's only slot for a second
    wait_for(lambda: platform.admission.in_flight().get("narrow") == 1, 10, "the sync invocation never started")
    request_id = platform.enqueuer.enqueue("narrow", b'{"n": 1}')
    time.sleep(0.5)
    waiting = platform.store.get_invocation(request_id)
    assert waiting is not None and waiting.status is S.PENDING and waiting.attempt == 1, "throttled: left queued"
    holder.join()
    record = finished(platform, request_id)
    assert record.status is S.SUCCEEDED and record.attempt == 1, "it ran once the slot was free, no attempt used"
    assert [t.status for t in record.transitions] == [S.CREATED, S.PENDING, S.READY, S.RUNNING, S.SUCCEEDED]


def test_a_platform_error_is_retried_without_using_an_attempt(tmp_path: Path) -> None:
    """The environment cannot start (its interpreter was removed after it was found, so no fork server starts on
    it): not the function's error, so the invocation goes back to pending with its attempt unchanged and a backoff,
    as AWS retries system errors."""
    import os
    import sys

    interpreter = tmp_path / "bin" / "python"
    interpreter.parent.mkdir()
    interpreter.symlink_to(os.path.realpath(sys.executable))
    runtime = f"python3.{sys.version_info[1]}"
    settings = Settings(data_dir=tmp_path / "data", retry_delays_s=(0.1, 0.2), interpreters={runtime: str(interpreter)})
    with Platform(settings) as platform:
        create(platform, "unstartable", Runtime=runtime)
        assert platform.functions.runs_on(runtime).path == str(interpreter)
        interpreter.unlink()
        request_id = platform.enqueuer.enqueue("unstartable", b"{}")
        record = wait_for(lambda: retried(platform, request_id), 10, "never went back to pending")
    assert record.attempt == 1, "a platform error uses no attempt"
    assert record.error_type == "Lambdahost.WorkerError"
    assert record.available_at is not None and record.available_at >= record.transitions[-1].at + 0.9, "1 s backoff"


def retried(platform: Platform, request_id: str) -> Invocation | None:
    """The invocation once it went from running back to pending."""
    record = platform.store.get_invocation(request_id)
    steps = [t.status for t in record.transitions] if record else []
    return record if steps[-2:] == [S.RUNNING, S.PENDING] else None


def test_an_invocation_failed_because_its_workers_were_lost_is_routed(tmp_path: Path) -> None:
    """The last attempt lost with its worker: the store fails it (Runtime.WorkerLost) when the lease is taken back,
    and the worker that took it back sends the failure where the function says, as for any other failure."""
    settings = Settings(data_dir=tmp_path, worker_slots=0, retry_delays_s=(0.1, 0.2))
    with Platform(settings) as platform:
        queues = platform.message_queues
        queues.create("lost-dlq")
        queues.create("lost-failures")
        create(platform, "lost", DeadLetterConfig={"TargetArn": queues.arn("lost-dlq")})
        failures = {"OnFailure": {"Destination": queues.arn("lost-failures")}}
        platform.event_configs.put("lost", None, {"DestinationConfig": failures})
        request_id = platform.enqueuer.enqueue("lost", b'{"n": 1}')
        attempts = platform.worker.options.max_attempts
        now = time.time()
        for attempt in range(attempts):  # each attempt started by a worker that then vanishes
            (claimed,) = platform.store.claim(f"ghost-{attempt}", now, 1.0, [ClaimRequest("lost", 0, 10, 1)])
            assert platform.store.start(claimed.id, f"ghost-{attempt}", now)
            now += 5.0
            if attempt < attempts - 1:
                assert platform.store.recover_expired("rescuer", now, attempts) == [request_id]
        platform.worker._heartbeat(now)  # the heartbeat that takes the last lease back

        record = platform.store.get_invocation(request_id)
        assert record is not None and record.status is S.FAILED and record.error_type == "Runtime.WorkerLost"
        assert record.routed_to == f"{queues.arn('lost-failures')}, {queues.arn('lost-dlq')}"
        assert record.route_condition == "RetriesExhausted"
        [dead] = received(platform, "lost-dlq")
        assert dead.body == '{"n": 1}'
        assert dead.attributes["RequestID"].string_value == request_id
        [failure] = received(platform, "lost-failures")
        body = json.loads(failure.body)
        assert body["requestContext"]["condition"] == "RetriesExhausted"
        assert body["requestContext"]["approximateInvokeCount"] == attempts
        assert body["responseContext"]["functionError"] == "Unhandled"
        assert body["responsePayload"]["errorType"] == "Runtime.WorkerLost"
