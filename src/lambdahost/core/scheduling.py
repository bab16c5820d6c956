"""A stored schedule's fire times and the event each firing delivers (pure; the scheduler and the API use it).

Fire times: ``next_due(schedule, after)`` is the first due time strictly after ``after`` within the schedule's
start and end dates, in its time zone (``core.schedules`` evaluates the expression). A ``rate()`` counts from its
start date, or from its creation: due times stay on that grid however late a node claims them, so a schedule
does not drift by the scheduler's tick (a creation time counts from its whole second).

The event (``scheduled_event``): a schedule's input when it has one (a Scheduler schedule's input may name the
context attributes ``<aws.scheduler.schedule-arn>``, ``<aws.scheduler.scheduled-time>``,
``<aws.scheduler.execution-id>`` and ``<aws.scheduler.attempt-number>``, replaced as Scheduler does); without
input, EventBridge Scheduler's default notification (``"source": "aws.scheduler"``, the schedule's ARN,
``"detail": "{}"``) or, for a schedule made like an EventBridge rule (``ScheduleConfig.RULE``), the rule's
``"Scheduled Event"`` (``"source": "aws.events"``, the rule's ARN, ``"detail": {}``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from lambdahost.core import schedules
from lambdahost.core.model import ScheduleConfig

DEFAULT_GROUP = "default"


@dataclass(frozen=True)
class Place:
    """Where the platform says it runs: the region and account of every ARN it makes."""

    region: str
    account: str

    def schedule_arn(self, name: str) -> str:
        return f"arn:aws:scheduler:{self.region}:{self.account}:schedule/{DEFAULT_GROUP}/{name}"

    def rule_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{name}"

    def group_arn(self) -> str:
        return f"arn:aws:scheduler:{self.region}:{self.account}:schedule-group/{DEFAULT_GROUP}"


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def next_due(schedule: ScheduleConfig, after: float) -> float | None:
    """The first due time of ``schedule`` strictly after ``after`` (epoch seconds), None when it fires no more.
    Raises ``ValidationError`` for an invalid expression or time zone."""
    parsed = schedules.parse(schedule.expression)
    tz = schedules.timezone(schedule.timezone)
    anchor = schedule.start_date
    if anchor is None and isinstance(parsed, schedules.Rate):
        anchor = float(math.floor(schedule.created_at))  # on whole seconds, as the events' times are
    start = _instant(anchor) if anchor is not None else None
    found = parsed.next_after(_instant(after), tz, start=start)
    if found is None:
        return None
    due = found.timestamp()
    if schedule.end_date is not None and due > schedule.end_date:
        return None
    return due


def iso_time(seconds: float) -> str:
    """EventBridge's event time: UTC to the second, ``2019-03-01T01:23:45Z``."""
    return _instant(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_event(schedule: ScheduleConfig, due: float, place: Place, event_id: str, attempt: int = 1) -> bytes:
    """The payload a firing of ``schedule`` for ``due`` delivers (see the module's docstring)."""
    if schedule.input is not None:
        if schedule.kind == ScheduleConfig.RULE:
            return schedule.input.encode()
        return _with_context(schedule.input, place.schedule_arn(schedule.name), due, event_id, attempt).encode()
    rule = schedule.kind == ScheduleConfig.RULE
    event = {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events" if rule else "aws.scheduler",
        "account": place.account,
        "time": iso_time(due),
        "region": place.region,
        "resources": [place.rule_arn(schedule.name) if rule else place.schedule_arn(schedule.name)],
        "detail": {} if rule else "{}",
    }
    return json.dumps(event, separators=(",", ":")).encode()


def _with_context(text: str, schedule_arn: str, due: float, event_id: str, attempt: int) -> str:
    """Scheduler's context attributes in an input, each replaced by its value as JSON string content."""
    values = {
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.scheduled-time>": iso_time(due),
        "<aws.scheduler.execution-id>": event_id,
        "<aws.scheduler.attempt-number>": str(attempt),
    }
    for key, value in values.items():
        text = text.replace(key, json.dumps(value)[1:-1])
    return text
