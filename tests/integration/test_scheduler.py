"""The scheduler against a real store (SQLite file and PostgreSQL) in embedded Platforms, with explicit times:
fire times on the schedule's grid, one firing per due time across two nodes racing, one catch-up after downtime,
the event AWS delivers (Scheduler's default notification, an EventBridge rule's Scheduled Event, an input with
context attributes), flexible windows, one-time schedules deleted after completion, undeliverable events in the
schedule's dead-letter queue, and the service's validation."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdahost.core.errors import ResourceNotFound, SchedulerConflict, ValidationError
from lambdahost.core.model import InvocationStatus, ScheduleConfig
from lambdahost.core.settings import Settings
from lambdahost.server import Platform
from lambdahost.triggers.scheduler import Firing
from tests.integration.platforms import finished
from tests.integration.test_async_routing import zipped

FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_platform(store_url: str, tmp_path: Path) -> Iterator[Callable[..., Platform]]:
    made: list[Platform] = []

    def make(slots: int = 0, **extra: Any) -> Platform:
        settings = Settings(
            data_dir=tmp_path / f"node{len(made)}",
            store_url=store_url,
            worker_slots=slots,
            schedule_tick_s=3600.0,  # the tests fire rounds themselves, at chosen times
            retry_delays_s=(0.1, 0.1),
            **extra,
        )
        platform = Platform(settings).start()
        made.append(platform)
        return platform

    yield make
    for platform in made:
        platform.close()


def create_function(platform: Platform, name: str) -> None:
    platform.functions.create(
        {"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": zipped()}}
    )


def draft(name: str, expression: str, function: str = "fn", **fields: Any) -> ScheduleConfig:
    return ScheduleConfig(
        name=name, expression=expression, function_name=function, created_at=0, last_modified=0, **fields
    )


def at_clock(platform: Platform, now: float) -> Clock:
    clock = Clock(now)
    platform.schedules._clock = clock
    return clock


def pending(platform: Platform) -> int:
    return sum(d.count for d in platform.store.queue_depth() if d.status is InvocationStatus.PENDING)


T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z, a whole minute


def test_rate_fires_on_its_grid_once_per_due_time_and_the_event_is_schedulers(
    make_platform: Callable[..., Platform],
) -> None:
    platform = make_platform(slots=2)
    create_function(platform, "fn")
    at_clock(platform, T0 + 7.5)
    created = platform.schedules.create(draft("every-minute", "rate(1 minute)"))
    assert created.next_fire_at == T0 + 67  # one period after creation (its whole second)

    assert platform.scheduler.fire_due(now=T0 + 66.9) == []
    fired = platform.scheduler.fire_due(now=T0 + 67.9)  # claimed late: the next one stays on the grid
    assert [(f.schedule, f.due, f.error) for f in fired] == [("every-minute", T0 + 67, None)]
    assert platform.scheduler.fire_due(now=T0 + 67.9) == []
    assert platform.schedules.get("every-minute").next_fire_at == T0 + 127
    assert platform.schedules.get("every-minute").last_fired_at == T0 + 67

    request_id = fired[0].request_id
    assert request_id is not None
    record = finished(platform, request_id)
    assert record.status is InvocationStatus.SUCCEEDED
    event = json.loads(record.payload)
    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "000000000000",
        "time": "2027-01-15T08:01:07Z",
        "region": "us-east-1",
        "resources": ["arn:aws:scheduler:us-east-1:000000000000:schedule/default/every-minute"],
        "detail": "{}",
    }
    assert json.loads(record.result or b"null")["echo"] == event


def test_after_downtime_a_schedule_fires_once_then_continues_from_now(make_platform: Callable[..., Platform]) -> None:
    platform = make_platform()
    create_function(platform, "fn")
    at_clock(platform, T0)
    platform.schedules.create(draft("five", "cron(0/5 * * * ? *)"))  # every 5 minutes
    assert platform.schedules.get("five").next_fire_at == T0 + 300

    fired = platform.scheduler.fire_due(now=T0 + 3600 + 10)  # 12 due times missed
    assert [(f.schedule, f.due) for f in fired] == [("five", T0 + 300)]
    assert platform.schedules.get("five").next_fire_at == T0 + 3600 + 300
    assert pending(platform) == 1


def test_two_nodes_racing_fire_each_due_time_once(make_platform: Callable[..., Platform]) -> None:
    nodes = [make_platform(), make_platform()]
    create_function(nodes[0], "fn")
    at_clock(nodes[0], T0)
    for n in range(5):
        nodes[0].schedules.create(draft(f"race-{n}", "rate(1 minute)", start_date=T0 + 60))
    slots = [T0 + 60 * k for k in range(1, 31)]  # 30 due times each
    fired: list[list[Firing]] = [[], []]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        for when in slots:
            barrier.wait()
            fired[index].extend(nodes[index].scheduler.fire_due(now=when + 0.5))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = fired[0] + fired[1]
    assert sorted((f.schedule, f.due) for f in everything) == sorted(
        (f"race-{n}", when) for n in range(5) for when in slots
    )
    assert all(f.request_id is not None for f in everything)
    assert pending(nodes[0]) == 150  # one invocation per firing, none lost, none doubled


def test_input_rule_events_flexible_window_and_one_time_delete(make_platform: Callable[..., Platform]) -> None:
    platform = make_platform()
    create_function(platform, "fn")
    at_clock(platform, T0)
    template = '{"arn": "<aws.scheduler.schedule-arn>", "at": "<aws.scheduler.scheduled-time>", "n": 1}'
    platform.schedules.create(draft("ctx", "rate(2 minutes)", input=template))
    platform.schedules.create(draft("rule", "cron(1 8 * * ? *)", kind=ScheduleConfig.RULE))
    platform.schedules.create(draft("flex", "rate(1 minute)", flexible_window_minutes=10))
    platform.schedules.create(
        draft("once", "at(2027-01-15T09:00:30)", timezone="Europe/Berlin", action_after_completion="DELETE")
    )
    platform.scheduler._jitter = lambda window_s: window_s / 2
    fired = {f.schedule: f for f in platform.scheduler.fire_due(now=T0 + 120)}
    assert set(fired) == {"ctx", "rule", "flex", "once"}  # 09:00:30 in Berlin is 08:00:30 UTC

    def payload(name: str) -> Any:
        request_id = fired[name].request_id
        assert request_id is not None
        record = platform.store.get_invocation(request_id)
        assert record is not None
        return record

    assert json.loads(payload("ctx").payload) == {
        "arn": "arn:aws:scheduler:us-east-1:000000000000:schedule/default/ctx",
        "at": "2027-01-15T08:02:00Z",
        "n": 1,
    }
    rule_event = json.loads(payload("rule").payload)
    assert rule_event["source"] == "aws.events"
    assert rule_event["detail"] == {}
    assert rule_event["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/rule"]
    assert rule_event["time"] == "2027-01-15T08:01:00Z"
    assert payload("flex").available_at == T0 + 60 + 300  # due + half of the 10-minute window
    assert fired["once"].due == T0 + 30
    with pytest.raises(ResourceNotFound):
        platform.schedules.get("once")  # ActionAfterCompletion DELETE after its only firing


def test_a_firing_whose_function_is_gone_goes_to_the_schedules_dead_letter_queue(
    make_platform: Callable[..., Platform],
) -> None:
    platform = make_platform()
    create_function(platform, "fn")
    dlq = platform.message_queues.create("schedule-dlq")
    at_clock(platform, T0)
    platform.schedules.create(draft("orphan", "rate(1 minute)", dead_letter_arn=platform.message_queues.arn(dlq.name)))
    platform.functions.delete("fn")

    fired = platform.scheduler.fire_due(now=T0 + 61)
    assert [(f.schedule, f.request_id) for f in fired] == [("orphan", None)]
    assert fired[0].error is not None and fired[0].error.startswith("ResourceNotFoundException")
    assert pending(platform) == 0
    messages = platform.message_queues.receive(dlq.name, max_messages=10, wait_s=0)
    assert len(messages) == 1
    assert json.loads(messages[0].body)["resources"] == [
        "arn:aws:scheduler:us-east-1:000000000000:schedule/default/orphan"
    ]
    attributes = {k: v.string_value for k, v in messages[0].attributes.items()}
    assert attributes["ERROR_CODE"] == "ResourceNotFoundException"
    assert attributes["TARGET_ARN"] == FUNCTION_ARN + "fn"
    assert platform.schedules.get("orphan").next_fire_at == T0 + 120  # it goes on


def test_disabled_schedules_do_not_fire_and_reenabling_does_not_catch_up(
    make_platform: Callable[..., Platform],
) -> None:
    platform = make_platform()
    create_function(platform, "fn")
    clock = at_clock(platform, T0)
    created = platform.schedules.create(draft("paused", "rate(1 minute)", enabled=False))
    assert platform.scheduler.fire_due(now=T0 + 600) == []
    clock.now = T0 + 600
    platform.schedules.update(created.replace(enabled=True))
    assert platform.schedules.get("paused").next_fire_at == T0 + 660  # still on the creation grid, after now
    assert [f.due for f in platform.scheduler.fire_due(now=T0 + 660)] == [T0 + 660]


def test_the_service_refuses_bad_schedules_and_changes_nothing(make_platform: Callable[..., Platform]) -> None:
    platform = make_platform()
    create_function(platform, "fn")
    fifo = platform.message_queues.create("d.fifo", {"FifoQueue": "true"})
    bad: list[tuple[ScheduleConfig, str]] = [
        (draft("bad name!", "rate(1 minute)"), "regular expression pattern"),
        (draft("plural", "rate(5 minute)"), "rate(5 minute)"),
        (draft("tz", "rate(1 minute)", timezone="Mars/Olympus"), "Mars/Olympus"),
        (draft("nofn", "rate(1 minute)", function="missing"), "does not exist"),
        (draft("sns", "rate(1 minute)", function="arn:aws:sns:us-east-1:000000000000:t"), "not supported"),
        (draft("input", "rate(1 minute)", input="{nope"), "well-formed JSON"),
        (draft("dates", "rate(1 minute)", start_date=T0, end_date=T0), "EndDate"),
        (draft("retry", "rate(1 minute)", retry_max_attempts=186), "MaximumRetryAttempts"),
        (draft("age", "rate(1 minute)", retry_max_event_age_s=59), "MaximumEventAgeInSeconds"),
        (draft("dlq", "rate(1 minute)", dead_letter_arn="arn:aws:sqs:us-east-1:000000000000:none"), "does not exist"),
        (draft("fifo", "rate(1 minute)", dead_letter_arn=platform.message_queues.arn(fifo.name)), "FIFO"),
        (draft("after", "rate(1 minute)", action_after_completion="KEEP"), "NONE or DELETE"),
    ]
    for schedule, message in bad:
        with pytest.raises(ValidationError) as caught:
            platform.schedules.create(schedule)
        assert message in str(caught.value), schedule.name
    assert platform.schedules.list() == ([], None)
    platform.schedules.create(draft("ok", "rate(1 minute)", function=FUNCTION_ARN + "fn"))
    with pytest.raises(SchedulerConflict):
        platform.schedules.create(draft("ok", "rate(2 minutes)"))
    assert platform.schedules.get("ok").expression == "rate(1 minute)"
    with pytest.raises(ResourceNotFound):
        platform.schedules.update(draft("absent", "rate(1 minute)"))
