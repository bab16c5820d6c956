"""How fast the web UI's pages answer with many stored invocations; written into docs/benchmarks.md (its own
section, between markers):

    .venv/bin/python -m bench.ui_pages [-n 10000 [-n 1000000 ...]] [--store sqlite|URL ...] [--backlog 200]
                                       [--requests 100] [--no-write]

For each store (``sqlite``: a fresh SQLite file, the default; or a PostgreSQL URL of an empty database) and each
``-n``: an embedded ``Platform`` with no worker (nothing runs), ten functions, and ``n`` invocation records of one of
them (``report``, two lanes of maximum 4 and 1): asynchronous invocations over the last week that waited in the
queue (80 % in lane 0), 2 % of them retried once; 90 % succeeded, 7 % failed, 3 % terminated, each with a payload, a
result and a log; the newest ``--backlog`` of them still pending (a backlog in both lanes, for the queue-depth
chart). Plus 50 of each other function. Stored with ``Store.insert_invocations`` in batches of 1,000. The UI is
served over real HTTP (uvicorn, as ``lambdahost serve`` does) and each page is fetched ``--requests`` times on one
keep-alive connection after a warm-up; the table gives p50 and p95 of the whole request (send to last byte) in
milliseconds. On PostgreSQL the table is vacuumed and analyzed after the inserts (``VACUUM (ANALYZE)``, what
autovacuum does on a server with its defaults; ``--no-analyze`` leaves the planner without statistics, as a server
with autovacuum off would), and the database is emptied after each size (the functions and their invocations
deleted).

Not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from bench.doc_sections import UI_PAGES
from bench.lambdahost_bench import trivial_zip
from bench.ui_pages_report import report
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType, Transition
from lambdahost.core.settings import Settings
from lambdahost.server import Platform

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
FUNCTION = "report"
LANES = [4, 1]
OTHERS = 9
BATCH = 1000
WEEK_S = 7 * 24 * 3600.0
S = InvocationStatus


def finished_record(function: str, i: int, created: float, rng: random.Random) -> Invocation:
    """An asynchronous invocation that waited in its lane, ran (once, or twice after a failed first attempt) and
    ended."""
    draw = rng.random()
    status = S.SUCCEEDED if draw < 0.9 else S.FAILED if draw < 0.97 else S.TERMINATED
    duration = rng.lognormvariate(5.5, 0.6)
    started = created + rng.expovariate(20.0)  # about 50 ms in the queue
    steps = [(S.CREATED, created), (S.PENDING, created), (S.READY, started), (S.RUNNING, started)]
    attempt = 1
    if rng.random() < 0.02:  # a failed first attempt, retried after a second's backoff
        again = started + duration / 1000 + 1.0
        steps += [(S.PENDING, started + duration / 1000), (S.READY, again), (S.RUNNING, again)]
        started, attempt = again, 2
    finished = started + duration / 1000
    return Invocation(
        id=f"{function}-{i:08d}",
        function_name=function,
        version="$LATEST",
        type=InvocationType.EVENT,
        status=status,
        created_at=created,
        transitions=tuple(Transition(step, at, "bench:1") for step, at in [*steps, (status, finished)]),
        lane=0 if rng.random() < 0.8 else 1,
        attempt=attempt,
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
        available_at=created,
    )


def records(function: str, n: int, now: float, rng: random.Random, backlog: int = 0) -> Iterator[Invocation]:
    for i in range(n):
        created = now - WEEK_S + WEEK_S * i / max(n, 1)
        if i < n - backlog:
            yield finished_record(function, i, created, rng)
            continue
        steps = (Transition(S.CREATED, created, "bench:1"), Transition(S.PENDING, created, "bench:1"))
        payload = json.dumps({"test": f"load-{i}"}).encode()
        yield Invocation(
            id=f"{function}-{i:08d}",
            function_name=function,
            version="$LATEST",
            type=InvocationType.EVENT,
            status=S.PENDING,
            created_at=created,
            transitions=steps,
            lane=i % 2,
            payload=payload,
            available_at=created,
        )


def fill(p: Platform, n: int, backlog: int) -> tuple[list[str], float]:
    """Create the functions and store the records; returns the functions' names and the seconds the inserts
    took."""
    code = base64.b64encode(trivial_zip()).decode()
    names = [FUNCTION, *(f"task-{k}" for k in range(OTHERS))]
    for name in names:
        p.functions.create(
            {"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": code}}
        )
    p.functions.set_lanes(FUNCTION, LANES)
    rng = random.Random(7)
    now = time.time()
    started = time.perf_counter()
    for name, count, waiting in [(FUNCTION, n, backlog), *((other, 50, 0) for other in names[1:])]:
        batch: list[Invocation] = []
        for record in records(name, count, now, rng, waiting):
            batch.append(record)
            if len(batch) == BATCH:
                p.store.insert_invocations(batch)
                batch = []
        if batch:
            p.store.insert_invocations(batch)
    return names, time.perf_counter() - started


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
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
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


@dataclass(frozen=True)
class Run:
    """One configuration's measurements: (label, p50 ms, p95 ms, bytes) per page."""

    store: str
    n: int
    insert_s: float
    pages: list[tuple[str, float, float, int]]


