"""The ``Store`` contract for schedules: CRUD, listing, and ``claim_due_schedules``, the firing primitive (a due time
fires once across any number of claimers; after downtime a schedule fires once, not once per missed slot). Every
test runs against SQLite (a real file) and PostgreSQL (a fresh database), and the in-memory fake must agree."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import pytest

from lambdahost.core.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType, ScheduleConfig, Transition
from lambdahost.storage.base import Store
from tests.integration.conftest import another_store

T0 = 1_700_000_000.123456  # needs every digit of a double: stored and read back exactly
Advance = Callable[[ScheduleConfig, float], float | None]


def schedule(name: str = "every-minute", **changes: object) -> ScheduleConfig:
    record = ScheduleConfig(
        name=name,
        expression="rate(1 minute)",
        function_name="fn",
        created_at=T0,
        last_modified=T0,
        next_fire_at=T0 + 60,
    )
    return record.replace(**changes)


def every(period_s: float) -> Advance:
    """What the engine computes for a rate: the first slot of the schedule's grid strictly after ``now``."""

    def advance(config: ScheduleConfig, now: float) -> float:
        assert config.next_fire_at is not None
        return config.next_fire_at + (math.floor((now - config.next_fire_at) / period_s) + 1) * period_s

    return advance


def never_again(config: ScheduleConfig, now: float) -> None:
    """A one-time schedule (``at()``): no fire time after the one it fired for."""


# -- CRUD ----------------------------------------------------------------------------------------------------------
def test_create_get_conflict_and_a_full_roundtrip(any_store: Store) -> None:
    full = schedule(
        "nightly",
        expression="cron(0 2 ? * MON-FRI *)",
        timezone="Europe/Paris",
        qualifier="live",
        input='{"job": "report", "n": [1, 2]}',
        enabled=False,
        flexible_window_minutes=15,
        start_date=T0 - 0.5,
        end_date=T0 + 86_400.25,
        next_fire_at=T0 + 1 / 3,
        last_fired_at=T0 - 1e-6,
    )
    assert any_store.create_schedule(full) == full
    assert any_store.get_schedule("nightly") == full
    assert any_store.create_schedule(schedule()) == schedule()
    assert any_store.get_schedule("every-minute") == schedule()  # defaults: UTC, $LATEST, no input, enabled, OFF
    with pytest.raises(ResourceConflict, match="Schedule nightly already exists"):
        any_store.create_schedule(schedule("nightly"))
    assert any_store.get_schedule("nightly") == full  # the conflict changed nothing
    assert any_store.get_schedule("missing") is None


def test_update_replaces_every_field_and_a_missing_one_is_not_found(any_store: Store) -> None:
    any_store.create_schedule(schedule(input='{"a": 1}', end_date=T0 + 10))
    changed = schedule(expression="rate(5 minutes)", input=None, end_date=None, enabled=False, last_modified=T0 + 1)
    assert any_store.update_schedule(changed) == changed
    assert any_store.get_schedule("every-minute") == changed
    with pytest.raises(ResourceNotFound, match="Schedule other does not exist"):
        any_store.update_schedule(schedule("other"))
    assert any_store.get_schedule("other") is None


def test_delete(any_store: Store) -> None:
    any_store.create_schedule(schedule("a"))
    any_store.create_schedule(schedule("b"))
    assert any_store.delete_schedule("a") is True
    assert any_store.delete_schedule("a") is False
    assert any_store.get_schedule("a") is None
    assert any_store.get_schedule("b") == schedule("b")


def test_listing_pages_by_name_in_byte_order(any_store: Store) -> None:
    names = ["b", "a-1", "Z", "a_1", "a.1", "c"]
    for name in names:
        any_store.create_schedule(schedule(name))
    assert any_store.list_schedules(None, 10) == ([schedule(n) for n in sorted(names)], None)
    seen: list[str] = []
    marker: str | None = None
    while True:
        page, marker = any_store.list_schedules(marker, 4 if not seen else 1)
        seen += [s.name for s in page]
        if marker is None:
            break
        assert marker == seen[-1]
    assert seen == ["Z", "a-1", "a.1", "a_1", "b", "c"]
    assert any_store.list_schedules("c", 10) == ([], None)
    assert any_store.list_schedules("a", 2) == ([schedule("a-1"), schedule("a.1")], "a.1")
    with pytest.raises(InvalidParameterValue):
        any_store.list_schedules(None, 0)


