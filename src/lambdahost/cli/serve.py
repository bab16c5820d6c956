"""``lambdahost serve``: the one command that builds a Platform (everything else talks HTTP).

Order: check the host (any but a loopback address needs credentials), bind the socket (so ``--port 0`` picks a
free port the functions are told about), build and start the Platform, then run uvicorn on that socket. Ctrl-C /
SIGTERM stop uvicorn gracefully and then close the Platform (which stops every execution environment).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from lambdahost import __version__
from lambdahost.cli.options import check_lease, key_pair, lease_options, option, retry_delays_option
from lambdahost.cli.output import CliError
from lambdahost.client import DEFAULT_ENDPOINT
from lambdahost.core.credentials import Credentials
from lambdahost.core.settings import DEFAULT_DATA_DIR, Settings

if TYPE_CHECKING:
    import uvicorn

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


def _uvicorn_config(platform: Platform) -> uvicorn.Config:
    import uvicorn

    settings = platform.settings
    return uvicorn.Config(
        platform.asgi_app(),
        host=settings.host,
        port=settings.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        log_level="warning",
        lifespan="off",
        proxy_headers=False,  # clients connect directly; no proxy's X-Forwarded-* is trusted
    )


async def _serve(server: uvicorn.Server, sock: socket.socket, on_ready: Callable[[], None]) -> None:
    import asyncio

    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        await asyncio.to_thread(on_ready)
    await serving


def _ignore(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the signal that stopped it; we close the Platform instead of dying."""


def run(platform: Platform, sock: socket.socket, on_ready: Callable[[], None]) -> None:
    """Serve on ``sock`` until SIGINT/SIGTERM (uvicorn handles them while it runs)."""
    import asyncio

    import uvicorn

    config = _uvicorn_config(platform)
    server = uvicorn.Server(config)
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _ignore) for sig in handled}
    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(_serve(server, sock, on_ready))
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
    help="Import MODULE in the fork server so environments start with it loaded (repeatable).",
)
@option(
    "--access-key-id",
    metavar="ID",
    help="With --secret-access-key: accept only requests signed (SigV4) with this key pair, except GET /health.",
)
@option("--secret-access-key", metavar="SECRET", help="The secret of --access-key-id.")
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
    help="Deploy the example function 'hello' once the server is listening.",
)
def serve(
    *,
    host: str,
    port: int,
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
    access_key_id: str | None,
    secret_access_key: str | None,
    metrics_token: str | None,
    example: bool,
) -> None:
    """Run the lambdahost server: the HTTP API, the engine and the local execution environments."""
    credentials = key_pair(access_key_id, secret_access_key)
    check_host(host, credentials)
    check_lease(lease_seconds, heartbeat_seconds)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sock = bind(host, port)
    try:
        settings = Settings(
            data_dir=data_dir.resolve(),
            store_url=store,
            host=host,
            port=sock.getsockname()[1],
            max_concurrency=max_concurrency,
            idle_timeout_s=idle_timeout,
            retry_delays_s=retry_delays,
            worker_slots=worker_slots,
            lease_s=lease_seconds,
            heartbeat_s=heartbeat_seconds,
            snapshot=snapshot,
            credentials=credentials,
            metrics_token=metrics_token or None,
            extra={"preload": tuple(preload)},
        )
        from lambdahost.server import Platform

        platform = Platform(settings)
        try:
            platform.start()
            run(platform, sock, lambda: _ready(platform, example))
        finally:
            platform.close()
    finally:
        sock.close()
    click.echo("lambdahost stopped", err=True)


def _ready(platform: Platform, example: bool) -> None:
    settings = platform.settings
    store = settings.resolved_store_url().split(":", 1)[0]
    auth = "" if settings.credentials is None else f", SigV4 key {settings.credentials.access_key_id}"
    click.echo(
        f"lambdahost {__version__} listening on {settings.endpoint_url} "
        f"(data dir {settings.data_dir}, store {store}{auth}); Ctrl-C to stop"
    )
    if not example:
        return
    from lambdahost.cli.example import deploy_example

    try:
        verb = deploy_example(platform)
    except Exception as exc:  # the server keeps running without its example
        click.echo(f"warning: could not deploy the example function: {exc}", err=True)
        return
    endpoint = "" if settings.endpoint_url == DEFAULT_ENDPOINT else f" --endpoint {settings.endpoint_url}"
    if settings.credentials is not None:
        endpoint += f" --access-key-id {settings.credentials.access_key_id} --secret-access-key ..."
    click.echo(
        f"{verb} the example function 'hello'; invoke it with:\n"
        f'  lambdahost invoke hello --payload \'{{"name": "Ada"}}\'{endpoint}'
    )
