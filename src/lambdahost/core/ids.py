"""Identifiers and clocks. Injected where used (tests pass their own)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

Clock = Callable[[], float]


def new_request_id() -> str:
    return str(uuid.uuid4())


def new_revision_id() -> str:
    return str(uuid.uuid4())


def wall_clock() -> float:
    return time.time()


def format_last_modified(epoch: float) -> str:
    """AWS's FunctionConfiguration.LastModified: ``2020-04-10T19:06:32.563+0000``."""
    secs = int(epoch)
    millis = round((epoch - secs) * 1000)
    if millis == 1000:
        secs, millis = secs + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{millis:03d}+0000"
