"""Queries that must stay fast on big tables use their index, on both SQLite and PostgreSQL (asked of each
database's planner on the migrated schema), and every index of ``invocations`` (each one costs every insert and
every status change) is read by some query."""

from __future__ import annotations

import re
import sqlite3

import psycopg
import pytest

from lambdahost.storage import queries as q
from lambdahost.storage.base import Store
from lambdahost.storage.function_listing_sql import last_invocations_sql, trigger_counts_sql
from lambdahost.storage.message_queues_sql import receivable
from lambdahost.storage.queue_activity_sql import queue_activity_params, queue_activity_sql
from lambdahost.storage.rows import RESULT_COLUMNS
from lambdahost.storage.sql import SqlStore
from tests.integration.records import S, invocation

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


# list_invocations(function_name, status, before, before_id) -> the index its plan reads
LISTINGS = {
    "newest": ((None, None, None, None), "invocations_created"),
    "newest before": ((None, None, 5.0, None), "invocations_created"),
    "newest after a row": ((None, None, 5.0, "id-7"), "invocations_created"),
    "of a function": (("fn", None, None, None), "invocations_function_created"),
    "of a function before": (("fn", None, 5.0, None), "invocations_function_created"),
    "of a function after a row": (("fn", None, 5.0, "id-7"), "invocations_function_created"),
    "in a status": ((None, "succeeded", None, None), "invocations_status"),
    "in a status before": ((None, "succeeded", 5.0, None), "invocations_status"),
    "in a status after a row": ((None, "succeeded", 5.0, "id-7"), "invocations_status"),
}


def uses(found: str, index: str) -> bool:
    return re.search(rf"\b{index}\b", found) is not None


@pytest.mark.parametrize("case", list(LISTINGS))
def test_each_invocation_listing_reads_its_index_newest_first(store: Store, store_url: str, case: str) -> None:
    (function_name, status, before, before_id), index = LISTINGS[case]
    sql, params = q.list_invocations(function_name, status, before, before_id, 50)
    found = plan(store_url, sql, params)
    assert uses(found, index), found
    if store_url.startswith("sqlite:///"):
        # the index gives created_at order; only ties on created_at are sorted by id
        assert "USE TEMP B-TREE FOR ORDER BY" not in found, found
    else:
        assert "Seq Scan" not in found, found


def test_a_lifecycle_step_is_one_update_of_one_row_found_by_its_key(store: Store, store_url: str) -> None:
    """Planned on a table of 300 pending invocations with fresh statistics (on an empty one PostgreSQL's estimates
    tie, and it may as well read the status index)."""
    assert isinstance(store, SqlStore)
    store.insert_invocations([invocation(f"i{n}", status=S.PENDING) for n in range(300)])
    analyze(store_url)
    for with_result in (False, True):
        sql = q.set_status(store.append_transition_sql, with_result=with_result)
        assert sql.startswith("UPDATE invocations SET ") and sql.count(";") == 0
        params = {"id": "x", "status": "ready", "current": "pending", "transition": '["ready",1.5,null]'}
        params |= dict.fromkeys(RESULT_COLUMNS)
        found = plan(store_url, sql, params)
        if store_url.startswith("sqlite:///"):
            assert "SEARCH invocations USING INDEX sqlite_autoindex_invocations_1 (id=?)" in found, found
        else:
            assert "Index Scan using invocations_pkey on invocations" in found, found


def test_every_index_of_invocations_serves_a_query(store: Store, store_url: str) -> None:
    """No index is only a cost: each one is what the planner reads for at least one query of the store."""
    assert isinstance(store, SqlStore)
    plans = [plan(store_url, *q.list_invocations(*filters, 50)) for filters, _ in LISTINGS.values()]
    plans.append(plan(store_url, q.LOGS_AFTER, LOGS_PARAMS))
    plans.append(plan(store_url, q.DELETE_INVOCATIONS_OF, {"function_name": "fn"}))
    plans.append(plan(store_url, q.GET_INVOCATION, {"id": "x"}))
    set_status = q.set_status(store.append_transition_sql, with_result=False)
    plans.append(plan(store_url, set_status, {"id": "x", "status": "ready", "current": "pending", "transition": "[]"}))
    plans.extend(plan(store_url, sql, params) for sql, params in queue_queries(store))
    indexes = invocation_indexes(store_url)
    assert len(indexes) == 10, indexes  # the primary key and nine secondary indexes
    unused = [index for index in indexes if not any(uses(found, index) for found in plans)]
    # The queue's partial indexes are planned on a realistic queue below: on a table without queued rows each
    # holds nothing and the planners pick among them arbitrarily.
    assert [index for index in unused if index not in QUEUE_INDEXES] == []