# -- claiming due schedules ----------------------------------------------------------------------------------------
def test_claim_returns_only_due_enabled_ones_and_stores_the_advance(any_store: Store) -> None:
    any_store.create_schedule(schedule("due", next_fire_at=T0 + 60))
    any_store.create_schedule(schedule("exactly-due", next_fire_at=T0 + 90))
    any_store.create_schedule(schedule("later", next_fire_at=T0 + 91))
    any_store.create_schedule(schedule("disabled", next_fire_at=T0, enabled=False))
    any_store.create_schedule(schedule("finished", next_fire_at=None, last_fired_at=T0))
    asked: list[tuple[str, float | None, float]] = []

    def advance(config: ScheduleConfig, now: float) -> float:
        asked.append((config.name, config.next_fire_at, now))
        return now + 30

    now = T0 + 90
    claimed = any_store.claim_due_schedules(now, 10, advance)
    assert [(s.name, due) for s, due in claimed] == [("due", T0 + 60), ("exactly-due", T0 + 90)]
    assert sorted(asked) == [("due", T0 + 60, now), ("exactly-due", T0 + 90, now)]
    for config, due in claimed:
        assert (config.next_fire_at, config.last_fired_at) == (now + 30, due)
        assert any_store.get_schedule(config.name) == config
        assert config == schedule(config.name, next_fire_at=now + 30, last_fired_at=due)
    assert any_store.get_schedule("later") == schedule("later", next_fire_at=T0 + 91)
    assert any_store.claim_due_schedules(now, 10, advance) == []  # already advanced past now
    assert [s.name for s, _ in any_store.claim_due_schedules(now + 1, 10, advance)] == ["later"]


def test_claim_takes_the_earliest_first_up_to_the_limit(any_store: Store) -> None:
    for name, at in [("c", T0 + 3), ("a", T0 + 5), ("b", T0 + 3), ("d", T0 + 1)]:
        any_store.create_schedule(schedule(name, next_fire_at=at))
    now = T0 + 10
    assert [(s.name, due) for s, due in any_store.claim_due_schedules(now, 3, every(60))] == [
        ("d", T0 + 1),
        ("b", T0 + 3),
        ("c", T0 + 3),
    ]
    assert [(s.name, due) for s, due in any_store.claim_due_schedules(now, 3, every(60))] == [("a", T0 + 5)]
    with pytest.raises(InvalidParameterValue):
        any_store.claim_due_schedules(now, 0, every(60))


def test_after_a_long_downtime_a_schedule_fires_once_to_catch_up(any_store: Store) -> None:
    any_store.create_schedule(schedule(next_fire_at=T0 + 60))
    now = T0 + 60 + 3 * 86_400 + 12.5  # three days of missed minutes
    claimed = any_store.claim_due_schedules(now, 100, every(60))
    assert [(s.name, due) for s, due in claimed] == [("every-minute", T0 + 60)]
    stored = any_store.get_schedule("every-minute")
    assert stored is not None and stored.last_fired_at == T0 + 60
    assert stored.next_fire_at == pytest.approx(T0 + 60 + 3 * 86_400 + 60)  # the next slot, not a missed one
    assert stored.next_fire_at > now
    assert any_store.claim_due_schedules(now, 100, every(60)) == []
    assert [due for _, due in any_store.claim_due_schedules(stored.next_fire_at, 100, every(60))] == [
        stored.next_fire_at
    ]


def test_a_disabled_schedule_never_fires_until_enabled(any_store: Store) -> None:
    any_store.create_schedule(schedule(enabled=False, next_fire_at=T0))
    for now in (T0, T0 + 60, T0 + 86_400):
        assert any_store.claim_due_schedules(now, 10, every(60)) == []
    assert any_store.get_schedule("every-minute") == schedule(enabled=False, next_fire_at=T0)
    any_store.update_schedule(schedule(next_fire_at=T0))
    assert [due for _, due in any_store.claim_due_schedules(T0 + 86_400, 10, every(60))] == [T0]


def test_advance_returning_none_ends_a_one_time_schedule(any_store: Store) -> None:
    any_store.create_schedule(schedule("once", expression="at(2023-11-14T22:14:20)", next_fire_at=T0))
    claimed = any_store.claim_due_schedules(T0 + 5, 10, never_again)
    assert claimed == [
        (schedule("once", expression="at(2023-11-14T22:14:20)", next_fire_at=None, last_fired_at=T0), T0)
    ]
    assert any_store.get_schedule("once") == claimed[0][0]
    for now in (T0 + 5, T0 + 86_400, T0 * 2):
        assert any_store.claim_due_schedules(now, 10, every(60)) == []


def test_a_bad_or_failing_advance_changes_nothing(any_store: Store) -> None:
    any_store.create_schedule(schedule("a", next_fire_at=T0))
    any_store.create_schedule(schedule("b", next_fire_at=T0 + 1))
    now = T0 + 10

    def not_after_now(config: ScheduleConfig, now: float) -> float:
        return now if config.name == "b" else now + 60

    def failing(config: ScheduleConfig, now: float) -> float:
        if config.name == "b":
            raise RuntimeError("engine bug")
        return now + 60

    with pytest.raises(InvalidParameterValue, match="next fire time of schedule b must be after"):
        any_store.claim_due_schedules(now, 10, not_after_now)
    with pytest.raises(RuntimeError, match="engine bug"):
        any_store.claim_due_schedules(now, 10, failing)
    assert any_store.get_schedule("a") == schedule("a", next_fire_at=T0)
    assert any_store.get_schedule("b") == schedule("b", next_fire_at=T0 + 1)
    assert [s.name for s, _ in any_store.claim_due_schedules(now, 10, every(60))] == ["a", "b"]


