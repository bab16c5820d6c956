"""The ``Store`` contract for invocations and their lifecycle: every test runs against SQLite (a real file) and
PostgreSQL (a fresh database)."""

from __future__ import annotations

import json
import math
import random
import threading
import uuid
from collections.abc import Callable

import pytest

from lambdahost.core.errors import InvalidParameterValue, StorageError
from lambdahost.core.lifecycle import IllegalTransition
from lambdahost.core.model import InvocationStatus, Transition
from lambdahost.storage.base import Store, open_store
from tests.integration.records import FULL, MIB, S, finished, function, invocation


# -- invocations: insert and read ------------------------------------------------------------------------------------
def test_invocation_roundtrip_with_every_field_and_ordered_transitions(store: Store) -> None:
    store.insert_invocations([FULL, invocation("other")])
    assert store.get_invocation("inv-full") == FULL
    assert store.get_invocation("other") == invocation("other")


def test_get_missing_invocation_is_none(store: Store) -> None:
    assert store.get_invocation("missing") is None


def test_insert_of_an_empty_batch_changes_nothing(store: Store) -> None:
    store.insert_invocations([])
    assert store.list_invocations() == []


def test_insert_replaces_a_record_with_the_same_id(store: Store, count_rows: Callable[..., int]) -> None:
    store.insert_invocations([FULL])
    retry = FULL.replace(status=S.SUCCEEDED, transitions=FULL.transitions[:2], error_message=None)
    store.insert_invocations([retry])
    assert store.get_invocation("inv-full") == retry
    assert count_rows("invocations", id="inv-full") == 1


def test_of_several_records_with_one_id_in_a_batch_the_last_wins(store: Store) -> None:
    first = invocation("dup", status=S.PENDING, transitions=(Transition(S.CREATED, 1.0), Transition(S.PENDING, 2.0)))
    last = FULL.replace(id="dup")
    store.insert_invocations([first, invocation("between"), last])
    assert store.get_invocation("dup") == last
    assert store.get_invocation("between") == invocation("between")
    store.insert_invocations([last, first])
    assert store.get_invocation("dup") == first


def test_transitions_are_stored_in_the_row_as_compact_json_arrays(
    store: Store, column_value: Callable[..., object]
) -> None:
    """The documented format of ``invocations.transitions``: ``[[status, at, worker], ...]`` in order."""
    store.insert_invocations([invocation(transitions=(Transition(S.CREATED, 1000.0),))])
    store.record_transition("inv-1", Transition(S.PENDING, 1000.25), expected=S.CREATED)
    store.record_transition("inv-1", Transition(S.READY, 1000.5, "w1"))
    raw = column_value("invocations", "transitions", id="inv-1")
    if isinstance(raw, str):  # SQLite: the text itself
        assert raw == '[["created",1000.0,null],["pending",1000.25,null],["ready",1000.5,"w1"]]'
        raw = json.loads(raw)
    assert raw == [["created", 1000.0, None], ["pending", 1000.25, None], ["ready", 1000.5, "w1"]]


# Times that need all 17 significant digits, or are far from the usual epoch range; worker names that must be
# escaped in JSON.
EXACT_TIMES = (0.1 + 0.2, 1_700_000_000.123456, 1 / 3, 1e-300, 2.5e15 + 0.5, 1_700_000_000.0000002)
ODD_WORKERS = ('quote " and \\ backslash', "line\nbreak\ttab", "ünïcödé ✓ 🚀", "", "null", "]", "[],")


