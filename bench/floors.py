"""The floors: what the machine itself costs for the same work, measured in the same run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bench.stats import Sample, measure, summarize

MESSAGE = b'{"k":"i","id":"00000000-0000-0000-0000-000000000000"}{"a":1}'


def interpreter_start(n: int = 30) -> Sample:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append((time.perf_counter() - started) * 1e3)
    return summarize("Python interpreter start (`python -c pass`)", times, "ms")


def fork_exit_wait(n: int = 200) -> Sample:
    def once() -> None:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)

    return measure("fork + exit + wait of this Python process", once, n, warmup=10, unit="ms")


@contextmanager
def pipe_echo() -> Iterator[Callable[[], None]]:
    """A forked Python process echoing over a pipe pair; yields one round trip of a 60-byte message."""
    to_child_r, to_child_w = os.pipe()
    to_parent_r, to_parent_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(to_child_w)
        os.close(to_parent_r)
        while True:
            data = os.read(to_child_r, 65536)
            if not data:
                os._exit(0)
            os.write(to_parent_w, data)
    os.close(to_child_r)
    os.close(to_parent_w)

    def once() -> None:
        os.write(to_child_w, MESSAGE)
        os.read(to_parent_r, 65536)

    try:
        yield once
    finally:
        os.close(to_child_w)
        os.close(to_parent_r)
        os.waitpid(pid, 0)
