"""Shared option helpers: every option also reads ``LAMBDAHOST_<NAME>`` (shown in ``--help``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from lambdahost.client import DEFAULT_ENDPOINT, Client

F = TypeVar("F", bound=Callable[..., Any])

ENV_PREFIX = "LAMBDAHOST_"


def envvar_for(*decls: str) -> str:
    """``--data-dir`` -> ``LAMBDAHOST_DATA_DIR``; ``--snapshot/--no-snapshot`` -> ``LAMBDAHOST_SNAPSHOT``."""
    long = next(d for d in decls if d.startswith("--")).split("/")[0].removeprefix("--")
    return ENV_PREFIX + long.upper().replace("-", "_")


def option(*decls: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` with the ``LAMBDAHOST_<NAME>`` environment fallback shown in ``--help``."""
    attrs.setdefault("envvar", envvar_for(*decls))
    attrs.setdefault("show_envvar", True)
    return click.option(*decls, **attrs)


def endpoint_option(func: F) -> F:
    return option(
        "--endpoint",
        default=DEFAULT_ENDPOINT,
        show_default=True,
        metavar="URL",
        help="The lambdahost server to talk to.",
    )(func)


def connect(endpoint: str) -> Client:
    try:
        return Client(endpoint)
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
