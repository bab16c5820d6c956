"""Which Python interpreter runs each runtime: ``python3.12`` -> ``/root/.pyenv/versions/3.12.1/bin/python3.12``.

The candidates for ``python3.X``, in order: the configured one (``serve --interpreter python3.X=PATH``), the
platform's own interpreter when it is 3.X, ``python3.X`` on ``PATH``, pyenv's, asdf's and uv's installations of
3.X (newest patch release first), ``/usr/local/bin`` and ``/usr/bin``; shims (a ``shims`` directory on ``PATH``,
as pyenv and asdf install) come last, because a shim exists for every installed version but fails for one that is
not selected. Every candidate but the platform's own interpreter is run once with a probe (``PROBE``) that prints
its exact version after importing the child-side runtime (``runtime/forkserver.py``, ``bootstrap.py`` and what they
import) from this lambdahost; the first whose version is 3.X and whose probe succeeds runs the runtime. A runtime
none passes for is unavailable on this machine: ``for_runtime`` gives the platform's own interpreter for it, and
the callers say so.

Nothing is probed until asked (``find``; ``available`` probes every runtime's candidates at once, on threads), so
starting a platform costs nothing here. Results are kept per registry by runtime, and per process by candidate
file (path, inode, size, modification time), so a process probes an interpreter once.

A foreign interpreter (any but the platform's own) imports lambdahost from its package directory by a loader
(``loader_code``), not by putting the directory that holds it on ``sys.path``: when lambdahost is installed in the
platform's site-packages, that directory holds the platform's own packages, built for its Python. For the same
reason it starts with the platform's environment minus the variables that choose a Python's paths
(``foreign_environ``).
"""

from __future__ import annotations

import logging
import os
import platform
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

log = logging.getLogger(__name__)

