"""``lambdahost create | update | delete | list``: managing functions over the AWS Lambda API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lambdahost.cli.options import connect, endpoint_option, option, parse_env
from lambdahost.cli.output import aws_time, size, table
from lambdahost.cli.runtimes import FALLBACK_NOTE, python_column
from lambdahost.cli.upload import read_code, upload_progress

CODE_PATH = click.Path(exists=True, path_type=Path)


def _summary(verb: str, config: dict[str, Any]) -> str:
    return (
        f"{verb} {config['FunctionName']}: {config['Runtime']} {config['Handler']}, "
        f"{config['MemorySize']} MB, timeout {config['Timeout']} s, code {size(config.get('CodeSize'))} "
        f"(sha256 {config.get('CodeSha256', '')})"
    )


@click.command()
@click.argument("name")
@option("--code", type=CODE_PATH, required=True, metavar="PATH", help="A .zip file or a folder to zip.")
@option("--handler", required=True, metavar="MODULE.FUNCTION", help="For example app.handler.")
@option("--runtime", default="python3.11", show_default=True)
@option("--memory", type=click.IntRange(128, 10240), metavar="MB", help="Memory size [default: 128].")
@option("--timeout", type=click.IntRange(1, 900), metavar="SECONDS", help="Timeout [default: 3].")
@option(
    "--env",
    "environment",
    multiple=True,
    callback=parse_env,
    metavar="KEY=VALUE",
    help="An environment variable (repeatable).",
)
@option("--description", default=None)
@endpoint_option
def create(
    *,
    name: str,
    code: Path,
    handler: str,
    runtime: str,
    memory: int | None,
    timeout: int | None,
    environment: dict[str, str] | None,
    description: str | None,
    endpoint: str,
) -> None:
    """Create function NAME from a zip or a folder."""
    data = read_code(code)
    with connect(endpoint) as client, upload_progress(f"uploading {name}") as progress:
        config = client.create_function(
            name,
            data,
            handler,
            runtime=runtime,
            memory=memory,
            timeout=timeout,
            environment=environment,
            description=description,
            progress=progress,
        )
    click.echo(_summary("created", config))


@click.command()
@click.argument("name")
@option("--code", type=CODE_PATH, metavar="PATH", help="New code: a .zip file or a folder to zip.")
@option("--handler", metavar="MODULE.FUNCTION")
@option("--runtime")
@option("--memory", type=click.IntRange(128, 10240), metavar="MB")
@option("--timeout", type=click.IntRange(1, 900), metavar="SECONDS")
@option(
    "--env",
    "environment",
    multiple=True,
    callback=parse_env,
    metavar="KEY=VALUE",
    help="Replaces ALL environment variables, as on AWS (repeatable; --env '' clears them).",
)
@option("--description")
@endpoint_option
def update(
    *,
    name: str,
    code: Path | None,
    handler: str | None,
    runtime: str | None,
    memory: int | None,
    timeout: int | None,
    environment: dict[str, str] | None,
    description: str | None,
    endpoint: str,
) -> None:
    """Update function NAME's code and/or configuration."""
    settings = (handler, runtime, memory, timeout, environment, description)
    changed = any(value is not None for value in settings)
    if code is None and not changed:
        raise click.UsageError("nothing to update: pass --code and/or a configuration option.")
    data = read_code(code) if code is not None else None
    with connect(endpoint) as client:
        config: dict[str, Any] | None = None
        if data is not None:
            with upload_progress(f"uploading {name}") as progress:
                config = client.update_function_code(name, data, progress=progress)
        if changed:
            config = client.update_function_configuration(
                name,
                handler=handler,
                runtime=runtime,
                memory=memory,
                timeout=timeout,
                environment=environment,
                description=description,
            )
    assert config is not None
    click.echo(_summary("updated", config))


@click.command()
@click.argument("name")
@endpoint_option
def delete(name: str, endpoint: str) -> None:
    """Delete function NAME."""
    with connect(endpoint) as client:
        client.delete_function(name)
    click.echo(f"deleted {name}")


@click.command("list")
@endpoint_option
def list_functions(endpoint: str) -> None:
    """List functions."""
    with connect(endpoint) as client:
        functions = client.list_functions()
        pythons = python_column(client.runtimes()) if functions else {}
    if not functions:
        click.echo("no functions yet; create one with `lambdahost create`", err=True)
        return
    rows = [
        (
            f["FunctionName"],
            f["Runtime"],
            pythons.get(f["Runtime"], "-"),
            f["Handler"],
            f["MemorySize"],
            f["Timeout"],
            size(f.get("CodeSize")),
            aws_time(f.get("LastModified", "")),
        )
        for f in functions
    ]
    headers = ("NAME", "RUNTIME", "PYTHON", "HANDLER", "MEMORY MB", "TIMEOUT S", "CODE SIZE", "LAST MODIFIED")
    click.echo(table(headers, rows))
    if any(row[2].endswith("*") for row in rows):
        click.echo(FALLBACK_NOTE, err=True)