def test_two_concurrent_claimers_fire_each_due_schedule_exactly_once(any_store: Store, any_store_url: str) -> None:
    count = 200
    for n in range(count):
        any_store.create_schedule(schedule(f"s{n:03d}", next_fire_at=T0 + n % 7))
    now = T0 + 100
    second = another_store(any_store_url, any_store)
    stores = [any_store, second]
    barrier = threading.Barrier(len(stores))
    claimed: list[list[tuple[ScheduleConfig, float]]] = [[] for _ in stores]
    errors: list[BaseException] = []

    def claimer(n: int) -> None:
        try:
            barrier.wait(10)
            while found := stores[n].claim_due_schedules(now, 7, every(60)):
                claimed[n].extend(found)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(len(stores))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        names = [config.name for found in claimed for config, _ in found]
        assert len(names) == count
        assert sorted(names) == [f"s{n:03d}" for n in range(count)]
        for found in claimed:
            for config, due in found:
                assert due == T0 + int(config.name[1:]) % 7
                assert config == schedule(config.name, next_fire_at=due + 120, last_fired_at=due)
        assert any_store.claim_due_schedules(now, count, every(60)) == []
        assert second.claim_due_schedules(now, count, every(60)) == []
        listed, _ = any_store.list_schedules(None, count)
        assert all(s.next_fire_at is not None and s.next_fire_at > now for s in listed)
    finally:
        if second is not any_store:
            second.close()


def test_schedules_of_a_function_by_name(any_store: Store) -> None:
    for name, function in [("b", "fn"), ("a", "fn"), ("c", "other"), ("d", "fn")]:
        any_store.create_schedule(schedule(name, function_name=function))
    assert [s.name for s in any_store.schedules_of("fn", 10)] == ["a", "b", "d"]
    assert [s.name for s in any_store.schedules_of("fn", 2)] == ["a", "b"]
    assert any_store.schedules_of("none", 10) == []


# -- queuing the firing's invocation in the claim's transaction ------------------------------------------------------
def queued_event(config: ScheduleConfig, due: float, invocation_id: str | None = None) -> Invocation:
    return Invocation(
        id=invocation_id or f"{config.name}@{due}",
        function_name=config.function_name,
        version="$LATEST",
        type=InvocationType.EVENT,
        status=InvocationStatus.PENDING,
        created_at=due,
        transitions=(Transition(InvocationStatus.CREATED, due, "n"), Transition(InvocationStatus.PENDING, due, "n")),
        payload=b'{"due": %d}' % due,
        available_at=due,
    )


def test_a_claim_queues_the_invocations_it_makes_in_the_same_transaction(any_store: Store) -> None:
    any_store.create_schedule(schedule("one", next_fire_at=T0 + 60))
    any_store.create_schedule(schedule("two", next_fire_at=T0 + 60))
    any_store.create_schedule(schedule("none", next_fire_at=T0 + 60))

    def queue(config: ScheduleConfig, due: float) -> Invocation | None:
        return None if config.name == "none" else queued_event(config, due)

    claimed = any_store.claim_due_schedules(T0 + 61, 10, every(60), queue)
    assert sorted(s.name for s, _ in claimed) == ["none", "one", "two"]
    for name in ("one", "two"):
        stored = any_store.get_invocation(f"{name}@{T0 + 60}")
        assert (
            stored is not None
            and stored.status is InvocationStatus.PENDING
            and stored.payload == b'{"due": %d}' % (T0 + 60)
        )
    assert any_store.get_invocation(f"none@{T0 + 60}") is None


def test_a_failing_or_conflicting_queue_rolls_the_claim_back(any_store: Store) -> None:
    any_store.create_schedule(schedule("a", next_fire_at=T0 + 60))
    any_store.create_schedule(schedule("b", next_fire_at=T0 + 60))

    def failing(config: ScheduleConfig, due: float) -> Invocation | None:
        if config.name == "b":
            raise RuntimeError("cannot make the event")
        return queued_event(config, due)

    with pytest.raises(RuntimeError):
        any_store.claim_due_schedules(T0 + 61, 10, every(60), failing)
    assert any_store.get_schedule("a") == schedule("a", next_fire_at=T0 + 60)
    assert any_store.get_invocation(f"a@{T0 + 60}") is None

    any_store.enqueue(queued_event(schedule("x"), T0, invocation_id="taken"))
    with pytest.raises(ResourceConflict):
        any_store.claim_due_schedules(T0 + 61, 10, every(60), lambda c, d: queued_event(c, d, "taken"))
    assert any_store.get_schedule("b") == schedule("b", next_fire_at=T0 + 60)
    assert any_store.claim_due_schedules(T0 + 61, 10, every(60), queued_event) != []
