"""The background writer of synchronous invocation records, against real SQLite and PostgreSQL stores."""

from __future__ import annotations

import logging
import threading

import pytest

from lambdahost.engine.recorder import InvocationRecorder
from lambdahost.storage.base import Store
from tests.integration.records import S, finished


def test_everything_submitted_is_stored_by_flush(store: Store) -> None:
    recorder = InvocationRecorder(store, interval_s=0.05)
    try:

        def submit_many(offset: int) -> None:
            for i in range(300):
                n = offset + i
                if n % 2:
                    recorder.submit(finished(f"inv-{n:05d}", 2000.0 + n))
                else:  # a builder, called on the writer thread
                    recorder.submit(lambda n=n: finished(f"inv-{n:05d}", 2000.0 + n))  # type: ignore[misc]

        threads = [threading.Thread(target=submit_many, args=(k * 1000,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert recorder.flush(10)
        stored = store.list_invocations("fn", S.SUCCEEDED, limit=2000)
        assert len(stored) == 1200
        assert store.get_invocation("inv-03299") is not None
    finally:
        recorder.close()


def test_flush_with_nothing_pending_returns_at_once(store: Store) -> None:
    recorder = InvocationRecorder(store, interval_s=5.0)
    try:
        assert recorder.flush(1.0), "a flush wakes the writer instead of waiting for its interval"
    finally:
        recorder.close()


def test_the_last_record_of_an_id_wins_within_a_batch(store: Store) -> None:
    recorder = InvocationRecorder(store, interval_s=0.05)
    try:
        recorder.submit(finished("same", 10.0, error_message="first"))
        recorder.submit(finished("same", 11.0, error_message="second"))
        assert recorder.flush(10)
    finally:
        recorder.close()
    stored = store.get_invocation("same")
    assert stored is not None and stored.error_message == "second"


def test_a_record_the_store_refuses_does_not_hold_back_the_others(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = InvocationRecorder(store, interval_s=0.01)
    try:
        recorder.submit(finished("good-1", 10.0))
        recorder.submit(finished("bad", 11.0, function_name=None))  # NOT NULL: refused every time
        recorder.submit(finished("good-2", 12.0))
        with caplog.at_level(logging.ERROR, logger="lambdahost.engine.recorder"):
            assert recorder.flush(30)
        recorder.submit(finished("good-3", 13.0))
        assert recorder.flush(10)
    finally:
        recorder.close()
    assert [store.get_invocation(i) is not None for i in ("good-1", "bad", "good-2", "good-3")] == [
        True,
        False,
        True,
        True,
    ]
    dropped = [r for r in caplog.records if getattr(r, "action", None) == "record_dropped"]
    assert [getattr(r, "invocation", None) for r in dropped] == ["bad"]
