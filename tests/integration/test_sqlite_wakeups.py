"""Processes sharing one SQLite file wake each other's workers when they queue work (``storage/wakeups.py``): Unix
datagram sockets in ``<database>.wake/``, one per subscriber."""

from __future__ import annotations

import base64
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lambdahost.core.model import ClaimRequest, Invocation, Transition
from lambdahost.core.settings import Settings
from lambdahost.server import Platform
from lambdahost.storage.sqlite import SqliteStore
from lambdahost.storage.wakeups import RELIST_S, Wakeups, wake_directory
from tests.integration.records import S, invocation
from tests.waiting import eventually

# A worker process that looks at the queue only every 30 s by itself (and heartbeats as rarely): every invocation
# it runs at once was announced to it. It prints "started", then runs until its stdin closes.
WORKER = """
import dataclasses, sys
from pathlib import Path
from lambdahost.core.settings import Settings
from lambdahost.server import Platform

settings = Settings(store_url=sys.argv[1], data_dir=Path(sys.argv[2]), worker_slots=2, heartbeat_s=30, lease_s=60)
platform = Platform(settings)
platform.worker.options = dataclasses.replace(platform.worker.options, poll_s=30)
platform.start()
print("started", flush=True)
sys.stdin.read()
platform.close()
"""

# A process holding ``sys.argv[2]`` subscriptions to the store ``sys.argv[1]``; prints "subscribed", then sleeps.
SUBSCRIBER = """
import sys, time
from lambdahost.storage.sqlite import SqliteStore

store = SqliteStore(sys.argv[1])
for _ in range(int(sys.argv[2])):
    store.subscribe(lambda name, lane: None)
print("subscribed", flush=True)
time.sleep(120)
"""

APP = "def handler(event, context):\n    return 'ran'\n"


def zipped() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP)
    return base64.b64encode(buf.getvalue()).decode()


def queued(inv_id: str) -> Invocation:
    steps = (Transition(S.CREATED, 100.0), Transition(S.PENDING, 100.0))
    return invocation(inv_id, status=S.PENDING, created_at=100.0, transitions=steps)


def sockets(directory: Path | None) -> set[str]:
    assert directory is not None
    return {path.name for path in directory.glob("*.sock")}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "shared.db"


@pytest.fixture
def open_stores(db: Path) -> Iterator[list[SqliteStore]]:
    """Stores on ``db`` opened by the test (append to the list), closed after it."""
    opened: list[SqliteStore] = []
    yield opened
    for store in opened:
        store.close()


def store_on(path: Path, opened: list[SqliteStore]) -> SqliteStore:
    store = SqliteStore(str(path))
    store.migrate()
    opened.append(store)
    return store


@contextmanager
def running(script: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """A Python process running ``script``, once it printed its first line; killed at the end if still running."""
    command = [sys.executable, "-c", script, *args]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            if not process.stdout.readline():
                raise AssertionError(f"the process exited with {process.wait()}")
            yield process
        finally:
            if process.poll() is None:
                process.kill()


def test_an_enqueue_in_one_process_wakes_a_worker_of_another_at_once(tmp_path: Path, db: Path) -> None:
    url = f"sqlite:///{db}"
    with Platform(Settings(store_url=url, data_dir=tmp_path / "api", worker_slots=0)) as api:
        api.functions.create(
            {"FunctionName": "woken", "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": zipped()}}
        )
        with running(WORKER, url, str(tmp_path / "worker")) as worker:
            assert eventually(lambda: any(w.pid == worker.pid for w in api.store.workers()))
            latencies = []
            for _ in range(3):
                time.sleep(0.3)  # the worker is back in its 30 s wait
                request_id = api.enqueuer.enqueue("woken", b"{}")
                queued_at = time.monotonic()

                def done(request_id: str = request_id) -> bool:
                    record = api.store.get_invocation(request_id)
                    return record is not None and record.status.finished

                assert eventually(done, timeout=10.0, interval=0.002)
                latencies.append(time.monotonic() - queued_at)
                record = api.store.get_invocation(request_id)
                assert record is not None and record.status is S.SUCCEEDED and record.result == b'"ran"'
            print(f"\nenqueue -> finished in another process: {', '.join(f'{s * 1000:.1f} ms' for s in latencies)}")
            assert max(latencies) < 1.0, "woken by the enqueue, not by its 30 s poll"
            assert worker.stdin is not None
            worker.stdin.close()  # it stops
            assert worker.wait(timeout=60) == 0
    assert sockets(wake_directory(db)) == set(), "the worker removed its socket when it stopped"


