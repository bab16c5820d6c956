"""Throughput of a queue event source mapping, on SQLite and PostgreSQL, beside its floors; written into
docs/benchmarks.md (its own section, between markers):

    .venv/bin/python -m bench.queue_mapping [--quick] [--no-write] [-n 10000] [--pg-url URL] [--backend ...]

For each store: an embedded ``Platform`` (a fresh SQLite file, or a PostgreSQL database created for the run and
dropped after it) with a no-op function (``return None``) and a standard queue holding ``n`` messages sent before
the mapping exists. Then, each on the same pre-sent backlog:

- *mapping*: ``CreateEventSourceMapping`` with BatchSize 10 (window 0, default concurrency: up to 5 batches at
  once on the node), timed from the create until the queue's exact counts are zero; every batch is received, turned
  into the SQS event, invoked synchronously through the ``Invoker`` (a recorded invocation each) and deleted in one
  transaction, as the poller does;
- *floor: receive + delete*: the same receive-then-delete loop with no function, on as many threads as the mapping's
  consumers (5), through the same ``MessageQueues`` calls: what the queue costs without invoking anything;
- *floor: sync invoke*: the p50 of one warm synchronous invoke of the no-op function with a 10-record SQS event
  (the same ``Invoker.invoke``), as a rate per second of one thread.

Not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.doc_sections import QUEUE_MAPPING
from bench.lambdahost_bench import trivial_zip
from lambdahost.core.event_source_mappings import SourceKind
from lambdahost.core.queue_events import sqs_record
from lambdahost.core.settings import Settings
from lambdahost.engine.message_queues import SendEntry
from lambdahost.server import Platform
from lambdahost.triggers.queue_poller import PollerOptions

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NOOP = "def handler(event, context):\n    return None\n"
BODY = json.dumps({"order": 12345, "customer": "c-42", "items": 3, "total": "42.50"})
FUNCTION = "noop"
CONSUMERS = PollerOptions().default_concurrency


@dataclass(frozen=True)
class Result:
    store: str
    messages: int
    mapping_s: float
    invocations: int
    floor_queue_s: float
    invoke_p50_ms: float


@contextmanager
def platform_on(store: str, pg_url: str) -> Iterator[Platform]:
    with tempfile.TemporaryDirectory(prefix="lh-qm-bench-") as tmp:
        if store == "sqlite":
            with Platform(Settings(data_dir=Path(tmp))) as running:
                yield running
            return
        name = f"lh_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = urlunsplit(urlsplit(pg_url)._replace(path=f"/{name}"))
            with Platform(Settings(data_dir=Path(tmp), store_url=url)) as running:
                yield running
        finally:
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(running: Platform, queue: str, n: int) -> None:
    for start in range(0, n, 10):
        running.message_queues.send_batch(queue, [SendEntry(BODY) for _ in range(min(10, n - start))])


def drained(running: Platform, queue: str) -> bool:
    counts = running.message_queues.counts(queue)
    return counts.visible == 0 and counts.in_flight == 0 and counts.delayed == 0


def run_mapping(running: Platform, n: int) -> tuple[float, int]:
    """Seconds from CreateEventSourceMapping until the backlog of ``n`` is gone; the invocations it took."""
    queue = f"mapped-{uuid.uuid4().hex[:8]}"
    running.message_queues.create(queue, {}, {})
    fill(running, queue, n)
    before = invocations(running)
    started = time.perf_counter()
    mapping = running.event_source_mappings.create(
        {"FunctionName": FUNCTION, "EventSourceArn": running.message_queues.arn(queue), "BatchSize": 10}
    )
    while not drained(running, queue):  # an exact count of the backlog: not too often, it costs CPU too
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    running.event_source_mappings.delete(mapping.uuid)
    running.recorder.flush()
    return elapsed, invocations(running) - before


def invocations(running: Platform) -> int:
    total = 0
    marker: float | None = None
    while True:
        page = running.store.list_invocations(function_name=FUNCTION, limit=1000, before=marker)
        total += len(page)
        if len(page) < 1000:
            return total
        marker = page[-1].created_at


def run_floor_queue(running: Platform, n: int) -> float:
    """Seconds for ``CONSUMERS`` threads to receive and delete a backlog of ``n``, 10 at a time, no function."""
    queue = f"floor-{uuid.uuid4().hex[:8]}"
    running.message_queues.create(queue, {}, {})
    fill(running, queue, n)
    queues = running.message_queues

    def consume() -> None:
        while True:
            got = queues.receive(queue, 10, wait_s=0)
            if not got:
                return
            found = queues.get(queue)  # once per batch, as the poller does
            queues.delete_messages(found, [queues.receipt_handle(message) for message in got])  # one transaction

    threads = [threading.Thread(target=consume) for _ in range(CONSUMERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if not drained(running, queue):
        raise RuntimeError("the floor's consumers left messages behind")
    return elapsed


def invoke_p50_ms(running: Platform, calls: int) -> float:
    queue = f"shape-{uuid.uuid4().hex[:8]}"
    running.message_queues.create(queue, {}, {})
    fill(running, queue, 10)
    got = running.message_queues.receive(queue, 10)
    arn = running.message_queues.arn(queue)
    records = [sqs_record(m, running.message_queues.receipt_handle(m), arn, "us-east-1", "0", False) for m in got]
    payload = json.dumps({"Records": records}).encode()
    invoke = running.invoker.invoke
    for _ in range(50):
        invoke(FUNCTION, payload)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        invoke(FUNCTION, payload)
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def bench_store(store: str, n: int, pg_url: str) -> Result:
    with platform_on(store, pg_url) as running:
        running.functions.create(
            {
                "FunctionName": FUNCTION,
                "Runtime": "python3.11",
                "Handler": "app.handler",
                "Code": {"ZipFile": base64.b64encode(trivial_zip(NOOP)).decode()},
            }
        )
        assert SourceKind.QUEUE in running.event_source_mappings.source_exists
        invoke_ms = invoke_p50_ms(running, max(200, n // 10))
        floor_s = run_floor_queue(running, n)
        mapping_s, count = run_mapping(running, n)
        return Result(store, n, mapping_s, count, floor_s, invoke_ms)


def section(results: list[Result], quick: bool) -> str:
    header = [
        "store",
        "messages",
        "mapping (BatchSize 10)",
        "invocations",
        "floor: receive + delete, 5 threads",
        "floor: sync invoke, 1 thread",
        "mapping / queue floor",
    ]
    rows = []
    for r in results:
        rows.append(
            [
                r.store,
                f"{r.messages:,}",
                f"**{r.messages / r.mapping_s:,.0f} msg/s** ({r.mapping_s:.2f} s)",
                f"{r.invocations:,}",
                f"{r.messages / r.floor_queue_s:,.0f} msg/s ({r.floor_queue_s:.2f} s)",
                f"{1000 / r.invoke_p50_ms:,.0f} invokes/s (p50 {r.invoke_p50_ms:.2f} ms)",
                f"{(r.messages / r.mapping_s) / (r.messages / r.floor_queue_s):.2f}x",
            ]
        )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return "\n\n".join(
        [
            "## Queue event source mapping throughput",
            f"Written by `python -m bench.queue_mapping`{' --quick' if quick else ''}; machine: {platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}; run {when}. A no-op function fed from a "
            "standard queue whose backlog was sent before the mapping was created; the mapping's figure runs from "
            "CreateEventSourceMapping until the queue's exact counts are zero (receive, SQS event, synchronous "
            "invoke with its recorded invocation, delete of the batch). The floors run on the same platform and "
            "store: the same receive and delete calls with no function on as many threads as the mapping's "
            "default concurrency (5), and one warm synchronous invoke with a 10-record SQS event.",
            "\n".join(lines),
            "Per batch of 10 the mapping costs two write transactions (the receive, which leases the 10 messages in "
            "one statement, and the delete of the batch, one compare-and-set per message on its receipt token), two "
            "reads of the queue's attributes, the synchronous invoke (about a tenth of a millisecond for the no-op "
            "function) and its invocation record, written in the background a chunk at a time. On SQLite the "
            "writers of one process take turns (one write lock), so the invocation records and the ramp from one "
            "consumer to five are most of the distance to the receive-and-delete floor. The first version of the "
            "poller, measured on this machine the same day, did 2,869 msg/s on SQLite and 979 msg/s on PostgreSQL: "
            "it used 13 transactions per batch (one per deleted message) and a statement per leased message, and "
            "each SQLite receive read and sorted the queue's whole backlog (the retention condition chose the "
            "`sent_at` index; `tests/integration/test_query_plans.py` now checks that a receive walks "
            "`messages_queue_sequence` and stops at its LIMIT).",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 messages (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing the doc")
    parser.add_argument("-n", type=int, default=10_000, help="messages in the backlog")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="an admin URL (creates and drops a database)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append", help="default: both")
    args = parser.parse_args()
    n = 1000 if args.quick else args.n
    results = []
    for store in args.backend or ["sqlite", "postgresql"]:
        result = bench_store(store, n, args.pg_url)
        print(
            f"{store}: mapping {n / result.mapping_s:,.0f} msg/s, floor {n / result.floor_queue_s:,.0f} msg/s, "
            f"invoke p50 {result.invoke_p50_ms:.2f} ms, {result.invocations} invocations",
            flush=True,
        )
        results.append(result)
    text = section(results, args.quick)
    print(text)
    if not args.no_write:
        QUEUE_MAPPING.write(text, DOC)
        print(f"written to {DOC}")


if __name__ == "__main__":
    main()
