"""``lambdahost invocations list | show``: invocation records from the native API."""

from __future__ import annotations

from typing import Any

import click

from lambdahost.cli.artifacts import artifacts, download
from lambdahost.cli.options import connect, endpoint_option, option
from lambdahost.cli.output import indent, local_time, millis, pretty_json, table

STATUSES = ("created", "pending", "ready", "running", "succeeded", "failed", "orphaned", "terminated")


@click.group()
def invocations() -> None:
    """Inspect invocations: their lifecycle, results and logs."""


@invocations.command("list")
@option("--function", metavar="NAME", help="Only this function's invocations.")
@option("--status", type=click.Choice(STATUSES), help="Only invocations in this status.")
@option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@endpoint_option
def list_invocations(function: str | None, status: str | None, limit: int, endpoint: str) -> None:
    """List invocations, newest first."""
    with connect(endpoint) as client:
        rows = client.list_invocations(function=function, status=status, limit=limit)
    if not rows:
        click.echo("no invocations found", err=True)
        return
    click.echo(
        table(
            ("ID", "FUNCTION", "STATUS", "TYPE", "ATTEMPT", "CREATED", "DURATION MS", "ERROR"),
            [
                (
                    r["id"],
                    r["function"],
                    r["status"],
                    r["type"],
                    r["attempt"],
                    local_time(r["created_at"]),
                    r.get("duration_ms"),
                    r.get("error_type") or "",
                )
                for r in rows
            ],
        )
    )


def _memory(inv: dict[str, Any]) -> str:
    used, size = inv.get("max_memory_mb"), inv.get("memory_mb")
    if size is None:
        return "-"
    return f"{'-' if used is None else used} of {size} MB"


def describe(inv: dict[str, Any]) -> str:
    """The human-readable detail of one invocation (``invocations show``)."""
    duration = millis(inv.get("duration_ms"))
    if inv.get("billed_duration_ms") is not None:
        duration += f" (billed {inv['billed_duration_ms']} ms)"
    if inv.get("init_duration_ms") is not None:
        duration += f", init {millis(inv['init_duration_ms'])}"
    fields = [
        ("id", inv["id"]),
        ("function", f"{inv['function']} ({inv['version']})"),
        ("type", inv["type"]),
        ("status", inv["status"]),
        ("attempt", f"{inv['attempt']} (lane {inv['lane']})"),
        ("worker", inv.get("worker") or "-"),
        ("created", local_time(inv["created_at"])),
        ("finished", local_time(inv.get("finished_at"))),
        ("duration", duration),
        ("memory", _memory(inv)),
    ]
    if inv.get("error_type") or inv.get("function_error"):
        fields.append(
            (
                "error",
                f"{inv.get('error_type') or inv.get('function_error')}: {inv.get('error_message') or ''}",
            )
        )
    lines = [f"{key + ':':<10} {value}" for key, value in fields]
    lines.append("transitions:")
    created = inv["created_at"]
    for step in inv.get("transitions", []):
        offset = (step["at"] - created) * 1000
        lines.append(f"  {local_time(step['at'])}  {step['status']:<10} +{offset:.1f} ms")
    for title, body in (("payload", inv.get("payload")), ("result", inv.get("result"))):
        if body:
            lines += [f"{title}:", indent(pretty_json(body))]
    log = inv.get("log") or ""
    lines.append("log:" + (" (truncated)" if inv.get("log_truncated") else ""))
    if log:
        lines.append(indent(log))
    return "\n".join(lines)


@invocations.command("show")
@click.argument("invocation_id", metavar="ID")
@endpoint_option
def show(invocation_id: str, endpoint: str) -> None:
    """Show invocation ID: status, transitions with timestamps, payload, result and log."""
    with connect(endpoint) as client:
        inv = client.get_invocation(invocation_id)
    click.echo(describe(inv))


@invocations.command("cancel")
@click.argument("invocation_id", metavar="ID")
@endpoint_option
def cancel(invocation_id: str, endpoint: str) -> None:
    """Terminate invocation ID if it is pending or running (a running one's environment is stopped)."""
    with connect(endpoint) as client:
        inv = client.cancel_invocation(invocation_id)
    click.echo(f"{inv['id']}: {inv['status']}")


invocations.add_command(artifacts)
invocations.add_command(download)
