"""``lambdahost invoke``: a synchronous invoke (exit status 1 when the function errored), or with ``--async`` a
queued one (prints its request id), or with ``--async --batch FILE`` one queued per line of FILE (prints theirs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option, option
from lambdahost.cli.output import FUNCTION_ERROR_EXIT, pretty_json


def read_payload(value: str | None) -> bytes:
    """``--payload``: inline JSON, ``@path/to/file.json``, or ``@-`` for stdin."""
    if value is None:
        return b""
    if not value.startswith("@"):
        return value.encode()
    source = value[1:]
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {source!r}: {exc.strerror}", param_hint="--payload") from None


def read_batch(source: str) -> list[Any]:
    """``--batch``: one JSON payload per line of a file (``-`` for stdin); blank lines are skipped."""
    try:
        lines = sys.stdin.buffer.read().splitlines() if source == "-" else Path(source).read_bytes().splitlines()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {source!r}: {exc.strerror}", param_hint="--batch") from None
    payloads = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                payloads.append(json.loads(line))
            except ValueError as exc:
                raise click.BadParameter(f"line {number} is not JSON: {exc}", param_hint="--batch") from None
    return payloads


def _function_error_line(payload: bytes, kind: str) -> str:
    try:
        body = json.loads(payload)
    except ValueError:
        body = None
    if isinstance(body, dict) and "errorType" in body:
        return f"function error ({kind}): {body['errorType']}: {body.get('errorMessage', '')}"
    return f"function error ({kind})"


@click.command()
@click.argument("name")
@option("--payload", metavar="JSON|@FILE", help="The event: inline JSON, @file.json, or @- for stdin.")
@option("--log", is_flag=True, help="Print the invocation's log tail (last 4 KB) to stderr.")
@option("--raw", is_flag=True, help="Print the result exactly as returned, not pretty-printed.")
@option(
    "--async",
    "run_async",
    is_flag=True,
    help="Queue the invocation (InvocationType Event) and print its request id once it is committed.",
)
@option("--lane", type=click.IntRange(min=0), help="The lane of an --async invocation [default: 0].")
@option(
    "--batch",
    metavar="FILE|-",
    help="With --async: queue one invocation per line of FILE (a JSON payload a line; - for stdin) in as few "
    "requests as the server allows, and print their request ids, one a line.",
)
@endpoint_option
def invoke(
    name: str,
    payload: str | None,
    log: bool,
    raw: bool,
    run_async: bool,
    lane: int | None,
    batch: str | None,
    endpoint: str,
) -> None:
    """Invoke function NAME and print its result (or, with --async, its request id; with --async --batch, theirs).

    Exit status: 0 on success, 1 when the function failed (its error is printed), 2 for usage and API errors.
    Follow an --async invocation with `lambdahost invocations show ID`.
    """
    if lane is not None and not run_async:
        raise click.BadParameter("--lane applies to --async invocations.", param_hint="--lane")
    if batch is not None:
        if not run_async:
            raise click.BadParameter("--batch applies to --async invocations.", param_hint="--batch")
        if payload is not None:
            raise click.BadParameter("give either --payload or --batch, not both.", param_hint="--batch")
        payloads = read_batch(batch)
        with connect(endpoint) as client:
            ids = client.invoke_async_batch(name, payloads, lane=lane)
        if ids:
            click.echo("\n".join(ids))
        return
    body = read_payload(payload)
    if run_async:
        with connect(endpoint) as client:
            click.echo(client.invoke_async(name, body, lane=lane))
        return
    with connect(endpoint) as client:
        result = client.invoke(name, body, log=log)
    if log and result.log:
        click.echo(result.log.rstrip("\n"), err=True)
    if raw:
        sys.stdout.buffer.write(result.payload)
        if sys.stdout.isatty():
            sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
    elif result.payload:
        click.echo(pretty_json(result.payload))
    if result.function_error:
        click.echo(_function_error_line(result.payload, result.function_error), err=True)
        raise click.exceptions.Exit(FUNCTION_ERROR_EXIT)
