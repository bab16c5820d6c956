"""EventBridge schedule expressions (``core/schedules.py``): parsing with precise errors, fire times for every cron
feature, rate anchoring, at(), time zones and daylight saving time, and the cost of sparse expressions."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lambdahost.core.errors import InvalidParameterValue, ValidationError
from lambdahost.core.schedules import (
    At,
    Cron,
    LastDay,
    LastOfMonth,
    LastWeekday,
    NearestWeekday,
    NthOfMonth,
    Rate,
    fire_times,
    parse,
    timezone,
)

NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold)


def times(expression: str, after: datetime = NEW_YEAR, count: int = 4, tz: ZoneInfo | None = None) -> list[datetime]:
    """Fire times in UTC: Python never finds a wall time that happens twice equal to a time in another zone."""
    return [t.astimezone(UTC) for t in fire_times(parse(expression), after, tz or ZoneInfo("UTC"), count)]


# -- parsing ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(1 minute)", Rate(1, "minute")),
        ("rate(5 minutes)", Rate(5, "minute")),
        ("rate(1 hour)", Rate(1, "hour")),
        ("rate(12 hours)", Rate(12, "hour")),
        ("rate(1 day)", Rate(1, "day")),
        ("rate(7 days)", Rate(7, "day")),
        ("at(2026-11-25T09:00:00)", At(datetime(2026, 11, 25, 9))),
        (
            "cron(15 10 * * ? *)",
            Cron((15,), (10,), tuple(range(1, 32)), tuple(range(1, 13)), None, tuple(range(1970, 2200))),
        ),
        (
            "cron(0/20 8-17/4 ? jan,Mar-APR MON-FRI 2026,2028-2030)",
            Cron((0, 20, 40), (8, 12, 16), None, (1, 3, 4), (2, 3, 4, 5, 6), (2026, 2028, 2029, 2030)),
        ),
        (
            "cron(*/15 22-2 L * ? *)",
            Cron((0, 15, 30, 45), (0, 1, 2, 22, 23), LastDay(), tuple(range(1, 13)), None, tuple(range(1970, 2200))),
        ),
    ],
)
def test_valid_expressions_parse_to_their_values(expression: str, expected: object) -> None:
    parsed = parse(expression)
    assert parsed == expected
    assert parsed.expression == expression


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("L", LastDay()),
        ("l-3", LastDay(3)),
        ("LW", LastWeekday()),
        ("15W", NearestWeekday(15)),
        ("1w", NearestWeekday(1)),
        ("5,10-12,28/2", (5, 10, 11, 12, 28, 30)),
        ("28-3", (1, 2, 3, 28, 29, 30, 31)),  # a range that wraps
    ],
)
def test_day_of_month_forms(field: str, expected: object) -> None:
    cron = parse(f"cron(0 0 {field} * ? *)")
    assert isinstance(cron, Cron)
    assert cron.days_of_month == expected
    assert cron.days_of_week is None


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("6L", LastOfMonth(6)),
        ("friL", LastOfMonth(6)),
        ("L", (7,)),  # L alone is the last day of the week: Saturday
        ("6#3", NthOfMonth(6, 3)),
        ("MON#1", NthOfMonth(2, 1)),
        ("SUN-SAT", (1, 2, 3, 4, 5, 6, 7)),
        ("FRI-MON", (1, 2, 6, 7)),  # wraps
        ("1,3,5", (1, 3, 5)),
        ("*", (1, 2, 3, 4, 5, 6, 7)),
    ],
)
def test_day_of_week_forms(field: str, expected: object) -> None:
    cron = parse(f"cron(0 0 ? * {field} *)")
    assert isinstance(cron, Cron)
    assert cron.days_of_week == expected
    assert cron.days_of_month is None


def test_equivalent_crons_compare_equal() -> None:
    assert parse("cron(00 10 * JAN ? *)") == parse("cron(0 10 * 1 ? *)")
    assert parse("cron(0 10 * * ? *)") != parse("cron(0 11 * * ? *)")


# The exact text for a representative set: what is wrong, where, and what is allowed.
@pytest.mark.parametrize(
    ("expression", "detail"),
    [
        ("rate(1 minutes)", "the unit for the value 1 is singular: minute, not 'minutes'."),
        ("rate(5 minute)", "the unit for a value other than 1 is plural: minutes, not 'minute'."),
        ("rate(0 minutes)", "the value must be a positive whole number, not '0'."),
        ("rate(10 seconds)", "the unit must be minute(s), hour(s) or day(s), not 'seconds'."),
        ("rate(10 MINUTES)", "the unit must be minute(s), hour(s) or day(s), not 'MINUTES'."),
        ("rate( 10 minutes )", "a rate is a value and a unit separated by one space, as in rate(5 minutes)."),
        (
            "cron(0 10 * * ?)",
            "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not 5.",
        ),
        ("cron(60 10 * * ? *)", "Minutes value 60 is out of range; allowed 0-59."),
        ("cron(0 24 * * ? *)", "Hours value 24 is out of range; allowed 0-23."),
        ("cron(0 10 0 * ? *)", "Day-of-month value 0 is out of range; allowed 1-31."),
        ("cron(0 10 * FOO ? *)", "Month value 'FOO' in 'FOO' is not a number or a name; allowed 1-12 or JAN-DEC."),
        ("cron(0 10 ? * 8 *)", "Day-of-week value 8 is out of range; allowed 1-7 or SUN-SAT."),
        ("cron(0 10 * * ? 2200)", "Year value 2200 is out of range; allowed 1970-2199."),
        (
            "cron(0 10 * * * *)",
            "exactly one of day-of-month and day-of-week must be '?'; neither is (day-of-month '*', day-of-week '*').",
        ),
        ("cron(0 10 ? * ? *)", "exactly one of day-of-month and day-of-week must be '?'; both are."),
        ("cron(0/60 * * * ? *)", "Minutes step 60 in '0/60' is out of range; allowed 1-59."),
        ("cron(0 10 ? * */2 *)", "Day-of-week does not take '/' ('*/2'); allowed: , - * ? L #."),
        ("cron(0 L 1 * ? *)", "Hours does not take 'L' ('L'); allowed: , - * /."),
        ("cron(0 10 ? * 6#6 *)", "Day-of-week '6#6': the number after '#' must be 1-5, not '6'."),
        ("cron(0 10 ? * 2#1,6#3 *)", "Day-of-week '2#1,6#3': '#' takes one day, not a list (as in 6#3)."),
        ("cron(0 10 * * ? 2030-2026)", "Year range '2030-2026' runs backwards; write the lower value first."),
        ("at(2026-02-30T09:00:00)", "'2026-02-30T09:00:00' is not a date and time: day is out of range for month."),
        (
            "at(2026-11-25 09:00)",
            "the time must be yyyy-mm-ddThh:mm:ss, as in at(2026-11-25T09:00:00), not '2026-11-25 09:00'.",
        ),
    ],
)
def test_invalid_expressions_say_exactly_what_is_wrong(expression: str, detail: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(expression)
    assert caught.value.message == f"Parameter ScheduleExpression is not valid. {expression!r}: {detail}"
    assert caught.value.code == "ValidationException"
    assert caught.value.status == 400
    assert isinstance(caught.value, InvalidParameterValue)


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "rate()",
        "rate(10)",
        "rate(1 days)",
        "rate(10 day)",
        "rate(foo minutes)",
        "rate(-10 minutes)",
        "rate(10 minutess)",
        "rate(10  minutes)",
        " rate(10 minutes)",
        "rate(10 minutes) ",
        "RATE(10 minutes)",
        "rate(1000000000 minutes)",
        "cron()",
        "cron(0 10 * * ? * *)",
        "cron( 0 10 * * ? *)",
        "cron(0 10 * * ? * )",
        "cron(0 10 * * MON *)",  # neither is ?
        "cron(0 10 ? * ? *)",
        "cron(a 10 * * ? *)",
        "cron(0 10 * * ? 1969)",
        "cron(0 10 * 13 ? *)",
        "cron(0 10 32 * ? *)",
        "cron(0 10 ? * 0 *)",
        "cron(0 10 ? * MON-FUN *)",
        "cron(0 10 * * L *)",  # L alone in dow with a dom value: neither is ?
        "cron(0 10 1,L * ? *)",
        "cron(0 10 1-15W * ? *)",
        "cron(0 10 32W * ? *)",
        "cron(0 10 L-31 * ? *)",
        "cron(0 10 LW,5 * ? *)",
        "cron(0 10 ? * 2L,6 *)",
        "cron(0 10 ? * 6#0 *)",
        "cron(0 10 ? * 6# *)",
        "cron(0 10 5#2 * ? *)",
        "cron(0 10 * L ? *)",
        "cron(0 10 * * ? L)",
        "cron(0/0 10 * * ? *)",
        "cron(0/ 10 * * ? *)",
        "cron(0,,5 10 * * ? *)",
        "cron(0 10 * * ? 2020/0)",
        "cron(0 10 * JAN/13 ? *)",
        "cron(1.5 10 * * ? *)",
        "CRON(0 10 * * ? *)",
        "at(2026-11-25T09:00)",
        "at(2026-11-25T25:00:00)",
        "at(2026-11-25T09:00:00Z)",
        "at(2026-11-25T09:00:00+01:00)",
        "every 5 minutes",
    ],
)
def test_invalid_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ValidationError, match=r"^Parameter ScheduleExpression is not valid\. "):
        parse(expression)


# -- cron fire times, feature by feature (UTC; 2026-01-01 is a Thursday) -------------------------------------------
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # steps start at their first value; the start itself is not "after"
        (
            "cron(1/20 * * * ? *)",
            [utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 21), utc(2026, 1, 1, 0, 41), utc(2026, 1, 1, 1, 1)],
        ),
        (
            "cron(*/30 * * * ? *)",
            [utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 1), utc(2026, 1, 1, 1, 30), utc(2026, 1, 1, 2)],
        ),
        # lists and ranges
        ("cron(0 10,15 * * ? *)", [utc(2026, 1, 1, 10), utc(2026, 1, 1, 15), utc(2026, 1, 2, 10), utc(2026, 1, 2, 15)]),
        ("cron(0 22-1 * * ? *)", [utc(2026, 1, 1, 1), utc(2026, 1, 1, 22), utc(2026, 1, 1, 23), utc(2026, 1, 2, 0)]),
        # names, day-of-week ranges (Thu Jan 1, Fri Jan 2, then Monday)
        (
            "cron(0 18 ? * MON-FRI *)",
            [utc(2026, 1, 1, 18), utc(2026, 1, 2, 18), utc(2026, 1, 5, 18), utc(2026, 1, 6, 18)],
        ),
        ("cron(0 9 ? * sat,SUN *)", [utc(2026, 1, 3, 9), utc(2026, 1, 4, 9), utc(2026, 1, 10, 9), utc(2026, 1, 11, 9)]),
        ("cron(0 0 1 JAN/3 ? *)", [utc(2026, 4, 1), utc(2026, 7, 1), utc(2026, 10, 1), utc(2027, 1, 1)]),
        # 31 is skipped in shorter months
        ("cron(0 0 31 * ? *)", [utc(2026, 1, 31), utc(2026, 3, 31), utc(2026, 5, 31), utc(2026, 7, 31)]),
        # L: last day (Feb 2028 is a leap month)
        (
            "cron(0 12 L * ? 2026,2028)",
            [utc(2026, 1, 31, 12), utc(2026, 2, 28, 12), utc(2026, 3, 31, 12), utc(2026, 4, 30, 12)],
        ),
        ("cron(0 12 L 2 ? 2027-2028)", [utc(2027, 2, 28, 12), utc(2028, 2, 29, 12)]),
        (
            "cron(0 12 L-3 * ? *)",
            [utc(2026, 1, 28, 12), utc(2026, 2, 25, 12), utc(2026, 3, 28, 12), utc(2026, 4, 27, 12)],
        ),
        # LW: Jan 31 and Feb 28 are Saturdays, Mar 31 a Tuesday, May 31 a Sunday
        ("cron(0 0 LW JAN-MAY ? *)", [utc(2026, 1, 30), utc(2026, 2, 27), utc(2026, 3, 31), utc(2026, 4, 30)]),
        ("cron(0 0 LW 5 ? 2026)", [utc(2026, 5, 29)]),
        # W: Jan 15 is a Thursday, Feb 15 and Mar 15 Sundays, Aug 15 a Saturday
        ("cron(0 0 15W 1-3,8 ? 2026)", [utc(2026, 1, 15), utc(2026, 2, 16), utc(2026, 3, 16), utc(2026, 8, 14)]),
        # 1W on Saturday Aug 1 moves forward to Monday the 3rd, never back into July
        ("cron(0 0 1W 8 ? 2026)", [utc(2026, 8, 3)]),
        # 31W: only months with a 31st; Sunday May 31 (the last day) moves back to Friday the 29th
        ("cron(0 0 31W * ? 2026)", [utc(2026, 1, 30), utc(2026, 3, 31), utc(2026, 5, 29), utc(2026, 7, 31)]),
        # #: third Friday; fifth Monday only in months that have one
        ("cron(0 9 ? * 6#3 *)", [utc(2026, 1, 16, 9), utc(2026, 2, 20, 9), utc(2026, 3, 20, 9), utc(2026, 4, 17, 9)]),
        (
            "cron(0 9 ? * MON#5 2026)",
            [utc(2026, 3, 30, 9), utc(2026, 6, 29, 9), utc(2026, 8, 31, 9), utc(2026, 11, 30, 9)],
        ),
        # nL: last Friday; L alone: every Saturday
        ("cron(0 9 ? * 6L *)", [utc(2026, 1, 30, 9), utc(2026, 2, 27, 9), utc(2026, 3, 27, 9), utc(2026, 4, 24, 9)]),
        ("cron(0 9 ? * L *)", [utc(2026, 1, 3, 9), utc(2026, 1, 10, 9), utc(2026, 1, 17, 9), utc(2026, 1, 24, 9)]),
        # year lists, steps and limits
        ("cron(0 0 1 1 ? 2026/2)", [utc(2028, 1, 1), utc(2030, 1, 1), utc(2032, 1, 1), utc(2034, 1, 1)]),
        ("cron(0 0 1 1 ? 2198-2199)", [utc(2198, 1, 1), utc(2199, 1, 1)]),
        ("cron(0 0 1 1 ? 2020-2025)", []),
        ("cron(0 0 29 2 ? *)", [utc(2028, 2, 29), utc(2032, 2, 29), utc(2036, 2, 29), utc(2040, 2, 29)]),
        ("cron(0 0 30 2 ? *)", []),  # valid, never fires
    ],
)
def test_cron_fire_times(expression: str, expected: list[datetime]) -> None:
    assert times(expression) == expected


def test_next_after_is_strictly_after_and_ignores_seconds() -> None:
    cron = parse("cron(0/15 * * * ? *)")
    assert cron.next_after(utc(2026, 1, 1, 10, 15)) == utc(2026, 1, 1, 10, 30)
    assert cron.next_after(datetime(2026, 1, 1, 10, 14, 59, tzinfo=UTC)) == utc(2026, 1, 1, 10, 15)
    assert cron.next_after(datetime(2026, 1, 1, 10, 14, 59, 999_999, tzinfo=UTC)) == utc(2026, 1, 1, 10, 15)


def test_cron_ends_after_its_last_year() -> None:
    cron = parse("cron(59 23 31 12 ? 2199)")
    assert cron.next_after(NEW_YEAR) == utc(2199, 12, 31, 23, 59)
    assert cron.next_after(utc(2199, 12, 31, 23, 59)) is None


def test_start_means_not_before_for_cron() -> None:
    cron = parse("cron(0 10 * * ? *)")
    assert cron.next_after(NEW_YEAR, start=utc(2026, 3, 1, 10)) == utc(2026, 3, 1, 10)
    assert cron.next_after(NEW_YEAR, start=utc(2026, 3, 1, 10, 1)) == utc(2026, 3, 2, 10)


def _weekday(d: date) -> int:  # 1 = SUN ... 7 = SAT
    return (d.weekday() + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int) -> int | None:
    length = calendar.monthrange(year, month)[1]
    if day > length:
        return None
    weekdays = [d for d in range(1, length + 1) if _weekday(date(year, month, d)) not in (1, 7)]
    return min(weekdays, key=lambda d: (abs(d - day), d))


# Each day rule restated as a plain predicate, checked against the evaluator day by day over seven years.
_DAY_RULES: dict[str, Callable[[date, int], bool]] = {
    "L": lambda d, n: d.day == n,
    "L-5": lambda d, n: d.day == n - 5,
    "LW": lambda d, n: d.day == max(x for x in range(n - 2, n + 1) if _weekday(d.replace(day=x)) not in (1, 7)),
    "1W": lambda d, n: d.day == _nearest_weekday(d.year, d.month, 1),
    "16W": lambda d, n: d.day == _nearest_weekday(d.year, d.month, 16),
    "30W": lambda d, n: d.day == _nearest_weekday(d.year, d.month, 30),
    "? * 4L": lambda d, n: _weekday(d) == 4 and d.day + 7 > n,
    "? * 1#1": lambda d, n: _weekday(d) == 1 and d.day <= 7,
    "? * SAT#5": lambda d, n: _weekday(d) == 7 and d.day > 28,
    "? * TUE-THU": lambda d, n: _weekday(d) in (3, 4, 5),
    "1/10": lambda d, n: d.day in (1, 11, 21, 31),
}


@pytest.mark.parametrize("rule", sorted(_DAY_RULES))
def test_day_rules_match_a_day_by_day_reading(rule: str) -> None:
    fields = rule if rule.startswith("?") else f"{rule} * ?"
    found = times(f"cron(0 12 {fields} 2026-2032)", count=3000)
    expected = []
    day = date(2026, 1, 1)
    while day.year <= 2032:
        if _DAY_RULES[rule](day, calendar.monthrange(day.year, day.month)[1]):
            expected.append(utc(day.year, day.month, day.day, 12))
        day += timedelta(days=1)
    assert found == expected


# -- rate anchoring ------------------------------------------------------------------------------------------------
def test_rate_without_start_counts_from_after() -> None:
    after = datetime(2026, 1, 1, 10, 0, 30, tzinfo=UTC)
    assert fire_times(parse("rate(5 minutes)"), after, count=3) == [
        after + timedelta(minutes=5),
        after + timedelta(minutes=10),
        after + timedelta(minutes=15),
    ]


def test_rate_fires_at_start_and_every_period_after_it() -> None:
    rate = parse("rate(5 minutes)")
    start = datetime(2026, 1, 1, 9, 58, 17, tzinfo=UTC)  # created (or StartDate) at 09:58:17
    assert rate.next_after(utc(2026, 1, 1, 9), start=start) == start  # fires when it starts
    assert rate.next_after(start, start=start) == start + timedelta(minutes=5)
    assert fire_times(rate, utc(2026, 1, 1, 10), count=2, start=start) == [
        datetime(2026, 1, 1, 10, 3, 17, tzinfo=UTC),
        datetime(2026, 1, 1, 10, 8, 17, tzinfo=UTC),
    ]


def test_rate_is_elapsed_time_across_daylight_saving_time() -> None:
    start = local(NEW_YORK, 2026, 3, 7, 9)  # 14:00 UTC
    days = fire_times(parse("rate(1 day)"), start, NEW_YORK, count=2, start=start)
    assert days == [utc(2026, 3, 8, 14), utc(2026, 3, 9, 14)]
    assert [d.hour for d in days] == [10, 10]  # 24 hours later is 10:00 EDT after the clocks went forward


def test_rate_units() -> None:
    assert parse("rate(1 minute)").period == timedelta(minutes=1)  # type: ignore[attr-defined]
    assert parse("rate(3 hours)").period == timedelta(hours=3)  # type: ignore[attr-defined]
    assert parse("rate(2 days)").period == timedelta(days=2)  # type: ignore[attr-defined]


# -- at() -----------------------------------------------------------------------------------------------------------
def test_at_fires_once_in_its_time_zone() -> None:
    at = parse("at(2026-11-25T09:00:00)")
    assert at.next_after(NEW_YEAR) == utc(2026, 11, 25, 9)
    assert at.next_after(NEW_YEAR, NEW_YORK) == utc(2026, 11, 25, 14)
    assert fire_times(at, NEW_YEAR, NEW_YORK, count=5) == [utc(2026, 11, 25, 14)]


def test_at_in_the_past_or_before_start_has_no_fire_time() -> None:
    at = parse("at(2026-11-25T09:00:00)")
    assert at.next_after(utc(2026, 11, 25, 9)) is None  # strictly after
    assert at.next_after(utc(2027, 1, 1)) is None
    assert at.next_after(NEW_YEAR, start=utc(2026, 12, 1)) is None
    assert fire_times(at, utc(2027, 1, 1)) == []


def test_at_a_skipped_wall_time_fires_when_the_gap_ends() -> None:
    # 02:30 does not exist in New York on 2026-03-08: the clocks go from 02:00 EST to 03:00 EDT (07:00 UTC)
    assert parse("at(2026-03-08T02:30:00)").next_after(NEW_YEAR, NEW_YORK) == utc(2026, 3, 8, 7)


def test_at_a_repeated_wall_time_fires_at_its_first_occurrence() -> None:
    # 01:30 happens twice in New York on 2026-11-01: 01:30 EDT (05:30 UTC), then 01:30 EST (06:30 UTC)
    fired = parse("at(2026-11-01T01:30:00)").next_after(NEW_YEAR, NEW_YORK)
    assert fired is not None
    assert fired.astimezone(UTC) == utc(2026, 11, 1, 5, 30)


# -- time zones and daylight saving time --------------------------------------------------------------------------
def test_cron_follows_the_wall_clock_of_its_time_zone() -> None:
    winter = fire_times(parse("cron(0 9 * * ? *)"), utc(2026, 1, 10), PARIS, count=1)
    summer = fire_times(parse("cron(0 9 * * ? *)"), utc(2026, 7, 10), PARIS, count=1)
    assert winter == [utc(2026, 1, 10, 8)]
    assert summer == [utc(2026, 7, 10, 7)]
    assert winter[0].tzinfo is PARIS
    assert (winter[0].hour, summer[0].hour) == (9, 9)


def test_cron_skips_a_wall_time_that_does_not_exist() -> None:
    # 02:30 does not happen on 2026-03-08 in New York: no fire that day (EventBridge Scheduler's rule)
    found = times("cron(30 2 * * ? *)", local(NEW_YORK, 2026, 3, 7), count=3, tz=NEW_YORK)
    assert found == [
        local(NEW_YORK, 2026, 3, 7, 2, 30),
        local(NEW_YORK, 2026, 3, 9, 2, 30),
        local(NEW_YORK, 2026, 3, 10, 2, 30),
    ]
    assert [d.astimezone(UTC).hour for d in found] == [7, 6, 6]


def test_frequent_cron_skips_the_missing_hour() -> None:
    found = times("cron(0/30 * * * ? *)", local(NEW_YORK, 2026, 3, 8, 1), count=3, tz=NEW_YORK)
    assert found == [utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7), utc(2026, 3, 8, 7, 30)]  # 01:30 EST, 03:00 EDT


def test_cron_fires_once_for_a_wall_time_that_happens_twice() -> None:
    found = times("cron(30 1 * * ? *)", local(NEW_YORK, 2026, 10, 31, 12), count=2, tz=NEW_YORK)
    assert found == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]  # 01:30 EDT, not 01:30 EST as well


def test_frequent_cron_does_not_repeat_the_repeated_hour() -> None:
    found = times("cron(0/30 * * * ? *)", local(NEW_YORK, 2026, 11, 1, 0, 45), count=4, tz=NEW_YORK)
    # 01:00 EDT, 01:30 EDT, then the clock reads 01:00 again (EST): those wall times already fired
    assert found == [utc(2026, 11, 1, 5), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 7), utc(2026, 11, 1, 7, 30)]


def test_next_after_from_inside_the_repeated_hour() -> None:
    inside = local(NEW_YORK, 2026, 11, 1, 1, 10, fold=1)  # 01:10 EST, the second pass
    assert inside.astimezone(UTC) == utc(2026, 11, 1, 6, 10)
    assert parse("cron(0/30 * * * ? *)").next_after(inside, NEW_YORK) == utc(2026, 11, 1, 7)  # not 01:30 EDT


def test_time_zone_names() -> None:
    assert timezone("America/New_York") is NEW_YORK
    assert timezone("UTC") == ZoneInfo("UTC")
    for name in ["Mars/Olympus", "", " UTC", "../etc/passwd", "/usr/share/zoneinfo/UTC"]:
        with pytest.raises(ValidationError) as caught:
            timezone(name)
        assert caught.value.message == (
            f"Invalid time zone {name!r}: not an IANA time zone name such as 'UTC' or 'Europe/Paris'."
        )


def test_naive_times_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse("cron(0 10 * * ? *)").next_after(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        parse("rate(1 day)").next_after(NEW_YEAR, start=datetime(2026, 1, 1))


def test_fire_times_count() -> None:
    assert fire_times(parse("rate(1 day)"), NEW_YEAR, count=0) == []
    with pytest.raises(ValueError, match="count"):
        fire_times(parse("rate(1 day)"), NEW_YEAR, count=-1)


# -- cost: field by field, never minute by minute ------------------------------------------------------------------
@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 0 29 2 ? *)",  # a leap day: years apart
        "cron(0 0 30 2 ? *)",  # never: every year up to 2199 is looked at
        "cron(0 0 31W 2,4,6,9,11 ? *)",  # never, over five months a year
        "cron(59 23 31 12 ? 2199)",  # one fire time, 173 years away
        "cron(* * * * ? *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 ? * 6#5 *)",
        "cron(0 0 LW * ? *)",
    ],
)
def test_a_hundred_fire_times_are_cheap(expression: str) -> None:
    schedule = parse(expression)
    best = min(_timed(lambda: fire_times(schedule, NEW_YEAR, NEW_YORK, count=100)) for _ in range(3))
    # typically 0.1-1 ms; the bound leaves room for a slow CI machine and is still far below a minute-by-minute scan
    assert best < 0.05


def _timed(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def test_fire_times_past_what_a_datetime_holds_end_the_schedule() -> None:
    assert parse("rate(999999999 days)").next_after(NEW_YEAR) is None
    assert parse("cron(0 0 * * ? *)").next_after(utc(2200, 1, 1)) is None