def pages(p: Platform, n: int) -> list[tuple[str, str]]:
    """The pages timed: label and path. "Deep" is the page of history 90 % of the way back (the week's first day)."""
    back = p.store.list_invocations(FUNCTION, None, 1, time.time() - WEEK_S / 2)[0]
    deep = p.store.list_invocations(FUNCTION, None, 1, time.time() - WEEK_S * 0.9)[0]
    f = f"/ui/functions/{FUNCTION}"
    return [
        ("Functions list", "/ui/"),
        (f"Function page ({FUNCTION}: history, charts of 100 runs with the queue chart, triggers)", f),
        ("Function page, charts of 1,000 runs (queue chart over their window)", f"{f}?runs=1000"),
        ("History half-way back (`before` cursor)", f"{f}?before={back.created_at!r}"),
        ("History 90 % back (`before` cursor)", f"{f}?before={deep.created_at!r}"),
        ("History filtered: failed (7 %)", f"{f}?status=failed"),
        ("History filtered: terminated (3 %), 90 % back", f"{f}?status=terminated&before={deep.created_at!r}"),
        ("History filtered: pending (the backlog)", f"{f}?status=pending"),
        ("History filtered: a status it never had (orphaned)", f"{f}?status=orphaned"),
        ("Invocation page", f"/ui/invocations/{back.id}"),
        ("Invocation log download", f"/ui/invocations/{back.id}/log"),
        ("Overview", "/ui/overview"),
    ]


def vacuum_analyze(store_url: str) -> None:
    """PostgreSQL: what autovacuum does after a large insert (statistics for the planner, the visibility map for
    index-only scans). Straight through the driver: the platform leaves this to the server."""
    import psycopg

    with psycopg.connect(store_url, autocommit=True) as pg:
        pg.execute("VACUUM (ANALYZE) invocations")


def measure(store_url: str | None, n: int, backlog: int, requests: int, analyze: bool = True) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), store_url=store_url, worker_slots=0)
        with Platform(settings) as p:
            names, insert_s = fill(p, n, backlog)
            if store_url is not None and analyze:
                vacuum_analyze(store_url)
            try:
                with served(p) as port:
                    timed = [(label, *time_page(port, path, requests)) for label, path in pages(p, n)]
            finally:
                if store_url is not None:  # a PostgreSQL database: emptied for the next size
                    for name in names:
                        p.store.delete_invocations_of(name)
                        p.functions.delete(name)
            kind = "PostgreSQL" if settings.resolved_store_url().startswith("postgres") else "SQLite"
    return Run(kind, n, insert_s, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, action="append", help="invocations of the timed function (repeatable)")
    parser.add_argument(
        "--store", action="append", help="sqlite (a fresh file; the default) or a PostgreSQL URL of an empty database"
    )
    parser.add_argument("--backlog", type=int, default=200, help="of those, still pending at the end (the queue)")
    parser.add_argument("--requests", type=int, default=100, help="requests per page")
    parser.add_argument("--no-analyze", action="store_true", help="PostgreSQL: no VACUUM (ANALYZE) after the inserts")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()

    runs = []
    for store in args.store or ["sqlite"]:
        for n in args.n or [10_000]:
            url = None if store == "sqlite" else store
            run = measure(url, n, min(args.backlog, n), args.requests, analyze=not args.no_analyze)
            print(f"{run.store} {n:,}: stored in {run.insert_s:.1f} s", flush=True)
            for label, p50, p95, _size in run.pages:
                print(f"  {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)
            runs.append(run)
    text = report(runs, args.backlog, args.requests, OTHERS, analyzed=not args.no_analyze)
    print(text)
    if not args.no_write:
        UI_PAGES.write(text, DOC)


if __name__ == "__main__":
    main()