def test_transitions_keep_exact_times_and_any_worker_name(store: Store) -> None:
    steps = tuple(
        Transition(status, at, worker)
        for status, at, worker in zip(
            (S.PENDING, S.READY, S.RUNNING, S.PENDING, S.READY, S.RUNNING, S.SUCCEEDED),
            (*EXACT_TIMES, 5.0),
            ODD_WORKERS,
            strict=True,
        )
    )
    inserted = invocation("inserted", status=S.SUCCEEDED, transitions=(Transition(S.CREATED, 0.1), *steps))
    store.insert_invocations([inserted, invocation("stepped", transitions=(Transition(S.CREATED, 0.1),))])
    for step in steps:
        assert store.record_transition("stepped", step) is True
    assert store.get_invocation("inserted") == inserted
    assert store.get_invocation("stepped") == inserted.replace(id="stepped")


@pytest.mark.parametrize("at", [math.nan, math.inf])
def test_a_transition_at_a_time_that_is_not_finite_is_refused_and_changes_nothing(store: Store, at: float) -> None:
    store.insert_invocations([invocation()])
    with pytest.raises(InvalidParameterValue, match="finite"):
        store.record_transition("inv-1", Transition(S.PENDING, at))
    with pytest.raises(InvalidParameterValue, match="finite"):
        store.insert_invocations([invocation("bad", transitions=(Transition(S.CREATED, at),))])
    assert store.get_invocation("inv-1") == invocation()
    assert store.get_invocation("bad") is None


def test_insert_batch_is_one_transaction(store: Store) -> None:
    bad = invocation("bad").replace(function_name=None)  # violates NOT NULL in both schemas
    with pytest.raises(StorageError) as caught:
        store.insert_invocations([invocation("good-1"), bad, invocation("good-2")])
    assert caught.value.__cause__ is not None
    assert store.get_invocation("good-1") is None
    assert store.list_invocations() == []


