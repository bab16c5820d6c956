"""``lambdahost invoke``: a synchronous invoke; exit status 1 when the function errored."""

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
@endpoint_option
def invoke(name: str, payload: str | None, log: bool, raw: bool, endpoint: str) -> None:
    """Invoke function NAME and print its result.

    Exit status: 0 on success, 1 when the function failed (its error is printed), 2 for usage and API errors.
    """
    body = read_payload(payload)
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
