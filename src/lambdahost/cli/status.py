"""``lambdahost status``: the server's numbers as tables (the same ones ``GET /metrics`` exposes), or ``--json``."""

from __future__ import annotations

import json
from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option
from lambdahost.cli.output import local_time, table
from lambdahost.cli.queues import depth_table


def duration(seconds: float) -> str:
    """``3d 04h 05m``, ``1h 02m 03s``, ``4m 05s``, ``12.3s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"


def _mean(stats: dict[str, Any]) -> float | None:
    mean = stats.get("mean")
    return None if mean is None else float(mean)


def render(status: dict[str, Any]) -> str:
    """The text of ``lambdahost status`` (pure: tested without a server)."""
    store = f"store {status['store']} ({'up' if status['store_up'] else 'NOT READABLE'})"
    sections = [
        f"lambdahost {status['version']}, up {duration(status['uptime_s'])}, {store}, worker {status['worker']}",
    ]
    functions = status["functions"]
    if functions:
        totals = status["totals"]
        rows: list[list[object]] = [
            [
                f["function"],
                f["succeeded"],
                f["failed"],
                f["terminated"],
                f["retries"],
                f["cold_starts"],
                f["throttles"],
                _mean(f["duration_ms"]),
                _mean(f["init_duration_ms"]),
            ]
            for f in functions
        ]
        counted = ("succeeded", "failed", "terminated", "retries", "cold_starts", "throttles")
        rows.append(["TOTAL", *(totals[key] for key in counted), None, None])
        headers = ["FUNCTION", "SUCCEEDED", "FAILED", "TERMINATED", "RETRIES", "COLD STARTS", "THROTTLED"]
        sections.append(
            "Invocations finished by this server since it started:\n"
            + table([*headers, "MEAN MS", "MEAN INIT MS"], rows)
        )
    else:
        sections.append("Invocations finished by this server since it started: none")
    if status["errors"]:
        error_rows = [[e["function"], e["type"], e["error_type"], e["count"]] for e in status["errors"]]
        sections.append("Errors:\n" + table(["FUNCTION", "TYPE", "ERROR TYPE", "COUNT"], error_rows))
    queues = status["queues"]
    if queues is None:
        sections.append("Queues: unknown (the store did not answer)")
    else:
        unfinished = [row for row in queues if row["count"]]
        sections.append(
            "Queues (exact, every process sharing the store):\n"
            + (depth_table(unfinished) if unfinished else "no unfinished invocations")
        )
    in_flight: dict[str, int] = status["in_flight"]
    env_rows = [[e["function"], e["idle"], e["busy"], in_flight.get(e["function"], 0)] for e in status["environments"]]
    env_rows += [[name, 0, 0, count] for name, count in in_flight.items() if name not in {r[0] for r in env_rows}]
    summary = f"{status['environments_started']} started, {status['snapshot_templates']} snapshot templates"
    sections.append(
        f"Environments in this server ({summary}):\n"
        + (table(["FUNCTION", "IDLE", "BUSY", "IN FLIGHT"], env_rows) if env_rows else "none alive")
    )
    workers = status["workers"]
    if workers is None:
        sections.append("Workers: unknown (the store did not answer)")
    elif workers:
        worker_rows = [
            [
                w["id"],
                w["host"],
                local_time(w["heartbeat_at"]),
                f"{w['heartbeat_age_s']:.1f}s",
                "alive" if w["alive"] else "LOST",
            ]
            for w in workers
        ]
        sections.append("Workers:\n" + table(["WORKER", "HOST", "LAST HEARTBEAT", "AGE", "STATE"], worker_rows))
    else:
        sections.append("Workers: none")
    return "\n\n".join(sections)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON instead of tables.")
@endpoint_option
def status(endpoint: str, as_json: bool) -> None:
    """The server's numbers: invocations by outcome, cold starts, throttles, exact queue depth per function, lane
    and status, environments alive, and workers with their last heartbeat (the same numbers as GET /metrics)."""
    with connect(endpoint) as client:
        numbers = client.status()
    click.echo(json.dumps(numbers, indent=2) if as_json else render(numbers))
