"""The floors: what one store operation costs on this machine with nothing of any framework around it."""

from __future__ import annotations

import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.async_peers.common import Row, latency_of

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"


def _timed(fn: Callable[[], object], n: int, warmup: int = 50) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1e6)
    lat = latency_of(samples)
    return lat.p50_ms, lat.p99_ms  # microseconds here


def _row(label: str, table: str, n: int, p50_us: float, p99_us: float, versions: str) -> Row:
    return Row(label, table, "", "", versions, extra={"p50_us": p50_us, "p99_us": p99_us, "n": n})


def sqlite_commit(synchronous: str, n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        conn = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body BLOB)")

        def once() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t VALUES (?, ?)", (uuid.uuid4().hex, b"{}"))
            conn.execute("COMMIT")

        try:
            return _timed(once, n)
        finally:
            conn.close()


def floors(n: int) -> list[Row]:
    import psycopg
    import redis

    n = max(n, 200)
    sqlite = f"SQLite {sqlite3.sqlite_version}"
    rows = [
        _row(
            "SQLite: 1-row INSERT + COMMIT, WAL, synchronous=NORMAL (lambdahost's setting)",
            "SQLite",
            n,
            *sqlite_commit("NORMAL", n),
            sqlite,
        ),
        _row(
            "SQLite: 1-row INSERT + COMMIT, WAL, synchronous=FULL (SQLite's default, Huey's)",
            "SQLite",
            n,
            *sqlite_commit("FULL", n),
            sqlite,
        ),
    ]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        version = f"PostgreSQL {conn.execute('SHOW server_version').fetchone()[0]}"  # type: ignore[index]
        conn.execute("CREATE TEMP TABLE t (id text PRIMARY KEY, body bytea)")
        rows.append(
            _row(
                "PostgreSQL: 1-row INSERT, autocommit (one round trip and commit, psycopg)",
                "PostgreSQL",
                n,
                *_timed(lambda: conn.execute("INSERT INTO t VALUES (%s, %s)", (uuid.uuid4().hex, b"{}")), n),
                version,
            )
        )
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.delete("floor")

        def push_pop() -> None:
            client.rpush("floor", b"x")
            client.blpop(["floor"], timeout=1)

        version = f"Redis {client.info('server')['redis_version']}"
        rows.append(
            _row("Redis: RPUSH then BLPOP, one connection (two round trips)", "both", n, *_timed(push_pop, n), version)
        )
        rows.append(_row("Redis: PING round trip", "both", n, *_timed(client.ping, n), version))
    finally:
        client.close()
    return rows
