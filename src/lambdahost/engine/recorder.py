"""Writes finished synchronous invocations to the store in batches, off the request path.

A synchronous invocation's caller already has its answer; its record is written by this background thread in
one transaction per batch (every ``interval_s`` or ``batch_size`` records), so the hot path never waits on the
database. ``flush()`` blocks until everything submitted so far is stored (used by tests, ``logs`` and shutdown).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from lambdahost.core.model import Invocation
from lambdahost.storage.base import Store

log = logging.getLogger(__name__)


class InvocationRecorder:
    def __init__(self, store: Store, interval_s: float = 0.05, batch_size: int = 500) -> None:
        self._store = store
        self._interval = interval_s
        self._batch_size = batch_size
        self._pending: deque[Invocation | Callable[[], Invocation]] = deque()
        self._cond = threading.Condition()
        self._submitted = 0
        self._written = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="invocation-recorder", daemon=True)
        self._thread.start()

    def submit(self, invocation: Invocation | Callable[[], Invocation]) -> None:
        """Queue a record, or a function that builds it (called on the writer thread, off the request path)."""
        with self._cond:
            self._pending.append(invocation)
            self._submitted += 1
            if len(self._pending) >= self._batch_size:
                self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every invocation submitted before this call is stored."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._submitted
            self._cond.notify_all()
            while self._written < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending and not self._stop:
                    self._cond.wait(self._interval)
                if not self._pending:
                    if self._stop:
                        return
                    continue
                items = [self._pending.popleft() for _ in range(min(len(self._pending), self._batch_size))]
            batch = [item() if callable(item) else item for item in items]
            try:
                self._store.insert_invocations(batch)
            except Exception:  # keep the records and retry: a passing database error must not lose them
                log.exception("could not store invocation records", extra={"action": "record_failed"})
                with self._cond:
                    self._pending.extendleft(reversed(batch))
                    if self._stop:
                        return
                time.sleep(self._interval * 10)
                continue
            with self._cond:
                self._written += len(batch)
                self._cond.notify_all()
