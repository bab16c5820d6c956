"""Writes finished synchronous invocations to the store in batches, off the request path.

A synchronous invocation's caller already has its answer; its record is written by this background thread, a
chunk of records per transaction, every ``interval_s``, so the hot path never waits on the database.
``flush()`` blocks until everything submitted so far is stored (used by tests, ``logs`` and shutdown).
``observe`` (the platform's ``Metrics.observe``) sees every record on the same thread, just before it is stored.
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
_ATTEMPTS = 3
# Records are built and stored a chunk at a time, with a short sleep between chunks: building them is Python work
# that holds the GIL, and a thread waiting for the GIL (one whose environment just answered) would otherwise wait
# out the interpreter's switch interval (5 ms) behind a whole batch.
_CHUNK = 32
_GIL_BREATHER_S = 0.0001


class _Flushed:
    """A marker queued by ``flush``: set once everything queued before it is stored."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


class InvocationRecorder:
    def __init__(
        self,
        store: Store,
        interval_s: float = 0.05,
        batch_size: int = 500,
        observe: Callable[[Invocation], None] | None = None,
    ) -> None:
        self._store = store
        self._observe = observe
        self._interval = interval_s
        self._batch_size = batch_size
        # deque.append and popleft are atomic: the request path appends without taking a lock
        self._pending: deque[Invocation | Callable[[], Invocation] | _Flushed] = deque()
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="invocation-recorder", daemon=True)
        self._thread.start()

    def submit(self, invocation: Invocation | Callable[[], Invocation]) -> None:
        """Queue a record, or a function that builds it (called on the writer thread, off the request path)."""
        self._pending.append(invocation)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every invocation submitted before this call is stored."""
        marker = _Flushed()
        self._pending.append(marker)
        self._wake.set()
        return marker.event.wait(timeout)

    def close(self) -> None:
        self.flush()
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=5)

    def _take(self) -> tuple[list[Invocation | Callable[[], Invocation]], list[_Flushed]]:
        items: list[Invocation | Callable[[], Invocation]] = []
        markers: list[_Flushed] = []
        pending = self._pending
        while pending and len(items) < self._batch_size:
            item = pending.popleft()
            if isinstance(item, _Flushed):
                markers.append(item)
                break  # a flush covers what came before it: store that first
            items.append(item)
        return items, markers

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)  # let records gather into one transaction per interval
            self._wake.clear()
            while self._pending:
                items, markers = self._take()
                for start in range(0, len(items), _CHUNK):
                    chunk = items[start : start + _CHUNK]
                    batch = [item() if callable(item) else item for item in chunk]
                    self._count(batch)
                    if not self._store_batch(batch):
                        return
                    if start + _CHUNK < len(items):
                        time.sleep(_GIL_BREATHER_S)
                for marker in markers:
                    marker.event.set()
            if self._stop:
                return

    def _count(self, batch: list[Invocation]) -> None:
        if self._observe is not None:
            try:
                for invocation in batch:
                    self._observe(invocation)
            except Exception:  # metrics never cost a record
                log.exception("could not count invocation records", extra={"action": "metrics_failed"})

    def _store_batch(self, batch: list[Invocation]) -> bool:
        """Store a batch, retrying passing database errors; False when stopping gave up on it. A batch that keeps
        failing is stored record by record, so one bad record cannot hold back the others."""
        for attempt in range(_ATTEMPTS):
            try:
                self._store.insert_invocations(batch)
                return True
            except Exception:
                log.exception("could not store invocation records", extra={"action": "record_failed"})
                if self._stop:
                    return False
                time.sleep(self._interval * 10 * (attempt + 1))
        for invocation in batch:
            try:
                self._store.insert_invocations([invocation])
            except Exception:
                log.exception(
                    "dropping an invocation record the store keeps refusing",
                    extra={"action": "record_dropped", "invocation": invocation.id},
                )
        return True
