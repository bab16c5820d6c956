"""``lambdahost queues``: exact counts of unfinished invocations per function and lane; its commands manage named
message queues (``cli/message_queues.py``)."""

from __future__ import annotations

from collections import defaultdict

import click

from lambdahost.cli.message_queues import COMMANDS as message_queue_commands
from lambdahost.cli.options import connect, endpoint_option

STATUSES = ("pending", "ready", "running", "orphaned")


def depth_table(rows: list[dict[str, object]]) -> str:
    counts: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[(str(row["function"]), int(str(row["lane"])))][str(row["status"])] = int(str(row["count"]))
    header = ["FUNCTION", "LANE", *(status.upper() for status in STATUSES)]
    lines = [
        [name, str(lane), *(str(by_status.get(s, 0)) for s in STATUSES)]
        for (name, lane), by_status in sorted(counts.items())
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *lines]
    )


@click.group(invoke_without_command=True)
@endpoint_option
@click.pass_context
def queues(ctx: click.Context, endpoint: str) -> None:
    """Exact queue depth: unfinished invocations per function and lane, by status (counts, not estimates).

    With a command: named message queues (the SQS subset), e.g. `lambdahost queues send NAME BODY`.
    """
    if ctx.invoked_subcommand is not None:
        return
    with connect(endpoint) as client:
        rows = client.queues()
    click.echo(depth_table(rows) if rows else "no unfinished invocations")


for _command in message_queue_commands:
    queues.add_command(_command)
