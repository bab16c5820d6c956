"""The ``Store.queue_activity`` contract (what the queue-depth chart reads): every test runs against SQLite,
PostgreSQL and the in-memory fake. The invocations are driven through the queue's own operations (enqueue, claim,
start, finish, cancel, recovery), and each lane's depth swept from the answer (``core.queue_history``) is checked
against depths computed by hand and against ``queue_depth``."""

from __future__ import annotations

import pytest

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.model import ClaimRequest, Invocation, InvocationType, Transition
from lambdahost.core.queue_history import depth_series
from lambdahost.storage.base import Store
from tests.integration.records import S, invocation

LEASE_S = 30.0
Points = list[tuple[float, int]]


def queue(store: Store, inv_id: str, at: float, lane: int = 0, function_name: str = "fn") -> Invocation:
    steps = (Transition(S.CREATED, at), Transition(S.PENDING, at))
    record = invocation(inv_id, function_name=function_name, status=S.PENDING, created_at=at, transitions=steps)
    return store.enqueue(record.replace(lane=lane))


def claim(store: Store, now: float, lane: int = 0, want: int = 1, start: bool = True) -> list[str]:
    return [inv.id for inv in store.claim("w", now, LEASE_S, [ClaimRequest("fn", lane, 10, want, start)])]


def depths(store: Store, lanes: tuple[int, ...], since: float, end: float, limit: int = 100) -> dict[int, Points]:
    activity = store.queue_activity("fn", lanes, since, limit)
    return {s.lane: list(s.points) for s in depth_series(activity, lanes, end)}


def waiting_now(store: Store, lane: int) -> int:
    """What ``queue_depth`` says waits in ``lane`` of ``fn``: its pending and ready invocations."""
    return sum(
        d.count
        for d in store.queue_depth()
        if d.function_name == "fn" and d.lane == lane and d.status in (S.PENDING, S.READY)
    )


def lifecycle(store: Store) -> None:
    """Lane 0: a waits [10, 14) and, retried, [17, now); b [11, 19); d [13, 19), cancelled while running. Lane 1: c
    waits [12, 16): claimed at 15 without starting (ready still waits), started at 16, still running."""
    for inv_id, at, lane in (("a", 10.0, 0), ("b", 11.0, 0), ("c", 12.0, 1), ("d", 13.0, 0)):
        queue(store, inv_id, at, lane)
    assert claim(store, 14.0) == ["a"]
    assert claim(store, 15.0, lane=1, start=False) == ["c"]
    assert store.start("c", "w", 16.0)
    failed = store.get_invocation("a")
    assert failed is not None
    assert store.finish("a", "w", Transition(S.PENDING, 17.0, "w"), failed, retry_at=18.0)
    assert claim(store, 19.0, want=2) == ["b", "d"]
    assert store.finish("b", "w", Transition(S.SUCCEEDED, 20.0, "w"))
    assert store.cancel("d", "w", 21.0)


def test_a_lifecycle_driven_through_the_queue_gives_each_lanes_exact_depth_at_every_moment(any_store: Store) -> None:
    lifecycle(any_store)
    assert depths(any_store, (0, 1), 0.0, 30.0) == {
        0: [(0.0, 0), (10.0, 1), (11.0, 2), (13.0, 3), (14.0, 2), (17.0, 3), (19.0, 1), (30.0, 1)],
        1: [(0.0, 0), (12.0, 1), (16.0, 0), (30.0, 0)],
    }
    # the last point is the depth queue_depth counts now (pending and ready)
    assert (waiting_now(any_store, 0), waiting_now(any_store, 1)) == (1, 0)


def test_a_later_window_starts_with_what_waited_then(any_store: Store) -> None:
    lifecycle(any_store)
    # at 15, b and d wait (a runs): b and d are read as finished after 15, a as pending from 18
    assert depths(any_store, (0,), 15.0, 30.0) == {0: [(15.0, 2), (17.0, 3), (19.0, 1), (30.0, 1)]}
    # at 25 only a waits, pending since before 25: counted, not read; b and d finished before 25: not read
    activity = any_store.queue_activity("fn", (0, 1), 25.0, 100)
    assert activity.since == 25.0 and dict(activity.waiting) == {0: 1}
    assert [(inv.lane, inv.steps[-1][0]) for inv in activity.invocations] == [(1, S.RUNNING)]  # c only
    assert depths(any_store, (0, 1), 25.0, 30.0) == {0: [(25.0, 1), (30.0, 1)], 1: [(25.0, 0), (30.0, 0)]}


