"""Notices changes to functions made by other processes that share the store.

Each process caches what it needs to invoke a function (``FunctionService.resolve`` and ``target``) and drops it
when a change is made through it. A change made through another server or worker sharing the same PostgreSQL
database (or SQLite file) reaches this process through ``ConfigWatcher``: every ``interval_s`` it has the cached
functions compared with the store, off the invoke path, so such a change applies here within that time (and
this process's environments of the old revision are retired, as for a local change).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from lambdahost.engine.functions import FunctionService

log = logging.getLogger(__name__)


class ConfigWatcher:
    def __init__(
        self, functions: FunctionService, interval_s: float = 1.0, also: Sequence[Callable[[], object]] = ()
    ) -> None:
        self._functions = functions
        self._also = tuple(also)  # more rechecks on the same schedule (``Secrets.refresh``)
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and self._interval > 0:
            self._thread = threading.Thread(target=self._run, name="config-watcher", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._functions.refresh()
                for recheck in self._also:
                    recheck()
            except Exception:  # a passing store error: try again at the next interval
                log.exception("could not compare cached functions with the store", extra={"action": "recheck_failed"})