RUNTIME_RE = re.compile(r"python3\.(\d+)")
PROBE_TIMEOUT_S = 10.0
# Variables that choose where a Python finds its modules: the platform's values are for the platform's Python.
_PATH_VARIABLES = frozenset(
    {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONPLATLIBDIR", "PYTHONEXECUTABLE"}
)
PROBE = (
    "import lambdahost.runtime.bootstrap, lambdahost.runtime.forkserver\n"
    "sys.stdout.write('%d.%d.%d' % sys.version_info[:3])\n"
)
_VERSION_RE = re.compile(r"3\.(\d+)\.\d+")


@dataclass(frozen=True)
class Interpreter:
    """A Python that runs a runtime here: ``version`` is its exact version (``3.12.1``), ``path`` the executable as
    found (not resolved: a virtual environment's ``python`` is not its base interpreter), ``source`` where it was
    found: ``configured``, ``platform`` (the platform's own), ``path``, ``pyenv``, ``asdf``, ``uv`` or ``system``."""

    runtime: str
    version: str
    path: str
    source: str

    @property
    def own(self) -> bool:
        """The platform's own interpreter (its base fork server is started with the platform)."""
        return self.source == "platform"


@dataclass(frozen=True)
class Rejected:
    """A candidate that does not run its runtime, and why (``is Python 3.11.7``, ``exit status 1: ...``)."""

    path: str
    reason: str


def minor_of(runtime: str) -> int:
    """``python3.12`` -> 12; ``ValueError`` for anything else."""
    match = RUNTIME_RE.fullmatch(runtime)
    if match is None:
        raise ValueError(f"{runtime!r} is not a Python runtime (python3.X)")
    return int(match.group(1))


def own_interpreter() -> Interpreter:
    """The interpreter this process runs on."""
    return Interpreter(f"python3.{sys.version_info[1]}", platform.python_version(), sys.executable, "platform")


def package_dir() -> str:
    """The directory of the ``lambdahost`` package this module belongs to."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def loader_code(body: str) -> str:
    """Python source for ``python -c``: import the ``lambdahost`` package from its own directory (nothing else of
    the directory holding it becomes importable), then run ``body`` (``sys`` is imported)."""
    package = package_dir()
    return (
        "import importlib.util, sys\n"
        "if sys.path and sys.path[0] == '':\n"
        "    del sys.path[0]\n"
        f"spec = importlib.util.spec_from_file_location('lambdahost', {os.path.join(package, '__init__.py')!r}, "
        f"submodule_search_locations=[{package!r}])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['lambdahost'] = module\n"
        "spec.loader.exec_module(module)\n"
        "del spec, module\n" + body
    )


def foreign_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a foreign interpreter starts with: ``environ`` without the variables that choose a
    Python's module paths."""
    return {key: value for key, value in environ.items() if key not in _PATH_VARIABLES}


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def _installs(root: str, pattern: str, executable: str) -> Iterator[str]:
    """``root/<entry>/bin/<executable>`` for the entries matching ``pattern``, newest version first."""
    try:
        entries = os.listdir(root)
    except OSError:
        return
    wanted = re.compile(pattern)
    for entry in sorted((e for e in entries if wanted.fullmatch(e)), key=_version_key, reverse=True):
        path = os.path.join(root, entry, "bin", executable)
        if _executable(path):
            yield path


def candidates(runtime: str, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Where ``python3.X`` may be on this machine, as (path, source), in the order they are tried (the configured
    interpreter and the platform's own are not among them)."""
    minor = minor_of(runtime)
    name = f"python3.{minor}"
    home = environ.get("HOME") or os.path.expanduser("~")
    found: list[tuple[str, str]] = []
    shims: list[tuple[str, str]] = []
    for directory in environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(directory, name)
        if directory and _executable(path):
            (shims if os.path.basename(os.path.normpath(directory)) == "shims" else found).append((path, "path"))
    pyenv = environ.get("PYENV_ROOT") or os.path.join(home, ".pyenv")
    found.extend((path, "pyenv") for path in _installs(os.path.join(pyenv, "versions"), rf"3\.{minor}\.\d+", name))
    asdf = environ.get("ASDF_DATA_DIR") or os.path.join(home, ".asdf")
    found.extend(
        (path, "asdf") for path in _installs(os.path.join(asdf, "installs", "python"), rf"3\.{minor}\.\d+", name)
    )
    data_home = environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    uv = environ.get("UV_PYTHON_INSTALL_DIR") or os.path.join(data_home, "uv", "python")
    found.extend((path, "uv") for path in _installs(uv, rf"cpython-3\.{minor}\.\d+-linux-[a-z0-9_]+-gnu", name))
    found.extend((path, "system") for path in (f"/usr/local/bin/{name}", f"/usr/bin/{name}") if _executable(path))
    seen: set[str] = set()
    ordered = []
    for path, source in found + shims:
        if path not in seen:
            seen.add(path)
            ordered.append((path, source))
    return ordered


_probes: dict[tuple[str, int, int, int, int], str | Rejected] = {}
_probes_lock = threading.Lock()


def probe(path: str, timeout: float = PROBE_TIMEOUT_S) -> str | Rejected:
    """Run ``path`` once with the probe: its exact version (``3.12.1``) when the child-side runtime imports on it,
    else why not. Kept for the process per file (a changed file is probed again)."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        return Rejected(path, exc.strerror or str(exc))
    key = (path, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _probes_lock:
        known = _probes.get(key)
    if known is not None:
        return known
    result = _run_probe(path, timeout)
    with _probes_lock:
        _probes[key] = result
    return result


def _run_probe(path: str, timeout: float) -> str | Rejected:
    try:
        done = subprocess.run(
            [path, "-s", "-c", loader_code(PROBE)],
            env=foreign_environ(os.environ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Rejected(path, f"no answer within {timeout:g} s")
    except OSError as exc:
        return Rejected(path, exc.strerror or str(exc))
    version = done.stdout.decode("ascii", "replace").strip()
    if done.returncode != 0 or not _VERSION_RE.fullmatch(version):
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {lines[-1].strip()}" if lines else ""
        return Rejected(path, f"exit status {done.returncode}{detail}")
    return version


class Interpreters:
    """The interpreters of ``runtimes`` on this machine (see the module's docstring). Thread-safe."""

    def __init__(
        self,
        runtimes: Iterable[str],
        configured: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        own: Interpreter | None = None,
    ) -> None:
        self.runtimes = tuple(runtimes)
        self.own = own or own_interpreter()
        self._configured = dict(configured or {})
        self._environ = dict(os.environ if environ is None else environ)
        self._found: dict[str, Interpreter | None] = {}
        self._rejected: dict[str, tuple[Rejected, ...]] = {}
        self._locks = {runtime: threading.Lock() for runtime in self.runtimes}
        for runtime in self._configured:
            if runtime not in self._locks:
                raise ValueError(f"{runtime!r} is not a supported runtime ({', '.join(self.runtimes)})")

    def find(self, runtime: str) -> Interpreter | None:
        """The interpreter of ``runtime`` on this machine, or None when it has none (nor for an unknown runtime).
        Probes on the first call for a runtime."""
        lock = self._locks.get(runtime)
        if lock is None:
            return None
        with lock:
            if runtime not in self._found:
                self._found[runtime] = self._discover(runtime)
            return self._found[runtime]

    def for_runtime(self, runtime: str) -> Interpreter:
        """What runs ``runtime`` here: its own interpreter, else the platform's (``Interpreter.runtime`` then
        differs from ``runtime``)."""
        return self.find(runtime) or self.own

    def available(self) -> list[Interpreter]:
        """The runtimes this machine really runs, each with its interpreter, in the order of ``runtimes``."""
        missing = [runtime for runtime in self.runtimes if runtime not in self._found]
        if len(missing) > 1:
            with ThreadPoolExecutor(len(missing), thread_name_prefix="interpreters") as probing:
                list(probing.map(self.find, missing))
        found = [self.find(runtime) for runtime in self.runtimes]
        return [interpreter for interpreter in found if interpreter is not None]

    def rejected(self, runtime: str) -> tuple[Rejected, ...]:
        """The candidates of ``runtime`` that were tried and failed (after ``find``)."""
        return self._rejected.get(runtime, ())

    def _discover(self, runtime: str) -> Interpreter | None:
        tried: list[Rejected] = []
        minor = minor_of(runtime)
        ordered: list[tuple[str, str]] = []
        if runtime in self._configured:
            ordered.append((self._configured[runtime], "configured"))
        if self.own.runtime == runtime:
            if not ordered:
                return self.own
            ordered.append((self.own.path, "platform"))
        ordered.extend(candidates(runtime, self._environ))
        for path, source in ordered:
            if source == "platform":
                found: Interpreter | None = self.own
            else:
                result = probe(path)
                found = None
                if isinstance(result, Rejected):
                    tried.append(result)
                elif _version_key(result)[:2] != (3, minor):
                    tried.append(Rejected(path, f"is Python {result}"))
                else:
                    found = Interpreter(runtime, result, path, source)
            if source == "configured" and found is None:
                log.warning(
                    "the configured interpreter of %s does not run it (%s); looking for another",
                    runtime,
                    tried[-1].reason,
                    extra={"action": "interpreter_rejected", "runtime": runtime, "path": path},
                )
            if found is not None:
                self._rejected[runtime] = tuple(tried)
                log.info(
                    "%s runs on Python %s (%s)",
                    runtime,
                    found.version,
                    found.path,
                    extra={"action": "interpreter_found", "runtime": runtime, "path": found.path},
                )
                return found
        self._rejected[runtime] = tuple(tried)
        return None
