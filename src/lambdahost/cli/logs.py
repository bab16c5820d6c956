"""``lambdahost logs``: finished invocations' logs, optionally followed (polling the native API)."""

from __future__ import annotations

import time
from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option, option
from lambdahost.client import Client

FOLLOW_INTERVAL_S = 0.5
PAGE = 100
# Each poll looks this far back again (and skips what it already printed): an invocation's finished_at is taken
# when it finishes, but its record is stored later (in a batch, or by another worker), so one that finished a
# moment before another may be stored a moment after it, behind the point the previous poll read up to.
OVERLAP_S = 5.0


class LogCursor:
    """Reads a function's finished invocations, each once, oldest first.

    Within a poll, pages follow the server's ``NextToken`` (a key on ``(finished_at, id)``), so none is skipped
    or repeated however many invocations share one ``finished_at``. Each poll starts again ``OVERLAP_S`` before
    the newest ``finished_at`` printed, for invocations stored late (see ``OVERLAP_S``).
    """

    def __init__(self, client: Client, name: str, after: float) -> None:
        self.client = client
        self.name = name
        self.start = after
        self.newest = after  # the latest finished_at printed so far
        self.seen: dict[str, float] = {}  # id -> finished_at of what was printed, back to the overlap

    def poll(self) -> list[dict[str, Any]]:
        """Every event not returned before, oldest first (all pages)."""
        fresh: list[dict[str, Any]] = []
        page = self.client.function_logs(self.name, after=max(self.start, self.newest - OVERLAP_S), limit=PAGE)
        while True:
            for event in page.events:
                if event["id"] not in self.seen:
                    self.seen[event["id"]] = event["finished_at"]
                    fresh.append(event)
            if len(page.events) < PAGE:
                break
            page = self.client.function_logs(self.name, limit=PAGE, next_token=page.next_token)
        if fresh:
            self.newest = max(self.newest, *(event["finished_at"] for event in fresh))
        horizon = self.newest - 2 * OVERLAP_S  # older than any later poll reads again
        self.seen = {key: at for key, at in self.seen.items() if at >= horizon}
        return fresh


def _print(events: list[dict[str, Any]]) -> None:
    for event in events:
        text = event.get("log") or ""
        click.echo(text if text.endswith("\n") or not text else text + "\n", nl=False)


@click.command()
@click.argument("name")
@option("--follow", "-f", is_flag=True, help="Keep printing new invocations' logs until Ctrl-C.")
@option(
    "--since",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Only invocations that finished in the last SECONDS [default: all].",
)
@endpoint_option
def logs(name: str, follow: bool, since: float | None, endpoint: str) -> None:
    """Print the logs of function NAME's finished invocations, oldest first."""
    after = 0.0 if since is None else time.time() - since
    with connect(endpoint) as client:
        cursor = LogCursor(client, name, after)
        _print(cursor.poll())
        if not follow:
            return
        try:
            while True:
                time.sleep(FOLLOW_INTERVAL_S)
                _print(cursor.poll())
        except KeyboardInterrupt:
            pass
