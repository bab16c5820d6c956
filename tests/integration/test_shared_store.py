"""Two platforms (two servers, or a server and a worker) sharing one store: a change made through one reaches the
other within its recheck interval, off the invoke path."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from pathlib import Path

import pytest

from lambdahost.core.errors import ResourceNotFound, TooManyRequests
from lambdahost.core.settings import Settings
from lambdahost.engine.worker import QueueWorker
from lambdahost.engine.worker_options import WorkerOptions
from lambdahost.server import Platform
from tests.waiting import eventually

APP = "import os\n\ndef handler(event, context):\n    return os.environ.get('COLOR')\n"


def zipped() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_change_through_one_platform_reaches_the_other(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    settings = Settings(store_url=url, config_recheck_s=0.1)
    with (
        Platform(settings.replace(data_dir=tmp_path / "a")) as a,
        Platform(settings.replace(data_dir=tmp_path / "b")) as b,
    ):
        a.functions.create(
            {
                "FunctionName": "shared",
                "Runtime": "python3.11",
                "Handler": "app.handler",
                "Code": {"ZipFile": zipped()},
                "Environment": {"Variables": {"COLOR": "red"}},
            }
        )
        assert b.invoker.invoke("shared").payload == b'"red"'
        warm = [env.pid for env in b.pool.environments()]
        a.functions.update_configuration("shared", {"Environment": {"Variables": {"COLOR": "blue"}}})
        assert eventually(lambda: b.invoker.invoke("shared").payload == b'"blue"')
        assert not any(env.pid in warm for env in b.pool.environments()), "the old revision's environments retired"
        a.functions.put_concurrency("shared", 0)
        assert eventually(lambda: b.admission.running("shared") == 0 and _throttled(b))
        a.functions.delete("shared")

        def gone() -> bool:
            try:
                b.invoker.invoke("shared")
            except ResourceNotFound:
                return True
            except TooManyRequests:  # the deletion has not reached b yet
                return False
            return False

        assert eventually(gone)


def _throttled(platform: Platform) -> bool:
    try:
        platform.invoker.invoke("shared")
    except TooManyRequests as exc:
        return "ReservedFunctionConcurrentInvocationLimitExceeded" in json.dumps(exc.body())
    return False


@pytest.mark.postgres
def test_work_queued_through_one_process_wakes_a_worker_of_another_at_once(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL LISTEN/NOTIFY: the worker polls only every 30 s here, yet runs the invocation at once."""
    url = request.getfixturevalue("pg_url")
    settings = Settings(store_url=url, worker_slots=0)  # neither platform's own worker runs
    with (
        Platform(settings.replace(data_dir=tmp_path / "a")) as a,
        Platform(settings.replace(data_dir=tmp_path / "b")) as b,
    ):
        a.functions.create(
            {
                "FunctionName": "notified",
                "Runtime": "python3.11",
                "Handler": "app.handler",
                "Code": {"ZipFile": zipped()},
            }
        )
        worker = QueueWorker(
            b.store,
            b.functions,
            b.pool,
            b.admission,
            "listener",
            b.event_configs,
            b.router,
            WorkerOptions(poll_s=30, heartbeat_s=30, lease_s=60),
        )
        worker.start()
        try:
            time.sleep(0.3)  # the worker's first look at the queue (empty) and its LISTEN are done
            request_id = a.enqueuer.enqueue("notified", b"{}")
            queued = time.monotonic()

            def done() -> bool:
                record = a.store.get_invocation(request_id)
                return record is not None and record.status.finished

            assert eventually(done, timeout=5.0)
            assert time.monotonic() - queued < 2.0, "woken by the notification, not by its 30 s poll"
            record = a.store.get_invocation(request_id)
            assert record is not None and record.worker == "listener"
        finally:
            worker.close()
