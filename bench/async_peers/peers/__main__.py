"""Measure one peer (run in the bench virtual environment, from the repository root):

    .bench-venv/bin/python -m bench.async_peers.peers celery|dramatiq|huey|procrastinate|floors [-n N] [--latency-n N]

Starts the peer's worker processes, measures latency then throughput, stops the workers, and prints one
``BENCH-RESULT`` line of JSON rows (see ``bench.async_peers.common.Row``) for the orchestrator.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.async_peers.common import Latency, Row, Throughput, emit, latency_run, wait_until

WORKERS = 2  # worker processes, for every peer
CHUNK = 1000
START_TIMEOUT_S = 90.0
RUN_TIMEOUT_S = 600.0


def version(*packages: str) -> str:
    return ", ".join(f"{p} {importlib.metadata.version(p)}" for p in packages)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def workers(commands: list[list[str]], logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start each command (a worker process or a framework's worker supervisor) with its output in ``logs``;
    SIGTERM them all at the end (each framework's graceful stop), SIGKILL what is left after 20 s."""
    procs: list[subprocess.Popen[bytes]] = []
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    try:
        for i, command in enumerate(commands):
            out = open(logs / f"worker-{i}.log", "wb")  # noqa: SIM115 (closed with the process)
            procs.append(
                subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            )
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class Peer:
    """What the driver needs of a framework. Handles are whatever its client API returns for one task."""

    name = ""
    table = ""
    setup = ""
    client = "one thread, the framework's per-task call"

    def reset(self) -> None: ...
    def worker_commands(self) -> list[list[str]]:
        raise NotImplementedError

    def enqueue(self) -> Any:
        raise NotImplementedError

    def bulk_enqueue(self, n: int) -> list[Any] | None:
        return None

    def visible(self, handle: Any) -> bool:
        raise NotImplementedError

    def recorded(self, handles: Sequence[Any]) -> list[bool]:
        """For each handle, whether its result is recorded (batched reads)."""
        return [self.visible(h) for h in handles]

    def duplicates(self, handles: Sequence[Any]) -> int | None:
        return None

    def versions(self) -> str:
        raise NotImplementedError


# -- Celery ----------------------------------------------------------------------------------------------------
class CeleryPeer(Peer):
    name = "Celery"
    table = "both"
    setup = "1 `celery worker`, prefork pool, `--concurrency 2` (2 worker processes), defaults otherwise"
    client = "one thread, `noop.delay()`"

    def __init__(self) -> None:
        from bench.async_peers.peers.celery_app import app, noop

        self.app, self.task = app, noop
        self.backend: Any = app.backend

    def reset(self) -> None:
        self.backend.client.flushdb()

    def worker_commands(self) -> list[list[str]]:
        celery = str(Path(sys.executable).parent / "celery")
        app = "bench.async_peers.peers.celery_app"
        return [
            [celery, "-A", app, "worker", "--pool", "prefork", "--concurrency", str(WORKERS), "--loglevel", "WARNING"]
        ]

    def enqueue(self) -> Any:
        return self.task.delay()

    def visible(self, handle: Any) -> bool:
        return bool(handle.state == "SUCCESS")

    def recorded(self, handles: Sequence[Any]) -> list[bool]:
        import json

        out: list[bool] = []
        for part in chunks(handles):
            values = self.backend.client.mget([self.backend.get_key_for_task(h.id) for h in part])
            out += [v is not None and json.loads(v)["status"] == "SUCCESS" for v in values]
        return out

    def versions(self) -> str:
        return version("celery", "kombu", "redis")


