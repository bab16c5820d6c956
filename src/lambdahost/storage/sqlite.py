"""``SqliteStore``: the default store, one SQLite file in WAL mode.

Used from many threads at once (HTTP handlers, the invocation recorder, the engine). Connections live in a small
pool and each is used by one thread at a time. Every write transaction starts with ``BEGIN IMMEDIATE``, so it takes
the database's single write lock up front and waits for it (``busy_timeout``) instead of failing halfway with
"database is locked"; readers never block writers (WAL) and read a consistent snapshot (deferred ``BEGIN``).
Processes sharing the file wake each other's workers when they queue work through Unix sockets (``wakeups``).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from lambdahost.core.errors import StorageError
from lambdahost.storage.rows import Params, Row
from lambdahost.storage.sql import SqlStore, Tx
from lambdahost.storage.wakeups import Wakeups, wake_directory

DEFAULT_BUSY_TIMEOUT_S = 10.0
DEFAULT_MAX_IDLE = 16

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def split_script(sql: str) -> list[str]:
    """Split a script into single statements (``sqlite3`` executes one at a time; ``executescript`` would commit
    the open transaction). Semicolons inside strings, comments and trigger bodies are respected."""
    statements: list[str] = []
    pending = ""
    *terminated, rest = sql.split(";")
    for piece in terminated:
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    rest = _COMMENTS.sub("", pending + rest).strip()
    if rest:
        raise StorageError(f"Incomplete SQL statement at the end of a script: {rest[:80]!r}")
    return [s for s in statements if _COMMENTS.sub("", s).strip(" \n\t;")]


def _dict_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params | None = None) -> int:
        cursor = self._conn.execute(sql, params or {})
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    def executemany(self, sql: str, params: Sequence[Params]) -> int:
        cursor = self._conn.executemany(sql, params)
        try:
            return cursor.rowcount  # the sum over every set of parameters
        finally:
            cursor.close()

    def rowcounts(self, sql: str, params: Sequence[Params]) -> list[int]:
        return [self.execute(sql, p) for p in params]

    def one(self, sql: str, params: Params | None = None) -> Row | None:
        cursor = self._conn.execute(sql, params or {})
        try:
            row: Row | None = cursor.fetchone()
            return row
        finally:
            cursor.close()

    def all(self, sql: str, params: Params | None = None) -> list[Row]:
        cursor = self._conn.execute(sql, params or {})
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def script(self, sql: str) -> None:
        for statement in split_script(sql):
            self._conn.execute(statement).close()


class _ConnectionPool:
    """Connections handed to one holder at a time; up to ``max_idle`` kept open for reuse by any thread."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], max_idle: int) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StorageError("The store is closed.")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            self._release(conn)

    def _release(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            keep = not self._closed and not conn.in_transaction and len(self._idle) < self._max_idle
            if keep:
                self._idle.append(conn)
        if not keep:
            conn.close()

    def close(self) -> None:
        """Close idle connections now; connections in use are closed when their holder releases them."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class SqliteStore(SqlStore):
    """The store in one SQLite file (created with its parent directories)."""

    dialect = "sqlite"
    # without statistics SQLite reads the status index and sorts; the pending index answers each seek
    pending_index_hint = " INDEXED BY invocations_pending"
    local_writes = True
    table_exists_sql = "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = :name"
    # ``transitions`` is JSON text: the step goes in before the closing bracket by plain string functions, so the
    # append needs neither the JSON functions nor their ``$[#]`` path (SQLite 3.31+), and does not re-parse the
    # array. Every stored array is written by ``rows.transitions_json`` or this expression and ends with "]".
    append_transition_sql = (
        "CASE transitions WHEN '[]' THEN '[' || :transition || ']' "
        "ELSE substr(transitions, 1, length(transitions) - 1) || ',' || :transition || ']' END"
    )

    def __init__(
        self, path: str, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S, max_idle: int = DEFAULT_MAX_IDLE
    ) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{path}"
        self._busy_timeout_s = busy_timeout_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create the directory of the SQLite store {path}: {exc}") from exc
        self._pool = _ConnectionPool(self._connect, max_idle)
        try:
            with self._pool.connection() as conn:
                mode = _SqliteTx(conn).one("PRAGMA journal_mode = WAL")
        except sqlite3.Error as exc:
            self._pool.close()
            raise StorageError(f"Cannot open the SQLite store {path}: {exc}") from exc
        if mode is None or next(iter(mode.values())) != "wal":
            self._pool.close()
            raise StorageError(f"The SQLite store {path} cannot use WAL mode (journal mode is {mode}).")
        self._wakeups = Wakeups(wake_directory(self.path))
        self._write_lock = threading.RLock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = _dict_row
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Tx]:
        if write:
            # Writers of this process queue on a lock of their own: SQLite's busy handler would make them poll for
            # the file's write lock with sleeps of 1 ms and more. Other processes still meet at the file's lock.
            with self._write_lock, self._sqlite_transaction(write=True) as tx:
                yield tx
        else:
            with self._sqlite_transaction(write=False) as tx:
                yield tx

    @contextmanager
    def _sqlite_transaction(self, *, write: bool) -> Iterator[Tx]:
        try:
            with self._pool.connection() as conn:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield _SqliteTx(conn)
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite error: {exc}") from exc

    def _migration_transaction(self) -> AbstractContextManager[Tx]:
        return self._transaction(write=True)  # BEGIN IMMEDIATE already excludes every other writer

    def subscribe(self, callback: Callable[[str | None, int], None]) -> Callable[[], None]:
        """A Unix datagram socket in the database's wake-up directory: every other store on the same file sends
        to it when it queues work (``wakeups``)."""
        return self._wakeups.subscribe(callback)

    def _work_queued(self, lanes: str) -> None:
        self._wakeups.notify(lanes)

    def close(self) -> None:
        self._wakeups.close()
        self._pool.close()
