"""Where lambdahost's time goes per asynchronous invocation: py-spy samples every lambdahost process (and its
environments) during a throughput run, and each sample is put in one step of the invocation's path.

py-spy runs with ``--gil``: it records only the thread holding the GIL, so a step's samples are the Python time it
holds a process's GIL (time in C with the GIL released, such as SQLite's own work inside ``execute`` or a socket
wait, is not counted; the per-process CPU time read from ``/proc`` next to it includes everything). Idle detection
does not work on this virtual machine (every waiting thread looked busy), hence the GIL view.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.async_peers import lambdahost_side as lh
from bench.async_peers.venv import py_spy

RATE = 250  # samples per second

Rule = tuple[str, Callable[[str], bool]]


def _has(*needles: str) -> Callable[[str], bool]:
    return lambda stack: any(n in stack for n in needles)


# The first rule that matches a sample's whole stack names its step; order matters (most specific first).
RULES: list[Rule] = [
    ("environment process (the runtime: frame, handler, reply)", _has("lambdahost/runtime/bootstrap.py")),
    ("enqueue: store.enqueue (INSERT + COMMIT, Python side)", _has("SqlStore.enqueue (")),
    ("enqueue: waking the local worker (Event.set)", _has("QueueWorker.wake (")),
    ("enqueue: Enqueuer.enqueue before the store (checks, Invocation)", _has("Enqueuer.enqueue (")),
    ("worker: store.claim (claim transaction)", _has("SqlStore.claim (")),
    (
        "worker: store.queue_depth before each claim",
        lambda s: "SqlStore.queue_depth (" in s and "QueueWorker._claim (" in s,
    ),
    ("worker: store.start (ready -> running)", _has("SqlStore.start (")),
    ("worker: store.finish (-> succeeded, record fields)", _has("SqlStore.finish (")),
    ("worker: heartbeat + recover_expired", _has("SqlStore.heartbeat (", "SqlStore.recover_expired (")),
    ("worker: environment round trip (send, wait, read reply and log)", _has("Environment.invoke (")),
    ("worker: pool acquire/release, admission, record fields", _has("QueueWorker._execute (")),
    (
        "worker: hand-off of each claimed invocation to a thread (ThreadPoolExecutor.submit)",
        lambda s: "QueueWorker._claim (" in s and "ThreadPoolExecutor.submit (" in s,
    ),
    ("worker: loop and claim bookkeeping", _has("QueueWorker.")),
    (
        "API reads: queue_depth / get_invocation (the benchmark's polling)",
        _has("SqlStore.queue_depth (", "SqlStore.get_invocation ("),
    ),
    ("API: native routes (JSON shapes)", _has("lambdahost/api/native.py", "lambdahost/api/shapes.py")),
    (
        "HTTP: Invoke endpoint, sending the 202 (socket write)",
        lambda s: "lambdahost/api/invoke.py" in s and "_respond (" in s,
    ),
    (
        "HTTP: Invoke endpoint, thread hop for enqueue (anyio run_in_threadpool)",
        lambda s: "lambdahost/api/invoke.py" in s and "anyio/" in s,
    ),
    ("HTTP: Invoke endpoint, the rest (headers, body)", _has("lambdahost/api/invoke.py")),
    ("HTTP: uvicorn/httptools/Starlette around the endpoints", _has("uvicorn/", "starlette/", "httptools")),
    ("recorder thread (synchronous records)", _has("InvocationRecorder")),
    ("pool monitor thread (memory, deadlines)", _has("EnvironmentPool._monitor_loop")),
    ("config watcher thread", _has("ConfigWatcher")),
    ("PostgreSQL LISTEN thread / psycopg pool", _has("psycopg", "_listen")),
    ("thread pools (concurrent.futures, anyio)", _has("concurrent/futures", "anyio/")),
    ("asyncio / uvloop event loop", _has("asyncio/")),
    ("other", lambda s: True),
]


def classify(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    if not path.exists():
        return counts
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        for label, matches in RULES:
            if matches(stack):
                counts[label] += int(n)
                break
    return counts


def stop_spies(spies: list[subprocess.Popen[bytes]]) -> None:
    """SIGINT makes py-spy write its output and exit."""
    for spy in spies:
        if spy.poll() is None:
            spy.send_signal(signal.SIGINT)
    for spy in spies:
        try:
            spy.wait(60)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


def profile(store: str, topology: lh.Topology, n: int, client: str = "raw HTTP") -> dict[str, Any]:
    """One throughput run of ``n`` invocations with every lambdahost process sampled; us per invocation by step
    and process, the processes' CPU time, and the mean times between the recorded lifecycle steps."""
    spy = str(py_spy())
    with lh.cluster(store, topology) as c:
        lh.throughput(c, "raw HTTP", 100)  # warm environments in every process
        outputs = {name: c.logs / f"profile-{name}.txt" for name in c.pids}
        spies = [
            subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    str(RATE),
                    "--gil",
                    "--subprocesses",
                    "--format",
                    "raw",
                    "--output",
                    str(outputs[name]),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name, pid in c.pids.items()
        ]
        try:
            time.sleep(1.0)  # py-spy attaches
            before = {name: lh.cpu_by_thread(pid) for name, pid in c.pids.items()}
            cpu: dict[str, dict[str, float]] = {}

            def stop() -> None:
                for name, pid in c.pids.items():
                    after = lh.cpu_by_thread(pid)
                    cpu[name] = {k: (v - before[name].get(k, 0.0)) / n * 1e6 for k, v in after.items()}
                stop_spies(spies)

            result, ids = lh.throughput(c, client, n, timed_part_done=stop)
        finally:
            stop_spies(spies)
        steps = lh.step_times(c, ids)
        per_step = {
            name: {label: count / RATE / n * 1e6 for label, count in classify(outputs[name]).most_common()}
            for name in c.pids
        }
    return {
        "store": store,
        "topology": topology.label,
        "client": f"{client}, {lh.ENQUEUE_THREADS} threads",
        "n": n,
        "per_s": result.per_s,
        "enqueue_per_s": result.enqueue_per_s,
        "lost": result.lost,
        "gil_us_per_invocation": per_step,
        "cpu_us_per_invocation": cpu,
        "steps_ms": steps,
        "rate_hz": RATE,
    }
