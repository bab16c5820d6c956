"""Integration fixtures: real SQLite files and real PostgreSQL databases.

- ``store``: a migrated ``Store``, parametrized over ``sqlite`` (a file under ``tmp_path``) and ``postgres`` (a
  fresh database per test, marked ``postgres``). Closed after the test.
- ``pg_url``, ``pg_empty_url``, ``pg_server``: PostgreSQL databases (``tests/conftest.py``, shared with the
  acceptance tests).
- ``store_url``: the URL behind ``store`` (open a second store on the same database with ``open_store``).
- ``count_rows``: ``count_rows("invocations", function_name="x")`` counts rows of ``store``'s database straight
  through the driver, to check what the ``Store`` interface cannot show. ``column_value("invocations",
  "transitions", id="x")``: one column of one row as the driver returns it (``None`` when there is no such row).
- ``ui``: per module, an embedded Platform served over real HTTP and a client of its web UI (``ui_platform``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lambdahost.server import Platform
from lambdahost.storage.base import Store, open_store
from lambdahost.storage.memory import InMemoryStore
from tests.integration.web_client import UiClient, ui_platform


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for ``open_store``: a new SQLite file (in a directory that does not exist yet) or a fresh
    migrated PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'lambdahost.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    try:
        opened.migrate()
        yield opened
    finally:
        opened.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def any_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """``store_url``, and the in-memory fake, which every contract suite holds to the same behaviour."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lambdahost.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def any_store(any_store_url: str) -> Iterator[Store]:
    opened = open_store(any_store_url)
    try:
        opened.migrate()
        yield opened
    finally:
        opened.close()


def another_store(url: str, first: Store) -> Store:
    """A second store object on ``first``'s database, as another node has (the fake has no database: the same
    object)."""
    return first if isinstance(first, InMemoryStore) else open_store(url)


def _select_one(store_url: str, what: str, table: str, equals: dict[str, object]) -> tuple[Any, ...] | None:
    """``SELECT what FROM table WHERE column = value ...`` straight through the driver: the first row or None."""
    sqlite_path = store_url.removeprefix("sqlite:///") if store_url.startswith("sqlite:///") else None
    marker = "?" if sqlite_path else "%s"
    where = " AND ".join(f"{column} = {marker}" for column in equals)
    sql = f"SELECT {what} FROM {table}" + (f" WHERE {where}" if where else "")
    if sqlite_path:
        conn = sqlite3.connect(sqlite_path)
        try:
            found: tuple[Any, ...] | None = conn.execute(sql, tuple(equals.values())).fetchone()
            return found
        finally:
            conn.close()
    with psycopg.connect(store_url) as pg:
        return pg.execute(sql, tuple(equals.values())).fetchone()


@pytest.fixture
def count_rows(store_url: str) -> Callable[..., int]:
    def count(table: str, **equals: object) -> int:
        row = _select_one(store_url, "COUNT(*)", table, equals)
        assert row is not None
        return int(row[0])

    return count


@pytest.fixture
def column_value(store_url: str) -> Callable[..., object]:
    def value(table: str, column: str, **equals: object) -> object:
        row = _select_one(store_url, column, table, equals)
        return None if row is None else row[0]

    return value


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, UiClient]]:
    with ui_platform(tmp_path_factory.mktemp("web")) as served:
        yield served
