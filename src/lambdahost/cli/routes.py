"""``lambdahost routes add|list|rm`` (HTTP routes to functions) and ``lambdahost urls create|get|update|rm|list``
(function URLs). Both are served on the routes listener of ``lambdahost serve`` (see docs/http.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from lambdahost.cli.options import connect, endpoint_option, option
from lambdahost.cli.output import table

F = TypeVar("F", bound=Callable[..., Any])


@click.group("routes")
def routes_group() -> None:
    """HTTP routes: METHOD /path (ANY, {param}, {proxy+}) answered by a function."""


@routes_group.command("add")
@click.argument("method")
@click.argument("path")
@click.argument("function")
@option(
    "--payload-format",
    type=click.Choice(["1.0", "2.0"]),
    default="2.0",
    show_default=True,
    help="The event: 1.0 is API Gateway's REST API proxy event, 2.0 its HTTP API event.",
)
@endpoint_option
def add(method: str, path: str, function: str, payload_format: str, endpoint: str) -> None:
    """Route METHOD PATH to FUNCTION, e.g. `lambdahost routes add GET '/reports/{id}' reports`."""
    with connect(endpoint) as client:
        route = client.create_route(method, path, function, payload_format=payload_format)
    click.echo(
        f"route {route['RouteId']}: {route['RouteKey']} -> {route['FunctionName']} "
        f"(payload {route['PayloadFormatVersion']}) at {route['Url']}"
    )


@routes_group.command("list")
@option("--function", metavar="NAME", help="Only the routes of this function.")
@endpoint_option
def list_routes(function: str | None, endpoint: str) -> None:
    """The routes, ordered by path and method."""
    with connect(endpoint) as client:
        found = client.list_routes(function)
    rows = [(r["RouteId"], r["Method"], r["Path"], r["FunctionName"], r["PayloadFormatVersion"]) for r in found]
    click.echo(table(("ID", "METHOD", "PATH", "FUNCTION", "PAYLOAD"), rows))


@routes_group.command("rm")
@click.argument("route_ids", nargs=-1, required=True, metavar="ID...")
@endpoint_option
def remove(route_ids: tuple[str, ...], endpoint: str) -> None:
    """Delete routes by id (`lambdahost routes list` shows them)."""
    with connect(endpoint) as client:
        for route_id in route_ids:
            client.delete_route(route_id)
            click.echo(f"route {route_id} deleted")


@click.group("urls")
def urls_group() -> None:
    """Function URLs: a URL per function, with AuthType and CORS (AWS Lambda's function URLs)."""


def _settings_options(func: F) -> F:
    for decorator in reversed(
        (
            option("--auth-type", type=click.Choice(["NONE", "AWS_IAM"]), help="AWS_IAM: requests must be signed."),
            option("--cors-origin", "origins", multiple=True, metavar="ORIGIN", help="Cors.AllowOrigins (repeat)."),
            option("--cors-method", "methods", multiple=True, metavar="METHOD", help="Cors.AllowMethods (repeat)."),
            option("--cors-header", "headers", multiple=True, metavar="HEADER", help="Cors.AllowHeaders (repeat)."),
            option("--cors-expose", "expose", multiple=True, metavar="HEADER", help="Cors.ExposeHeaders (repeat)."),
            option("--cors-max-age", type=click.IntRange(0, 86400), metavar="SECONDS", help="Cors.MaxAge."),
            option("--cors-credentials/--no-cors-credentials", default=None, help="Cors.AllowCredentials."),
            option(
                "--invoke-mode",
                type=click.Choice(["BUFFERED", "RESPONSE_STREAM"]),
                help="RESPONSE_STREAM is accepted and served buffered.",
            ),
        )
    ):
        func = decorator(func)
    return func


def _changes(
    auth_type: str | None,
    origins: tuple[str, ...],
    methods: tuple[str, ...],
    headers: tuple[str, ...],
    expose: tuple[str, ...],
    cors_max_age: int | None,
    cors_credentials: bool | None,
    invoke_mode: str | None,
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if auth_type:
        changes["AuthType"] = auth_type
    cors: dict[str, Any] = {}
    for key, values in (
        ("AllowOrigins", origins),
        ("AllowMethods", methods),
        ("AllowHeaders", headers),
        ("ExposeHeaders", expose),
    ):
        if values:
            cors[key] = list(values)
    if cors_max_age is not None:
        cors["MaxAge"] = cors_max_age
    if cors_credentials is not None:
        cors["AllowCredentials"] = cors_credentials
    if cors:
        changes["Cors"] = cors
    if invoke_mode:
        changes["InvokeMode"] = invoke_mode
    return changes


def _show(config: dict[str, Any]) -> None:
    click.echo(config["FunctionUrl"])
    click.echo(f"  function     {config['FunctionArn']}")
    click.echo(f"  auth type    {config['AuthType']}")
    cors = config.get("Cors")
    if cors:
        for key in ("AllowOrigins", "AllowMethods", "AllowHeaders", "ExposeHeaders"):
            if cors.get(key):
                click.echo(f"  {key:<12} {', '.join(cors[key])}")
        for key in ("MaxAge", "AllowCredentials"):
            if cors.get(key) is not None:
                click.echo(f"  {key:<12} {cors[key]}")
    click.echo(f"  invoke mode  {config.get('InvokeMode', 'BUFFERED')}")


@urls_group.command("create")
@click.argument("function")
@_settings_options
@endpoint_option
def create(function: str, endpoint: str, **settings: Any) -> None:
    """Create FUNCTION's URL (AuthType NONE unless --auth-type says otherwise) and print it."""
    changes = _changes(**settings)
    changes.setdefault("AuthType", "NONE")
    with connect(endpoint) as client:
        config = client.create_function_url(
            function, changes["AuthType"], cors=changes.get("Cors"), invoke_mode=changes.get("InvokeMode")
        )
    _show(config)


@urls_group.command("get")
@click.argument("function")
@endpoint_option
def get(function: str, endpoint: str) -> None:
    """Show FUNCTION's URL and its settings."""
    with connect(endpoint) as client:
        _show(client.get_function_url(function))


@urls_group.command("update")
@click.argument("function")
@_settings_options
@endpoint_option
def update(function: str, endpoint: str, **settings: Any) -> None:
    """Change FUNCTION's URL settings: those given change (CORS options replace the whole Cors), the rest stay."""
    changes = _changes(**settings)
    if not changes:
        raise click.UsageError("give at least one setting to change.")
    with connect(endpoint) as client:
        _show(client.update_function_url(function, changes))


@urls_group.command("rm")
@click.argument("function")
@endpoint_option
def remove_url(function: str, endpoint: str) -> None:
    """Delete FUNCTION's URL."""
    with connect(endpoint) as client:
        client.delete_function_url(function)
    click.echo(f"{function}: function URL deleted")


@urls_group.command("list")
@click.argument("function")
@endpoint_option
def list_urls(function: str, endpoint: str) -> None:
    """FUNCTION's URLs (one per qualifier)."""
    with connect(endpoint) as client:
        found = client.list_function_urls(function)
    rows = [(c["FunctionUrl"], c["AuthType"], "yes" if c.get("Cors") else "no", c["FunctionArn"]) for c in found]
    click.echo(table(("URL", "AUTH", "CORS", "FUNCTION"), rows))
