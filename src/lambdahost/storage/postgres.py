"""``PostgresStore``: the store shared by many machines, on psycopg 3 with a connection pool.

Write transactions run at READ COMMITTED (the compare-and-set updates are single statements, so they need no
more); read transactions are REPEATABLE READ, READ ONLY, so the statements of one read come from one snapshot.
Migrations hold a transaction-scoped advisory lock, so several processes may migrate the same database at once.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import IsolationLevel
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from lambdahost.core.errors import StorageError
from lambdahost.storage.base import deliver_wakeup
from lambdahost.storage.queries import to_pyformat
from lambdahost.storage.rows import Params, Row
from lambdahost.storage.sql import SqlStore, Tx

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key of schema migrations (advisory locks are scoped to one database).
MIGRATION_LOCK_KEY = 0x6C616D6264616831  # "lambdah1"

DEFAULT_MAX_SIZE = 10
CHECK_AFTER_IDLE_S = 5.0
# When each pooled connection last ended a transaction (for ``_check_if_idle``).
_last_used: weakref.WeakKeyDictionary[psycopg.Connection[DictRow], float] = weakref.WeakKeyDictionary()
DEFAULT_CONNECT_TIMEOUT_S = 10.0


def _query(sql: str) -> str:
    # Every query comes from the constants in ``queries`` or the adapters, never from user input.
    return to_pyformat(sql)


class _PgTx:
    def __init__(self, conn: psycopg.Connection[DictRow]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params | None = None) -> int:
        with self._conn.cursor() as cursor:
            cursor.execute(_query(sql), params or {})
            return cursor.rowcount

    def executemany(self, sql: str, params: Sequence[Params]) -> int:
        with self._conn.cursor() as cursor:
            cursor.executemany(_query(sql), params)
            return cursor.rowcount  # the sum over every set of parameters (psycopg >= 3.1)

    def rowcounts(self, sql: str, params: Sequence[Params]) -> list[int]:
        # executemany pipelines the statements: one round trip for all of them, not one each
        with self._conn.cursor() as cursor:
            cursor.executemany(_query(sql), params, returning=True)
            counts = [cursor.rowcount]
            while cursor.nextset():
                counts.append(cursor.rowcount)
            return counts if params else []

    def one(self, sql: str, params: Params | None = None) -> Row | None:
        with self._conn.cursor() as cursor:
            cursor.execute(_query(sql), params or {})
            return cursor.fetchone()

    def all(self, sql: str, params: Params | None = None) -> list[Row]:
        with self._conn.cursor() as cursor:
            cursor.execute(_query(sql), params or {})
            return list(cursor.fetchall())

    def script(self, sql: str) -> None:
        # No parameters: psycopg sends the text as one simple query, which may hold several statements.
        self._conn.execute(sql)


def _connect_failure(url: str, timeout_s: float) -> str:
    """Why connecting fails (the pool only reports that it timed out)."""
    try:
        psycopg.connect(url, connect_timeout=max(1, int(timeout_s))).close()
    except psycopg.Error as exc:
        return str(exc).strip()
    return f"no connection within {timeout_s:g} s"


QUEUE_CHANNEL = "lambdahost_queue"


class _Listener:
    """A thread holding its own connection that LISTENs on the queue channel and calls back on every NOTIFY;
    after a lost connection it reconnects (and calls back once, for what it may have missed)."""

    def __init__(self, url: str, callback: Callable[[str | None, int], None]) -> None:
        self._url = url
        self._callback = callback
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {QUEUE_CHANNEL}")
                    self._callback(None, 0)
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=0.5):
                            deliver_wakeup(self._callback, [notify.payload])
            except psycopg.Error:
                log.warning("queue notifications lost; reconnecting", extra={"action": "listen_reconnect"})
                self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class PostgresStore(SqlStore):
    """The store in a PostgreSQL database given by URL (``postgresql://user@host:port/dbname``)."""

    dialect = "postgresql"
    table_exists_sql = "SELECT 1 AS present WHERE to_regclass(:name) IS NOT NULL"
    append_transition_sql = "transitions || CAST('[' || :transition || ']' AS jsonb)"
    lock_rows_sql = " FOR UPDATE SKIP LOCKED"
    notify_queued_sql = f"SELECT pg_notify('{QUEUE_CHANNEL}', :lanes)"

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = DEFAULT_MAX_SIZE,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        self.url = url
        self._pool = ConnectionPool(
            url,
            connection_class=psycopg.Connection[DictRow],
            kwargs={"row_factory": dict_row},
            min_size=min_size,
            max_size=max_size,
            check=self._check_if_idle,
            open=False,
            name="lambdahost",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout_s)
        except PoolTimeout as exc:
            self._pool.close()
            raise StorageError(f"Cannot connect to PostgreSQL: {_connect_failure(url, connect_timeout_s)}") from exc

    @staticmethod
    def _check_if_idle(conn: psycopg.Connection[DictRow]) -> None:
        """The pool's check on checkout: a round trip (an empty query) only for a connection unused for
        ``CHECK_AFTER_IDLE_S`` (one in steady use is known to work; checking each would add a round trip to every
        transaction)."""
        if time.monotonic() - _last_used.get(conn, 0.0) > CHECK_AFTER_IDLE_S:
            ConnectionPool.check_connection(conn)

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Tx]:
        try:
            with self._pool.connection() as conn:
                conn.isolation_level = None if write else IsolationLevel.REPEATABLE_READ
                conn.read_only = None if write else True
                yield _PgTx(conn)
                _last_used[conn] = time.monotonic()
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL error: {exc}") from exc

    def _serialize(self, tx: Tx, name: str, number: int) -> None:
        # Key collisions of hashtext only serialize more than needed.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext(CAST(:name AS text)), CAST(:number AS integer))",
            {"name": name, "number": number},
        )

    @contextmanager
    def _migration_transaction(self) -> Iterator[Tx]:
        with self._transaction(write=True) as tx:
            tx.execute("SELECT pg_advisory_xact_lock(:key)", {"key": MIGRATION_LOCK_KEY})
            yield tx

    def _work_queued(self, lanes: str) -> None:
        """An enqueue NOTIFYs in its own transaction (``notify_queued_sql``); work made claimable otherwise (a
        worker's hand-back, ``lanes`` "") is told here, in a transaction of its own."""
        if lanes:
            return
        try:
            with self._transaction(write=True) as tx:
                tx.execute(self.notify_queued_sql, {"lanes": lanes})
        except StorageError:  # the others find it at their next look at the queue
            log.warning("could not notify the workers", extra={"action": "notify_failed"})

    def subscribe(self, callback: Callable[[str | None, int], None]) -> Callable[[], None]:
        """LISTEN on the queue channel from a dedicated connection; every enqueue NOTIFYs it on commit."""
        listener = _Listener(self.url, callback)
        return listener.close

    def close(self) -> None:
        self._pool.close()
