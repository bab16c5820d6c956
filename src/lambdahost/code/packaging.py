"""What goes into a function package built from a folder, and its deterministic zip (``lambdahost package``).

A package is the folder's files plus, when the folder has a ``requirements.txt``, the dependencies pip installed
for the target runtime (``vendoring``), merged at the zip's root (a file of the folder wins over a dependency's
file of the same name). Left out:

- everywhere (``folder.EXCLUDED_NAMES``): ``__pycache__``, ``*.pyc``/``*.pyo``, ``.git``, ``.venv``/``venv``,
  ``.pytest_cache``, ``.mypy_cache``, ``.ruff_cache``, ``.DS_Store``;
- from the folder: the ``.lambdahostignore`` file itself, and the output zip when it is written inside the folder;
- from the dependencies: folders named ``tests`` or ``test`` inside a package (a top-level package of that name
  stays), and the top-level ``bin/`` (console scripts, whose first line names the packaging machine's interpreter);
- whatever the folder's ``.lambdahostignore`` matches, in both (``IgnoreRules``).

Dist-info metadata (``*.dist-info/``, RECORD included) stays: ``importlib.metadata`` reads it. The zip is
``folder.write_zip``'s: sorted, each folder before its contents, fixed timestamps and modes, so the same inputs
give the same bytes and content hashes compare; a folder without dependencies or ignore rules zips to exactly
what ``zip_folder`` makes of it. Pure logic apart from reading the files; pip lives in ``vendoring``.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lambdahost.code.folder import FolderItem, walk_folder, write_zip
from lambdahost.code.limits import DEFAULT_LIMITS, ZipLimits
from lambdahost.core.errors import InvalidParameterValue

IGNORE_FILE = ".lambdahostignore"
REQUIREMENTS_FILE = "requirements.txt"
DEFAULT_RUNTIME = "python3.11"
VENDORED_TEST_FOLDERS = frozenset({"tests", "test"})
CACHE_FORMAT = "lambdahost-deps-1"  # part of every dependency cache key: bump it when the cached layout changes

# lambdahost's (and AWS's) architecture names -> the machine name in manylinux platform tags
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
MANYLINUX_GLIBC_MINORS = range(17, 29)  # manylinux_2_17 (= manylinux2014) .. manylinux_2_28
_RUNTIME_RE = re.compile(r"python3\.(\d{1,2})")


# -- ignore rules ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IgnorePattern:
    """One line of ``.lambdahostignore``: an ``fnmatch`` pattern (``*``, ``?``, ``[...]``; case-sensitive).

    Without a ``/`` it matches an entry's base name at any depth (``*.csv``, ``docs``); with one (a leading ``/``
    is dropped) it matches the whole path from the zip's root (``data/*.parquet``; ``*`` also matches ``/``). A
    trailing ``/`` matches folders only. A matched folder is left out with everything in it."""

    pattern: str
    anchored: bool
    folders_only: bool

    def matches(self, name: str, is_dir: bool) -> bool:
        if self.folders_only and not is_dir:
            return False
        subject = name if self.anchored else name.rsplit("/", 1)[-1]
        return fnmatch.fnmatchcase(subject, self.pattern)


@dataclass(frozen=True)
class IgnoreRules:
    """The patterns of a ``.lambdahostignore`` file: one per line; blank lines and ``#`` comments skipped."""

    patterns: tuple[IgnorePattern, ...] = ()

    @classmethod
    def parse(cls, text: str, source: str = IGNORE_FILE) -> IgnoreRules:
        patterns = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("!"):
                raise InvalidParameterValue(
                    f"{source} line {number}: {line!r}: negation (!) is not supported; "
                    "write patterns for what to leave out only."
                )
            folders_only = line.endswith("/")
            pattern = line.rstrip("/")
            anchored = "/" in pattern
            pattern = pattern.lstrip("/")
            if not pattern:
                raise InvalidParameterValue(f"{source} line {number}: {line!r} is not a pattern.")
            patterns.append(IgnorePattern(pattern, anchored, folders_only))
        return cls(tuple(patterns))

    @classmethod
    def load(cls, folder: Path) -> IgnoreRules:
        """The folder's ``.lambdahostignore``; no rules when it has none."""
        path = folder / IGNORE_FILE
        if not path.is_file():
            return cls()
        return cls.parse(path.read_text(encoding="utf-8", errors="replace"), str(path))

    def ignores(self, name: str, is_dir: bool) -> bool:
        """Whether the entry ``name`` (its path in the zip, no trailing ``/``) is left out."""
        return any(pattern.matches(name, is_dir) for pattern in self.patterns)


