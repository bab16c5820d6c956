"""How fast the web UI's pages answer with many stored invocations; written into docs/benchmarks.md (its own
section, between markers):

    .venv/bin/python -m bench.ui_pages [-n 10000] [--requests 100] [--store URL] [--no-write]

An embedded ``Platform`` (a fresh SQLite file, or ``--store`` a PostgreSQL URL of an empty database) with no worker
(nothing runs), ten functions, and ``n`` finished invocation records of one of them (``report``: 90 % succeeded,
7 % failed, 3 % terminated, over the last week, each with a payload, a result and a log) plus 50 of each other
function, stored with ``Store.insert_invocations`` in batches of 1,000. The UI is served over real HTTP (uvicorn,
as ``lambdahost serve`` does) and each page is fetched ``--requests`` times on one keep-alive connection after
a warm-up; the table gives p50 and p95 of the whole request (send to last byte) in milliseconds.

Not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from bench.doc_sections import UI_PAGES
from bench.lambdahost_bench import trivial_zip
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType, Transition
from lambdahost.core.settings import Settings
from lambdahost.server import Platform

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
FUNCTION = "report"
OTHERS = 9
BATCH = 1000
WEEK_S = 7 * 24 * 3600.0
TARGET_MS = 100.0


def records(function: str, n: int, now: float, rng: random.Random) -> Iterator[Invocation]:
    S = InvocationStatus
    for i in range(n):
        created = now - WEEK_S + WEEK_S * i / max(n, 1)
        draw = rng.random()
        status = S.SUCCEEDED if draw < 0.9 else S.FAILED if draw < 0.97 else S.TERMINATED
        duration = rng.lognormvariate(5.5, 0.6)
        steps = (S.CREATED, S.PENDING, S.READY, S.RUNNING)
        transitions = tuple(Transition(step, created + k * 0.001, "bench:1") for k, step in enumerate(steps))
        finished = created + 0.004 + duration / 1000
        yield Invocation(
            id=f"{function}-{i:08d}",
            function_name=function,
            version="$LATEST",
            type=InvocationType.EVENT,
            status=status,
            created_at=created,
            transitions=(*transitions, Transition(status, finished, "bench:1")),
            payload=json.dumps({"test": f"load-{i}", "users": 200, "jtl": f"s3://results/{i}.jtl"}).encode(),
            result=json.dumps({"p95_ms": round(duration, 1), "errors": i % 7}).encode(),
            log=f"START RequestId: {function}-{i:08d}\n" + "processing 120000 samples\n" * 8 + "END\n",
            duration_ms=duration,
            billed_duration_ms=int(duration) + 1,
            init_duration_ms=180.0 if i % 50 == 0 else None,
            max_memory_mb=40 + i % 30,
            memory_mb=512,
            worker="bench:1",
            finished_at=finished,
        )


def fill(p: Platform, n: int) -> float:
    """Create the functions and store the records; returns the seconds the inserts took."""
    code = base64.b64encode(trivial_zip()).decode()
    names = [FUNCTION, *(f"task-{k}" for k in range(OTHERS))]
    for name in names:
        p.functions.create(
            {"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": code}}
        )
    rng = random.Random(7)
    now = time.time()
    started = time.perf_counter()
    for name, count in [(FUNCTION, n), *((other, 50) for other in names[1:])]:
        batch: list[Invocation] = []
        for record in records(name, count, now, rng):
            batch.append(record)
            if len(batch) == BATCH:
                p.store.insert_invocations(batch)
                batch = []
        if batch:
            p.store.insert_invocations(batch)
    return time.perf_counter() - started


@contextmanager
def served(p: Platform) -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(p.asgi_app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def time_page(port: int, path: str, requests: int, warmup: int = 5) -> tuple[float, float, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    size = 0
    for i in range(warmup + requests):
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        if i >= warmup:
            times.append(elapsed)
        size = len(body)
    connection.close()
    return statistics.median(times), statistics.quantiles(times, n=20)[18], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10_000, help="invocations of the timed function")
    parser.add_argument("--requests", type=int, default=100, help="requests per page")
    parser.add_argument("--store", default=None, help="a store URL (default: a fresh SQLite file)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), store_url=args.store, worker_slots=0)
        with Platform(settings) as p:
            insert_s = fill(p, args.n)
            middle = p.store.list_invocations(FUNCTION, None, 1, time.time() - WEEK_S / 2)[0]
            pages = [
                ("Functions list", "/ui/"),
                (f"Function page ({FUNCTION}: history, charts of 100 runs, triggers)", f"/ui/functions/{FUNCTION}"),
                ("Function page, failed only", f"/ui/functions/{FUNCTION}?status=failed"),
                ("Function page, history half-way back", f"/ui/functions/{FUNCTION}?before={middle.created_at!r}"),
                ("Function page, charts of 1,000 runs", f"/ui/functions/{FUNCTION}?runs=1000"),
                ("Invocation page", f"/ui/invocations/{middle.id}"),
                ("Invocation log download", f"/ui/invocations/{middle.id}/log"),
                ("Overview", "/ui/overview"),
            ]
            with served(p) as port:
                rows = [(label, path, *time_page(port, path, args.requests)) for label, path in pages]
            store = settings.resolved_store_url().split(":", 1)[0]

    lines = [
        "## Web UI pages",
        "",
        f"{args.n:,} stored invocations of one function (plus {OTHERS} functions with 50 each) on {store}, "
        f"stored in {insert_s:.1f} s; each page fetched {args.requests} times over real HTTP after a warm-up. "
        f"Target: every page under {TARGET_MS:.0f} ms.",
        "",
        "| Page | p50 | p95 | Size |",
        "|---|---:|---:|---:|",
        *(f"| {label} | {p50:.1f} ms | {p95:.1f} ms | {size / 1024:.0f} KB |" for label, _path, p50, p95, size in rows),
        "",
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}. "
        "Run: `.venv/bin/python -m bench.ui_pages`.",
    ]
    report = "\n".join(lines)
    print(report)
    slow = [label for label, _path, _p50, p95, _size in rows if p95 >= TARGET_MS]
    if slow:
        print(f"over {TARGET_MS:.0f} ms at p95: {', '.join(slow)}")
    if not args.no_write:
        UI_PAGES.write(report, DOC)


if __name__ == "__main__":
    main()
