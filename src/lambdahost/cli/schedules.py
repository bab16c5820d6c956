"""``lambdahost schedules``: EventBridge schedule expressions. ``next`` shows when an expression fires (computed
locally: no server needed). Stored schedules (add, list, rm) come with the scheduler (issue 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from lambdahost.cli.options import option
from lambdahost.core import schedules


@click.group("schedules")
def schedules_group() -> None:
    """EventBridge schedule expressions: rate(...), cron(...) and at(...)."""


@schedules_group.command("next")
@click.argument("expression")
@option("--count", "-n", type=click.IntRange(1, 1000), default=5, show_default=True, help="How many fire times.")
@option("--timezone", "tz_name", default="UTC", show_default=True, help="An IANA time zone, e.g. Europe/Berlin.")
@option("--after", metavar="ISO-TIME", help="Start from this time (in --timezone) instead of now.")
def next_times(expression: str, count: int, tz_name: str, after: str | None) -> None:
    """The next fire times of EXPRESSION, e.g. `lambdahost schedules next 'cron(0 9 ? * MON *)'`.

    A rate() counts from --after (or now), as a schedule created then would."""
    tz = schedules.timezone(tz_name)
    schedule = schedules.parse(expression)
    if after is None:
        start = datetime.now(UTC)
    else:
        try:
            parsed = datetime.fromisoformat(after)
        except ValueError:
            raise click.BadParameter(f"{after!r} is not an ISO time such as 2026-11-25T09:00:00.") from None
        start = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
    times = schedules.fire_times(schedule, start, tz, count)
    if not times:
        click.echo(f"{expression} fires no more after {start.astimezone(tz).strftime('%Y-%m-%d %H:%M:%S %Z')}")
        return
    for when in times:
        click.echo(when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z (%a)"))