# -- the target runtime ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """What the dependencies are installed for: a ``python3.X`` runtime on ``x86_64`` or ``arm64`` Linux."""

    runtime: str
    arch: str

    @classmethod
    def of(cls, runtime: str = DEFAULT_RUNTIME, arch: str | None = None, machine: str | None = None) -> Target:
        """``arch`` None: this machine's (``machine``, else ``platform.machine()``)."""
        if not _RUNTIME_RE.fullmatch(runtime):
            raise InvalidParameterValue(f"Runtime {runtime!r} is not a Python runtime (python3.X, e.g. python3.11).")
        if arch is None:
            arch = machine_arch(machine)
        if arch not in ARCHITECTURES:
            raise InvalidParameterValue(f"Architecture {arch!r} is not one of {', '.join(ARCHITECTURES)}.")
        return cls(runtime, arch)

    @property
    def python_version(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def abi(self) -> str:
        return "cp" + self.python_version.replace(".", "")

    @property
    def platforms(self) -> tuple[str, ...]:
        """pip's ``--platform`` tags: manylinux2014 (pip adds manylinux2010 and manylinux1) and manylinux_2_17 up
        to manylinux_2_28, each for this architecture (pip takes ``py3-none-any`` wheels whatever the tags)."""
        machine = ARCHITECTURES[self.arch]
        return (f"manylinux2014_{machine}", *(f"manylinux_2_{minor}_{machine}" for minor in MANYLINUX_GLIBC_MINORS))


def machine_arch(machine: str | None = None) -> str:
    """This machine's architecture in lambdahost's names (``x86_64``, ``arm64``)."""
    if machine is None:
        import platform

        machine = platform.machine()
    arch = _MACHINES.get(machine.lower())
    if arch is None:
        raise InvalidParameterValue(
            f"Cannot tell the target architecture from this machine's {machine!r}; pass --arch x86_64 or arm64."
        )
    return arch


# -- requirements and the dependency cache key --------------------------------------------------------------------
def lists_requirements(text: str) -> bool:
    """Whether a requirements file asks pip for anything (not only blank lines, comments and index options)."""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("-") or line.startswith(("-r", "--requirement", "-e", "--editable")):
            return True
    return False


def dependencies_key(requirements: bytes, target: Target) -> str:
    """The dependency cache's key: the requirements file's exact bytes, the runtime and the architecture."""
    digest = hashlib.sha256()
    for part in (CACHE_FORMAT, target.runtime, target.arch):
        digest.update(part.encode() + b"\0")
    digest.update(requirements)
    return digest.hexdigest()


# -- the package --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Package:
    data: bytes
    entries: int  # the zip's entries, folders included
    files: int  # file entries only
    unzipped_size: int
    overridden: tuple[str, ...]  # dependency files replaced by the folder's file of the same name

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def code_sha256(self) -> str:
        """AWS's ``CodeSha256`` (base64 of the digest), as GetFunction reports the stored package's."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


def build_package(folder: Path, dependencies: Path | None = None, leave_out: Iterable[Path] = ()) -> Package:
    """The deterministic zip of ``folder`` merged with the installed ``dependencies`` folder (both filtered as the
    module says); ``leave_out``: paths inside ``folder`` not to include (the output zip)."""
    items, overridden = select_items(folder, dependencies, leave_out)
    data = write_zip(items)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    files = [info for info in infos if not info.is_dir()]
    return Package(data, len(infos), len(files), sum(info.file_size for info in files), overridden)


def select_items(
    folder: Path, dependencies: Path | None = None, leave_out: Iterable[Path] = ()
) -> tuple[list[FolderItem], tuple[str, ...]]:
    """The zip's items in zip order, and the dependency files the folder's own replace."""
    rules = IgnoreRules.load(folder)
    left_out = _names_inside(folder, leave_out)

    def own_skip(name: str, is_dir: bool) -> bool:
        return name == IGNORE_FILE or name in left_out or rules.ignores(name, is_dir)

    def dependency_skip(name: str, is_dir: bool) -> bool:
        if is_dir:
            parts = name.split("/")
            if parts == ["bin"] or (len(parts) > 1 and parts[-1] in VENDORED_TEST_FOLDERS):
                return True
        return rules.ignores(name, is_dir)

    items: dict[str, FolderItem] = {}
    if dependencies is not None:
        items.update((item.name, item) for item in walk_folder(dependencies, dependency_skip))
    overridden = []
    for item in walk_folder(folder, own_skip):
        if not item.is_dir and item.name in items:
            overridden.append(item.name)
        items[item.name] = item
    for name, item in items.items():
        if not item.is_dir and name + "/" in items:
            raise InvalidParameterValue(
                f"{name!r} is a file in one of the folder and its dependencies and a folder in the other."
            )
    ordered = sorted(items.values(), key=lambda item: item.name.rstrip("/").split("/"))
    return ordered, tuple(overridden)


def limit_warnings(package: Package, limits: ZipLimits = DEFAULT_LIMITS) -> list[str]:
    """What AWS's (and a default server's) limits will refuse about this package, in words."""
    warnings = []
    if package.size > limits.max_zip_bytes:
        warnings.append(f"the zip is {package.size} bytes; a server takes at most {limits.max_zip_bytes}")
    if package.unzipped_size > limits.max_unzipped_bytes:
        warnings.append(
            f"the files add up to {package.unzipped_size} bytes; a package unzips to at most "
            f"{limits.max_unzipped_bytes}"
        )
    if package.entries > limits.max_entries:
        warnings.append(f"the zip has {package.entries} entries; a server takes at most {limits.max_entries}")
    return warnings


def _names_inside(folder: Path, paths: Iterable[Path]) -> frozenset[str]:
    root = folder.resolve()
    names = set()
    for path in paths:
        try:
            names.add(path.resolve().relative_to(root).as_posix())
        except ValueError:
            continue  # not inside the folder
    return frozenset(names)
