"""Identifiers and clocks. Injected where used (tests pass their own)."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable

Clock = Callable[[], float]
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_random = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))


def new_request_id() -> str:
    """A random (version 4) UUID string, as AWS request ids are. Drawn from a private generator seeded from the
    OS (and re-seeded in a forked child), not from ``os.urandom`` per call: ids need uniqueness, not secrecy, and
    the invoke path should not pay a system call (which also lets other threads take the GIL) for one."""
    bits = _random.getrandbits(128)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


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
