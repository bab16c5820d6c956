"""Concurrency admission, as AWS Lambda does it.

The account has ``max_concurrency`` slots. A function with reserved concurrency R may run at most R at once and
those R are set aside for it; every other function shares what is left (``max - sum(reserved)``). A refused
invocation gets AWS's throttle with the matching ``Reason``.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from lambdahost.core.errors import TooManyRequests

RESERVED_LIMIT_EXCEEDED = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT_EXCEEDED = "ConcurrentInvocationLimitExceeded"


class Admission:
    def __init__(self, max_concurrency: int) -> None:
        self.max_concurrency = max_concurrency
        self._lock = threading.Lock()
        self._running: dict[str, int] = defaultdict(int)
        self._reserved: dict[str, int] = {}
        self._unreserved_running = 0

    def set_reserved(self, function_name: str, reserved: int | None) -> None:
        with self._lock:
            if reserved is None:
                self._reserved.pop(function_name, None)
            else:
                self._reserved[function_name] = reserved

    def forget(self, function_name: str) -> None:
        with self._lock:
            self._reserved.pop(function_name, None)

    @property
    def unreserved_capacity(self) -> int:
        return self.max_concurrency - sum(self._reserved.values())

    def acquire(self, function_name: str) -> bool:
        """Take a slot or raise ``TooManyRequests``. Returns the token to give back to ``release``
        (whether the slot came from the shared, unreserved pool)."""
        with self._lock:
            reserved = self._reserved.get(function_name)
            shared = reserved is None
            if not shared:
                if self._running[function_name] >= reserved:  # type: ignore[operator]
                    raise TooManyRequests(RESERVED_LIMIT_EXCEEDED)
            elif self._unreserved_running >= self.max_concurrency - sum(self._reserved.values()):
                raise TooManyRequests(ACCOUNT_LIMIT_EXCEEDED)
            else:
                self._unreserved_running += 1
            self._running[function_name] += 1
            return shared

    def release(self, function_name: str, shared: bool) -> None:
        with self._lock:
            self._running[function_name] -= 1
            if self._running[function_name] <= 0:
                del self._running[function_name]
            if shared:
                self._unreserved_running -= 1

    def in_flight(self) -> dict[str, int]:
        """Slots held right now, per function (a copy)."""
        with self._lock:
            return dict(self._running)

    def running(self, function_name: str | None = None) -> int:
        with self._lock:
            if function_name is None:
                return sum(self._running.values())
            return self._running.get(function_name, 0)
