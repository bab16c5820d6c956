"""The floors: what the machine itself costs for the same work, measured in the same run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bench.stats import Sample, measure, summarize


@contextmanager
def placed(caller: set[int] | None, others: dict[int, set[int]]) -> Iterator[None]:
    """Pin this process to ``caller`` CPUs and each pid in ``others`` to its CPUs for the duration (None: leave
    this process alone); everything is free again afterwards."""
    everything = set(range(os.cpu_count() or 1))
    try:
        if caller is not None:
            os.sched_setaffinity(0, caller)
        for pid, cpus in others.items():
            os.sched_setaffinity(pid, cpus)
        yield
    finally:
        os.sched_setaffinity(0, everything)
        for pid in others:
            try:
                os.sched_setaffinity(pid, everything)
            except ProcessLookupError:
                pass


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


class Echo:
    """A forked echo process: ``once()`` is one round trip; ``pid`` lets a benchmark place it on a CPU."""

    def __init__(self, pid: int, once: Callable[[], None]) -> None:
        self.pid = pid
        self.once = once


@contextmanager
def pipe_echo() -> Iterator[Echo]:
    """A forked Python process echoing over a pipe pair; one round trip is a 60-byte message there and back."""
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
        yield Echo(pid, once)
    finally:
        os.close(to_child_w)
        os.close(to_parent_r)
        os.waitpid(pid, 0)
