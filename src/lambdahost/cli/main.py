"""The ``lambdahost`` command group, and the one place errors become ``error: ...`` and an exit status.

Exit status: 0 success, 1 a function error (``invoke``), 2 usage and API errors.
"""

from __future__ import annotations

from typing import Any

import click

from lambdahost import __version__
from lambdahost.cli.async_settings import event_config, lanes, provisioned
from lambdahost.cli.functions import create, delete, list_functions, update
from lambdahost.cli.invocations import invocations
from lambdahost.cli.invoke import invoke
from lambdahost.cli.logs import logs
from lambdahost.cli.mappings import mappings
from lambdahost.cli.output import CliError
from lambdahost.cli.package import deploy, package
from lambdahost.cli.queues import queues
from lambdahost.cli.routes import routes_group, urls_group
from lambdahost.cli.run import parameters, run
from lambdahost.cli.runtimes import runtimes
from lambdahost.cli.schedules import schedules_group
from lambdahost.cli.secrets import secrets_group
from lambdahost.cli.serve import serve
from lambdahost.cli.status import status
from lambdahost.cli.streams import streams
from lambdahost.cli.triggers import triggers
from lambdahost.cli.worker import worker
from lambdahost.client import ServerUnreachable, error_code
from lambdahost.core.errors import InvalidSignature, LambdaHostError, MissingAuthenticationToken, UnrecognizedClient


class LambdaHostGroup(click.Group):
    """Turns API and connection errors into ``error: <Code>: <message>`` (exit status 2)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LambdaHostError as exc:
            raise CliError(f"{error_code(exc)}: {exc.message}{_hint(exc)}") from exc
        except (ServerUnreachable, TimeoutError) as exc:
            raise CliError(str(exc)) from exc


def _hint(exc: LambdaHostError) -> str:
    if isinstance(exc, MissingAuthenticationToken):
        return (
            "\nThis server requires signed requests: pass --access-key-id and --secret-access-key (or set "
            "LAMBDAHOST_ACCESS_KEY_ID and LAMBDAHOST_SECRET_ACCESS_KEY) with the key pair it was started with."
        )
    if isinstance(exc, UnrecognizedClient | InvalidSignature):
        return (
            "\nCheck the key pair: --access-key-id and --secret-access-key (or LAMBDAHOST_ACCESS_KEY_ID and "
            "LAMBDAHOST_SECRET_ACCESS_KEY, else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)."
        )
    return ""


@click.group(cls=LambdaHostGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="lambdahost")
def main() -> None:
    """lambdahost: a self-hosted, AWS-Lambda-compatible function platform.

    Every option can also be set with an environment variable LAMBDAHOST_<OPTION> (shown in each --help).
    """


for command in (
    serve,
    worker,
    create,
    update,
    delete,
    list_functions,
    runtimes,
    package,
    deploy,
    invoke,
    logs,
    invocations,
    queues,
    mappings,
    lanes,
    event_config,
    provisioned,
    schedules_group,
    streams,
    routes_group,
    urls_group,
    triggers,
    status,
    secrets_group,
    parameters,
    run,
):
    main.add_command(command)
