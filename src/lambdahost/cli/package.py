"""``lambdahost package`` and ``lambdahost deploy``: a function's folder, with its ``requirements.txt`` vendored by
pip for the target runtime (no Docker), as a deterministic zip; deploying it creates the function or updates what
changed, and uploads nothing when the package's SHA-256 equals the function's ``CodeSha256``.

Progress (pip's lines, the zip's size) goes to stderr, silenced by ``--quiet``; ``deploy`` prints what it did on
stdout. A pip failure is ``error: ...`` with exit status 2, and nothing is written or uploaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from lambdahost.cli.options import connect, endpoint_option, option, parse_env
from lambdahost.cli.output import CliError, size
from lambdahost.cli.upload import upload_progress
from lambdahost.code.folder_package import package_folder
from lambdahost.code.packaging import ARCHITECTURES, DEFAULT_RUNTIME, Package, Target
from lambdahost.code.vendoring import VendoringFailed
from lambdahost.core.errors import ResourceNotFound

F = TypeVar("F", bound=Callable[..., Any])
Report = Callable[[str], None]
FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)


def packaging_options(func: F) -> F:
    """The options ``package`` and ``deploy`` share: the target's architecture, pip and the dependency cache."""
    for decorator in reversed(
        (
            option(
                "--arch",
                type=click.Choice(tuple(ARCHITECTURES)),
                default=None,
                help="The target architecture for binary wheels [default: this machine's].",
            ),
            option(
                "--pip-arg",
                "pip_args",
                multiple=True,
                metavar="ARG",
                help="An extra argument for pip install (repeatable), e.g. --pip-arg=--no-index "
                "--pip-arg=--find-links=./wheels. pip's own PIP_* variables apply as well.",
            ),
            option(
                "--cache-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="Where vendored dependencies are cached [default: $XDG_CACHE_HOME/lambdahost or "
                "~/.cache/lambdahost].",
            ),
            option(
                "--refresh-deps",
                is_flag=True,
                default=False,
                help="Run pip even when the dependency cache has this requirements.txt, and replace the entry.",
            ),
            option("--quiet", "-q", is_flag=True, default=False, help="No progress on stderr."),
        )
    ):
        func = decorator(func)
    return func


def _reporter(quiet: bool) -> Report:
    def report(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    return report


def build(
    folder: Path,
    target: Target,
    *,
    pip_args: Sequence[str],
    cache_dir: Path | None,
    refresh: bool,
    report: Report,
    leave_out: Sequence[Path] = (),
) -> Package:
    """``code.folder_package.package_folder``, a pip failure as the CLI's error."""
    try:
        return package_folder(
            folder, target, report=report, pip_args=pip_args, cache_dir=cache_dir, refresh=refresh, leave_out=leave_out
        )
    except VendoringFailed as exc:
        raise CliError(exc.message) from exc


def _describe(package: Package) -> str:
    return (
        f"{package.files} files, {size(package.size)} (unzipped {size(package.unzipped_size)}), "
        f"CodeSha256 {package.code_sha256}"
    )


@click.command()
@click.argument("folder", type=FOLDER)
@option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    metavar="ZIP",
    help="The zip to write (replaced atomically; left out of the package when inside FOLDER).",
)
@option(
    "--runtime",
    default=DEFAULT_RUNTIME,
    show_default=True,
    help="The Python the dependencies are installed for.",
)
@packaging_options
def package(
    *,
    folder: Path,
    output: Path,
    runtime: str,
    arch: str | None,
    pip_args: tuple[str, ...],
    cache_dir: Path | None,
    refresh_deps: bool,
    quiet: bool,
) -> None:
    """Zip FOLDER as a function package, with requirements.txt vendored by pip (binary wheels for the target).

    The same inputs give the same bytes. Left out: __pycache__, *.pyc, .git, .venv, venv, .pytest_cache,
    .mypy_cache, .ruff_cache, the dependencies' tests/ folders and bin/, and what FOLDER/.lambdahostignore lists
    (fnmatch patterns, one a line). See docs/packaging.md.
    """
    report = _reporter(quiet)
    target = Target.of(runtime, arch)
    report(f"packaging {folder} for {target.runtime} on {target.arch}")
    built = build(
        folder,
        target,
        pip_args=pip_args,
        cache_dir=cache_dir,
        refresh=refresh_deps,
        report=report,
        leave_out=(output,),
    )
    _write_atomically(output, built.data)
    report(f"wrote {output}: {_describe(built)}")


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc


@click.command()
@click.argument("folder", type=FOLDER)
@option("--name", required=True, help="The function's name.")
@option("--handler", required=True, metavar="MODULE.FUNCTION", help="For example app.handler.")
@option(
    "--runtime",
    default=None,
    help=f"The function's runtime [default: the existing function's, else {DEFAULT_RUNTIME}].",
)
@option("--memory", type=click.IntRange(128, 10240), metavar="MB", help="Memory size [default: 128 or unchanged].")
@option("--timeout", type=click.IntRange(1, 900), metavar="SECONDS", help="Timeout [default: 3 or unchanged].")
@option(
    "--env",
    "environment",
    multiple=True,
    callback=parse_env,
    metavar="KEY=VALUE",
    help="An environment variable (repeatable); replaces ALL of them, as on AWS. Not given: unchanged.",
)
@packaging_options
@endpoint_option
def deploy(
    *,
    folder: Path,
    name: str,
    handler: str,
    runtime: str | None,
    memory: int | None,
    timeout: int | None,
    environment: dict[str, str] | None,
    arch: str | None,
    pip_args: tuple[str, ...],
    cache_dir: Path | None,
    refresh_deps: bool,
    quiet: bool,
    endpoint: str,
) -> None:
    """Package FOLDER and create function NAME from it, or update its code (only when the package's SHA-256
    differs from the function's CodeSha256) and its configuration (only what changed)."""
    report = _reporter(quiet)
    with connect(endpoint) as client:
        try:
            current: dict[str, Any] | None = client.get_function(name)["Configuration"]
        except ResourceNotFound:
            current = None
        target = Target.of(runtime or (current["Runtime"] if current else DEFAULT_RUNTIME), arch)
        report(f"packaging {folder} for {target.runtime} on {target.arch}")
        built = build(folder, target, pip_args=pip_args, cache_dir=cache_dir, refresh=refresh_deps, report=report)
        report(f"package: {_describe(built)}")
        if current is None:
            with upload_progress(f"uploading {name}") as progress:
                config = client.create_function(
                    name,
                    built.data,
                    handler,
                    runtime=target.runtime,
                    memory=memory,
                    timeout=timeout,
                    environment=environment,
                    progress=progress,
                )
            click.echo(
                f"deployed {name}: created ({config['Runtime']} {config['Handler']}, {config['MemorySize']} MB, "
                f"timeout {config['Timeout']} s, code {size(built.size)}, CodeSha256 {config['CodeSha256']})"
            )
            return
        done = []
        if current.get("CodeSha256") == built.code_sha256:
            done.append("code unchanged, nothing uploaded")
        else:
            with upload_progress(f"uploading {name}") as progress:
                config = client.update_function_code(name, built.data, progress=progress)
            done.append(f"code updated ({size(built.size)}, CodeSha256 {config['CodeSha256']})")
        changes = _configuration_changes(
            current, handler=handler, runtime=target.runtime, memory=memory, timeout=timeout, environment=environment
        )
        if changes:
            client.update_function_configuration(name, **{key: new for key, (_old, new) in changes.items()})
            described = ", ".join(_change(key, old, new) for key, (old, new) in changes.items())
            done.append(f"configuration updated ({described})")
        elif done == ["code unchanged, nothing uploaded"]:
            done = [f"unchanged, nothing uploaded (CodeSha256 {built.code_sha256})"]
    click.echo(f"deployed {name}: " + "; ".join(done))


def _configuration_changes(
    current: dict[str, Any],
    *,
    handler: str,
    runtime: str,
    memory: int | None,
    timeout: int | None,
    environment: dict[str, str] | None,
) -> dict[str, tuple[Any, Any]]:
    """``{client keyword: (now, wanted)}`` for what differs; options not given are left as they are."""
    now = {
        "handler": current.get("Handler"),
        "runtime": current.get("Runtime"),
        "memory": current.get("MemorySize"),
        "timeout": current.get("Timeout"),
        "environment": (current.get("Environment") or {}).get("Variables") or {},
    }
    wanted = {"handler": handler, "runtime": runtime, "memory": memory, "timeout": timeout, "environment": environment}
    return {key: (now[key], value) for key, value in wanted.items() if value is not None and value != now[key]}


def _change(key: str, old: Any, new: Any) -> str:
    if key == "environment":
        return f"environment: {len(new)} variable{'' if len(new) == 1 else 's'}"
    return f"{key} {old} -> {new}"
