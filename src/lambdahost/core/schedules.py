"""EventBridge schedule expressions: ``rate(...)``, ``cron(...)`` and ``at(...)``, parsed and evaluated as AWS does.
Pure: no I/O, no clock (the caller passes ``after``).

``parse(text)`` returns a ``Rate``, ``Cron`` or ``At`` or raises ``ValidationError`` ("Parameter ScheduleExpression
is not valid.", AWS's message, followed by what exactly is wrong). ``schedule.next_after(after, tz, start=...)``
is the first fire time strictly after ``after``; ``fire_times`` lists the next N.

Syntax (AWS's cron table is the authority on which characters a field takes; where AWS's documentation is silent
about what a form means, it means what it means in Quartz's ``CronExpression``, the dialect EventBridge's cron is
visibly taken from: same fields less seconds, ``?``, ``L``, ``W``, ``#``, 1 = SUN, years 1970-2199):

- ``rate(value unit)``: a positive whole number and ``minute``/``hour``/``day`` for 1, ``minutes``/``hours``/``days``
  otherwise; exactly one space, lower case (AWS rejects ``rate(1 minutes)``, ``rate(5 minute)``,
  ``rate(5 MINUTES)``, ``rate( 5 minutes )``).
- ``cron(minutes hours day-of-month month day-of-week year)``, fields separated by spaces. Minutes 0-59, hours 0-23,
  day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 = SUN), year 1970-2199; names and the
  letters L and W in any case. Every field takes ``*``, ``a``, ``a-b``, ``a/step``, ``a-b/step``, ``*/step`` and
  comma lists of those, except that day-of-week takes no ``/`` (AWS's table) and year ranges cannot run backwards.
  A range whose end is below its start wraps (``FRI-MON``, ``22-2``: Quartz). A step is at least 1 and at most 59
  (minutes), 23 (hours), 31 (day-of-month), 12 (month) or 229 (year). Exactly one of day-of-month and day-of-week
  is ``?``. Day-of-month also takes, alone: ``L`` (last day), ``L-n`` (n days before the last, n <= 30), ``LW``
  (last weekday), ``nW`` (the weekday nearest day n, never crossing into another month: a 1st on a Saturday gives
  Monday the 3rd, a last day on a Sunday gives the Friday before; in a month without day n it does not fire).
  Day-of-week also takes, alone: ``L`` (= 7, every Saturday, the last day of the week), ``nL`` (the last day n of
  the month), ``n#k`` (the k-th day n of the month, k 1-5; a month without a 5th does not fire).
- ``at(yyyy-mm-ddThh:mm:ss)``: one fire time, read in the schedule's time zone.

Time zones and daylight saving time (EventBridge Scheduler's documented rules): a cron schedule is evaluated on the
wall clock of its time zone (UTC by default). A wall time that does not exist (the hour skipped when clocks go
forward) is skipped: ``cron(30 2 * * ? *)`` in America/New_York does not fire on the spring-forward day. A wall time
that happens twice (clocks go back) fires once, at its first occurrence. An ``at()`` at a wall time that does not
exist fires at the first instant after the gap (e.g. 03:00 EDT for 02:30): a one-time schedule must not vanish; one
that happens twice fires at its first occurrence. A rate is elapsed time, unaffected by time zones: ``rate(1 day)``
is 24 hours.

Rate anchoring: a rate schedule fires at ``start``, ``start + rate``, ``start + 2 * rate``, ...; ``start`` is the
schedule's creation time or StartDate ("a rate expression starts when you create the scheduled event rule";
EventBridge Scheduler without a StartDate "starts invoking immediately"). Without a ``start``, ``after`` is taken as
the creation time, so the first fire time is ``after + rate``. For cron and at(), ``start`` only means "not before".

Why no library: croniter and cronsim evaluate Unix cron (0 = Sunday, no year field, no ``?``; no ``W`` in croniter,
no ``L``/``W``/``#`` combination rules of Quartz), so they would need a translation layer that changes meaning
(numbering, ``L`` in day-of-week) and neither reports which field is wrong. The AWS-dialect packages (pyawscron,
aws-croniter) evaluate in UTC only (no time zones, so none of the DST rules above), are untyped, accept forms AWS
documents nowhere (``*-5``) and report only "Invalid minute value". The evaluator is small: it finds the next
matching year, month, day, hour and minute in that order (bisecting sorted value lists) instead of testing minute
after minute, so a sparse expression (``cron(0 0 29 2 ? *)``) or one whose years are over costs microseconds.
"""

from __future__ import annotations

