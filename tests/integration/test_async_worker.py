"""Asynchronous invocations in an embedded Platform (real SQLite file, real environments): queued, claimed by the
worker, run, retried with backoff after a failed attempt, and recorded with every transition."""

from __future__ import annotations

import base64
import io
import time
import zipfile
from collections.abc import Iterator

import pytest

from lambdahost.core.errors import InvalidParameterValue, RequestTooLarge
from lambdahost.core.model import InvocationStatus
from lambdahost.core.settings import Settings
from lambdahost.engine.worker_options import WorkerOptions
from lambdahost.server import Platform
from tests.integration.platforms import finished

APP = """
CALLS = {"n": 0}

def handler(event, context):
    CALLS["n"] += 1
    if event.get("fail_times", 0) >= CALLS["n"] or event.get("always_fail"):
        raise RuntimeError(f"attempt {CALLS['n']} failed")
    return {"calls": CALLS["n"], "request_id": context.aws_request_id}
"""
S = InvocationStatus


def zipped() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), retry_delays_s=(0.2, 0.4))
    with Platform(settings) as p:
        yield p


def create(platform: Platform, name: str) -> None:
    platform.functions.create(
        {"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": zipped()}}
    )


def test_an_event_runs_once_and_is_recorded(platform: Platform) -> None:
    create(platform, "ok")
    request_id = platform.enqueuer.enqueue("ok", b'{"x": 1}')
    record = finished(platform, request_id)
    assert record.status is S.SUCCEEDED and record.attempt == 1
    assert [t.status for t in record.transitions] == [S.CREATED, S.PENDING, S.READY, S.RUNNING, S.SUCCEEDED]
    assert record.result is not None and b'"request_id": "' + request_id.encode() in record.result
    assert record.lease_owner is None and record.worker == platform.worker.id
    assert not [d for d in platform.store.queue_depth() if d.function_name == "ok"], "nothing left in the queue"


def test_a_failed_attempt_is_retried_with_backoff_under_the_same_request_id(platform: Platform) -> None:
    create(platform, "flaky")
    request_id = platform.enqueuer.enqueue("flaky", b'{"fail_times": 1}')
    record = finished(platform, request_id)
    assert record.status is S.SUCCEEDED and record.attempt == 2
    assert record.result is not None and request_id.encode() in record.result, "the same request id on the retry"
    steps = [t.status for t in record.transitions]
    assert steps == [S.CREATED, S.PENDING, S.READY, S.RUNNING, S.PENDING, S.READY, S.RUNNING, S.SUCCEEDED]
    back_to_pending, claimed_again = record.transitions[4].at, record.transitions[5].at
    assert claimed_again - back_to_pending >= 0.2 * 0.9, "the retry waited for its backoff"


def test_retries_run_out_after_two(platform: Platform) -> None:
    create(platform, "broken")
    request_id = platform.enqueuer.enqueue("broken", b'{"always_fail": true}')
    record = finished(platform, request_id)
    assert record.status is S.FAILED and record.attempt == 3
    assert [t.status for t in record.transitions].count(S.RUNNING) == 3
    assert (record.error_type, record.error_message) == ("RuntimeError", "attempt 3 failed")
    assert record.finished_at is not None


def test_bad_requests_queue_nothing(platform: Platform) -> None:
    create(platform, "ok")
    with pytest.raises(RequestTooLarge, match=r"^Request must be smaller than 1048576 bytes"):
        platform.enqueuer.enqueue("ok", b'"' + b"x" * 1048576 + b'"')
    with pytest.raises(RequestTooLarge, match=r"262144 bytes for the InvokeAsync operation$"):
        platform.enqueuer.enqueue("ok", b'"' + b"x" * 262144 + b'"', legacy=True)
    with pytest.raises(InvalidParameterValue, match=r"^Lane 1 does not exist"):
        platform.enqueuer.enqueue("ok", b"{}", lane=1)
    assert platform.store.list_invocations("ok") == []


def test_retry_delays_have_bounded_jitter() -> None:
    options = WorkerOptions(retry_delays_s=(60.0, 120.0), retry_jitter=0.1)
    assert options.max_attempts == 3
    assert options.retry_delay(1, 0.0) == pytest.approx(54.0) and options.retry_delay(1, 0.999) < 66.0
    assert options.retry_delay(2, 0.5) == pytest.approx(120.0)
    assert options.retry_delay(5, 0.5) == pytest.approx(120.0), "later attempts keep the last delay"


def test_cancel_stops_a_running_invocation_and_a_pending_one(platform: Platform) -> None:
    platform.functions.create(
        {
            "FunctionName": "sleepy",
            "Runtime": "python3.11",
            "Handler": "app.handler",
            "Timeout": 60,
            "Code": {"ZipFile": _sleeper_zip()},
        }
    )
    platform.functions.put_concurrency("sleepy", 1)
    running, waiting = (platform.enqueuer.enqueue("sleepy", b'{"seconds": 30}') for _ in range(2))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        record = platform.store.get_invocation(running)
        if record is not None and record.status is S.RUNNING:
            break
        time.sleep(0.01)
    assert platform.store.get_invocation(waiting).status is S.PENDING  # type: ignore[union-attr]
    started = time.monotonic()
    assert platform.worker.cancel(running) and platform.worker.cancel(waiting)
    assert not platform.worker.cancel(running), "already finished"
    while platform.pool.stats()["busy"] and time.monotonic() - started < 5:
        time.sleep(0.01)
    assert platform.pool.stats()["busy"] == 0 and time.monotonic() - started < 5, "the environment was stopped"
    for request_id in (running, waiting):
        record = platform.store.get_invocation(request_id)
        assert record is not None and record.status is S.TERMINATED and record.finished_at is not None
        assert record.transitions[-1].worker == platform.worker.id


def _sleeper_zip() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "import time\n\ndef handler(event, context):\n    time.sleep(event['seconds'])\n")
    return base64.b64encode(buf.getvalue()).decode()
