"""The queue-depth sweep (``core.queue_history``): each lane's exact depth over time from lifecycle transitions,
checked against depths computed by hand."""

from __future__ import annotations

from lambdahost.core.model import InvocationStatus as S
from lambdahost.core.model import Transition
from lambdahost.core.queue_history import DepthSeries, QueueActivity, QueuedInvocation, Step, depth_series, waits


def steps(*pairs: Step) -> tuple[Step, ...]:
    return pairs


def ran(queued: float, started: float, ended: float, outcome: S = S.SUCCEEDED) -> tuple[Step, ...]:
    """Queued at ``queued``, claimed and started at ``started`` (as the worker does, in one step), ended."""
    return steps((S.CREATED, queued), (S.PENDING, queued), (S.READY, started), (S.RUNNING, started), (outcome, ended))


def series(activity: QueueActivity, end: float, lanes: tuple[int, ...] = (0,)) -> dict[int, list[tuple[float, int]]]:
    return {s.lane: list(s.points) for s in depth_series(activity, lanes, end)}


def test_a_wait_lasts_from_pending_until_running_and_ready_still_waits() -> None:
    claimed_late = steps((S.CREATED, 1.0), (S.PENDING, 1.0), (S.READY, 2.0), (S.RUNNING, 3.0), (S.SUCCEEDED, 4.0))
    assert waits(claimed_late) == [(1.0, 3.0)]
    assert waits(ran(1.0, 1.0, 2.0)) == [(1.0, 1.0)]  # claimed at once: an empty wait
    assert waits(steps((S.CREATED, 1.0), (S.PENDING, 1.5))) == [(1.5, None)]  # still pending
    cancelled = steps((S.CREATED, 1.0), (S.PENDING, 1.0), (S.TERMINATED, 5.0))
    assert waits(cancelled) == [(1.0, 5.0)]
    synchronous_like = steps((S.CREATED, 1.0), (S.RUNNING, 1.0), (S.SUCCEEDED, 2.0))
    assert waits(synchronous_like) == []


def test_retries_wait_again_each_time_they_go_back_to_pending() -> None:
    retried = steps(
        (S.CREATED, 1.0),
        (S.PENDING, 1.0),
        (S.READY, 2.0),
        (S.RUNNING, 2.0),
        (S.PENDING, 4.0),  # failed attempt, retried
        (S.READY, 6.0),
        (S.RUNNING, 6.0),
        (S.ORPHANED, 7.0),  # its worker was lost
        (S.PENDING, 7.0),
        (S.READY, 9.0),
        (S.PENDING, 9.5),  # a lease that expired before it started: back without leaving the queue
        (S.READY, 10.0),
        (S.RUNNING, 10.0),
        (S.SUCCEEDED, 11.0),
    )
    assert waits(retried) == [(1.0, 2.0), (4.0, 6.0), (7.0, 10.0)]
    activity = QueueActivity(0.0, (QueuedInvocation(0, retried),))
    assert series(activity, 12.0) == {
        0: [(0.0, 0), (1.0, 1), (2.0, 0), (4.0, 1), (6.0, 0), (7.0, 1), (10.0, 0), (12.0, 0)]
    }


def test_overlapping_waits_add_up_and_a_still_pending_one_is_the_current_depth() -> None:
    # a waits [1, 5), b [3, 8), c [6, now), d [3, 3) (claimed at once: never counted)
    activity = QueueActivity(
        0.0,
        (
            QueuedInvocation(0, ran(1.0, 5.0, 5.5)),
            QueuedInvocation(0, ran(3.0, 8.0, 9.0, S.FAILED)),
            QueuedInvocation(0, steps((S.CREATED, 6.0), (S.PENDING, 6.0))),
            QueuedInvocation(0, ran(3.0, 3.0, 4.0)),
        ),
    )
    points = series(activity, 10.0)[0]
    assert points == [(0.0, 0), (1.0, 1), (3.0, 2), (5.0, 1), (6.0, 2), (8.0, 1), (10.0, 1)]
    [lane] = depth_series(activity, (0,), 10.0)
    assert (lane.peak, lane.now) == (2, 1)


