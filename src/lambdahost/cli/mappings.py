"""``lambdahost mappings create|list|get|update|enable|disable|delete``: event source mappings (a queue or a stream
feeding a function), over the AWS Lambda API's EventSourceMapping operations."""

from __future__ import annotations

import json
from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option
from lambdahost.cli.output import local_time, table
from lambdahost.client import Client


def _source_arn(client: Client, source: str) -> str:
    """An ARN as given; a name is taken as a queue's."""
    if source.startswith("arn:"):
        return source
    return client.queue_attributes(source, ["QueueArn"])["QueueArn"]


def _settings(
    batch_size: int | None,
    window: int | None,
    max_concurrency: int | None,
    report_failures: bool | None,
    filters: tuple[str, ...],
    clear_filters: bool,
) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if batch_size is not None:
        settings["BatchSize"] = batch_size
    if window is not None:
        settings["MaximumBatchingWindowInSeconds"] = window
    if max_concurrency is not None:
        settings["ScalingConfig"] = {"MaximumConcurrency": max_concurrency}
    if report_failures is not None:
        settings["FunctionResponseTypes"] = ["ReportBatchItemFailures"] if report_failures else []
    if filters or clear_filters:
        settings["FilterCriteria"] = {"Filters": [{"Pattern": pattern} for pattern in filters]}
    return settings


def _show(mapping: dict[str, Any]) -> None:
    click.echo(json.dumps(mapping, indent=2))


def _common(func: Any) -> Any:
    for decorator in reversed(
        [
            click.option("--batch-size", type=click.IntRange(1, 10_000), help="Records per invocation (queues: 10)."),
            click.option(
                "--window",
                type=click.IntRange(0, 300),
                help="MaximumBatchingWindowInSeconds: how long to gather a batch (needed for batches over 10).",
            ),
            click.option("--max-concurrency", type=click.IntRange(2, 1000), help="Queues: concurrent batches at most."),
            click.option(
                "--report-failures/--no-report-failures",
                default=None,
                help="FunctionResponseTypes ReportBatchItemFailures: only the messages the function lists are retried.",
            ),
            click.option(
                "--filter",
                "filters",
                multiple=True,
                metavar="PATTERN",
                help="An EventBridge event pattern (JSON); repeat for up to 5; a record passes when any matches.",
            ),
        ]
    ):
        func = decorator(func)
    return func


@click.command("create")
@click.argument("function")
@click.argument("source")
@_common
@click.option("--starting-position", type=click.Choice(["TRIM_HORIZON", "LATEST"]), help="Streams only.")
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@endpoint_option
def create_mapping(
    function: str,
    source: str,
    batch_size: int | None,
    window: int | None,
    max_concurrency: int | None,
    report_failures: bool | None,
    filters: tuple[str, ...],
    starting_position: str | None,
    disabled: bool,
    endpoint: str,
) -> None:
    """Feed FUNCTION from SOURCE (a queue name, or a queue's or stream's ARN); prints the mapping."""
    settings = _settings(batch_size, window, max_concurrency, report_failures, filters, False)
    if starting_position is not None:
        settings["StartingPosition"] = starting_position
    if disabled:
        settings["Enabled"] = False
    with connect(endpoint) as client:
        _show(client.create_event_source_mapping(function, _source_arn(client, source), **settings))


@click.command("list")
@click.option("--function", help="Only the mappings of this function.")
@click.option("--source", help="Only the mappings of this source (a queue name or an ARN).")
@endpoint_option
def list_mappings(function: str | None, source: str | None, endpoint: str) -> None:
    """Mappings with their state and last processing result."""
    with connect(endpoint) as client:
        found = client.list_event_source_mappings(function, _source_arn(client, source) if source else None)
    if not found:
        click.echo("no event source mappings")
        return
    rows = [
        [
            m["UUID"],
            m["FunctionArn"].split(":function:", 1)[-1],
            m["EventSourceArn"].rsplit(":", 1)[-1],
            m["State"],
            m["BatchSize"],
            m.get("LastProcessingResult", "-"),
            local_time(m.get("LastModified")),
        ]
        for m in found
    ]
    click.echo(table(["UUID", "FUNCTION", "SOURCE", "STATE", "BATCH", "LAST RESULT", "MODIFIED"], rows))


@click.command("get")
@click.argument("uuid")
@endpoint_option
def get_mapping(uuid: str, endpoint: str) -> None:
    """Print mapping UUID (AWS's EventSourceMappingConfiguration)."""
    with connect(endpoint) as client:
        _show(client.get_event_source_mapping(uuid))


@click.command("update")
@click.argument("uuid")
@_common
@click.option("--no-filters", is_flag=True, help="Remove every filter.")
@click.option("--function", help="Feed this function instead.")
@endpoint_option
def update_mapping(
    uuid: str,
    batch_size: int | None,
    window: int | None,
    max_concurrency: int | None,
    report_failures: bool | None,
    filters: tuple[str, ...],
    no_filters: bool,
    function: str | None,
    endpoint: str,
) -> None:
    """Change the settings given of mapping UUID; prints it."""
    settings = _settings(batch_size, window, max_concurrency, report_failures, filters, no_filters)
    if function is not None:
        settings["FunctionName"] = function
    with connect(endpoint) as client:
        _show(client.update_event_source_mapping(uuid, **settings))


@click.command("enable")
@click.argument("uuid")
@endpoint_option
def enable_mapping(uuid: str, endpoint: str) -> None:
    """Start polling for mapping UUID."""
    with connect(endpoint) as client:
        click.echo(client.update_event_source_mapping(uuid, Enabled=True)["State"])


@click.command("disable")
@click.argument("uuid")
@endpoint_option
def disable_mapping(uuid: str, endpoint: str) -> None:
    """Stop polling for mapping UUID (its source keeps its messages)."""
    with connect(endpoint) as client:
        click.echo(client.update_event_source_mapping(uuid, Enabled=False)["State"])


@click.command("delete")
@click.argument("uuid")
@endpoint_option
def delete_mapping(uuid: str, endpoint: str) -> None:
    """Delete mapping UUID."""
    with connect(endpoint) as client:
        click.echo(client.delete_event_source_mapping(uuid)["State"])


@click.group("mappings")
def mappings() -> None:
    """Event source mappings: queues and streams feeding functions in batches."""


for _command in (
    create_mapping,
    list_mappings,
    get_mapping,
    update_mapping,
    enable_mapping,
    disable_mapping,
    delete_mapping,
):
    mappings.add_command(_command)
