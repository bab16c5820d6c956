"""The ``Store`` contract for the queue of asynchronous invocations (enqueue, claim with leases, start, finish,
heartbeat, recovery of expired leases, cancel, exact depth): every test runs against SQLite and PostgreSQL."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import pytest

from lambdahost.core.errors import InvalidParameterValue, ResourceConflict
from lambdahost.core.lifecycle import IllegalTransition
from lambdahost.core.model import ClaimRequest, Finish, Invocation, InvocationType, QueueDepth, Transition
from lambdahost.storage.base import WORKER_LOST, Store, open_store
from tests.integration.records import S, invocation

LEASE_S = 30.0


def queued(inv_id: str, created_at: float = 100.0, **changes: object) -> Invocation:
    steps = (Transition(S.CREATED, created_at), Transition(S.PENDING, created_at))
    return invocation(inv_id, status=S.PENDING, created_at=created_at, transitions=steps, **changes)


def lane(want: int = 10, lane_max: int = 10, function_name: str = "fn", lane_no: int = 0) -> list[ClaimRequest]:
    return [ClaimRequest(function_name, lane_no, lane_max, want)]


def status_of(store: Store, inv_id: str) -> S:
    found = store.get_invocation(inv_id)
    assert found is not None
    return found.status


# -- enqueue ---------------------------------------------------------------------------------------------------------
def test_enqueue_stores_a_pending_invocation_claimable_from_its_creation(store: Store) -> None:
    stored = store.enqueue(queued("a"))
    assert stored.available_at == 100.0
    assert store.get_invocation("a") == stored
    assert stored.transitions == (Transition(S.CREATED, 100.0), Transition(S.PENDING, 100.0))


def test_re_enqueueing_an_id_is_a_conflict_that_changes_nothing(store: Store) -> None:
    first = store.enqueue(queued("a", payload=b"first"))
    with pytest.raises(ResourceConflict):
        store.enqueue(queued("a", payload=b"second"))
    assert store.get_invocation("a") == first


@pytest.mark.parametrize(
    "bad",
    [
        queued("x", type=InvocationType.SYNC),
        queued("x").replace(status=S.CREATED),
        queued("x").replace(transitions=(Transition(S.CREATED, 1.0),)),
        queued("x", lease_owner="w"),
    ],
    ids=["sync", "not-pending", "no-pending-step", "leased"],
)
def test_enqueue_refuses_what_cannot_be_queued(store: Store, bad: Invocation) -> None:
    with pytest.raises(InvalidParameterValue):
        store.enqueue(bad)
    assert store.get_invocation("x") is None


def test_an_invocation_is_never_claimable_before_it_entered_the_queue(any_store: Store) -> None:
    """``available_at`` (None: the creation) earlier than the ``pending`` step is stored as that step's time; what
    ``queue_activity`` relies on to leave out, uncounted, the invocations that waited all along."""
    late_step = (Transition(S.CREATED, 100.0), Transition(S.PENDING, 105.0))
    assert any_store.enqueue(queued("none").replace(transitions=late_step)).available_at == 105.0
    assert any_store.enqueue(queued("early", available_at=103.0).replace(transitions=late_step)).available_at == 105.0
    assert any_store.enqueue(queued("delayed", available_at=110.0).replace(transitions=late_step)).available_at == 110.0
    [batched] = any_store.enqueue_many([queued("batched", available_at=101.0).replace(transitions=late_step)])
    assert batched.available_at == 105.0
    stored = any_store.get_invocation("early")
    assert stored is not None and stored.available_at == 105.0


# -- claim -----------------------------------------------------------------------------------------------------------
def test_claim_leases_the_oldest_available_first_with_payload(store: Store) -> None:
    for n, at in enumerate([103.0, 101.0, 102.0]):
        store.enqueue(queued(f"i{n}", available_at=at, payload=f"p{n}".encode()))
    claimed = store.claim("w1", 200.0, LEASE_S, lane(want=2))
    assert [inv.id for inv in claimed] == ["i1", "i2"]
    assert [inv.payload for inv in claimed] == [b"p1", b"p2"]
    for inv in claimed:
        assert (inv.status, inv.lease_owner, inv.lease_expires) == (S.READY, "w1", 230.0)
        assert inv.transitions[-1] == Transition(S.READY, 200.0, "w1")
        assert store.get_invocation(inv.id) == inv
    assert status_of(store, "i0") is S.PENDING


def test_delayed_invocations_are_not_claimable_early(store: Store) -> None:
    store.enqueue(queued("later", available_at=500.0))
    assert store.claim("w", 499.0, LEASE_S, lane()) == []
    assert [inv.id for inv in store.claim("w", 500.0, LEASE_S, lane())] == ["later"]


def test_claim_respects_the_lane_maximum_and_other_lanes_and_functions(store: Store) -> None:
    for n in range(5):
        store.enqueue(queued(f"a{n}"))
        store.enqueue(queued(f"b{n}", lane=1))
        store.enqueue(queued(f"g{n}", function_name="other"))
    assert len(store.claim("w1", 200.0, LEASE_S, lane(want=2, lane_max=3))) == 2
    # another worker: only one slot left in lane 0; lane 1 and the other function are separate
    requests = [*lane(want=5, lane_max=3), *lane(want=5, lane_max=2, lane_no=1), *lane(want=1, function_name="other")]
    claimed = store.claim("w2", 200.0, LEASE_S, requests)
    assert [inv.id for inv in claimed] == ["a2", "b0", "b1", "g0"]
    assert store.claim("w3", 200.0, LEASE_S, lane(lane_max=3)) == []
    # a running one still occupies its slot; a finished one frees it
    assert store.start("a0", "w1", 201.0)
    assert store.claim("w3", 202.0, LEASE_S, lane(lane_max=3)) == []
    assert store.finish("a0", "w1", Transition(S.SUCCEEDED, 203.0, "w1"))
    assert [inv.id for inv in store.claim("w3", 204.0, LEASE_S, lane(lane_max=3))] == ["a3"]


def test_claim_ignores_pending_rows_that_were_never_enqueued(store: Store) -> None:
    store.insert_invocations([invocation("sync", status=S.PENDING)])  # available_at NULL
    assert store.claim("w", 1e12, LEASE_S, lane()) == []


# -- start / finish --------------------------------------------------------------------------------------------------
def test_start_and_finish_only_by_the_lease_owner(store: Store) -> None:
    store.enqueue(queued("a"))
    store.claim("w1", 200.0, LEASE_S, lane())
    assert not store.start("a", "w2", 201.0)
    assert not store.finish("a", "w1", Transition(S.SUCCEEDED, 201.0, "w1"))  # not running yet
    assert store.start("a", "w1", 201.0)
    assert not store.start("a", "w1", 201.5)  # already running
    assert not store.finish("a", "w2", Transition(S.SUCCEEDED, 202.0, "w2"))
    done = invocation("a", result=b"42", duration_ms=5.0, worker="w1", finished_at=202.0)
    assert store.finish("a", "w1", Transition(S.SUCCEEDED, 202.0, "w1"), done)
    stored = store.get_invocation("a")
    assert stored is not None
    assert (stored.status, stored.result, stored.finished_at, stored.lease_owner) == (S.SUCCEEDED, b"42", 202.0, None)
    assert [t.status for t in stored.transitions] == [S.CREATED, S.PENDING, S.READY, S.RUNNING, S.SUCCEEDED]
    assert not store.finish("a", "w1", Transition(S.FAILED, 203.0, "w1"))
    assert not store.start("missing", "w1", 1.0)


def test_finish_as_a_retry_requeues_with_the_next_attempt_and_a_backoff(store: Store) -> None:
    store.enqueue(queued("a"))
    store.claim("w1", 200.0, LEASE_S, lane())
    store.start("a", "w1", 201.0)
    failed = invocation("a", error_type="Boom", error_message="boom")
    assert store.finish("a", "w1", Transition(S.PENDING, 202.0, "w1"), failed, retry_at=260.0)
    stored = store.get_invocation("a")
    assert stored is not None
    assert (stored.status, stored.attempt, stored.available_at, stored.lease_owner) == (S.PENDING, 2, 260.0, None)
    assert stored.error_type == "Boom"
    assert store.claim("w2", 259.0, LEASE_S, lane()) == []
    assert [inv.attempt for inv in store.claim("w2", 260.0, LEASE_S, lane())] == [2]


def test_a_retry_that_consumes_no_attempt_keeps_the_attempt(store: Store) -> None:
    store.enqueue(queued("a"))
    store.claim("w1", 200.0, LEASE_S, lane())
    store.start("a", "w1", 201.0)
    failed = invocation("a", error_type="Lambdahost.WorkerError")
    assert store.finish("a", "w1", Transition(S.PENDING, 202.0, "w1"), failed, retry_at=203.0, consume=False)
    stored = store.get_invocation("a")
    assert stored is not None and (stored.status, stored.attempt, stored.available_at) == (S.PENDING, 1, 203.0)
    assert [inv.attempt for inv in store.claim("w2", 203.0, LEASE_S, lane())] == [1]


def test_finish_refuses_other_statuses_and_a_retry_without_a_time(store: Store) -> None:
    store.enqueue(queued("a"))
    store.claim("w1", 200.0, LEASE_S, lane())
    store.start("a", "w1", 201.0)
    with pytest.raises(IllegalTransition):
        store.finish("a", "w1", Transition(S.READY, 202.0, "w1"))
    with pytest.raises(IllegalTransition):
        store.finish("a", "w1", Transition(S.ORPHANED, 202.0, "w1"))
    with pytest.raises(InvalidParameterValue):
        store.finish("a", "w1", Transition(S.PENDING, 202.0, "w1"))
    with pytest.raises(InvalidParameterValue):
        store.finish("a", "w1", Transition(S.SUCCEEDED, 202.0, "w1"), retry_at=300.0)
    assert status_of(store, "a") is S.RUNNING


def test_a_retry_cannot_be_claimable_before_its_pending_step(any_store: Store) -> None:
    any_store.enqueue(queued("a"))
    any_store.claim("w1", 200.0, LEASE_S, [ClaimRequest("fn", 0, 10, 1, start=True)])
    failed = invocation("a", error_type="Boom")
    with pytest.raises(InvalidParameterValue):
        any_store.finish("a", "w1", Transition(S.PENDING, 202.0, "w1"), failed, retry_at=201.0)
    assert status_of(any_store, "a") is S.RUNNING
    assert any_store.finish("a", "w1", Transition(S.PENDING, 202.0, "w1"), failed, retry_at=202.0)


def test_a_final_finish_always_stores_a_finished_at(any_store: Store) -> None:
    """The one ``changes`` carries, else the transition's time (a finished invocation is found by it: the logs'
    paging, ``queue_activity``); a retry stores none."""
    for name in ("bare", "no-time", "timed", "retried"):
        any_store.enqueue(queued(name))
    any_store.claim("w1", 200.0, LEASE_S, [ClaimRequest("fn", 0, 10, 4, start=True)])
    assert any_store.finish("bare", "w1", Transition(S.SUCCEEDED, 202.0, "w1"))
    assert any_store.finish("no-time", "w1", Transition(S.FAILED, 203.0, "w1"), invocation("no-time"))
    timed = invocation("timed", finished_at=203.5)
    assert any_store.finish("timed", "w1", Transition(S.SUCCEEDED, 204.0, "w1"), timed)
    failed = invocation("retried", error_type="Boom")
    assert any_store.finish("retried", "w1", Transition(S.PENDING, 205.0, "w1"), failed, retry_at=206.0)
    names = ("bare", "no-time", "timed", "retried")
    ended = {name: getattr(any_store.get_invocation(name), "finished_at", "missing") for name in names}
    assert ended == {"bare": 202.0, "no-time": 203.0, "timed": 203.5, "retried": None}


def test_finish_terminated_stops_a_ready_or_running_invocation_of_the_lease_owner(store: Store) -> None:
    for name in ("ready", "running"):
        store.enqueue(queued(name))
    store.claim("w1", 200.0, LEASE_S, lane())
    store.start("running", "w1", 201.0)
    stopped = invocation("ready", error_type="EventAgeExceeded", routed_to="arn:q", route_condition="EventAgeExceeded")
    assert not store.finish("ready", "w2", Transition(S.TERMINATED, 202.0, "w2"), stopped), "not the owner"
    assert store.finish("ready", "w1", Transition(S.TERMINATED, 202.0, "w1"), stopped)
    assert store.finish("running", "w1", Transition(S.TERMINATED, 202.0, "w1"))
    ready = store.get_invocation("ready")
    assert ready is not None and ready.status is S.TERMINATED and ready.lease_owner is None
    assert (ready.error_type, ready.routed_to, ready.route_condition) == (
        "EventAgeExceeded",
        "arn:q",
        "EventAgeExceeded",
    )
    assert [t.status for t in ready.transitions] == [S.CREATED, S.PENDING, S.READY, S.TERMINATED]
    assert status_of(store, "running") is S.TERMINATED
    assert not store.finish("ready", "w1", Transition(S.TERMINATED, 203.0, "w1")), "already finished"


def test_a_claim_with_start_leaves_its_invocations_running(store: Store) -> None:
    for name in ("a", "b", "c"):
        store.enqueue(queued(name))
    claimed = store.claim("w1", 200.0, LEASE_S, [ClaimRequest("fn", 0, 2, 2, start=True)])
    assert [(inv.id, inv.status) for inv in claimed] == [("a", S.RUNNING), ("b", S.RUNNING)]
    a = store.get_invocation("a")
    assert a is not None and a.lease_owner == "w1"
    assert a.transitions[-2:] == (Transition(S.READY, 200.0, "w1"), Transition(S.RUNNING, 200.0, "w1"))
    assert store.claim("w2", 201.0, LEASE_S, [ClaimRequest("fn", 0, 2, 5, start=True)]) == [], "the lane is full"
    assert store.finish("a", "w1", Transition(S.SUCCEEDED, 202.0, "w1"), invocation("a", finished_at=202.0))
    assert [inv.id for inv in store.claim("w2", 203.0, LEASE_S, lane(lane_max=2))] == ["c"]


def test_finish_many_checks_each_invocation_on_its_own(store: Store) -> None:
    for name in ("a", "b", "c"):
        store.enqueue(queued(name))
    store.claim("w1", 200.0, LEASE_S, [ClaimRequest("fn", 0, 10, 2, start=True)])  # a, b; c stays pending
    ok = invocation("a", result=b"1", worker="w1", finished_at=202.0)
    stale = invocation("b", attempt=5, result=b"stale", worker="w1", finished_at=202.0)
    results = store.finish_many(
        "w1",
        [
            Finish("a", Transition(S.SUCCEEDED, 202.0, "w1"), ok),
            Finish("b", Transition(S.SUCCEEDED, 202.0, "w1"), stale),  # not the stored attempt
            Finish("c", Transition(S.FAILED, 202.0, "w1")),  # not running
        ],
    )
    assert results == [True, False, False]
    assert (status_of(store, "a"), status_of(store, "b"), status_of(store, "c")) == (S.SUCCEEDED, S.RUNNING, S.PENDING)
    with pytest.raises(IllegalTransition):  # a bad item refuses the whole batch before anything is written
        store.finish_many(
            "w1", [Finish("b", Transition(S.SUCCEEDED, 203.0, "w1")), Finish("b", Transition(S.READY, 203.0))]
        )
    assert status_of(store, "b") is S.RUNNING


def test_hand_back_returns_everything_a_worker_holds_expired_or_not(store: Store) -> None:
    for n in range(4):
        store.enqueue(queued(f"i{n}", attempt=3 if n == 2 else 1))
    store.claim("leaving", 200.0, LEASE_S, lane(want=3))  # i0, i1, i2 until 230
    store.claim("other", 200.0, LEASE_S, lane(want=1))  # i3
    store.start("i0", "leaving", 201.0)
    store.start("i2", "leaving", 201.0)
    assert sorted(store.hand_back("leaving", 205.0, max_attempts=3)) == ["i0", "i1", "i2"]
    i0, i1, i2 = (store.get_invocation(f"i{n}") for n in range(3))
    assert i0 is not None and i1 is not None and i2 is not None
    assert (i0.status, i0.attempt, i0.available_at) == (S.PENDING, 2, 205.0), "it may have run: an attempt is used"
    assert i0.transitions[-2:] == (Transition(S.ORPHANED, 205.0, "leaving"), Transition(S.PENDING, 205.0, "leaving"))
    assert (i1.status, i1.attempt) == (S.PENDING, 1), "never started: no attempt used"
    assert (i2.status, i2.error_type) == (S.FAILED, WORKER_LOST), "no attempt left"
    assert status_of(store, "i3") is S.READY, "another worker's lease is left alone"
    assert store.hand_back("leaving", 206.0, max_attempts=3) == []


# -- heartbeat and workers -------------------------------------------------------------------------------------------
def test_heartbeat_records_the_worker_and_extends_only_its_leases(store: Store) -> None:
    for n in range(3):
        store.enqueue(queued(f"i{n}"))
    store.claim("w1", 200.0, LEASE_S, lane(want=2))
    store.claim("w2", 200.0, LEASE_S, lane(want=1))
    store.start("i0", "w1", 201.0)
    assert store.heartbeat("w1", "host-a", 11, 210.0, LEASE_S) == 2
    assert store.heartbeat("w1", "host-a", 12, 215.0, LEASE_S) == 2
    assert store.heartbeat("w3", "host-b", 13, 216.0, LEASE_S) == 0
    leases = {inv_id: store.get_invocation(inv_id) for inv_id in ("i0", "i1", "i2")}
    assert [(inv.lease_owner, inv.lease_expires) for inv in leases.values() if inv] == [
        ("w1", 245.0),
        ("w1", 245.0),
        ("w2", 230.0),
    ]
    workers = store.workers()
    assert [(w.id, w.host, w.pid, w.started_at, w.heartbeat_at, w.stopped_at) for w in workers] == [
        ("w1", "host-a", 12, 210.0, 215.0, None),
        ("w3", "host-b", 13, 216.0, 216.0, None),
    ]


def test_a_heartbeat_naming_what_it_holds_lets_the_rest_expire(store: Store) -> None:
    for n in range(3):
        store.enqueue(queued(f"i{n}"))
    store.claim("w1", 200.0, LEASE_S, lane(want=3))  # until 230
    store.start("i0", "w1", 201.0)
    assert store.heartbeat("w1", "host-a", 11, 210.0, LEASE_S, holding=["i0", "i2", "someone-elses"]) == 2
    assert store.heartbeat("w1", "host-a", 11, 211.0, LEASE_S, holding=[]) == 0
    assert sorted(store.recover_expired("rescuer", 231.0, max_attempts=3)) == ["i1"], "the one it lost track of"
    assert (status_of(store, "i0"), status_of(store, "i1"), status_of(store, "i2")) == (S.RUNNING, S.PENDING, S.READY)


# -- recovery --------------------------------------------------------------------------------------------------------
def test_recover_expired_requeues_running_with_attempts_left_and_ready_without_using_one(store: Store) -> None:
    for n in range(3):
        store.enqueue(queued(f"i{n}"))
    store.claim("dead", 200.0, LEASE_S, lane(want=2))  # i0, i1 until 230
    store.claim("alive", 200.0, 100.0, lane(want=1))  # i2 until 300
    store.start("i0", "dead", 201.0)
    assert store.recover_expired("rescuer", 230.0, max_attempts=3) == []  # not yet expired
    assert sorted(store.recover_expired("rescuer", 231.0, max_attempts=3)) == ["i0", "i1"]
    i0, i1 = store.get_invocation("i0"), store.get_invocation("i1")
    assert i0 is not None and i1 is not None
    assert (i0.status, i0.attempt, i0.available_at, i0.lease_owner, i0.lease_expires) == (
        S.PENDING,
        2,
        231.0,
        None,
        None,
    )
    assert i0.transitions[-2:] == (Transition(S.ORPHANED, 231.0, "rescuer"), Transition(S.PENDING, 231.0, "rescuer"))
    assert (i1.status, i1.attempt) == (S.PENDING, 1)
    assert i1.transitions[-1] == Transition(S.PENDING, 231.0, "rescuer")
    assert status_of(store, "i2") is S.READY
    # the expired lease was taken over: its old owner can no longer start or finish
    assert not store.start("i1", "dead", 232.0)
    assert not store.finish("i0", "dead", Transition(S.SUCCEEDED, 232.0, "dead"))
    assert sorted(inv.id for inv in store.claim("alive", 233.0, LEASE_S, lane())) == ["i0", "i1"]


def test_recover_expired_fails_a_running_invocation_without_attempts_left(store: Store) -> None:
    store.enqueue(queued("a", attempt=3))
    store.claim("dead", 200.0, LEASE_S, lane())
    store.start("a", "dead", 201.0)
    assert store.recover_expired("rescuer", 300.0, max_attempts=3) == ["a"]
    stored = store.get_invocation("a")
    assert stored is not None
    assert (stored.status, stored.error_type, stored.finished_at, stored.lease_owner) == (
        S.FAILED,
        WORKER_LOST,
        300.0,
        None,
    )
    assert stored.error_message is not None and "dead" in stored.error_message
    assert stored.transitions[-2:] == (Transition(S.ORPHANED, 300.0, "rescuer"), Transition(S.FAILED, 300.0, "rescuer"))
    assert store.recover_expired("rescuer", 400.0, max_attempts=3) == []


def test_set_route_records_where_a_failed_lost_invocation_went_once(store: Store) -> None:
    store.enqueue(queued("a", attempt=3))
    store.enqueue(queued("b"))
    store.claim("dead", 200.0, LEASE_S, lane(want=1))
    store.start("a", "dead", 201.0)
    assert not store.set_route("a", "arn:dlq", "RetriesExhausted"), "running: not finished yet"
    assert store.recover_expired("rescuer", 300.0, max_attempts=3) == ["a"]
    before = store.get_invocation("a")
    assert store.set_route("a", "arn:aws:sqs:us-east-1:000000000000:dlq", "RetriesExhausted")
    stored = store.get_invocation("a")
    assert stored is not None and before is not None
    assert (stored.routed_to, stored.route_condition) == ("arn:aws:sqs:us-east-1:000000000000:dlq", "RetriesExhausted")
    assert stored.transitions == before.transitions and stored.status is S.FAILED, "no step added"
    assert not store.set_route("a", "elsewhere", "RetriesExhausted"), "routed once"
    assert not store.set_route("b", "arn:dlq", "RetriesExhausted"), "pending"
    assert not store.set_route("missing", "arn:dlq", "RetriesExhausted")


def test_a_heartbeat_keeps_leases_from_expiring(store: Store) -> None:
    store.enqueue(queued("a"))
    store.claim("w", 200.0, LEASE_S, lane())
    store.start("a", "w", 201.0)
    store.heartbeat("w", "h", 1, 225.0, LEASE_S)
    assert store.recover_expired("r", 240.0, max_attempts=3) == []
    assert status_of(store, "a") is S.RUNNING


# -- cancel ----------------------------------------------------------------------------------------------------------
def test_cancel_terminates_any_unfinished_invocation_once(store: Store) -> None:
    for n in range(3):
        store.enqueue(queued(f"i{n}"))
    store.claim("w", 200.0, LEASE_S, lane(want=2))
    store.start("i0", "w", 201.0)
    for inv_id in ("i0", "i1", "i2"):
        assert store.cancel(inv_id, "admin", 210.0)
        stored = store.get_invocation(inv_id)
        assert stored is not None
        assert (stored.status, stored.lease_owner, stored.finished_at) == (S.TERMINATED, None, 210.0)
        assert stored.transitions[-1] == Transition(S.TERMINATED, 210.0, "admin")
        assert not store.cancel(inv_id, "admin", 211.0)
    assert not store.finish("i0", "w", Transition(S.SUCCEEDED, 212.0, "w"))
    assert not store.cancel("missing", None, 1.0)


# -- queue depth -----------------------------------------------------------------------------------------------------
def test_queue_depth_is_exact_after_a_mix_of_operations(store: Store) -> None:
    for n in range(6):
        store.enqueue(queued(f"a{n}"))
    store.enqueue(queued("b0", lane=1))
    store.enqueue(queued("z0", function_name="zeta"))
    store.insert_invocations([invocation("old", status=S.SUCCEEDED)])
    store.claim("w", 200.0, LEASE_S, lane(want=4))  # a0..a3 ready
    store.start("a0", "w", 201.0)
    store.start("a1", "w", 201.0)
    store.finish("a1", "w", Transition(S.FAILED, 202.0, "w"))
    store.cancel("a2", None, 203.0)
    store.cancel("z0", None, 203.0)
    assert store.queue_depth() == [
        QueueDepth("fn", 0, S.PENDING, 2),
        QueueDepth("fn", 0, S.READY, 1),
        QueueDepth("fn", 0, S.RUNNING, 1),
        QueueDepth("fn", 1, S.PENDING, 1),
    ]
    store.recover_expired("r", 1000.0, max_attempts=3)
    assert store.queue_depth() == [QueueDepth("fn", 0, S.PENDING, 4), QueueDepth("fn", 1, S.PENDING, 1)]


def test_pending_lanes_are_the_lanes_with_a_pending_invocation(any_store: Store) -> None:
    assert any_store.pending_lanes() == []
    for n in range(5):
        any_store.enqueue(queued(f"a{n}", lane=n % 3))  # fn lanes 0, 1, 2
    any_store.enqueue(queued("b0", function_name="beta", lane=4))
    any_store.enqueue(queued("c0", function_name="gamma"))
    any_store.enqueue(queued("d0", function_name="delta", lane=1))
    any_store.insert_invocations([invocation("old", function_name="omega", status=S.SUCCEEDED)])
    assert any_store.pending_lanes() == [("beta", 4), ("delta", 1), ("fn", 0), ("fn", 1), ("fn", 2), ("gamma", 0)]
    any_store.claim("w", 200.0, LEASE_S, lane(want=10, lane_no=2))  # fn's lane 2 (a2) is ready now
    any_store.cancel("c0", None, 201.0)
    assert any_store.pending_lanes() == [("beta", 4), ("delta", 1), ("fn", 0), ("fn", 1)]


def test_queue_depth_of_one_function(any_store: Store) -> None:
    for n in range(3):
        any_store.enqueue(queued(f"a{n}"))
    any_store.enqueue(queued("b0", lane=1))
    any_store.enqueue(queued("z0", function_name="zeta"))
    any_store.claim("w", 200.0, LEASE_S, lane(want=1))
    assert any_store.queue_depth("fn") == [
        QueueDepth("fn", 0, S.PENDING, 2),
        QueueDepth("fn", 0, S.READY, 1),
        QueueDepth("fn", 1, S.PENDING, 1),
    ]
    assert any_store.queue_depth("zeta") == [QueueDepth("zeta", 0, S.PENDING, 1)]
    assert any_store.queue_depth("nobody") == []
    assert any_store.queue_depth() == [*any_store.queue_depth("fn"), *any_store.queue_depth("zeta")]


# -- concurrency -----------------------------------------------------------------------------------------------------
def test_racing_claimers_never_lose_or_duplicate_an_invocation(store: Store, store_url: str) -> None:
    ids = [f"i{n:03d}" for n in range(500)]
    for inv_id in ids:
        store.enqueue(queued(inv_id))
    claimed: list[list[str]] = [[] for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def claimer(slot: int) -> None:
        own = open_store(store_url)
        try:
            barrier.wait()
            while batch := own.claim(f"w{slot}", 200.0, LEASE_S, lane(want=7, lane_max=1000)):
                claimed[slot].extend(inv.id for inv in batch)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.close()

    run_threads([lambda n=n: claimer(n) for n in range(4)])
    assert errors == []
    union = [inv_id for part in claimed for inv_id in part]
    assert sorted(union) == ids  # every one, none twice
    assert store.queue_depth() == [QueueDepth("fn", 0, S.READY, 500)]


def test_the_lane_maximum_holds_across_concurrent_claimers(store: Store, store_url: str) -> None:
    total, lane_max = 60, 3
    for n in range(total):
        store.enqueue(queued(f"i{n:03d}"))
    claimed: queue.Queue[tuple[str, str]] = queue.Queue()
    seen: list[str] = []
    peaks: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def claimer(slot: int) -> None:
        own = open_store(store_url)
        try:
            while not done.is_set():
                for inv in own.claim(f"w{slot}", 200.0, LEASE_S, lane(want=2, lane_max=lane_max)):
                    claimed.put((inv.id, f"w{slot}"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.close()

    def finisher() -> None:
        own = open_store(store_url)
        try:
            while len(seen) < total:
                inv_id, worker = claimed.get(timeout=30)
                busy = sum(d.count for d in own.queue_depth() if d.status in (S.READY, S.RUNNING))
                peaks.append(busy)
                assert own.start(inv_id, worker, 201.0)
                assert own.finish(inv_id, worker, Transition(S.SUCCEEDED, 202.0, worker))
                seen.append(inv_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()
            own.close()

    run_threads([finisher, *(lambda n=n: claimer(n) for n in range(4))])
    assert errors == []
    assert sorted(seen) == [f"i{n:03d}" for n in range(total)]
    assert max(peaks) <= lane_max
    assert max(peaks) >= 1
    assert store.queue_depth() == []


def run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)


# -- enqueue_many (a batch in one transaction, all or nothing) -------------------------------------------------------
def test_enqueue_many_stores_the_batch_in_order_and_it_is_claimable(store: Store) -> None:
    batch = [queued(f"b{n}", created_at=100.0 + n, payload=f"p{n}".encode()) for n in (2, 0, 1)]
    stored = store.enqueue_many(batch)
    assert [inv.id for inv in stored] == ["b2", "b0", "b1"], "returned in the order given"
    assert [inv.available_at for inv in stored] == [102.0, 100.0, 101.0]
    assert [store.get_invocation(inv.id) for inv in stored] == stored
    claimed = store.claim("w1", 200.0, LEASE_S, lane(want=10))
    assert [(inv.id, inv.payload) for inv in claimed] == [("b0", b"p0"), ("b1", b"p1"), ("b2", b"p2")]
    assert store.enqueue_many([]) == []


def test_enqueue_many_with_a_taken_id_is_a_conflict_that_inserts_none(
    store: Store, count_rows: Callable[..., int]
) -> None:
    first = store.enqueue(queued("i0700", payload=b"first"))
    batch = [queued(f"i{n:04d}", payload=b"second") for n in range(1000)]
    with pytest.raises(ResourceConflict, match=r"^Invocation already exists: i0700$"):
        store.enqueue_many(batch)
    assert count_rows("invocations") == 1
    assert store.get_invocation("i0700") == first


def test_enqueue_many_with_one_id_twice_is_a_conflict_that_inserts_none(
    store: Store, count_rows: Callable[..., int]
) -> None:
    with pytest.raises(ResourceConflict, match="b1 appears twice in the batch"):
        store.enqueue_many([queued("b0"), queued("b1"), queued("b1")])
    assert count_rows("invocations") == 0


def test_enqueue_many_checks_every_record_before_writing_any(store: Store, count_rows: Callable[..., int]) -> None:
    with pytest.raises(InvalidParameterValue):
        store.enqueue_many([queued("good"), queued("bad", lease_owner="w"), queued("also-good")])
    assert count_rows("invocations") == 0
    assert store.claim("w1", 200.0, LEASE_S, lane()) == []


def test_enqueue_many_wakes_subscribers_of_other_stores(store: Store, store_url: str) -> None:
    other = open_store(store_url)  # as another process would (PostgreSQL: NOTIFY; SQLite: wake-up sockets)
    calls: queue.Queue[tuple[str | None, int]] = queue.Queue()
    stop = other.subscribe(lambda name, lane: calls.put((name, lane)))
    try:
        if store_url.startswith("postgresql"):
            assert calls.get(timeout=10) == (None, 0)  # once when its LISTEN is in place: work may be anywhere
        store.enqueue_many([queued(f"n{n}") for n in range(3)] + [queued("other-lane", lane=2)])
        assert {calls.get(timeout=10), calls.get(timeout=10)} == {("fn", 0), ("fn", 2)}, "each lane said once"
    finally:
        stop()
        other.close()


def test_a_hand_back_wakes_subscribers_of_other_stores(store: Store, store_url: str) -> None:
    store.enqueue(queued("held"))
    assert [inv.id for inv in store.claim("w1", 200.0, LEASE_S, lane())] == ["held"]
    other = open_store(store_url)  # as another process would
    calls: queue.Queue[tuple[str | None, int]] = queue.Queue()
    stop = other.subscribe(lambda name, lane: calls.put((name, lane)))
    try:
        if store_url.startswith("postgresql"):
            assert calls.get(timeout=10) == (None, 0)  # once when its LISTEN is in place
        assert store.hand_back("w1", 201.0, 3) == ["held"]
        assert calls.get(timeout=10) == (None, 0), "work may be anywhere: the worker reads the queue's lanes"
    finally:
        stop()
        other.close()