import calendar
import re
from abc import ABC, abstractmethod
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lambdahost.core.errors import ValidationError

INVALID = "Parameter ScheduleExpression is not valid."
MIN_YEAR = 1970
MAX_YEAR = 2199
MAX_RATE_VALUE = 999_999_999  # lambdahost's bound (a Python timedelta holds at most 999,999,999 days)

RateUnit = Literal["minute", "hour", "day"]
_RATE_UNITS: dict[str, RateUnit] = {
    "minute": "minute",
    "minutes": "minute",
    "hour": "hour",
    "hours": "hour",
    "day": "day",
    "days": "day",
}
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"rate\((?P<body>.*)\)", re.DOTALL)
_CRON = re.compile(r"cron\((?P<body>.*)\)", re.DOTALL)
_AT = re.compile(r"at\((?P<body>.*)\)", re.DOTALL)
_AT_BODY = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_NUMBER = re.compile(r"\d+")
_WHOLE = re.compile(r"[0-9]+")
_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def invalid(expression: str, detail: str) -> ValidationError:
    """AWS's ValidationException for a schedule expression, with what exactly is wrong."""
    return ValidationError(f"{INVALID} {expression!r}: {detail}")


# -- the three kinds ----------------------------------------------------------------------------------------------
class Schedule(ABC):
    """A parsed schedule expression."""

    expression: str

    @abstractmethod
    def next_after(self, after: datetime, tz: tzinfo = UTC, *, start: datetime | None = None) -> datetime | None:
        """The first fire time strictly after ``after`` (and not before ``start``), in ``tz``; None when there is
        none (an ``at()`` in the past, a cron whose years are over). ``after`` and ``start`` are aware."""