# The queue's partial indexes: on a table without queued rows each holds nothing and the planners pick among them
# arbitrarily, so they are planned on a realistic queue below.
QUEUE_INDEXES = (
    "invocations_pending",
    "invocations_unfinished",
    "invocations_leased",
    "invocations_lease_owner",
    "invocations_lease_expires",
)
LEASED = ("invocations_leased", "invocations_lease_owner", "invocations_lease_expires")  # ready and running only
# each queue query -> the indexes it may read (several hold only the leased invocations: a planner may take any)
QUEUE_PLANS = {
    "claim": ("invocations_pending",),
    q.LANE_OCCUPANCY: LEASED,
    q.QUEUE_DEPTH: ("invocations_unfinished",),
    q.EXTEND_LEASES: LEASED,
    q.EXPIRED_LEASES: ("invocations_lease_expires",),
}


def test_the_queue_reads_its_partial_indexes_on_a_large_backlog(store: Store, store_url: str) -> None:
    """5,000 invocations pending in one lane, all claimable at one time (as after a recovery), 8 running and 2,000
    finished, fresh statistics: a claim reads only the lane's first few pending ones in claim order (no sort of
    the backlog) and its lane's occupancy from the leased invocations only; every queue query reads a partial
    index made for it."""
    assert isinstance(store, SqlStore)
    pending = [invocation(f"p{n:05d}", status=S.PENDING, available_at=5.0) for n in range(5000)]
    running = [invocation(f"r{n}", status=S.RUNNING, lease_owner="w", lease_expires=35.0) for n in range(8)]
    done = [invocation(f"d{n:05d}", status=S.SUCCEEDED) for n in range(2000)]
    store.insert_invocations([*pending, *running, *done])
    analyze(store_url)
    queries = dict(queue_queries(store))
    for query, indexes in QUEUE_PLANS.items():
        sql = next(sql for sql in queries if sql == query or (query == "claim" and sql.startswith("WITH picked")))
        found = plan(store_url, sql, queries[sql])
        assert any(uses(found, index) for index in indexes), (indexes, found)
        if query == "claim":  # the pick is in claim order straight from the index: no sort of the lane's backlog
            assert "TEMP B-TREE" not in found and "Sort" not in found, found


@pytest.mark.parametrize("lanes", [[0], [0, 1]], ids=["one-lane", "two-lanes"])
def test_the_queue_activity_reads_ranges_of_the_queue_and_finished_indexes(
    store: Store, store_url: str, lanes: list[int]
) -> None:
    """``Store.queue_activity`` (the queue-depth chart) on 5,000 old pending invocations, 8 running and 2,000
    finished, fresh statistics: the finished part is a range of invocations_function_finished_id, the pending part
    a range of invocations_pending per lane (available_at from the window's start), the leased part one of the
    indexes of the leased invocations, the count one of the queue's partial indexes: never a scan of the table."""
    assert isinstance(store, SqlStore)
    pending = [invocation(f"p{n:05d}", status=S.PENDING, available_at=5.0, lane=n % 2) for n in range(5000)]
    running = [
        invocation(f"r{n}", status=S.RUNNING, lease_owner="w", lease_expires=35.0, available_at=4.0) for n in range(8)
    ]
    done = [invocation(f"d{n:05d}", status=S.SUCCEEDED, available_at=1.0, finished_at=float(n)) for n in range(2000)]
    store.insert_invocations([*pending, *running, *done])
    analyze(store_url)
    found = plan(store_url, queue_activity_sql(len(lanes)), queue_activity_params("fn", lanes, 1990.0, 100))
    assert uses(found, "invocations_function_finished_id"), found
    assert uses(found, "invocations_pending"), found
    assert any(uses(found, index) for index in LEASED), found
    if store_url.startswith("sqlite:///"):
        assert "(function_name=? AND finished_at>?)" in found, found
        assert "(function_name=? AND lane=? AND available_at>?)" in found, found
        assert "SCAN invocations" not in found.splitlines(), found  # no full scan
    else:
        assert "Seq Scan" not in found, found


