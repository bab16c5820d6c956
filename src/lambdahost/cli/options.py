"""Shared option helpers: every option also reads ``LAMBDAHOST_<NAME>`` (shown in ``--help``)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from lambdahost.client import DEFAULT_ENDPOINT, Client
from lambdahost.core.credentials import Credentials

F = TypeVar("F", bound=Callable[..., Any])

ENV_PREFIX = "LAMBDAHOST_"
_META_PREFIX = "lambdahost."


def envvar_for(*decls: str) -> str:
    """``--data-dir`` -> ``LAMBDAHOST_DATA_DIR``; ``--snapshot/--no-snapshot`` -> ``LAMBDAHOST_SNAPSHOT``."""
    long = next(d for d in decls if d.startswith("--")).split("/")[0].removeprefix("--")
    return ENV_PREFIX + long.upper().replace("-", "_")


def option(*decls: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` with the ``LAMBDAHOST_<NAME>`` environment fallback shown in ``--help``."""
    attrs.setdefault("envvar", envvar_for(*decls))
    attrs.setdefault("show_envvar", True)
    return click.option(*decls, **attrs)


def key_pair(access_key_id: str | None, secret_access_key: str | None) -> Credentials | None:
    """``--access-key-id`` + ``--secret-access-key`` -> Credentials (both or neither)."""
    if access_key_id is None and secret_access_key is None:
        return None
    if access_key_id is None or secret_access_key is None:
        raise click.UsageError("--access-key-id and --secret-access-key go together: pass both or neither.")
    try:
        return Credentials(access_key_id, secret_access_key)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--access-key-id/--secret-access-key") from None


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and param.name:
        ctx.meta[_META_PREFIX + param.name] = value
    return value


def endpoint_option(func: F) -> F:
    """``--endpoint``, plus the key pair that signs the requests (``--access-key-id``/``--secret-access-key``,
    from ``LAMBDAHOST_*`` or else the standard ``AWS_*`` variables). The key pair reaches ``connect`` through the
    click context, so every command that talks to a server takes it without a parameter of its own."""
    func = option(
        "--secret-access-key",
        envvar=["LAMBDAHOST_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"],
        metavar="SECRET",
        expose_value=False,
        callback=_remember,
        help="The secret of --access-key-id.",
    )(func)
    func = option(
        "--access-key-id",
        envvar=["LAMBDAHOST_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"],
        metavar="ID",
        expose_value=False,
        callback=_remember,
        help="Sign requests (SigV4) with this key pair, for a server started with credentials.",
    )(func)
    return option(
        "--endpoint",
        default=DEFAULT_ENDPOINT,
        show_default=True,
        metavar="URL",
        help="The lambdahost server to talk to.",
    )(func)


def connect(endpoint: str) -> Client:
    meta = click.get_current_context().meta
    credentials = key_pair(meta.get(_META_PREFIX + "access_key_id"), meta.get(_META_PREFIX + "secret_access_key"))
    try:
        return Client(endpoint, credentials=credentials)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--endpoint") from None


def parse_env(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> dict[str, str] | None:
    """``--env K=V`` (repeatable) -> a dict; None when not given. ``--env ''`` alone means "no variables"."""
    if not values:
        return None
    variables: dict[str, str] = {}
    for item in values:
        if item == "":
            continue
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", ctx, param)
        variables[key] = value
    return variables


def parse_delays(value: str) -> tuple[float, ...]:
    """``"60,120"`` -> ``(60.0, 120.0)``: one or more non-negative numbers of seconds."""
    try:
        delays = tuple(float(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of seconds.") from None
    if any(not math.isfinite(delay) or delay < 0 for delay in delays):
        raise click.BadParameter("retry delays must be 0 or more seconds.")
    return delays


def retry_delays_option(func: F) -> F:
    """``--retry-delays``: the waits before the retries of a failed asynchronous invocation (``serve``,
    ``worker``)."""
    from lambdahost.core.settings import Settings

    return option(
        "--retry-delays",
        type=str,
        default=",".join(f"{d:g}" for d in Settings().retry_delays_s),
        show_default=True,
        metavar="SECONDS,SECONDS",
        callback=lambda _ctx, _param, value: parse_delays(value),
        help="Waits before the retries of a failed asynchronous invocation (AWS: about 1 and 2 minutes).",
    )(func)


def lease_options(func: F) -> F:
    """``--lease-seconds`` and ``--heartbeat-seconds``: how long a worker's leases last without a heartbeat, and how
    often it heartbeats (``serve``, ``worker``); check them together with ``check_lease``."""
    from lambdahost.core.settings import Settings

    defaults = Settings()
    func = option(
        "--heartbeat-seconds",
        type=click.FloatRange(min=0, min_open=True),
        default=defaults.heartbeat_s,
        show_default=True,
        metavar="SECONDS",
        help="How often the worker heartbeats, extending its leases; shorter than --lease-seconds.",
    )(func)
    return option(
        "--lease-seconds",
        type=click.FloatRange(min=0, min_open=True),
        default=defaults.lease_s,
        show_default=True,
        metavar="SECONDS",
        help="A worker silent for this long is taken for lost: another worker takes back its invocations.",
    )(func)


def check_lease(lease_seconds: float, heartbeat_seconds: float) -> None:
    """A lease must outlast the heartbeat that extends it, or a live worker would lose its invocations."""
    if not (math.isfinite(lease_seconds) and math.isfinite(heartbeat_seconds)):
        raise click.BadParameter("must be a finite number of seconds.", param_hint="--lease-seconds")
    if heartbeat_seconds >= lease_seconds:
        raise click.BadParameter(
            f"a lease of {lease_seconds:g} s must be longer than the heartbeat interval ({heartbeat_seconds:g} s) "
            "that extends it, or a live worker would lose its invocations; lower --heartbeat-seconds or raise "
            "--lease-seconds.",
            param_hint="--lease-seconds/--heartbeat-seconds",
        )


def parse_interpreters(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> dict[str, str]:
    """``--interpreter python3.12=/path/to/python`` (repeatable) -> ``{"python3.12": "/path/to/python"}``."""
    from lambdahost.engine.functions import SUPPORTED_RUNTIMES

    chosen: dict[str, str] = {}
    for item in values:
        runtime, sep, path = item.partition("=")
        if not sep or not path:
            raise click.BadParameter(f"{item!r} is not RUNTIME=PATH (e.g. python3.12=/usr/bin/python3.12)", ctx, param)
        if runtime not in SUPPORTED_RUNTIMES:
            raise click.BadParameter(
                f"{runtime!r} is not a supported runtime ({', '.join(SUPPORTED_RUNTIMES)})", ctx, param
            )
        path = os.path.abspath(os.path.expanduser(path))
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise click.BadParameter(f"{path} (for {runtime}) is not an executable file", ctx, param)
        chosen[runtime] = path
    return chosen


def interpreters_option(func: F) -> F:
    """``--interpreter RUNTIME=PATH``: the Python that runs a runtime (``serve``, ``worker``)."""
    return option(
        "--interpreter",
        "interpreters",
        envvar="LAMBDAHOST_INTERPRETERS",
        multiple=True,
        metavar="RUNTIME=PATH",
        callback=parse_interpreters,
        help="The Python that runs functions of RUNTIME, e.g. python3.12=/usr/bin/python3.12 (repeatable; the "
        "variable takes them space-separated). Tried before the interpreters found on this machine (PATH, pyenv, "
        "asdf, uv); see `lambdahost runtimes`.",
    )(func)