@dataclass(frozen=True)
class Rate(Schedule):
    value: int
    unit: RateUnit
    expression: str = field(default="", compare=False)

    @property
    def period(self) -> timedelta:
        return timedelta(seconds=self.value * _UNIT_SECONDS[self.unit])

    def next_after(self, after: datetime, tz: tzinfo = UTC, *, start: datetime | None = None) -> datetime | None:
        after, start = _utc(after, start)
        anchor = after if start is None else start
        if after < anchor:
            return anchor.astimezone(tz)
        try:
            return (anchor + ((after - anchor) // self.period + 1) * self.period).astimezone(tz)
        except OverflowError:  # past the year 9999
            return None


@dataclass(frozen=True)
class At(Schedule):
    when: datetime  # naive: a wall time in the schedule's time zone
    expression: str = field(default="", compare=False)

    def next_after(self, after: datetime, tz: tzinfo = UTC, *, start: datetime | None = None) -> datetime | None:
        after, start = _utc(after, start)
        instant = _existing(self.when, tz) or _after_gap(self.when, tz)
        if instant.astimezone(UTC) <= after or (start is not None and instant.astimezone(UTC) < start):
            return None
        return instant


# Day-of-month and day-of-week rules other than plain value lists (``None`` in a field is ``?``).
@dataclass(frozen=True)
class LastDay:
    """``L`` (offset 0) or ``L-n``."""

    offset: int = 0


@dataclass(frozen=True)
class LastWeekday:
    """``LW``: the last Monday-to-Friday of the month."""


@dataclass(frozen=True)
class NearestWeekday:
    """``nW``: the Monday-to-Friday nearest day ``day`` within the same month."""

    day: int


@dataclass(frozen=True)
class LastOfMonth:
    """``nL`` in day-of-week: the last ``weekday`` (1 = SUN) of the month."""

    weekday: int


@dataclass(frozen=True)
class NthOfMonth:
    """``n#k``: the ``nth`` ``weekday`` (1 = SUN) of the month."""

    weekday: int
    nth: int


DaysOfMonth = tuple[int, ...] | LastDay | LastWeekday | NearestWeekday | None
DaysOfWeek = tuple[int, ...] | LastOfMonth | NthOfMonth | None


@dataclass(frozen=True)
class Cron(Schedule):
    """Sorted value tuples; ``days_of_month``/``days_of_week`` may also be a rule, and exactly one is None (``?``)."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: DaysOfMonth
    months: tuple[int, ...]
    days_of_week: DaysOfWeek
    years: tuple[int, ...]
    expression: str = field(default="", compare=False)

    def next_after(self, after: datetime, tz: tzinfo = UTC, *, start: datetime | None = None) -> datetime | None:
        after, start = _utc(after, start)
        if start is not None and start > after:
            after = start - timedelta(microseconds=1)
        if after.year > self.years[-1]:
            return None
        wall = after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0, fold=0) + timedelta(minutes=1)
        while True:
            candidate = self.next_wall_time(wall)
            if candidate is None:
                return None
            instant = _existing(candidate, tz)  # None: skipped by a clock going forward
            if instant is not None and instant.astimezone(UTC) > after:  # else: a repeated hour's second pass
                return instant
            wall = candidate + timedelta(minutes=1)

    def next_wall_time(self, wall: datetime) -> datetime | None:
        """The first matching wall time at or after the naive, whole-minute ``wall``."""
        for year in self.years[bisect_left(self.years, wall.year) :]:
            same_year = year == wall.year
            for month in self.months[bisect_left(self.months, wall.month) if same_year else 0 :]:
                same_month = same_year and month == wall.month
                first_weekday, length = calendar.monthrange(year, month)
                days = _days(self.days_of_month, self.days_of_week, (first_weekday + 1) % 7 + 1, length)
                for day in days[bisect_left(days, wall.day) if same_month else 0 :]:
                    same_day = same_month and day == wall.day
                    for hour in self.hours[bisect_left(self.hours, wall.hour) if same_day else 0 :]:
                        same_hour = same_day and hour == wall.hour
                        i = bisect_left(self.minutes, wall.minute) if same_hour else 0
                        if i < len(self.minutes):
                            return datetime(year, month, day, hour, self.minutes[i])
        return None


def fire_times(
    schedule: Schedule, after: datetime, tz: tzinfo = UTC, count: int = 10, *, start: datetime | None = None
) -> list[datetime]:
    """The next ``count`` fire times after ``after`` (fewer when the schedule ends), in ``tz``."""
    if count < 0:
        raise ValueError(f"count must be >= 0, not {count}")
    anchor = after if start is None else start
    times: list[datetime] = []
    current = after
    while len(times) < count:
        nxt = schedule.next_after(current, tz, start=anchor)
        if nxt is None:
            break
        times.append(nxt)
        current = nxt
    return times


def timezone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (a schedule's ScheduleExpressionTimezone) or ValidationError."""
    try:
        if name and name == name.strip():
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise ValidationError(f"Invalid time zone {name!r}: not an IANA time zone name such as 'UTC' or 'Europe/Paris'.")


# -- parsing --------------------------------------------------------------------------------------------------------
def parse(expression: str) -> Schedule:
    """``Rate``, ``Cron`` or ``At``, or ValidationError saying what is wrong."""
    if m := _RATE.fullmatch(expression):
        return _parse_rate(expression, m["body"])
    if m := _CRON.fullmatch(expression):
        return _parse_cron(expression, m["body"])
    if m := _AT.fullmatch(expression):
        return _parse_at(expression, m["body"])
    raise invalid(
        expression,
        "expected rate(value unit), cron(minutes hours day-of-month month day-of-week year) "
        "or at(yyyy-mm-ddThh:mm:ss), in lower case without surrounding spaces.",
    )


def _parse_rate(expression: str, body: str) -> Rate:
    parts = body.split(" ")
    if len(parts) != 2 or not all(parts):
        raise invalid(expression, "a rate is a value and a unit separated by one space, as in rate(5 minutes).")
    value_text, unit_text = parts
    if not _WHOLE.fullmatch(value_text) or int(value_text) == 0:
        raise invalid(expression, f"the value must be a positive whole number, not {value_text!r}.")
    value = int(value_text)
    if value > MAX_RATE_VALUE:
        raise invalid(expression, f"the value {value} is too large; allowed 1-{MAX_RATE_VALUE}.")
    unit = _RATE_UNITS.get(unit_text)
    if unit is None:
        raise invalid(expression, f"the unit must be minute(s), hour(s) or day(s), not {unit_text!r}.")
    if value == 1 and unit_text != unit:
        raise invalid(expression, f"the unit for the value 1 is singular: {unit}, not {unit_text!r}.")
    if value != 1 and unit_text == unit:
        raise invalid(expression, f"the unit for a value other than 1 is plural: {unit}s, not {unit_text!r}.")
    return Rate(value, unit, expression)


def _parse_at(expression: str, body: str) -> At:
    if not _AT_BODY.fullmatch(body):
        raise invalid(expression, f"the time must be yyyy-mm-ddThh:mm:ss, as in at(2026-11-25T09:00:00), not {body!r}.")
    try:
        when = datetime.fromisoformat(body)
    except ValueError as exc:
        raise invalid(expression, f"{body!r} is not a date and time: {exc}.") from None
    return At(when, expression)


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    max_step: int
    names: dict[str, int] | None = None
    steps: bool = True
    wraps: bool = True

    @property
    def allowed(self) -> str:
        values = f"{self.low}-{self.high}"
        if self.names:
            first, last = next(iter(self.names)), list(self.names)[-1]
            values += f" or {first}-{last}"
        return values


_MINUTES = _Field("Minutes", 0, 59, 59)
_HOURS = _Field("Hours", 0, 23, 23)
_DAY_OF_MONTH = _Field("Day-of-month", 1, 31, 31)
_MONTH = _Field("Month", 1, 12, 12, names=_MONTHS)
_DAY_OF_WEEK = _Field("Day-of-week", 1, 7, 7, names=_DAYS, steps=False)
_YEAR = _Field("Year", MIN_YEAR, MAX_YEAR, MAX_YEAR - MIN_YEAR, wraps=False)
_ALLOWED_CHARACTERS = {
    "Minutes": ", - * /",
    "Hours": ", - * /",
    "Day-of-month": ", - * ? / L W",
    "Month": ", - * /",
    "Day-of-week": ", - * ? L #",
    "Year": ", - * /",
}


def _parse_cron(expression: str, body: str) -> Cron:
    if body != body.strip():
        raise invalid(expression, "no space may follow 'cron(' or precede ')'.")
    fields = body.split()
    if len(fields) != 6:
        raise invalid(
            expression,
            f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not {len(fields)}.",
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        which = "both are" if dom == "?" else f"neither is (day-of-month {dom!r}, day-of-week {dow!r})"
        raise invalid(expression, f"exactly one of day-of-month and day-of-week must be '?'; {which}.")
    return Cron(
        minutes=_values(expression, minutes, _MINUTES),
        hours=_values(expression, hours, _HOURS),
        days_of_month=None if dom == "?" else _days_of_month(expression, dom.upper()),
        months=_values(expression, month, _MONTH),
        days_of_week=None if dow == "?" else _days_of_week(expression, dow.upper()),
        years=_values(expression, year, _YEAR),
        expression=expression,
    )


def _values(expression: str, text: str, f: _Field) -> tuple[int, ...]:
    """A comma list of ``*``, ``a``, ``a-b``, ``*/n``, ``a/n``, ``a-b/n``."""
    text = text.upper()
    for c in text:
        if not (c.isdigit() or c in ",-*" or (c == "/" and f.steps) or (c.isalpha() and f.names)):
            raise invalid(
                expression, f"{f.name} does not take {c!r} ({text!r}); allowed: {_ALLOWED_CHARACTERS[f.name]}."
            )
    values: set[int] = set()
    for item in text.split(","):
        values.update(_item(expression, item, f))
    return tuple(sorted(values))


def _item(expression: str, item: str, f: _Field) -> list[int]:
    if not item:
        raise invalid(expression, f"{f.name} has an empty list entry.")
    span, _, step_text = item.partition("/")
    step = 1
    if "/" in item:
        if not _WHOLE.fullmatch(step_text):
            raise invalid(expression, f"{f.name} step in {item!r} must be a whole number.")
        step = int(step_text)
        if not 1 <= step <= f.max_step:
            raise invalid(expression, f"{f.name} step {step} in {item!r} is out of range; allowed 1-{f.max_step}.")
    if span == "*":
        first, last = f.low, f.high
    elif "-" in span:
        a, _, b = span.partition("-")
        first, last = _value(expression, a, f, item), _value(expression, b, f, item)
        if last < first and not f.wraps:
            raise invalid(expression, f"{f.name} range {item!r} runs backwards; write the lower value first.")
    else:
        first = _value(expression, span, f, item)
        last = f.high if "/" in item else first
    if last < first:  # a range that wraps past the field's end (FRI-MON, 22-2)
        return [*range(first, f.high + 1), *range(f.low, last + 1)][::step]
    return list(range(first, last + 1, step))


def _value(expression: str, text: str, f: _Field, item: str) -> int:
    if f.names and text in f.names:
        return f.names[text]
    if not _NUMBER.fullmatch(text):
        what = "a number or a name" if f.names else "a number"
        raise invalid(expression, f"{f.name} value {text!r} in {item!r} is not {what}; allowed {f.allowed}.")
    value = int(text)
    if not f.low <= value <= f.high:
        raise invalid(expression, f"{f.name} value {value} is out of range; allowed {f.allowed}.")
    return value


def _days_of_month(expression: str, text: str) -> DaysOfMonth:
    if "L" not in text and "W" not in text:
        return _values(expression, text, _DAY_OF_MONTH)
    if text == "L":
        return LastDay()
    if text == "LW":
        return LastWeekday()
    if m := re.fullmatch(r"L-(\d+)", text):
        offset = int(m[1])
        if not 1 <= offset <= 30:
            raise invalid(expression, f"Day-of-month offset {offset} in {text!r} is out of range; allowed L-1 to L-30.")
        return LastDay(offset)
    if m := re.fullmatch(r"(\d+)W", text):
        return NearestWeekday(_value(expression, m[1], _DAY_OF_MONTH, text))
    raise invalid(
        expression,
        f"Day-of-month {text!r}: L and W are used alone, as L, L-n, LW or nW (n 1-31), not in lists, ranges or steps.",
    )


def _days_of_week(expression: str, text: str) -> DaysOfWeek:
    if "#" in text:
        day, _, nth = text.partition("#")
        if "," in text or text.count("#") > 1:
            raise invalid(expression, f"Day-of-week {text!r}: '#' takes one day, not a list (as in 6#3).")
        weekday = _value(expression, day, _DAY_OF_WEEK, text)
        if not _WHOLE.fullmatch(nth) or not 1 <= int(nth) <= 5:
            raise invalid(expression, f"Day-of-week {text!r}: the number after '#' must be 1-5, not {nth!r}.")
        return NthOfMonth(weekday, int(nth))
    if text == "L":
        return (7,)  # Quartz and AWS: L alone is the last day of the week, Saturday
    if text.endswith("L") and "L" not in text[:-1] and not any(c in text for c in ",-*/"):
        return LastOfMonth(_value(expression, text[:-1], _DAY_OF_WEEK, text))
    if "L" in text:  # no day name has an L
        raise invalid(
            expression, f"Day-of-week {text!r}: L is used alone or after one day (6L), not in lists or ranges."
        )
    return _values(expression, text, _DAY_OF_WEEK)


# -- evaluation -----------------------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _days(dom: DaysOfMonth, dow: DaysOfWeek, first: int, length: int) -> tuple[int, ...]:
    """The matching days of a month whose day 1 is weekday ``first`` (1 = SUN) and that has ``length`` days."""

    def weekday(day: int) -> int:
        return (first - 1 + day - 1) % 7 + 1

    if isinstance(dom, tuple):
        return tuple(d for d in dom if d <= length)
    if isinstance(dom, LastDay):
        return (length - dom.offset,) if length - dom.offset >= 1 else ()
    if isinstance(dom, LastWeekday):
        return (length - {1: 2, 7: 1}.get(weekday(length), 0),)
    if isinstance(dom, NearestWeekday):
        day = dom.day
        if day > length:
            return ()
        if weekday(day) == 7:  # Saturday: the Friday before, or Monday the 3rd for the 1st
            return (3,) if day == 1 else (day - 1,)
        if weekday(day) == 1:  # Sunday: the Monday after, or the Friday before for the last day
            return (day - 2,) if day == length else (day + 1,)
        return (day,)
    if isinstance(dow, tuple):
        return tuple(d for d in range(1, length + 1) if weekday(d) in dow)
    if isinstance(dow, LastOfMonth):
        return (length - (weekday(length) - dow.weekday) % 7,)
    if isinstance(dow, NthOfMonth):
        day = 1 + (dow.weekday - first) % 7 + 7 * (dow.nth - 1)
        return (day,) if day <= length else ()
    return ()


def _existing(wall: datetime, tz: tzinfo) -> datetime | None:
    """``wall`` on ``tz``'s clock (its first occurrence when it happens twice), or None when it does not exist."""
    instant = wall.replace(tzinfo=tz, fold=0)
    if instant.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall.replace(fold=0):
        return None
    return instant


def _after_gap(wall: datetime, tz: tzinfo) -> datetime:
    """The first existing whole minute after ``wall``, a wall time skipped by a clock going forward."""
    candidate = wall.replace(second=0, microsecond=0, fold=0)
    for _ in range(2 * 24 * 60):  # the longest gap on record is a day (Samoa, 2011)
        candidate += timedelta(minutes=1)
        if (instant := _existing(candidate, tz)) is not None:
            return instant
    raise ValueError(f"{wall} has no existing wall time within two days in {tz}")  # pragma: no cover


def _utc(after: datetime, start: datetime | None) -> tuple[datetime, datetime | None]:
    """Both in UTC: Python compares and subtracts two datetimes of one time zone by their wall clocks, which is
    wrong across a change of offset."""
    for value in (after, start):
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"schedule times must be timezone-aware, not {value!r}")
    return after.astimezone(UTC), None if start is None else start.astimezone(UTC)