def test_changes_at_one_instant_make_one_point_and_cancel_out() -> None:
    # one leaves as another enters at 2.0: the depth stays 1 and no point is drawn there
    activity = QueueActivity(
        0.0, (QueuedInvocation(0, ran(1.0, 2.0, 3.0)), QueuedInvocation(0, steps((S.CREATED, 2.0), (S.PENDING, 2.0))))
    )
    assert series(activity, 4.0) == {0: [(0.0, 0), (1.0, 1), (4.0, 1)]}


def test_several_lanes_are_swept_separately_and_every_asked_lane_has_a_series() -> None:
    activity = QueueActivity(
        0.0,
        (
            QueuedInvocation(0, ran(1.0, 4.0, 5.0)),
            QueuedInvocation(1, ran(1.0, 2.0, 3.0)),
            QueuedInvocation(1, ran(1.5, 3.0, 3.5)),
            QueuedInvocation(0, ran(2.0, 5.0, 6.0)),
        ),
    )
    assert series(activity, 7.0, lanes=(0, 1, 2)) == {
        0: [(0.0, 0), (1.0, 1), (2.0, 2), (4.0, 1), (5.0, 0), (7.0, 0)],
        1: [(0.0, 0), (1.0, 1), (1.5, 2), (2.0, 1), (3.0, 0), (7.0, 0)],
        2: [(0.0, 0), (7.0, 0)],  # an idle lane: flat zero
    }


def test_the_window_starts_with_what_waited_before_it_and_what_waits_all_along() -> None:
    """Waits that began at or before ``since`` make the first point; ``waiting`` (pending since before ``since``,
    not read) adds to every point; waits over before ``since`` count nowhere."""
    activity = QueueActivity(
        10.0,
        (
            QueuedInvocation(0, ran(2.0, 12.0, 13.0)),  # waiting at 10, leaves at 12
            QueuedInvocation(0, ran(1.0, 5.0, 11.0)),  # waited before the window only
            QueuedInvocation(0, ran(10.0, 14.0, 15.0)),  # entered exactly at the start: counted from it
            QueuedInvocation(1, ran(11.0, 11.5, 12.0)),  # a lane seen only in the activity
        ),
        waiting={0: 3},
    )
    assert series(activity, 20.0) == {
        0: [(10.0, 5), (12.0, 4), (14.0, 3), (20.0, 3)],
        1: [(10.0, 0), (11.0, 1), (11.5, 0), (20.0, 0)],
    }


def test_the_end_moves_to_a_transition_recorded_after_it() -> None:
    """A node whose clock runs ahead recorded a step after the snapshot's time: the series reaches it, so its last
    point is still the depth that the rows' statuses say."""
    activity = QueueActivity(0.0, (QueuedInvocation(0, steps((S.CREATED, 5.0), (S.PENDING, 5.0))),))
    assert series(activity, 4.0) == {0: [(0.0, 0), (5.0, 1)]}


def test_a_queued_invocation_is_made_of_its_transitions_statuses_and_times() -> None:
    transitions = (Transition(S.CREATED, 1.0, "w"), Transition(S.PENDING, 1.5, "w"))
    assert QueuedInvocation.of(2, transitions) == QueuedInvocation(2, ((S.CREATED, 1.0), (S.PENDING, 1.5)))


def test_an_empty_queue_is_one_flat_point_pair() -> None:
    assert depth_series(QueueActivity(3.0), (0,), 3.0) == [DepthSeries(0, ((3.0, 0),))]
    assert depth_series(QueueActivity(3.0), (0,), 8.0) == [DepthSeries(0, ((3.0, 0), (8.0, 0)))]
