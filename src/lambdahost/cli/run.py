"""``lambdahost parameters NAME`` (show or set a function's declared parameters) and ``lambdahost run NAME``
(a run with parameter values: the event built by the server from the defaults and the values, docs/parameters.md).

``run``'s exit status, for CI pipelines: 0 the function succeeded, 1 it failed (its error is printed), 2 a usage or
validation error (a bad value, an unknown parameter, a missing secret: nothing ran).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option, option
from lambdahost.cli.output import FUNCTION_ERROR_EXIT, CliError, table
from lambdahost.client import Client
from lambdahost.core.parameters import parse_assignment, shape

FINAL = frozenset({"succeeded", "failed", "terminated"})
POLL_S = 0.2


@click.command("parameters")
@click.argument("name")
@option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME:TYPE[!][=DEFAULT]",
    help="Declare a parameter (repeatable; together they replace the declaration). TYPE: string (the default), "
    "number, boolean, json, secret, file; '!' marks it required. E.g. --set 'threshold:number=10'.",
)
@option(
    "--file",
    "from_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Declare the parameters of a JSON file: a list of {"Name", "Type", "Default", "Description", "Required"}.',
)
@option("--clear", is_flag=True, help="Remove every declared parameter.")
@option("--json", "as_json", is_flag=True, help="Print the declaration as JSON.")
@endpoint_option
def parameters(
    name: str, assignments: Sequence[str], from_file: Path | None, clear: bool, as_json: bool, endpoint: str
) -> None:
    """Show function NAME's declared parameters, or replace them with --set, --file or --clear."""
    given = sum(1 for chosen in (bool(assignments), from_file is not None, clear) if chosen)
    if given > 1:
        raise click.UsageError("Give one of --set, --file and --clear.")
    declaration: list[dict[str, Any]] | None = None
    if assignments:
        declaration = [shape(parse_assignment(text)) for text in assignments]
    elif from_file is not None:
        try:
            loaded = json.loads(from_file.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CliError(f"cannot read {from_file}: {exc}") from None
        declaration = loaded.get("Parameters") if isinstance(loaded, dict) else loaded
    elif clear:
        declaration = []
    with connect(endpoint) as client:
        shown = client.get_parameters(name) if declaration is None else client.put_parameters(name, declaration)
    if as_json:
        click.echo(json.dumps({"Parameters": shown}, indent=2))
    elif not shown:
        click.echo(f"{name} declares no parameters.")
    else:
        rows = [
            (
                p["Name"],
                p["Type"],
                json.dumps(p["Default"]) if "Default" in p else "",
                "yes" if p.get("Required") else "",
                p.get("Description", ""),
            )
            for p in shown
        ]
        click.echo(table(("NAME", "TYPE", "DEFAULT", "REQUIRED", "DESCRIPTION"), rows))


def _values(params: Sequence[str], param_files: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for text in params:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{text!r} is not NAME=VALUE.", param_hint="--param")
        values[key] = value
    for text in param_files:
        key, sep, source = text.partition("=@")
        if not sep or not key or not source:
            raise click.BadParameter(f"{text!r} is not NAME=@PATH.", param_hint="--param-file")
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--param-file") from None
        values[key] = {"Filename": path.name, "ContentBase64": base64.b64encode(data).decode()}
    return values


def _follow(client: Client, request_id: str) -> dict[str, Any]:
    """The invocation's record once it has ended (queued runs are recorded when they are accepted)."""
    while True:
        record: dict[str, Any] = client.get_invocation(request_id)
        if record.get("status") in FINAL:
            return record
        time.sleep(POLL_S)


def _print_outcome(status: str, payload: Any, log: str | None, show_log: bool) -> None:
    if show_log and log:
        click.echo(log.rstrip("\n"), err=True)
    if payload is not None:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    if status != "succeeded":
        detail = ""
        if isinstance(payload, dict) and "errorType" in payload:
            detail = f": {payload['errorType']}: {payload.get('errorMessage', '')}"
        click.echo(f"run {status}{detail}", err=True)
        raise click.exceptions.Exit(FUNCTION_ERROR_EXIT)


def _parsed(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.command("run")
@click.argument("name")
@option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter's value (repeatable).")
@option(
    "--param-file",
    "param_files",
    multiple=True,
    metavar="NAME=@PATH",
    help="Upload a file for a file parameter (repeatable); the function gets a readable path.",
)
@option("--async", "run_async", is_flag=True, help="Start the run and print its request id.")
@option("--wait", is_flag=True, help="With --async: follow the run to its end and print its result.")
@option("--log", is_flag=True, help="Print the run's log (its tail for a synchronous run) to stderr.")
@endpoint_option
def run(
    name: str,
    params: Sequence[str],
    param_files: Sequence[str],
    run_async: bool,
    wait: bool,
    log: bool,
    endpoint: str,
) -> None:
    """Run function NAME with parameter values: the event is built from its declared parameters' defaults and
    the values given, each checked against its type before anything runs. Prints the result as JSON.

    Exit status: 0 the function succeeded, 1 it failed (its error is printed), 2 a usage or validation error.
    """
    values = _values(params, param_files)
    with connect(endpoint) as client:
        if not run_async:
            answer = client.run(name, values)
            tail = base64.b64decode(answer.get("LogResult") or "").decode("utf-8", "replace")
            _print_outcome(answer["Status"], answer.get("Payload"), tail, log)
            return
        started = client.run(name, values, wait=False)
        if not wait:
            click.echo(started["RequestId"])
            return
        click.echo(started["RequestId"], err=True)
        record = _follow(client, started["RequestId"])
    _print_outcome(record["status"], _parsed(record.get("result")), record.get("log"), log)
