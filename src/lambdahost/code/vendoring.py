"""Installing a function's ``requirements.txt`` for its target runtime with pip, without Docker, and caching it.

pip runs as ``sys.executable -m pip install --target <dir> -r requirements.txt`` with binary wheels only for the
target (``--only-binary=:all: --platform <manylinux tags> --python-version X.Y --implementation cp --abi cp3XY``,
see ``packaging.Target``) and ``--no-compile``; the caller's extra arguments come last (``--no-index --find-links
DIR``, ``--index-url MIRROR``), and pip's own environment variables (``PIP_INDEX_URL``, ...) reach it unchanged.
Its output is passed on line by line (``report``); a failure becomes ``VendoringFailed``, naming the requirement
and carrying pip's ``ERROR`` lines.

The installed tree is cached under ``<cache dir>/deps/<key>/site`` (``packaging.dependencies_key``: the
requirements file's bytes, runtime, architecture), so re-packaging needs neither pip nor a network. pip installs
into a temporary folder beside it that is renamed into place when complete (with ``lambdahost-deps.json``
describing it), so a crash or a concurrent run never leaves a half-filled entry behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from lambdahost.code.packaging import CACHE_FORMAT, Target, dependencies_key
from lambdahost.core.errors import LambdaHostError

INFO_FILE = "lambdahost-deps.json"
SITE = "site"
Report = Callable[[str], None]
_URL_CREDENTIALS = re.compile(r"://[^/@\s]+@")

_WANTED = (
    re.compile(r"satisfies the requirement (\S+)"),
    re.compile(r"No matching distribution found for (\S+)"),
    re.compile(r"Invalid requirement: '([^']+)'"),
)


class VendoringFailed(LambdaHostError):
    """pip could not install the requirements (never sent over HTTP: the CLI prints the message)."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "VendoringFailed"
    message_key: ClassVar[str] = "message"


@dataclass(frozen=True)
class Vendored:
    path: Path  # the folder whose contents go to the zip's root
    key: str
    from_cache: bool
    distributions: tuple[str, ...]  # "name version", sorted
    seconds: float


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/lambdahost``, else ``~/.cache/lambdahost``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambdahost"


def pip_command(requirements: Path, target: Target, destination: Path, pip_args: Sequence[str] = ()) -> list[str]:
    platforms = [arg for tag in target.platforms for arg in ("--platform", tag)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "--no-compile",
        "--target",
        str(destination),
        "--only-binary=:all:",
        *platforms,
        "--python-version",
        target.python_version,
        "--implementation",
        "cp",
        "--abi",
        target.abi,
        "-r",
        str(requirements.absolute()),
        *pip_args,
    ]


def vendor(
    requirements: Path,
    target: Target,
    *,
    cache_dir: Path,
    pip_args: Sequence[str] = (),
    refresh: bool = False,
    report: Report | None = None,
) -> Vendored:
    """The installed requirements: from the cache, or installed by pip (and then cached). ``refresh``: run pip
    even when the cache has them, and replace the entry."""
    say = report or (lambda _message: None)
    started = time.monotonic()
    key = dependencies_key(requirements.read_bytes(), target)
    deps = cache_dir / "deps"
    entry = deps / key
    if not refresh and (entry / INFO_FILE).is_file():
        return Vendored(entry / SITE, key, True, _distributions(entry / SITE), time.monotonic() - started)
    try:
        deps.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=deps))
    except OSError as exc:
        raise VendoringFailed(f"Cannot write the dependency cache in {deps}: {exc}. Pass --cache-dir.") from exc
    try:
        command = pip_command(requirements, target, work / SITE, pip_args)
        say(
            f"pip install -r {requirements.name} for {target.runtime} on {target.arch} "
            f"(binary wheels only{', ' + _redacted(' '.join(pip_args)) if pip_args else ''})"
        )
        _run_pip(command, requirements, target, say)
        (work / SITE).mkdir(exist_ok=True)  # pip makes it, unless nothing was installed
        distributions = _distributions(work / SITE)
        info = {
            "format": CACHE_FORMAT,
            "runtime": target.runtime,
            "arch": target.arch,
            "requirements": str(requirements),
            "distributions": list(distributions),
            "created": time.time(),
        }
        (work / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
        _put_in_place(work, entry, replace=refresh)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # gone already when it was moved into place
    return Vendored(entry / SITE, key, False, distributions, time.monotonic() - started)


def _run_pip(command: list[str], requirements: Path, target: Target, say: Report) -> None:
    lines: list[str] = []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip()
            lines.append(line)
            if line.strip():
                say(f"  pip: {line}")
        status = process.wait()
    if status != 0:
        raise _failure(requirements, target, status, lines)


def _failure(requirements: Path, target: Target, status: int, lines: list[str]) -> VendoringFailed:
    text = "\n".join(lines)
    if "No module named pip" in text:
        return VendoringFailed(
            f"pip is not installed for {sys.executable}; install it (`{sys.executable} -m ensurepip`) to vendor "
            f"{requirements.name}."
        )
    errors = [line for line in lines if line.startswith("ERROR:")] or [line for line in lines if line.strip()][-10:]
    wanted = next((match.group(1) for pattern in _WANTED if (match := pattern.search(text))), None)
    what = repr(wanted) if wanted else "the requirements"
    message = (
        f"pip could not install {what} from {requirements} for {target.runtime} on {target.arch} "
        f"(binary wheels only; pip exit status {status}):\n" + "\n".join("  " + line for line in errors)
    )
    if "Could not find a version that satisfies" in text:
        message += (
            "\nOnly binary wheels for the target are accepted (manylinux for its architecture, or pure-Python "
            "py3-none-any): a package that publishes only a source distribution, or none for this Python version "
            "and architecture, cannot be vendored without building it on a matching machine."
        )
    return VendoringFailed(message)


def _put_in_place(work: Path, entry: Path, replace: bool) -> None:
    """Rename ``work`` to ``entry``. An existing ``entry`` is kept (a concurrent run finished first: same key, same
    requirements), unless ``replace``: then it is moved aside first and removed after."""
    old = None
    if replace and entry.exists():
        old = entry.with_name(f".old-{entry.name}-{os.getpid()}")
        try:
            os.rename(entry, old)
        except OSError:
            old = None
    try:
        os.rename(work, entry)
    except OSError as exc:
        if not (entry / INFO_FILE).is_file():  # not a concurrent run that finished first: a real failure
            raise VendoringFailed(f"Cannot write the dependency cache entry {entry}: {exc}.") from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _redacted(text: str) -> str:
    """``https://user:token@mirror/simple`` -> ``https://***@mirror/simple``: index credentials stay off screen."""
    return _URL_CREDENTIALS.sub("://***@", text)


def _distributions(site: Path) -> tuple[str, ...]:
    found = []
    for info in site.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        found.append(f"{name} {version}".strip())
    return tuple(sorted(found))