def test_a_store_wakes_the_subscribers_of_the_others_but_not_its_own(db: Path, open_stores: list[SqliteStore]) -> None:
    a, b = store_on(db, open_stores), store_on(db, open_stores)
    woken_a, woken_b = threading.Event(), threading.Event()
    lanes_b: list[tuple[str | None, int]] = []
    stop_a = a.subscribe(lambda name, lane: woken_a.set())
    stop_b = b.subscribe(lambda name, lane: (lanes_b.append((name, lane)), woken_b.set()))
    assert len(sockets(wake_directory(db))) == 2
    a.enqueue(queued("one"))
    assert woken_b.wait(2.0)
    assert lanes_b == [("fn", 0)], "the wake-up says which function and lane"
    assert not woken_a.wait(0.2), "a's own workers are woken directly, not through its socket"
    woken_b.clear()
    a.enqueue_many([queued("two"), queued("three")])
    assert woken_b.wait(2.0)
    stop_b()
    stop_b()  # a second call changes nothing
    assert len(sockets(wake_directory(db))) == 1, "unsubscribing removed the socket"
    woken_b.clear()
    time.sleep(RELIST_S * 1.5)  # a's listing of the directory is stale by now
    b.enqueue(queued("four"))
    assert woken_a.wait(2.0)
    assert not woken_b.is_set()
    stop_a()
    assert sockets(wake_directory(db)) == set()


def test_a_hand_back_wakes_the_other_processes(db: Path, open_stores: list[SqliteStore]) -> None:
    a, b = store_on(db, open_stores), store_on(db, open_stores)
    a.enqueue(queued("one"))
    assert [inv.id for inv in a.claim("w1", 200.0, 30.0, [ClaimRequest("fn", 0, 1, 1)])] == ["one"]
    woken = threading.Event()
    stop = b.subscribe(lambda name, lane: woken.set())
    try:
        assert a.hand_back("w1", 201.0, 3) == ["one"]
        assert woken.wait(2.0)
    finally:
        stop()


def test_a_dead_subscribers_socket_is_removed_and_enqueues_go_on(db: Path, open_stores: list[SqliteStore]) -> None:
    sender, live = store_on(db, open_stores), store_on(db, open_stores)
    with running(SUBSCRIBER, str(db), "1") as dead:
        dead.send_signal(signal.SIGKILL)  # no chance to remove its socket
        dead.wait(timeout=10)
    left = sockets(wake_directory(db))
    assert len(left) == 1 and left.pop().startswith(f"{dead.pid}-")
    woken = threading.Event()
    stop = live.subscribe(lambda name, lane: woken.set())
    try:
        sender.enqueue(queued("one"))
        assert woken.wait(2.0), "the live subscriber is woken all the same"
        remaining = sockets(wake_directory(db))
        assert len(remaining) == 1 and not remaining.pop().startswith(f"{dead.pid}-"), "the dead socket is gone"
        assert sender.get_invocation("one") is not None
    finally:
        stop()


def test_a_database_path_too_long_for_a_socket_uses_a_directory_in_the_temp_dir(
    tmp_path: Path, open_stores: list[SqliteStore]
) -> None:
    db = tmp_path / ("d" * 100) / "shared.db"
    directory = wake_directory(db)
    assert directory is not None and directory.parent == Path(tempfile.gettempdir())
    assert directory.name.startswith("lambdahost-wake-")
    a, b = store_on(db, open_stores), store_on(db, open_stores)
    woken = threading.Event()
    stop = b.subscribe(lambda name, lane: woken.set())
    try:
        assert len(sockets(directory)) == 1
        assert (directory.stat().st_mode & 0o777, next(directory.glob("*.sock")).stat().st_mode & 0o777) == (
            0o700,
            0o600,
        )
        a.enqueue(queued("one"))
        assert woken.wait(2.0)
    finally:
        stop()
        directory.rmdir()


def test_without_any_short_enough_directory_subscribing_is_a_no_op(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_stores: list[SqliteStore]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / ("t" * 100)))
    db = tmp_path / ("d" * 100) / "shared.db"
    assert wake_directory(db) is None
    a, b = store_on(db, open_stores), store_on(db, open_stores)
    stop = b.subscribe(lambda name, lane: None)
    a.enqueue(queued("one"))
    stop()
    assert a.get_invocation("one") is not None


def test_the_cost_of_waking_other_processes_per_enqueue(db: Path, open_stores: list[SqliteStore]) -> None:
    """Measured, not asserted: what an enqueue spends telling other processes (one send per subscriber), back to
    back (the subscribers' readers busy) and one at a time (each subscriber asleep when it is woken)."""
    store_on(db, open_stores)  # creates the database
    sender = Wakeups(wake_directory(db))
    report = []
    for subscribers in (0, 1, 4):
        with running(SUBSCRIBER, str(db), str(subscribers)):  # killed at the end
            assert len(sockets(wake_directory(db))) == subscribers
            sender.notify()  # lists the directory
            n = 20_000
            started = time.perf_counter()
            for _ in range(n):
                sender.notify()
            back_to_back = (time.perf_counter() - started) / n
            alone = []
            for _ in range(500):
                time.sleep(0.001)
                started = time.perf_counter()
                sender.notify()
                alone.append(time.perf_counter() - started)
            report.append(
                f"{subscribers} subscriber(s): {back_to_back * 1e6:.1f} us back to back, "
                f"{statistics.median(alone) * 1e6:.1f} us alone (median)"
            )
        time.sleep(RELIST_S * 1.5)
        sender.notify()  # finds the killed process's sockets dead and removes them
    sender.close()
    print("\nwake-up cost per enqueue: " + "; ".join(report))
    assert os.listdir(wake_directory(db) or "") == [], "the dead subscribers' sockets are removed"
