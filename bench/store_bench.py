"""Write cost of invocation records in the store, on SQLite and PostgreSQL: ``insert_invocations`` (the recorder's
batches of finished synchronous invocations) and ``record_transition`` (the lifecycle steps of the asynchronous
path).

    .venv/bin/python -m bench.store_bench [--records 20000] [--transitions 20000] [--pg-url URL] [--backend ...]

Each backend gets a fresh, migrated store (a SQLite file in a temporary directory; a PostgreSQL database created
for the run and dropped after it). Every figure is the wall time of the whole run divided by its count, so it
includes building the parameters, the SQL and the commits. To compare two versions of the storage code, run this
module with ``PYTHONPATH`` pointing at the other version's ``src`` (the table says which ``lambdahost`` it used).
Not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

import lambdahost
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType, Transition
from lambdahost.storage.base import Store, open_store

S = InvocationStatus
BATCH = 32  # the recorder's chunk
FUNCTIONS = [f"orders-{n}" for n in range(8)]
WORKER = "host-1:4242"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _log(inv_id: str, n: int) -> str:
    """About 300 bytes, as a small handler writes: START, two lines of its own, END, REPORT."""
    return (
        f"START RequestId: {inv_id} Version: $LATEST\n"
        f"processing order {n} for customer c-{n % 997}\n"
        f"order {n}: 3 items, total 42.50 EUR\n"
        f"END RequestId: {inv_id}\n"
        f"REPORT RequestId: {inv_id}\tDuration: 1.27 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 41 MB\n"
    )


def sync_record(n: int, t0: float) -> Invocation:
    """A finished synchronous invocation as the invoker records it: five transitions, log, small bodies."""
    inv_id = str(uuid.uuid4())
    at = t0 + n * 0.001
    return Invocation(
        id=inv_id,
        function_name=FUNCTIONS[n % len(FUNCTIONS)],
        version="$LATEST",
        type=InvocationType.SYNC,
        status=S.SUCCEEDED,
        created_at=at,
        transitions=(
            Transition(S.CREATED, at),
            Transition(S.PENDING, at + 0.000021),
            Transition(S.READY, at + 0.000043, WORKER),
            Transition(S.RUNNING, at + 0.000061, WORKER),
            Transition(S.SUCCEEDED, at + 0.001331, WORKER),
        ),
        payload=b'{"order_id": %d, "customer": "c-%d", "items": 3}' % (n, n % 997),
        result=b'{"statusCode": 200, "body": "ok"}',
        log=_log(inv_id, n),
        duration_ms=1.27,
        billed_duration_ms=2,
        init_duration_ms=None,
        max_memory_mb=41,
        memory_mb=128,
        worker=WORKER,
        finished_at=at + 0.001331,
    )


def created_record(n: int, t0: float) -> Invocation:
    """A new asynchronous invocation, before any worker touched it."""
    at = t0 + n * 0.001
    return Invocation(
        id=str(uuid.uuid4()),
        function_name=FUNCTIONS[n % len(FUNCTIONS)],
        version="$LATEST",
        type=InvocationType.EVENT,
        status=S.CREATED,
        created_at=at,
        transitions=(Transition(S.CREATED, at),),
        payload=b'{"order_id": %d}' % n,
    )


def _insert_in_batches(store: Store, records: list[Invocation]) -> None:
    for start in range(0, len(records), BATCH):
        store.insert_invocations(records[start : start + BATCH])


def bench_insert(store: Store, count: int) -> float:
    """Seconds to store ``count`` finished sync records in batches of ``BATCH``."""
    records = [sync_record(n, 1_700_000_000.0) for n in range(count)]
    started = time.perf_counter()
    _insert_in_batches(store, records)
    return time.perf_counter() - started


def bench_transitions(store: Store, count: int, *, compare_and_set: bool) -> float:
    """Seconds for ``count`` ``record_transition`` calls: created invocations walked through pending, ready,
    running and succeeded (with its result fields), one invocation after the other. With ``compare_and_set`` each
    call names the status it expects; without, the store reads the current status first."""
    steps = (S.PENDING, S.READY, S.RUNNING, S.SUCCEEDED)
    records = [created_record(n, 1_800_000_000.0) for n in range(-(-count // len(steps)))]
    _insert_in_batches(store, records)
    calls = 0
    started = time.perf_counter()
    for n, record in enumerate(records):
        previous = S.CREATED
        for step in steps:
            if calls == count:
                break
            at = record.created_at + 0.00002 * (calls % 4 + 1)
            changes = None
            if step is S.SUCCEEDED:
                changes = sync_record(n, record.created_at).replace(id=record.id, type=InvocationType.EVENT)
            worker = None if step is S.PENDING else WORKER
            stored = store.record_transition(
                record.id,
                Transition(step, at, worker),
                expected=previous if compare_and_set else None,
                changes=changes,
            )
            if not stored:
                raise RuntimeError(f"transition {previous} -> {step} of {record.id} was refused")
            previous = step
            calls += 1
    return time.perf_counter() - started


@contextmanager
def sqlite_store() -> Iterator[Store]:
    with tempfile.TemporaryDirectory(prefix="lh-store-bench-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            store.migrate()
            yield store
        finally:
            store.close()


@contextmanager
def postgres_store(admin_url: str) -> Iterator[Store]:
    name = f"lh_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        store = open_store(urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}")))
        try:
            store.migrate()
            yield store
        finally:
            store.close()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _server_version(admin_url: str) -> str:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000, help="records for insert_invocations")
    parser.add_argument("--transitions", type=int, default=20_000, help="record_transition calls per variant")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (fresh store each); median shown")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="an admin URL (creates and drops a database)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append", help="default: both")
    args = parser.parse_args()
    backends: dict[str, Callable[[], AbstractContextManager[Store]]] = {
        "sqlite": sqlite_store,
        "postgresql": lambda: postgres_store(args.pg_url),
    }
    chosen = args.backend or list(backends)
    cases: list[tuple[str, int, Callable[[Store], float]]] = [
        ("insert_invocations (batches of 32)", args.records, lambda s: bench_insert(s, args.records)),
        (
            "record_transition (expected=...)",
            args.transitions,
            lambda s: bench_transitions(s, args.transitions, compare_and_set=True),
        ),
        (
            "record_transition (expected=None)",
            args.transitions,
            lambda s: bench_transitions(s, args.transitions, compare_and_set=False),
        ),
    ]
    print(f"lambdahost from {Path(lambdahost.__file__).parent}")
    versions = {"sqlite": f"SQLite {sqlite3.sqlite_version}"}
    if "postgresql" in chosen:
        versions["postgresql"] = f"PostgreSQL {_server_version(args.pg_url)}"
    print(f"{', '.join(versions[b] for b in chosen)}; median of {args.repeat} runs, a fresh store each\n")
    print("| backend | operation | count | us per op (median) | runs (us per op) |")
    print("|---|---|---|---|---|")
    for backend in chosen:
        for label, count, run in cases:
            per_op: list[float] = []
            for _ in range(args.repeat):
                with backends[backend]() as store:
                    per_op.append(run(store) / count * 1e6)
            runs = ", ".join(f"{x:.1f}" for x in per_op)
            print(f"| {backend} | {label} | {count} | {statistics.median(per_op):.1f} | {runs} |", flush=True)


if __name__ == "__main__":
    main()
