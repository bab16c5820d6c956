"""``lambdahost invocations artifacts ID`` and ``lambdahost invocations download ID [NAME] [-o DIR]``: the files an
invocation left in its output directory, listed and downloaded (each checked against its SHA-256)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from lambdahost.cli.options import connect, endpoint_option, option
from lambdahost.cli.output import CliError, local_time, size, table


@click.command("artifacts")
@click.argument("invocation_id", metavar="ID")
@endpoint_option
def artifacts(invocation_id: str, endpoint: str) -> None:
    """List the artifacts of invocation ID (the files it left in $LAMBDAHOST_OUTPUT_DIR)."""
    with connect(endpoint) as client:
        found = client.list_artifacts(invocation_id)
    if not found:
        click.echo("no artifacts", err=True)
        return
    click.echo(
        table(
            ("NAME", "SIZE", "SHA256", "CREATED", "EXPIRES"),
            [
                (a["Name"], size(a["Size"]), a["Sha256"][:16], local_time(a["CreatedAt"]), local_time(a["ExpiresAt"]))
                for a in found
            ],
        )
    )


def target_path(directory: Path, name: str) -> Path:
    """Where artifact ``name`` goes under ``directory``; never outside it."""
    path = (directory / name).resolve()
    if not path.is_relative_to(directory.resolve()):
        raise CliError(f"refusing to write {name!r} outside {directory}")
    return path


@click.command("download")
@click.argument("invocation_id", metavar="ID")
@click.argument("name", required=False)
@option("-o", "--output", "output", metavar="DIR", default=".", show_default=True, help="Directory to write to.")
@endpoint_option
def download(invocation_id: str, name: str | None, output: str, endpoint: str) -> None:
    """Download artifact NAME of invocation ID (every artifact when NAME is left out) into DIR."""
    directory = Path(output)
    with connect(endpoint) as client:
        listed = client.list_artifacts(invocation_id)
        wanted = [a for a in listed if name is None or a["Name"] == name]
        if name is not None and not wanted:
            raise CliError(f"invocation {invocation_id} has no artifact {name!r}")
        if not wanted:
            click.echo("no artifacts", err=True)
            return
        for artifact in wanted:
            data = client.get_artifact(invocation_id, artifact["Name"])
            if hashlib.sha256(data).hexdigest() != artifact["Sha256"]:
                raise CliError(f"{artifact['Name']}: the downloaded bytes do not match its SHA-256")
            path = target_path(directory, artifact["Name"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            click.echo(f"{path} ({size(len(data))})")


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_retention(value: str) -> float:
    """``--artifact-retention``: seconds, or a number with ``s``, ``m``, ``h`` or ``d`` (``7d``, ``12h``)."""
    text = value.strip().lower()
    unit = _UNITS.get(text[-1:])
    number = text[:-1] if unit is not None else text
    try:
        seconds = float(number) * (unit or 1.0)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a duration like 3600, 90m, 12h or 7d") from None
    if not seconds > 0:
        raise click.BadParameter("the retention must be more than 0")
    return seconds


def retention_option(func: click.decorators.FC) -> click.decorators.FC:
    return option(
        "--artifact-retention",
        metavar="DURATION",
        default="7d",
        show_default=True,
        callback=lambda ctx, param, value: parse_retention(value),
        help="How long invocations' artifacts and input files are kept (seconds, or 90m, 12h, 7d).",
    )(func)