def test_synchronous_invocations_other_functions_and_other_lanes_are_left_out(any_store: Store) -> None:
    queue(any_store, "mine", 10.0)
    queue(any_store, "other-function", 10.0, function_name="other")
    queue(any_store, "other-lane", 10.0, lane=3)
    never_queued = invocation(
        "sync",
        type=InvocationType.SYNC,
        status=S.PENDING,
        created_at=10.0,
        transitions=(Transition(S.CREATED, 10.0), Transition(S.PENDING, 10.0)),
    )
    sync_done = invocation(
        "sync-done",
        type=InvocationType.SYNC,
        status=S.SUCCEEDED,
        created_at=11.0,
        finished_at=12.0,
        transitions=(Transition(S.PENDING, 11.0), Transition(S.RUNNING, 11.5), Transition(S.SUCCEEDED, 12.0)),
    )
    any_store.insert_invocations([never_queued, sync_done])  # available_at None: never in the queue
    assert depths(any_store, (0, 1), 0.0, 20.0) == {0: [(0.0, 0), (10.0, 1), (20.0, 1)], 1: [(0.0, 0), (20.0, 0)]}
    assert any_store.queue_activity("fn", (), 0.0, 10).invocations == ()


def depth_at(points: Points, t: float) -> int:
    return [depth for at, depth in points if at <= t][-1]


@pytest.mark.parametrize("limit", [2, 3, 5])
def test_a_full_part_moves_the_start_up_and_the_answer_stays_exact(any_store: Store, limit: int) -> None:
    """Six invocations that waited and finished (at 20 to 25), four still pending (queued at 30 to 33), one of them
    retried; read ``limit`` at a time, the window starts where the rows read still tell everything, and every depth
    from there on is the one read without a limit."""
    for n in range(6):
        queue(any_store, f"done-{n}", 10.0 + n)
    for n in range(6):
        assert claim(any_store, 14.0 + n) == [f"done-{n}"]
        assert any_store.finish(f"done-{n}", "w", Transition(S.SUCCEEDED, 20.0 + n, "w"))
    for n in range(4):
        queue(any_store, f"late-{n}", 30.0 + n)
    assert claim(any_store, 34.0) == ["late-0"]
    retried = any_store.get_invocation("late-0")
    assert retried is not None
    assert any_store.finish("late-0", "w", Transition(S.PENDING, 35.0, "w"), retried, retry_at=36.0)

    full = depths(any_store, (0,), 0.0, 40.0, limit=1000)[0]
    activity = any_store.queue_activity("fn", (0,), 0.0, limit)
    # a part that filled its limit starts the window at the oldest key it read (the limit-th newest)
    finished_keys = [20.0, 21.0, 22.0, 23.0, 24.0, 25.0]  # finished_at
    pending_keys = [31.0, 32.0, 33.0, 36.0]  # available_at (late-0's retry: 36)
    expected_since = max(keys[-limit] if len(keys) >= limit else 0.0 for keys in (finished_keys, pending_keys))
    assert activity.since == expected_since
    capped = depth_series(activity, (0,), 40.0)[0].points
    assert capped[0][0] == expected_since
    for at, depth in capped:
        assert depth == depth_at(full, at), (at, capped, full)
    for at, depth in full:
        if at >= expected_since:
            assert depth_at(list(capped), at) == depth
    assert capped[-1][1] == waiting_now(any_store, 0) == 4


def test_a_limit_below_one_is_refused(any_store: Store) -> None:
    with pytest.raises(InvalidParameterValue):
        any_store.queue_activity("fn", (0,), 0.0, 0)


def test_recovered_leases_wait_again(any_store: Store) -> None:
    """A worker lost while running (``running -> orphaned -> pending``) and one lost before it started (``ready ->
    pending``): both wait again from the recovery."""
    queue(any_store, "ran", 10.0)
    queue(any_store, "claimed", 11.0, lane=1)
    assert claim(any_store, 12.0) == ["ran"]
    assert claim(any_store, 12.0, lane=1, start=False) == ["claimed"]
    assert sorted(any_store.recover_expired("r", 12.0 + LEASE_S + 1, max_attempts=3)) == ["claimed", "ran"]
    recovered = 12.0 + LEASE_S + 1
    assert depths(any_store, (0, 1), 0.0, 50.0) == {
        0: [(0.0, 0), (10.0, 1), (12.0, 0), (recovered, 1), (50.0, 1)],
        1: [(0.0, 0), (11.0, 1), (50.0, 1)],  # ready still waited: the wait never ended
    }
    assert (waiting_now(any_store, 0), waiting_now(any_store, 1)) == (1, 1)
