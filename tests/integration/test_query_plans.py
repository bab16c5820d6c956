"""Queries that must stay fast on big tables use their index, on both SQLite and PostgreSQL (asked of each
database's planner on the migrated schema)."""

from __future__ import annotations

import sqlite3

import psycopg

from lambdahost.storage import queries as q
from lambdahost.storage.base import Store

LOGS_PARAMS = {"function_name": "fn", "after_finished_at": 1_700_000_000.0, "after_id": "some-id", "limit": 100}


def plan(store_url: str, sql: str, params: dict[str, object]) -> str:
    """The planner's plan of ``sql`` (a ``queries`` statement), one line per step. PostgreSQL is told to avoid
    sequential scans: on a near-empty table it would rightly prefer one, and the question is whether the index
    CAN answer the query."""
    if store_url.startswith("sqlite:///"):
        conn = sqlite3.connect(store_url.removeprefix("sqlite:///"))
        try:
            return "\n".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        finally:
            conn.close()
    with psycopg.connect(store_url) as pg:
        pg.execute("SET enable_seqscan = off")
        return "\n".join(row[0] for row in pg.execute("EXPLAIN " + q.to_pyformat(sql), params))


def test_logs_page_is_a_range_scan_of_the_function_finished_id_index(store: Store, store_url: str) -> None:
    found = plan(store_url, q.LOGS_AFTER, LOGS_PARAMS)
    assert "invocations_function_finished_id" in found, found
    if store_url.startswith("sqlite:///"):
        assert "(function_name=? AND (finished_at,id)>(?,?))" in found, found
        assert "TEMP B-TREE" not in found, found  # rows come in index order: no sort
    else:
        assert "Index Cond: ((function_name = 'fn'::text) AND (ROW(finished_at, id) > ROW(" in found, found
        assert "Sort" not in found, found
