"""Fixtures shared by every tier: real PostgreSQL databases.

- ``pg_url``: the URL of a fresh, migrated PostgreSQL database of its own (created from a template migrated once
  per session); dropped after the test. ``pg_empty_url``: the same without any table (for migration tests).
- ``pg_server`` (session): the server's admin handle; ``pg_server.create_database()`` for more databases.

PostgreSQL is found at ``LAMBDAHOST_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
When it is unreachable the PostgreSQL tests skip, except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import collections
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from lambdahost.storage.postgres import PostgresStore

DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def database_url(admin_url: str, dbname: str) -> str:
    """``admin_url`` pointing at another database on the same server."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


class PgServer:
    """Creates and drops uniquely named databases (so parallel test sessions on one server do not collide).

    Creating a database costs a few fsyncs (0.1-0.5 s on a busy disk) but overlaps well, so copies of the
    migrated template are created a few at a time in the background, ahead of the tests that take them, and used
    databases are dropped in the background too.
    """

    def __init__(self, admin_url: str, prefetch: int = 4) -> None:
        self.admin_url = admin_url
        self.template: str | None = None
        self._prefetch = prefetch
        self._executor = ThreadPoolExecutor(prefetch, thread_name_prefix="pg-fixture")
        self._ready: collections.deque[Future[str]] = collections.deque()
        self._drops: list[Future[None]] = []

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def create_database(self, template: str | None = None, prefix: str = "lh_test") -> str:
        """A new database (a copy of ``template``, or empty); returns its name."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template or "template0"}"')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url(self, name: str) -> str:
        return database_url(self.admin_url, name)

    def take_migrated(self) -> str:
        """The name of a fresh copy of the migrated template (created ahead of time)."""
        while len(self._ready) < self._prefetch + 1:
            self._ready.append(self._executor.submit(self.create_database, self.template))
        return self._ready.popleft().result()

    def release(self, name: str) -> None:
        self._drops.append(self._executor.submit(self.drop_database, name))

    def shutdown(self) -> None:
        """Drop every database this session created, then stop the background threads."""
        for future in self._ready:
            if not future.cancel():
                self.release(future.result())
        self._ready.clear()
        for drop in self._drops:
            drop.result()
        self._executor.shutdown()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    admin_url = os.environ.get("LAMBDAHOST_TEST_PG_URL", DEFAULT_PG_ADMIN_URL)
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        where = urlsplit(admin_url)
        message = f"PostgreSQL unreachable at {where.hostname}:{where.port or 5432}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = PgServer(admin_url)
    template = server.create_database(prefix="lh_template")
    try:
        store = PostgresStore(server.url(template), max_size=1)
        try:
            store.migrate()
        finally:
            store.close()  # a template must have no open connection when it is copied
        server.template = template
        yield server
    finally:
        server.shutdown()
        server.drop_database(template)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.take_migrated()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.release(name)


@pytest.fixture
def pg_empty_url(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)
