"""Helpers for tests that drive an embedded ``Platform``: waiting for an invocation to finish."""

from __future__ import annotations

import time

from lambdahost.core.model import Invocation
from lambdahost.server import Platform


def finished(platform: Platform, request_id: str, timeout: float = 20.0) -> Invocation:
    """The record of ``request_id`` once it is finished (succeeded, failed or terminated); fails the test after
    ``timeout`` seconds, showing the record as it was."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = platform.store.get_invocation(request_id)
        if record is not None and record.status.finished:
            return record
        time.sleep(0.02)
    raise AssertionError(f"{request_id} did not finish: {platform.store.get_invocation(request_id)}")