def test_large_binary_and_unicode_bodies_roundtrip(store: Store) -> None:
    payload = bytes(range(256)) * (5 * MIB // 256)
    result = "résultat ✓ 🚀".encode() * (5 * MIB // 20)
    log = "line with ünïcode ✓ 🚀\n" * 20_000
    store.insert_invocations([invocation("big", payload=payload, result=result, log=log)])
    got = store.get_invocation("big")
    assert got is not None
    assert (len(got.payload), got.payload == payload) == (5 * MIB, True)
    assert got.result == result
    assert got.log == log


def test_unstorable_characters_in_user_text_become_replacement_characters(store: Store) -> None:
    store.insert_invocations([invocation("nul", log="a\x00b", error_message="lone \ud800 surrogate")])
    got = store.get_invocation("nul")
    assert got is not None
    assert (got.log, got.error_message) == ("a\ufffdb", "lone \ufffd surrogate")


def test_list_invocations_newest_first_without_bodies_or_transitions(store: Store) -> None:
    store.insert_invocations([FULL.replace(id=f"i{n}", created_at=1000.0 + n) for n in (2, 0, 3, 1)])
    listed = store.list_invocations()
    assert [inv.id for inv in listed] == ["i3", "i2", "i1", "i0"]
    expected = FULL.replace(id="i3", created_at=1003.0, payload=b"", result=None, log="", transitions=())
    assert listed[0] == expected


def test_list_invocations_filters_and_limit(store: Store) -> None:
    store.insert_invocations(
        [
            invocation("a1", function_name="a", status=S.PENDING, created_at=1.0),
            invocation("a2", function_name="a", status=S.FAILED, created_at=2.0),
            invocation("a3", function_name="a", status=S.PENDING, created_at=3.0),
            invocation("b1", function_name="b", status=S.PENDING, created_at=4.0),
        ]
    )

    def ids(**filters: object) -> list[str]:
        return [inv.id for inv in store.list_invocations(**filters)]  # type: ignore[arg-type]

    assert ids(function_name="a") == ["a3", "a2", "a1"]
    assert ids(status=S.PENDING) == ["b1", "a3", "a1"]
    assert ids(function_name="a", status=S.PENDING) == ["a3", "a1"]
    assert ids(before=3.0) == ["a2", "a1"]
    assert ids(function_name="a", before=2.0) == ["a1"]
    assert ids(limit=2) == ["b1", "a3"]
    assert ids(function_name="nobody") == []
    assert ids(status=S.RUNNING) == []


@pytest.mark.parametrize("limit", [0, -1])
def test_invocation_listings_reject_a_limit_below_one(store: Store, limit: int) -> None:
    store.insert_invocations([finished("f1", 10.0)])
    with pytest.raises(InvalidParameterValue):
        store.list_invocations(limit=limit)
    with pytest.raises(InvalidParameterValue):
        store.invocation_logs_after("fn", (0.0, ""), limit=limit)


def test_list_invocations_pages_with_before(store: Store) -> None:
    store.insert_invocations([invocation(f"i{n:02d}", created_at=float(n)) for n in range(7)])
    seen: list[str] = []
    before: float | None = None
    while page := store.list_invocations(limit=3, before=before):
        seen += [inv.id for inv in page]
        before = page[-1].created_at
    assert seen == [f"i{n:02d}" for n in reversed(range(7))]


def test_list_invocations_pages_exactly_through_invocations_created_in_one_instant(any_store: Store) -> None:
    """A batch enqueue stamps every invocation with one created_at: the (created_at, id) cursor neither skips nor
    repeats any of them across pages, also filtered by status."""
    batch = [invocation(f"b{n:02d}", created_at=50.0, status=S.FAILED if n % 3 == 0 else S.SUCCEEDED) for n in range(8)]
    any_store.insert_invocations([invocation("early", created_at=10.0), *batch, invocation("late", created_at=90.0)])
    expected = ["late", *[f"b{n:02d}" for n in reversed(range(8))], "early"]
    for limit in (1, 2, 3, 5):
        seen: list[str] = []
        cursor: tuple[float, str] | None = None
        while page := any_store.list_invocations(
            "fn", limit=limit, before=cursor[0] if cursor else None, before_id=cursor[1] if cursor else None
        ):
            seen += [inv.id for inv in page]
            cursor = (page[-1].created_at, page[-1].id)
        assert seen == expected, limit
    failed = any_store.list_invocations("fn", S.FAILED, limit=2, before=50.0, before_id="b06")
    assert [inv.id for inv in failed] == ["b03", "b00"]
    assert [inv.id for inv in any_store.list_invocations("fn", before=50.0)] == ["early"], "without an id: before it"


def test_invocation_logs_after_returns_finished_ones_in_key_order_with_logs(store: Store) -> None:
    store.insert_invocations(
        [
            finished("f3", 30.0),
            finished("f1", 10.0),
            finished("f2b", 20.0),
            finished("f2a", 20.0),
            finished("other-fn", 25.0, function_name="other"),
            invocation("unfinished", status=S.RUNNING),
        ]
    )
    rows = store.invocation_logs_after("fn", (10.0, "f1"))
    assert [(r.id, r.log, r.finished_at) for r in rows] == [
        ("f2a", "log of f2a\n", 20.0),
        ("f2b", "log of f2b\n", 20.0),
        ("f3", "log of f3\n", 30.0),
    ]
    assert (rows[0].payload, rows[0].result, rows[0].transitions) == (b"", None, ())
    assert [r.id for r in store.invocation_logs_after("fn", (0.0, ""), limit=2)] == ["f1", "f2a"]
    assert [r.id for r in store.invocation_logs_after("fn", (20.0, ""))] == ["f2a", "f2b", "f3"]  # from a time on
    assert [r.id for r in store.invocation_logs_after("fn", (20.0, "f2a"))] == ["f2b", "f3"]
    assert [r.id for r in store.invocation_logs_after("fn", (20.0, "f2b"))] == ["f3"]
    assert store.invocation_logs_after("fn", (30.0, "f3")) == []
    assert store.invocation_logs_after("nobody", (0.0, "")) == []


def test_invocation_logs_pages_return_each_of_many_with_one_finished_at_once(store: Store) -> None:
    """250 invocations finished at the same instant, read 100 at a time: none skipped at a page boundary, none
    repeated, and the last page ends the reading instead of starting over."""
    ids = [str(uuid.UUID(int=random.Random(7).getrandbits(128) ^ n)) for n in range(250)]
    store.insert_invocations([finished(inv_id, 1_700_000_123.456789) for inv_id in ids])
    store.insert_invocations([finished("before", 1_700_000_123.4), finished("after", 1_700_000_123.5)])
    pages: list[list[str]] = []
    position = (1_700_000_123.45, "")
    while page := store.invocation_logs_after("fn", position, limit=100):
        pages.append([r.id for r in page])
        position = (page[-1].finished_at or 0.0, page[-1].id)
        assert len(pages) <= 4, "paging does not end"
    assert [len(p) for p in pages] == [100, 100, 51]
    read = [inv_id for p in pages for inv_id in p]
    assert read == [*sorted(ids), "after"]
    assert position == (1_700_000_123.5, "after")


def test_delete_invocations_of_a_function_deletes_only_its_own(store: Store, count_rows: Callable[..., int]) -> None:
    kept = FULL.replace(id="kept", function_name="other")
    store.insert_invocations([FULL, FULL.replace(id="second"), kept])
    assert store.delete_invocations_of("fn") == 2
    assert store.get_invocation("inv-full") is None
    assert count_rows("invocations") == 1
    assert store.get_invocation("kept") == kept
    assert store.delete_invocations_of("fn") == 0


# -- invocations: lifecycle transitions ------------------------------------------------------------------------------
def test_record_transition_walks_the_lifecycle_and_appends_in_order(store: Store) -> None:
    store.insert_invocations([invocation()])
    steps = [Transition(S.PENDING, 1001.0), Transition(S.READY, 1002.0, "w1"), Transition(S.RUNNING, 1003.0, "w1")]
    for step in steps:
        assert store.record_transition("inv-1", step) is True
    got = store.get_invocation("inv-1")
    assert got is not None
    assert got.status is S.RUNNING
    assert got.transitions == (Transition(S.CREATED, 1000.0), *steps)


def test_record_transition_compare_and_set(store: Store) -> None:
    store.insert_invocations([invocation(status=S.PENDING, transitions=())])
    assert store.record_transition("inv-1", Transition(S.READY, 1.0), expected=S.PENDING) is True
    assert store.record_transition("inv-1", Transition(S.READY, 2.0), expected=S.PENDING) is False
    assert store.record_transition("inv-1", Transition(S.FAILED, 3.0), expected=S.PENDING) is False
    got = store.get_invocation("inv-1")
    assert got is not None
    assert (got.status, got.transitions) == (S.READY, (Transition(S.READY, 1.0),))


@pytest.mark.parametrize("expected", [None, S.PENDING])
def test_record_transition_of_a_missing_invocation_is_false(store: Store, expected: InvocationStatus | None) -> None:
    assert store.record_transition("ghost", Transition(S.READY, 1.0), expected=expected) is False
    assert store.get_invocation("ghost") is None


@pytest.mark.parametrize("expected", [None, S.SUCCEEDED])
def test_illegal_transition_is_rejected_and_changes_nothing(store: Store, expected: InvocationStatus | None) -> None:
    done = finished("done", 5.0)
    store.insert_invocations([done])
    with pytest.raises(IllegalTransition, match="cannot go from succeeded to running"):
        store.record_transition("done", Transition(S.RUNNING, 6.0), expected=expected, changes=FULL)
    assert store.get_invocation("done") == done


def test_record_transition_with_changes_stores_only_the_result_fields(store: Store) -> None:
    running = invocation(status=S.RUNNING, lane=1, attempt=2, memory_mb=256, transitions=())
    store.insert_invocations([running])
    ok = store.record_transition("inv-1", Transition(S.FAILED, 1_700_000_001.5, "worker-a"), changes=FULL)
    assert ok is True
    got = store.get_invocation("inv-1")
    assert got is not None
    result_fields = {
        "result": FULL.result,
        "function_error": FULL.function_error,
        "error_type": FULL.error_type,
        "error_message": FULL.error_message,
        "log": FULL.log,
        "log_truncated": True,
        "duration_ms": FULL.duration_ms,
        "billed_duration_ms": FULL.billed_duration_ms,
        "init_duration_ms": FULL.init_duration_ms,
        "max_memory_mb": FULL.max_memory_mb,
        "worker": "worker-a",
        "finished_at": FULL.finished_at,
    }
    transitions = (Transition(S.FAILED, 1_700_000_001.5, "worker-a"),)
    assert got == running.replace(status=S.FAILED, transitions=transitions, **result_fields)


def test_concurrent_compare_and_set_has_exactly_one_winner(store: Store, store_url: str) -> None:
    store.insert_invocations([invocation(status=S.PENDING, transitions=())])
    other = open_store(store_url)
    barrier = threading.Barrier(8)
    outcomes: list[bool] = []

    def claim(n: int) -> None:
        target = store if n % 2 else other
        barrier.wait()
        outcomes.append(target.record_transition("inv-1", Transition(S.READY, float(n), f"w{n}"), expected=S.PENDING))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        other.close()
    assert sorted(outcomes) == [False] * 7 + [True]
    got = store.get_invocation("inv-1")
    assert got is not None
    assert len(got.transitions) == 1


def test_concurrent_steps_append_each_transition_exactly_once(store: Store, store_url: str) -> None:
    """Threads of two store instances race to move one invocation back and forth between pending and ready; every
    step that was reported stored is in the transitions, once, in an order that alternates like the status did."""
    store.insert_invocations([invocation(status=S.PENDING, transitions=(Transition(S.PENDING, 0.0),))])
    other = open_store(store_url)
    barrier = threading.Barrier(6)
    stored: list[Transition] = []
    errors: list[BaseException] = []

    def race(n: int) -> None:
        target = store if n % 2 else other
        try:
            barrier.wait()
            for i in range(25):
                for current, step in ((S.PENDING, S.READY), (S.READY, S.PENDING)):
                    transition = Transition(step, float(i), f"w{n}")
                    if target.record_transition("inv-1", transition, expected=current):
                        stored.append(transition)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        other.close()
    assert errors == []
    got = store.get_invocation("inv-1")
    assert got is not None
    steps = got.transitions[1:]
    assert stored  # the first compare-and-set of all has a winner
    assert sorted(steps, key=repr) == sorted(stored, key=repr)
    assert [t.status for t in steps] == [S.READY, S.PENDING] * (len(steps) // 2) + [S.READY] * (len(steps) % 2)
    assert got.status is (steps[-1].status if steps else S.PENDING)


def test_concurrent_writers_from_many_threads_all_succeed(store: Store, store_url: str) -> None:
    """Writers in several threads and two store instances (as two processes would) never see a lock error."""
    other = open_store(store_url)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        target = store if n % 2 else other
        try:
            barrier.wait()
            for i in range(10):
                inv_id = f"t{n}-{i}"
                target.insert_invocations([invocation(inv_id, function_name=f"fn{n}", created_at=float(i))])
                target.record_transition(inv_id, Transition(S.PENDING, float(i)), expected=S.CREATED)
                target.record_transition(inv_id, Transition(S.READY, float(i)))  # reads, then writes
                target.list_invocations(function_name=f"fn{n}", limit=5)
            target.create_function(function(f"fn{n}", reserved_concurrency=n))
            target.update_function(function(f"fn{n}", reserved_concurrency=n + 1), expected_revision="rev-1")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        other.close()
    assert errors == []
    assert len(store.list_invocations(status=S.READY, limit=1000)) == 80
    assert store.total_reserved_concurrency() == sum(range(1, 9))
