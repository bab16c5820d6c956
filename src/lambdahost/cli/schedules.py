"""``lambdahost schedules add|list|show|enable|disable|rm|next``: schedules that invoke functions, over EventBridge
Scheduler's API; ``next`` shows when an expression fires (computed locally: no server needed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option, option
from lambdahost.cli.output import local_time, table
from lambdahost.core import schedules

ROLE = "arn:aws:iam::000000000000:role/lambdahost-scheduler"  # Scheduler requires one; lambdahost checks no IAM


@click.group("schedules")
def schedules_group() -> None:
    """Schedules that invoke a function asynchronously: rate(...), cron(...) and at(...)."""


def _local_iso(value: str, what: str) -> float:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO time such as 2026-11-25T09:00:00.", param_hint=what
        ) from None
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).timestamp()


@schedules_group.command("add")
@click.argument("name")
@click.argument("expression")
@click.argument("function")
@option("--timezone", "tz_name", default="UTC", show_default=True, help="The IANA time zone the expression is read in.")
@option("--input", "input_json", metavar="JSON", help="The event to deliver (default: a Scheduled Event).")
@option("--rule-event", is_flag=True, help="Without --input, deliver an EventBridge rule's Scheduled Event.")
@option("--window", type=click.IntRange(1, 1440), help="Flexible time window: up to this many minutes late.")
@option("--start", metavar="ISO-TIME", help="Fire no earlier than this (UTC unless it says otherwise).")
@option("--end", metavar="ISO-TIME", help="Fire no later than this.")
@option("--disabled", is_flag=True, help="Create it disabled.")
@option("--description", default="", help="A description.")
@option("--dlq", metavar="QUEUE-ARN", help="Where events go that cannot be delivered (the function is gone).")
@option("--delete-after-completion", is_flag=True, help="Delete a one-time schedule once it has fired.")
@endpoint_option
def add(
    name: str,
    expression: str,
    function: str,
    tz_name: str,
    input_json: str | None,
    rule_event: bool,
    window: int | None,
    start: str | None,
    end: str | None,
    disabled: bool,
    description: str,
    dlq: str | None,
    delete_after_completion: bool,
    endpoint: str,
) -> None:
    """Schedule FUNCTION (a name or ARN) with EXPRESSION, e.g.
    `lambdahost schedules add weekly 'cron(0 9 ? * MON *)' report --timezone Europe/Berlin`."""
    if input_json is not None:
        try:
            json.loads(input_json)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--input") from None
    target: dict[str, Any] = {"Arn": function, "RoleArn": ROLE}
    if input_json is not None:
        target["Input"] = input_json
    if dlq is not None:
        target["DeadLetterConfig"] = {"Arn": dlq}
    request: dict[str, Any] = {
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": tz_name,
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": window} if window else {"Mode": "OFF"},
        "Target": target,
        "State": "DISABLED" if disabled else "ENABLED",
        "Description": description,
        "ActionAfterCompletion": "DELETE" if delete_after_completion else "NONE",
        "LambdahostEventFormat": "rule" if rule_event else "scheduler",
    }
    if start is not None:
        request["StartDate"] = _local_iso(start, "--start")
    if end is not None:
        request["EndDate"] = _local_iso(end, "--end")
    with connect(endpoint) as client:
        client.create_schedule(name, request)
        created = client.get_schedule(name)
    click.echo(f"{name}: next {local_time(created.get('LambdahostNextFireTime')) or 'never'}")


@schedules_group.command("list")
@option("--prefix", help="Only schedules whose names start with this.")
@endpoint_option
def list_schedules(prefix: str | None, endpoint: str) -> None:
    """Schedules with their target and next fire time."""
    with connect(endpoint) as client:
        found = client.list_schedules(prefix)
    rows = [
        (
            s["Name"],
            s["ScheduleExpression"],
            s["Target"]["Arn"].rsplit(":function:", 1)[-1],
            s["State"].lower(),
            local_time(s.get("LambdahostNextFireTime")) or "-",
        )
        for s in found
    ]
    click.echo(table(("NAME", "EXPRESSION", "FUNCTION", "STATE", "NEXT"), rows))


@schedules_group.command("show")
@click.argument("name")
@endpoint_option
def show(name: str, endpoint: str) -> None:
    """Everything about schedule NAME, as JSON."""
    with connect(endpoint) as client:
        click.echo(json.dumps(client.get_schedule(name), indent=2, sort_keys=True))


def _set_state(name: str, endpoint: str, enabled: bool) -> None:
    with connect(endpoint) as client:
        current = client.get_schedule(name)
        keys = ("ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow", "Target", "Description")
        request = {key: current[key] for key in keys if key in current}
        extra = ("StartDate", "EndDate", "ActionAfterCompletion", "KmsKeyArn", "LambdahostEventFormat")
        request |= {key: current[key] for key in extra if key in current}
        request["State"] = "ENABLED" if enabled else "DISABLED"
        client.update_schedule(name, request)
        updated = client.get_schedule(name)
    next_time = local_time(updated.get("LambdahostNextFireTime")) if enabled else None
    click.echo(f"{name}: {'enabled, next ' + (next_time or 'never') if enabled else 'disabled'}")


@schedules_group.command("enable")
@click.argument("name")
@endpoint_option
def enable(name: str, endpoint: str) -> None:
    """Enable schedule NAME (it fires from its next due time; missed times are not caught up)."""
    _set_state(name, endpoint, True)


@schedules_group.command("disable")
@click.argument("name")
@endpoint_option
def disable(name: str, endpoint: str) -> None:
    """Disable schedule NAME."""
    _set_state(name, endpoint, False)


@schedules_group.command("rm")
@click.argument("names", nargs=-1, required=True)
@endpoint_option
def remove(names: tuple[str, ...], endpoint: str) -> None:
    """Delete schedules NAMES."""
    with connect(endpoint) as client:
        for name in names:
            client.delete_schedule(name)
            click.echo(f"deleted {name}")


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
