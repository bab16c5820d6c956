"""``lambdahost worker``: a process that runs queued invocations from a shared store, without an HTTP server.

Point it at the PostgreSQL database of a `lambdahost serve` (or at the same SQLite file on one machine) and it
claims and runs asynchronous invocations alongside the server's own worker, with its own environments. It stops
on SIGTERM or Ctrl-C: it claims nothing more and lets its running invocations finish (their leases stay valid
meanwhile); one that is killed instead is taken back by another worker when its lease expires.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from lambdahost.cli.artifacts import retention_option
from lambdahost.cli.options import check_lease, interpreters_option, lease_options, option, retry_delays_option
from lambdahost.cli.secrets import secret_key_option
from lambdahost.core.settings import DEFAULT_DATA_DIR, Settings

_DEFAULTS = Settings()


@click.command()
@option(
    "--store",
    metavar="URL",
    help="The shared store: postgresql://... or sqlite:///PATH [default: SQLite in the data dir]",
)
@option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="Where this worker unpacks code and keeps its environments' files.",
)
@option(
    "--slots",
    type=click.IntRange(min=1),
    default=_DEFAULTS.worker_slots,
    show_default=True,
    help="Invocations run at once.",
)
@retry_delays_option
@lease_options
@option(
    "--api-url",
    default=_DEFAULTS.endpoint_url,
    show_default=True,
    help="The lambdahost API that functions reach with boto3 (their AWS_ENDPOINT_URL).",
)
@interpreters_option
@secret_key_option
@retention_option
def worker(
    *,
    store: str | None,
    data_dir: Path,
    slots: int,
    retry_delays: tuple[float, ...],
    lease_seconds: float,
    heartbeat_seconds: float,
    api_url: str,
    interpreters: dict[str, str],
    secret_key: str | None,
    artifact_retention: float,
) -> None:
    """Run queued invocations from a shared store until stopped (SIGTERM or Ctrl-C)."""
    check_lease(lease_seconds, heartbeat_seconds)
    from urllib.parse import urlsplit

    from lambdahost.server import Platform

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    api = urlsplit(api_url)
    if api.scheme != "http" or not api.hostname:
        raise click.BadParameter(f"{api_url!r} is not an http:// URL.", param_hint="--api-url")
    settings = Settings(
        data_dir=data_dir.resolve(),
        store_url=store,
        host=api.hostname,
        port=api.port or 80,
        worker_slots=slots,
        retry_delays_s=retry_delays,
        lease_s=lease_seconds,
        heartbeat_s=heartbeat_seconds,
        interpreters=interpreters,
        secret_key=secret_key or None,
        artifact_retention_s=artifact_retention,
    )
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, stopping) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Platform(settings) as platform:
            click.echo(f"lambdahost worker {platform.worker.id} running ({slots} slots); SIGTERM or Ctrl-C to stop")
            stop.wait()
            click.echo("stopping: letting running invocations finish", err=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("lambdahost worker stopped", err=True)
