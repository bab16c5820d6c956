"""``lambdahost invoke``: a synchronous invoke (exit status 1 when the function errored), or with ``--async`` a
queued one (prints its request id)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

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
@endpoint_option
def invoke(
    name: str, payload: str | None, log: bool, raw: bool, run_async: bool, lane: int | None, endpoint: str
) -> None:
    """Invoke function NAME and print its result (or, with --async, its request id).

    Exit status: 0 on success, 1 when the function failed (its error is printed), 2 for usage and API errors.
    Follow an --async invocation with `lambdahost invocations show ID`.
    """
    body = read_payload(payload)
    if lane is not None and not run_async:
        raise click.BadParameter("--lane applies to --async invocations.", param_hint="--lane")
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
