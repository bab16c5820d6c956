"""``lambdahost runtimes``: which Python runs each runtime on the server's machine (or ``--json``), and the
``PYTHON`` column of ``lambdahost list``."""

from __future__ import annotations

import json
from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option
from lambdahost.cli.output import table

FALLBACK_NOTE = "* not on the server's machine: runs on the server's own Python (see `lambdahost runtimes`)"


def render(runtimes: list[dict[str, Any]]) -> str:
    """The text of ``lambdahost runtimes`` (pure): a table, then why each missing runtime's candidates failed."""
    rows = []
    notes: list[str] = []
    for entry in runtimes:
        python = entry["Python"]
        if entry["Available"]:
            rows.append((entry["Runtime"], python["Version"], python["Source"], python["Path"]))
            continue
        rows.append((entry["Runtime"], f"{python['Version']}*", "-", python["Path"]))
        notes.extend(f"  {entry['Runtime']}: {r['Path']}: {r['Reason']}" for r in entry.get("Rejected", ()))
    text = table(("RUNTIME", "PYTHON", "SOURCE", "PATH"), rows)
    if len(rows) > sum(1 for entry in runtimes if entry["Available"]):
        text += "\n\n" + FALLBACK_NOTE
    if notes:
        text += "\nCandidates that were tried and failed:\n" + "\n".join(notes)
    return text


def python_column(runtimes: list[dict[str, Any]]) -> dict[str, str]:
    """Runtime -> the ``PYTHON`` cell of ``lambdahost list``: the exact version that runs it (``*``: a fallback)."""
    return {e["Runtime"]: e["Python"]["Version"] + ("" if e["Available"] else "*") for e in runtimes}


@click.command("runtimes")
@click.option("--json", "as_json", is_flag=True, help="As JSON (GET /lambdahost/v1/runtimes).")
@endpoint_option
def runtimes(as_json: bool, endpoint: str) -> None:
    """Which Python runs each runtime on the server's machine (a missing one runs on the server's own)."""
    with connect(endpoint) as client:
        found = client.runtimes()
    click.echo(json.dumps(found, indent=2) if as_json else render(found))