# -- Dramatiq --------------------------------------------------------------------------------------------------
class DramatiqPeer(Peer):
    name = "Dramatiq"
    table = "both"
    setup = "`dramatiq --processes 2 --threads 8` (its defaults on 2 CPUs), Results middleware (Redis)"
    client = "one thread, `noop.send()`"

    def __init__(self) -> None:
        from bench.async_peers.peers.dramatiq_app import backend, broker, noop

        self.backend, self.broker, self.actor = backend, broker, noop

    def reset(self) -> None:
        self.broker.client.flushdb()

    def worker_commands(self) -> list[list[str]]:
        dramatiq = str(Path(sys.executable).parent / "dramatiq")
        return [[dramatiq, "bench.async_peers.peers.dramatiq_app", "--processes", str(WORKERS), "--threads", "8"]]

    def enqueue(self) -> Any:
        return self.actor.send()

    def visible(self, handle: Any) -> bool:
        from dramatiq.results import ResultMissing

        try:
            self.backend.get_result(handle, block=False)
        except ResultMissing:
            return False
        return True

    def recorded(self, handles: Sequence[Any]) -> list[bool]:
        out: list[bool] = []
        for part in chunks(handles):
            pipe = self.backend.client.pipeline(transaction=False)
            for h in part:
                pipe.exists(self.backend.build_message_key(h))
            out += [bool(x) for x in pipe.execute()]
        return out

    def versions(self) -> str:
        return version("dramatiq", "redis")


# -- Huey ------------------------------------------------------------------------------------------------------
class HueyPeer(Peer):
    name = "Huey"
    table = "SQLite"
    setup = "`huey_consumer -k process -w 2` (2 worker processes), `SqliteHuey(store_none=True)`, defaults otherwise"
    client = "one thread, `noop()`"

    def __init__(self) -> None:
        for leftover in Path("/tmp/lambdahost-bench-huey").glob("huey.db*"):  # a fresh database each run
            leftover.unlink()
        from bench.async_peers.peers import huey_app

        self.huey, self.task = huey_app.huey, huey_app.noop

    def worker_commands(self) -> list[list[str]]:
        consumer = str(Path(sys.executable).parent / "huey_consumer")
        return [[consumer, "bench.async_peers.peers.huey_app.huey", "-k", "process", "-w", str(WORKERS), "-q"]]

    def enqueue(self) -> Any:
        return self.task()

    def visible(self, handle: Any) -> bool:
        from huey.constants import EmptyData

        return self.huey.storage.peek_data(handle.id) is not EmptyData

    def versions(self) -> str:
        import sqlite3

        return f"{version('huey')}, SQLite {sqlite3.sqlite_version}"


# -- procrastinate ---------------------------------------------------------------------------------------------
class ProcrastinatePeer(Peer):
    name = "procrastinate"
    table = "PostgreSQL"
    setup = "2 `procrastinate worker` processes, `--concurrency 1` (its default), LISTEN/NOTIFY (default)"
    client = "one thread, `noop.defer()` (sync API)"
    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    db = "bench_procrastinate"

    def __init__(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {self.db}")
        from bench.async_peers.peers.procrastinate_app import DB_URL, app, noop

        self.app, self.task = app, noop
        self.app.open()
        self.app.schema_manager.apply_schema()
        self.conn = psycopg.connect(DB_URL, autocommit=True)

    def worker_commands(self) -> list[list[str]]:
        cli = str(Path(sys.executable).parent / "procrastinate")
        app = "--app=bench.async_peers.peers.procrastinate_app.app"
        return [[cli, app, "worker", "--concurrency", "1"] for _ in range(WORKERS)]

    def enqueue(self) -> Any:
        return self.task.defer()

    def bulk_enqueue(self, n: int) -> list[Any] | None:
        ids: list[Any] = []
        for start in range(0, n, CHUNK):
            ids += self.task.batch_defer(*({} for _ in range(min(CHUNK, n - start))))
        return ids

    def visible(self, handle: Any) -> bool:
        from procrastinate.jobs import Status

        return bool(self.app.job_manager.get_job_status(handle) == Status.SUCCEEDED)

    def recorded(self, handles: Sequence[Any]) -> list[bool]:
        rows = self.conn.execute(
            "SELECT id FROM procrastinate_jobs WHERE id = ANY(%s) AND status = 'succeeded'", (list(handles),)
        ).fetchall()
        done = {r[0] for r in rows}
        return [h in done for h in handles]

    def duplicates(self, handles: Sequence[Any]) -> int | None:
        row = self.conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(%s) AND attempts > 1", (list(handles),)
        ).fetchone()
        return int(row[0]) if row else 0

    def versions(self) -> str:
        row = self.conn.execute("SHOW server_version").fetchone()
        return f"{version('procrastinate', 'psycopg')}, PostgreSQL {row[0] if row else '?'}"


