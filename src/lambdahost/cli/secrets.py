"""``lambdahost secrets set|list|rm``: encrypted secrets that functions reference as ``{{secret.NAME}}`` in their
environment variables (docs/secrets.md). Values go to the server and never come back: no command prints one.

``secret_key_option`` is the ``--secret-key`` option of ``serve`` and ``worker`` (``LAMBDAHOST_SECRET_KEY``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from lambdahost.cli.options import connect, endpoint_option, option
from lambdahost.cli.output import CliError, local_time, table

F = TypeVar("F", bound=Callable[..., Any])


def secret_key_option(func: F) -> F:
    """``--secret-key`` (``LAMBDAHOST_SECRET_KEY``): the key that encrypts secrets."""
    return option(
        "--secret-key",
        envvar="LAMBDAHOST_SECRET_KEY",
        metavar="BASE64",
        help=(
            "The key that encrypts secrets: base64 of 32 random bytes (e.g. `openssl rand -base64 32`). Prefer the "
            "environment variable (a command line is visible to other users). Default: the data directory's "
            "secret.key, created with mode 0600 on first start. Servers and workers sharing a store need the same key."
        ),
    )(func)


@click.group("secrets")
def secrets_group() -> None:
    """Encrypted secrets, referenced as {{secret.NAME}} in environment variables. Values are write-only."""


def _read_value(value: str | None, from_file: Path | None) -> str:
    if value is not None and from_file is not None:
        raise click.UsageError("Give the value with --value or --from-file, not both.")
    if value is not None:
        return value
    if from_file is not None:
        try:
            return from_file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {from_file}: {exc}") from None
    if sys.stdin.isatty():
        entered: str = click.prompt("Value", hide_input=True, confirmation_prompt=True, err=True)
        return entered
    text = sys.stdin.read()
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")  # `echo value |`: one line end dropped


@secrets_group.command("set")
@click.argument("name")
@click.option("--value", metavar="VALUE", help="The value (visible to other users in ps: prefer stdin or a file).")
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the value from this file (exactly its contents).",
)
@endpoint_option
def set_secret(name: str, value: str | None, from_file: Path | None, endpoint: str) -> None:
    """Create or replace secret NAME. The value comes from --value, --from-file, or else standard input (a
    prompt on a terminal; piped input loses one trailing line end)."""
    text = _read_value(value, from_file)
    with connect(endpoint) as client:
        secret = client.put_secret(name, text)
    verb = "created" if secret["CreatedAt"] == secret["UpdatedAt"] else "updated"
    click.echo(f"secret {secret['Name']} {verb}: reference it as {secret['Reference']}")


@secrets_group.command("list")
@endpoint_option
def list_secrets(endpoint: str) -> None:
    """The secrets' names and times (never their values)."""
    with connect(endpoint) as client:
        found = client.list_secrets()
    rows = [(s["Name"], s["Reference"], local_time(s["CreatedAt"]), local_time(s["UpdatedAt"])) for s in found]
    click.echo(table(("NAME", "REFERENCE", "CREATED", "UPDATED"), rows))


@secrets_group.command("rm")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@endpoint_option
def remove(names: tuple[str, ...], endpoint: str) -> None:
    """Delete secrets. Functions that reference one fail to run until it exists again."""
    with connect(endpoint) as client:
        for name in names:
            client.delete_secret(name)
            click.echo(f"secret {name} deleted")
