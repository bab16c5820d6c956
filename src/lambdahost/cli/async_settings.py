"""What a function says about its asynchronous invocations: ``lambdahost lanes``, ``lambdahost event-config`` and
``lambdahost provisioned`` (each shows the setting without options, changes it with them)."""

from __future__ import annotations

from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option, option
from lambdahost.core.errors import ProvisionedConcurrencyConfigNotFound, ResourceNotFound


@click.command()
@click.argument("name")
@click.argument("maximums", nargs=-1, type=click.IntRange(min=1), metavar="[MAX]...")
@option("--reset", is_flag=True, help="Back to one lane limited only by concurrency.")
@endpoint_option
def lanes(name: str, maximums: tuple[int, ...], reset: bool, endpoint: str) -> None:
    """Show or set the lanes of function NAME: one MAX per lane, its maximum concurrency (across all workers).

    `lambdahost lanes report 10 2` gives lane 0 up to 10 invocations at once and lane 1 up to 2; choose the lane per
    invocation with `lambdahost invoke --async --lane N` (or the X-Lambdahost-Lane header)."""
    if reset and maximums:
        raise click.UsageError("pass lane maximums or --reset, not both.")
    with connect(endpoint) as client:
        if reset or maximums:
            current = client.set_lanes(name, list(maximums) if maximums else None)
        else:
            current = client.get_lanes(name)
    if not current:
        click.echo(f"{name}: one lane (0), limited by the function's concurrency")
        return
    for lane, maximum in enumerate(current):
        click.echo(f"{name} lane {lane}: up to {maximum} at once")


@click.command("event-config")
@click.argument("name")
@option("--max-retries", type=click.IntRange(0, 2), help="MaximumRetryAttempts (AWS's default: 2).")
@option("--max-age", type=click.IntRange(60, 21600), metavar="SECONDS", help="MaximumEventAgeInSeconds.")
@option("--on-success", metavar="ARN", help="A function or queue ARN for the records of successes.")
@option("--on-failure", metavar="ARN", help="A function or queue ARN for the records of final failures.")
@option("--delete", is_flag=True, help="Delete the config (AWS's defaults apply again).")
@endpoint_option
def event_config(
    *,
    name: str,
    max_retries: int | None,
    max_age: int | None,
    on_success: str | None,
    on_failure: str | None,
    delete: bool,
    endpoint: str,
) -> None:
    """Show or change how function NAME's asynchronous invocations are retried and where their records go.

    Options given change those settings and keep the others (UpdateFunctionEventInvokeConfig)."""
    changes: dict[str, Any] = {}
    if max_retries is not None:
        changes["MaximumRetryAttempts"] = max_retries
    if max_age is not None:
        changes["MaximumEventAgeInSeconds"] = max_age
    destinations = {
        key: {"Destination": arn} for key, arn in (("OnSuccess", on_success), ("OnFailure", on_failure)) if arn
    }
    if delete and (changes or destinations):
        raise click.UsageError("--delete takes no other option.")
    with connect(endpoint) as client:
        if delete:
            client.delete_event_invoke_config(name)
            click.echo(f"{name}: event invoke config deleted (2 retries, events kept up to 6 hours, no destinations)")
            return
        if changes or destinations:
            try:
                current = client.get_event_invoke_config(name)
            except ResourceNotFound:
                current = {}
            if destinations:  # a destination given replaces that one and keeps the other
                changes["DestinationConfig"] = {**current.get("DestinationConfig", {}), **destinations}
            config = client.put_event_invoke_config(name, changes, merge=bool(current))
        else:
            try:
                config = client.get_event_invoke_config(name)
            except ResourceNotFound:
                click.echo(f"{name}: no event invoke config (2 retries, events kept up to 6 hours, no destinations)")
                return
    destinations_set = config.get("DestinationConfig", {})
    click.echo(f"{name}:")
    click.echo(f"  retries      {config.get('MaximumRetryAttempts', 2)}")
    click.echo(f"  max age      {config.get('MaximumEventAgeInSeconds', 21600)} s")
    click.echo(f"  on success   {destinations_set.get('OnSuccess', {}).get('Destination', '-')}")
    click.echo(f"  on failure   {destinations_set.get('OnFailure', {}).get('Destination', '-')}")


@click.command()
@click.argument("name")
@click.argument("count", required=False, type=click.IntRange(min=1))
@option("--delete", is_flag=True, help="Stop keeping environments warm.")
@endpoint_option
def provisioned(name: str, count: int | None, delete: bool, endpoint: str) -> None:
    """Show or set how many initialised environments function NAME keeps warm (provisioned concurrency)."""
    if delete and count is not None:
        raise click.UsageError("pass COUNT or --delete, not both.")
    with connect(endpoint) as client:
        if delete:
            client.delete_provisioned_concurrency(name)
            click.echo(f"{name}: no provisioned concurrency")
            return
        if count is not None:
            config = client.put_provisioned_concurrency(name, count)
        else:
            try:
                config = client.get_provisioned_concurrency(name)
            except ProvisionedConcurrencyConfigNotFound:
                click.echo(f"{name}: no provisioned concurrency")
                return
    click.echo(
        f"{name}: {config['AllocatedProvisionedConcurrentExecutions']} of "
        f"{config['RequestedProvisionedConcurrentExecutions']} environments warm ({config['Status']})"
    )