PEERS: dict[str, type[Peer]] = {
    "celery": CeleryPeer,
    "dramatiq": DramatiqPeer,
    "huey": HueyPeer,
    "procrastinate": ProcrastinatePeer,
}


# -- the measurements --------------------------------------------------------------------------------------------
def throughput(peer: Peer, n: int, bulk: bool = False) -> Throughput:
    """Enqueue ``n`` tasks from this thread, then ask every ``DONE_POLL_S`` which are recorded until all are."""
    started = time.perf_counter()
    handles = peer.bulk_enqueue(n) if bulk else [peer.enqueue() for _ in range(n)]
    assert handles is not None
    enqueued = time.perf_counter()
    remaining = list(handles)

    def all_recorded() -> bool:
        nonlocal remaining
        remaining = [h for h, done in zip(remaining, peer.recorded(remaining), strict=True) if not done]
        return not remaining

    finished = wait_until(all_recorded, RUN_TIMEOUT_S)
    ended = finished if finished is not None else time.perf_counter()
    lost = sum(1 for done in peer.recorded(handles) if not done)
    return Throughput(
        n=n,
        enqueue_s=enqueued - started,
        total_s=ended - started,
        recorded=n - lost,
        lost=lost,
        duplicates=peer.duplicates(handles),
        note="" if finished is not None else f"timed out after {RUN_TIMEOUT_S:.0f} s",
    )


def measure(peer: Peer, n: int, latency_n: int, warmup: int) -> Row:
    with tempfile.TemporaryDirectory(prefix=f"bench-{peer.name.lower()}-") as tmp:
        peer.reset()
        with workers(peer.worker_commands(), Path(tmp)):
            first = peer.enqueue()
            if wait_until(lambda: peer.visible(first), START_TIMEOUT_S, 0.01) is None:
                logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in Path(tmp).glob("*.log"))
                raise RuntimeError(f"{peer.name}: the workers ran nothing within {START_TIMEOUT_S} s\n{logs}")
            latency_run(peer.enqueue, peer.visible, warmup)
            latency: Latency = latency_run(peer.enqueue, peer.visible, latency_n)
            print(f"{peer.name}: latency p50 {latency.p50_ms:.2f} ms p99 {latency.p99_ms:.2f} ms", file=sys.stderr)
            result = throughput(peer, n)
            print(f"{peer.name}: {result.per_s:.0f}/s, lost {result.lost}", file=sys.stderr)
            bulk = None
            if type(peer).bulk_enqueue is not Peer.bulk_enqueue:
                bulk = throughput(peer, n, bulk=True)
                print(f"{peer.name} (bulk): {bulk.per_s:.0f}/s, lost {bulk.lost}", file=sys.stderr)
    return Row(
        system=peer.name,
        store=peer.table,
        setup=peer.setup,
        client=peer.client,
        versions=peer.versions(),
        throughput=result,
        latency=latency,
        bulk=bulk,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("peer", choices=[*PEERS, "floors"])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--latency-n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    if args.peer == "floors":
        from bench.async_peers.peers.floors import floors

        emit(floors(args.latency_n))
        return
    emit([measure(PEERS[args.peer](), args.n, args.latency_n, args.warmup)])


if __name__ == "__main__":
    main()
