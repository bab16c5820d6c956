"""``lambdahost queues``: exact counts of unfinished invocations per function and lane."""

from __future__ import annotations

from collections import defaultdict

import click

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


@click.command()
@endpoint_option
def queues(endpoint: str) -> None:
    """Exact queue depth: unfinished invocations per function and lane, by status (counts, not estimates)."""
    with connect(endpoint) as client:
        rows = client.queues()
    click.echo(depth_table(rows) if rows else "no unfinished invocations")