def queue_queries(store: SqlStore) -> list[tuple[str, dict[str, object]]]:
    """The queue's queries (``Store.claim`` and the rest) with example parameters."""
    lane = {"function_name": "fn", "lane": 0}
    claim = q.claim(store.append_transition_sql, store.lock_rows_sql)
    claim_params = {**lane, "owner": "w", "now": 5.0, "lease_expires": 35.0, "limit": 3, "transition": "[]"}
    return [
        (q.LANE_OCCUPANCY, lane),
        (claim, claim_params),
        (q.QUEUE_DEPTH, {}),
        (q.EXTEND_LEASES, {"owner": "w", "lease_expires": 35.0}),
        (q.EXPIRED_LEASES, {"now": 5.0}),
    ]


def analyze(store_url: str) -> None:
    """Refresh the planner's statistics of ``invocations``."""
    if store_url.startswith("sqlite:///"):
        conn = sqlite3.connect(store_url.removeprefix("sqlite:///"))
        try:
            conn.execute("ANALYZE invocations")
        finally:
            conn.close()
    else:
        with psycopg.connect(store_url, autocommit=True) as pg:
            pg.execute("ANALYZE invocations")


def invocation_indexes(store_url: str) -> list[str]:
    """The names of every index of the ``invocations`` table, its primary key's included."""
    if store_url.startswith("sqlite:///"):
        conn = sqlite3.connect(store_url.removeprefix("sqlite:///"))
        try:
            sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'invocations' ORDER BY name"
            return [row[0] for row in conn.execute(sql)]
        finally:
            conn.close()
    with psycopg.connect(store_url) as pg:
        sql = (
            "SELECT indexname FROM pg_indexes WHERE tablename = 'invocations' AND schemaname = current_schema() "
            "ORDER BY indexname"
        )
        return [row[0] for row in pg.execute(sql)]


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_a_receive_reads_a_queue_in_sequence_order_without_sorting_it(store: Store, store_url: str, fifo: bool) -> None:
    """The backlog may be large: a receive walks messages_queue_sequence and stops at its LIMIT."""
    params = {"name": "q", "now": 1_700_000_000.0, "expired_before": 1_690_000_000.0, "limit": 10}
    found = plan(store_url, receivable(fifo, ""), params)
    assert "messages_queue_sequence" in found, found
    assert "TEMP B-TREE" not in found and "Sort" not in found, found


def test_the_functions_list_reads_each_functions_newest_invocation_by_its_index(store: Store, store_url: str) -> None:
    """``last_invocations``: one walk of ``invocations_function_created`` per name (a correlated LIMIT 1), then the
    rows by primary key; no read of the whole table. ``trigger_counts``: each trigger table by its function index."""
    found = plan(store_url, last_invocations_sql(3), {"f0": "a", "f1": "b", "f2": "c"})
    assert uses(found, "invocations_function_created"), found
    if store_url.startswith("sqlite:///"):
        assert not re.search(r"\bSCAN (invocations|j)\b(?! USING)", found), found
    else:
        assert "Seq Scan on invocations" not in found, found
    counts = plan(store_url, trigger_counts_sql(":f0, :f1"), {"f0": "a", "f1": "b"})
    for index in ("schedules_function", "event_source_mappings_function", "http_routes_function"):
        assert uses(counts, index), counts


def test_one_functions_queue_depth_is_a_range_of_its_index(store: Store, store_url: str) -> None:
    found = plan(store_url, q.QUEUE_DEPTH_OF, {"function_name": "fn"})
    assert uses(found, "invocations_unfinished") or uses(found, "invocations_pending"), found
    if store_url.startswith("sqlite:///"):
        assert "(function_name=?" in found, found
    else:
        assert "Seq Scan" not in found and "function_name = 'fn'" in found, found


def test_the_pending_lanes_are_a_loose_scan_of_the_pending_index(store: Store, store_url: str) -> None:
    """Each step of ``pending_lanes`` is a seek in ``invocations_pending``: never a read of every pending row."""
    assert isinstance(store, SqlStore)
    found = plan(store_url, q.pending_lanes(store.pending_index_hint), {})
    assert uses(found, "invocations_pending"), found
    if store_url.startswith("sqlite:///"):
        assert "USE TEMP B-TREE" not in found and "invocations_status" not in found, found
    else:
        assert "Seq Scan on invocations" not in found and "Sort" not in found, found
