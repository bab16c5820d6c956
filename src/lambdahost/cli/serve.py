"""``lambdahost serve``: the one command that builds a Platform (everything else talks HTTP).

Order: check the host (any but a loopback address needs credentials), bind the sockets (so ``--port 0`` picks a
free port the functions are told about), build and start the Platform, then run uvicorn on that socket. Ctrl-C /
SIGTERM stop uvicorn gracefully and then close the Platform (which stops every execution environment).

HTTP routes and function URLs have their own listener (``--routes-listen``; by default the API's host and port + 1,
a free port with ``--port 0``; ``off`` for none): a second uvicorn server on the same event loop running
``Platform.gateway_app()``, so no route can clash with the platform's API. It stops with the API's server. It may
bind any address without credentials: it serves only what was published through the API (which stays loopback-only
without credentials), as API Gateway serves it, and a warning says so; ``AWS_IAM`` function URLs then refuse every
request.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import logging
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from lambdahost import __version__
from lambdahost.cli.artifacts import retention_option
from lambdahost.cli.options import (
    check_lease,
    interpreters_option,
    key_pair,
    lease_options,
    option,
    retry_delays_option,
)
from lambdahost.cli.output import CliError
from lambdahost.cli.secrets import secret_key_option
from lambdahost.client import DEFAULT_ENDPOINT
from lambdahost.core.credentials import Credentials
from lambdahost.core.settings import DEFAULT_DATA_DIR, Settings

if TYPE_CHECKING:
    import uvicorn

    from lambdahost.api.auth import ASGIApp
    from lambdahost.server import Platform

_DEFAULTS = Settings()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, credentials: Credentials | None) -> None:
    """Without credentials there is no authentication, so only loopback addresses are allowed."""
    if credentials is None and not is_loopback(host):
        raise click.BadParameter(
            f"{host!r} is not a loopback address, and without credentials every request would be served "
            "unauthenticated. To listen on it, give the server a key pair with --access-key-id and "
            "--secret-access-key (or LAMBDAHOST_ACCESS_KEY_ID and LAMBDAHOST_SECRET_ACCESS_KEY); clients then "
            "sign their requests with it (SigV4).",
            param_hint="--host",
        )


def bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def parse_listen(value: str | None, host: str, port: int) -> tuple[str, int] | None:
    """``--routes-listen``: ``HOST:PORT``, ``PORT`` (on the API's host), ``off``, or None for the default (the API's
    host, its port + 1; a free port when the API's is 0)."""
    if value is None:
        if port == 65535:
            raise click.BadParameter(
                "the API's port is 65535, so port + 1 does not exist: choose one, or 'off'.",
                param_hint="--routes-listen",
            )
        return host, port + 1 if port else 0
    if value.strip().lower() == "off":
        return None
    listen_host, sep, raw_port = value.strip().rpartition(":")
    if not sep:
        listen_host, raw_port = host, value.strip()
    try:
        listen_port = int(raw_port)
    except ValueError:
        listen_port = -1
    if not 0 <= listen_port <= 65535 or not listen_host:
        raise click.BadParameter(f"{value!r} is not HOST:PORT, PORT (0-65535) or 'off'.", param_hint="--routes-listen")
    return listen_host.strip("[]") if listen_host.startswith("[") else listen_host, listen_port


def _uvicorn_config(platform: Platform, app: ASGIApp | None = None, host: str | None = None) -> uvicorn.Config:
    import uvicorn

    settings = platform.settings
    return uvicorn.Config(
        app or platform.asgi_app(),
        host=host or settings.host,
        port=settings.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        log_level="warning",
        lifespan="off",
        proxy_headers=False,  # clients connect directly; no proxy's X-Forwarded-* is trusted
    )


async def _serve(
    server: uvicorn.Server,
    sock: socket.socket,
    on_ready: Callable[[], None],
    companion: tuple[uvicorn.Server, socket.socket] | None = None,
) -> None:
    """Run ``server`` on ``sock`` (and ``companion``'s server on its socket, stopped when ``server`` stops: only
    ``server`` handles the signals); ``on_ready`` once both listen."""
    import asyncio

    serving = asyncio.create_task(server.serve(sockets=[sock]))
    other = None if companion is None else asyncio.create_task(companion[0].serve(sockets=[companion[1]]))
    while not serving.done() and not (other is not None and other.done()):
        if server.started and (companion is None or companion[0].started):
            break
        await asyncio.sleep(0.01)
    if server.started and (companion is None or companion[0].started):
        await asyncio.to_thread(on_ready)
    if companion is None or other is None:
        await serving
        return
    await asyncio.wait((serving, other), return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = companion[0].should_exit = True
    await asyncio.gather(serving, other)


def _companion_server(config: uvicorn.Config) -> uvicorn.Server:
    """A uvicorn server that leaves the signals to the main one (which stops it)."""
    import contextlib
    from collections.abc import Generator

    import uvicorn

    class Companion(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield

    return Companion(config)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the signal that stopped it; we close the Platform instead of dying."""


def run(
    platform: Platform,
    sock: socket.socket,
    on_ready: Callable[[], None],
    routes_sock: socket.socket | None = None,
) -> None:
    """Serve the API on ``sock`` (and HTTP routes and function URLs on ``routes_sock``) until SIGINT/SIGTERM
    (uvicorn handles them while it runs)."""
    import asyncio

    import uvicorn

    config = _uvicorn_config(platform)
    server = uvicorn.Server(config)
    companion = None
    if routes_sock is not None:
        gateway_config = _uvicorn_config(platform, platform.gateway_app(), routes_sock.getsockname()[0])
        companion = (_companion_server(gateway_config), routes_sock)
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _ignore) for sig in handled}
    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(_serve(server, sock, on_ready, companion))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command()
@option(
    "--host",
    default=_DEFAULTS.host,
    show_default=True,
    help="The address to listen on; any but a loopback address needs --access-key-id and --secret-access-key.",
)
@option(
    "--port",
    type=click.IntRange(0, 65535),
    default=_DEFAULTS.port,
    show_default=True,
    help="0 picks a free port (printed when ready).",
)
@option(
    "--routes-listen",
    metavar="HOST:PORT|PORT|off",
    help="Where HTTP routes and function URLs are served (their own listener, see docs/http.md); 'off' for "
    "nowhere. [default: the API's host, port + 1; a free port with --port 0]",
)
@option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="Where the SQLite store, code packages and runtime files live.",
)
@option("--store", metavar="URL", help="sqlite:///PATH or postgresql://... [default: SQLite in the data dir]")
@option(
    "--max-concurrency",
    type=click.IntRange(min=1),
    default=_DEFAULTS.max_concurrency,
    show_default=True,
    help="Concurrent invocations across all functions.",
)
@option(
    "--idle-timeout",
    type=click.FloatRange(min=0),
    default=_DEFAULTS.idle_timeout_s,
    show_default=True,
    metavar="SECONDS",
    help="Reap a warm execution environment after this long unused.",
)
@retry_delays_option
@option(
    "--worker-slots",
    type=click.IntRange(min=0),
    default=_DEFAULTS.worker_slots,
    show_default=True,
    help="Queued invocations this server runs at once; 0 leaves them to `lambdahost worker` processes.",
)
@lease_options
@option(
    "--snapshot/--no-snapshot",
    default=_DEFAULTS.snapshot,
    show_default=True,
    help="Fork new environments from a template that already ran the function's init (like SnapStart; see "
    "docs/snapshot.md).",
)
@option(
    "--preload",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE in the fork servers so environments start with it loaded (repeatable; on an interpreter "
    "other than the server's own, a MODULE that does not import there is skipped with a warning).",
)
@interpreters_option
@option(
    "--access-key-id",
    metavar="ID",
    help="With --secret-access-key: accept only requests signed (SigV4) with this key pair, except GET /health.",
)
@option("--secret-access-key", metavar="SECRET", help="The secret of --access-key-id.")
@secret_key_option
@retention_option
@option(
    "--metrics-token",
    metavar="TOKEN",
    help="With --access-key-id: GET /metrics also accepts 'Authorization: Bearer TOKEN' (for Prometheus, which "
    "cannot sign); without it /metrics needs a signature like every other path.",
)
@option(
    "--example/--no-example",
    default=False,
    show_default=True,
    help="Deploy the example functions (hello, jtl-report, anomaly-detect, scheduled-digest and its weekly schedule "
    "weekly-digest) once the server is listening.",
)
def serve(
    *,
    host: str,
    port: int,
    routes_listen: str | None,
    data_dir: Path,
    store: str | None,
    max_concurrency: int,
    idle_timeout: float,
    retry_delays: tuple[float, ...],
    worker_slots: int,
    lease_seconds: float,
    heartbeat_seconds: float,
    snapshot: bool,
    preload: tuple[str, ...],
    interpreters: dict[str, str],
    access_key_id: str | None,
    secret_access_key: str | None,
    secret_key: str | None,
    artifact_retention: float,
    metrics_token: str | None,
    example: bool,
) -> None:
    """Run the lambdahost server: the HTTP API, the engine and the local execution environments."""
    credentials = key_pair(access_key_id, secret_access_key)
    check_host(host, credentials)
    check_lease(lease_seconds, heartbeat_seconds)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    routes = parse_listen(routes_listen, host, port)
    if routes is not None and credentials is None and not is_loopback(routes[0]):
        click.echo(
            f"warning: HTTP routes and function URLs are served on {routes[0]} without credentials: anyone who "
            "reaches it can call the routed functions (function URLs with AuthType AWS_IAM refuse every request).",
            err=True,
        )
    sock = bind(host, port)
    try:
        routes_sock = None if routes is None else bind(*routes)
    except CliError as exc:
        sock.close()
        raise CliError(
            f"{exc.message} (the listener of HTTP routes and function URLs: choose another with --routes-listen "
            "HOST:PORT, or --routes-listen off)"
        ) from None
    except BaseException:
        sock.close()
        raise
    try:
        settings = Settings(
            data_dir=data_dir.resolve(),
            store_url=store,
            host=host,
            port=sock.getsockname()[1],
            routes_listen=None if routes is None or routes_sock is None else (routes[0], routes_sock.getsockname()[1]),
            max_concurrency=max_concurrency,
            idle_timeout_s=idle_timeout,
            retry_delays_s=retry_delays,
            worker_slots=worker_slots,
            lease_s=lease_seconds,
            heartbeat_s=heartbeat_seconds,
            snapshot=snapshot,
            interpreters=interpreters,
            credentials=credentials,
            metrics_token=metrics_token or None,
            secret_key=secret_key or None,
            artifact_retention_s=artifact_retention,
            extra={"preload": tuple(preload)},
        )
        from lambdahost.server import Platform

        platform = Platform(settings)
        try:
            platform.start()
            run(platform, sock, lambda: _ready(platform, example), routes_sock)
        finally:
            platform.close()
    finally:
        sock.close()
        if routes_sock is not None:
            routes_sock.close()
    click.echo("lambdahost stopped", err=True)


def _ready(platform: Platform, example: bool) -> None:
    settings = platform.settings
    store = settings.resolved_store_url().split(":", 1)[0]
    auth = "" if settings.credentials is None else f", SigV4 key {settings.credentials.access_key_id}"
    click.echo(
        f"lambdahost {__version__} listening on {settings.endpoint_url} "
        f"(data dir {settings.data_dir}, store {store}{auth}); Ctrl-C to stop"
    )
    if settings.routes_listen is not None:
        click.echo(f"HTTP routes and function URLs at {settings.gateway_url}")
    if not example:
        return
    from lambdahost.cli.example import WEEKLY_DIGEST, deploy_example

    try:
        deployed = deploy_example(platform)
    except Exception as exc:  # the server keeps running without its example
        click.echo(f"warning: could not deploy the example functions: {exc}", err=True)
        return
    endpoint = "" if settings.endpoint_url == DEFAULT_ENDPOINT else f" --endpoint {settings.endpoint_url}"
    if settings.credentials is not None:
        endpoint += f" --access-key-id {settings.credentials.access_key_id} --secret-access-key ..."
    digest = WEEKLY_DIGEST
    schedule = (
        f"scheduled as '{digest.name}' ({digest.expression}, UTC)"
        if deployed.schedules[digest.name] == "created"
        else f"its schedule '{digest.name}' kept as it was"
    )
    click.echo(
        f"{deployed.verb} the example function 'hello'; invoke it with:\n"
        f'  lambdahost invoke hello --payload \'{{"name": "Ada"}}\'{endpoint}\n'
        "and the example tasks 'jtl-report' and 'anomaly-detect' (their events: docs/examples.md), e.g.\n"
        f'  lambdahost invoke jtl-report --payload \'{{"jtl": "/path/to/results.jtl"}}\'{endpoint}\n'
        f"and '{digest.function}', a digest of the last week's runs, {schedule}; run it now with\n"
        f"  lambdahost invoke {digest.function} --payload '{json.dumps(digest.input)}'{endpoint}"
    )
