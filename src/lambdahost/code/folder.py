"""Packaging a folder as a code zip, byte for byte the same every time for the same files.

``zip_folder`` walks in sorted order, stamps every entry 1980-01-01 00:00:00, writes Unix modes ``0o755``
for folders and for files with any executable bit and ``0o644`` for the rest, and leaves out ``__pycache__``,
``*.pyc``/``*.pyo``, ``.git``, ``.venv``/``venv``, ``.pytest_cache``, ``.mypy_cache``, ``.ruff_cache`` and
``.DS_Store``. So the same folder always hashes to the same sha256 (with the same zlib: deflate output may differ
between zlib versions). Symlinks are followed when they point inside the folder and refused when they point
outside it, dangle, or loop. ``walk_folder`` (with an extra ``skip`` rule) and ``write_zip`` are the parts
``packaging`` builds ``lambdahost package`` on.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lambdahost.core.errors import InvalidParameterValue

EXCLUDED_NAMES = frozenset(
    {"__pycache__", ".git", ".venv", "venv", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".DS_Store"}
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_UNIX = 3
_MSDOS_DIRECTORY = 0x10


Skip = Callable[[str, bool], bool]  # (entry name without a trailing "/", is a folder) -> leave it out


@dataclass(frozen=True)
class FolderItem:
    name: str  # the entry's name in the zip
    source: Path  # the real (symlink-resolved) path
    is_dir: bool
    executable: bool


def zip_folder(path: Path) -> bytes:
    """A deterministic zip of the folder's contents (the folder itself is not an entry)."""
    return write_zip(walk_folder(path))


def walk_folder(path: Path, skip: Skip | None = None) -> Iterator[FolderItem]:
    """The folder's items in zip order (sorted, each folder before its contents), without the default exclusions
    and without what ``skip`` leaves out (a folder left out is not entered)."""
    if not path.is_dir():
        raise InvalidParameterValue(f"{str(path)!r} is not a folder.")
    root = path.resolve()
    return _walk(root, root, "", frozenset({root}), skip)


def write_zip(items: Iterable[FolderItem]) -> bytes:
    """The deterministic zip of ``items``, in the order given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in items:
            _write(archive, item)
    return buffer.getvalue()


def read_code_arg(path: Path) -> bytes:
    """The code zip a user pointed at: a ``.zip`` file as is, or a folder zipped by ``zip_folder``."""
    if path.is_dir():
        return zip_folder(path)
    if path.is_file():
        if path.suffix.lower() == ".zip":
            return path.read_bytes()
        raise InvalidParameterValue(f"{str(path)!r} is neither a .zip file nor a folder.")
    if not path.exists():
        raise InvalidParameterValue(f"{str(path)!r} does not exist; pass a .zip file or a folder.")
    raise InvalidParameterValue(f"{str(path)!r} is neither a .zip file nor a folder.")


def _walk(root: Path, folder: Path, prefix: str, active: frozenset[Path], skip: Skip | None) -> Iterator[FolderItem]:
    """Items under ``folder`` (real path); ``active`` holds the real folders being walked, to catch loops."""
    with os.scandir(folder) as scan:
        children = sorted(scan, key=lambda child: child.name)
    for child in children:
        if child.name in EXCLUDED_NAMES or child.name.endswith(EXCLUDED_SUFFIXES):
            continue
        name = prefix + child.name
        if skip is not None and skip(name, child.is_dir()):
            continue
        source = _resolve(root, Path(child.path), name)
        mode = source.stat().st_mode
        if stat.S_ISDIR(mode):
            if source in active:
                raise InvalidParameterValue(f"Symlink {name!r} in the code folder loops back to {str(source)!r}.")
            yield FolderItem(name=name + "/", source=source, is_dir=True, executable=False)
            yield from _walk(root, source, name + "/", active | {source}, skip)
        elif stat.S_ISREG(mode):
            yield FolderItem(name=name, source=source, is_dir=False, executable=bool(mode & 0o111))
        else:
            raise InvalidParameterValue(f"{name!r} in the code folder is neither a file nor a folder.")


def _resolve(root: Path, path: Path, name: str) -> Path:
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target != root and root not in target.parents:
        raise InvalidParameterValue(
            f"Symlink {name!r} in the code folder points outside it (to {str(target)!r}); copy the file in instead."
        )
    if not target.exists():
        raise InvalidParameterValue(f"Symlink {name!r} in the code folder points to nothing ({str(target)!r}).")
    return target


def _write(archive: zipfile.ZipFile, item: FolderItem) -> None:
    info = zipfile.ZipInfo(item.name, date_time=FIXED_DATE_TIME)
    info.create_system = _UNIX
    if item.is_dir:
        info.external_attr = ((stat.S_IFDIR | 0o755) << 16) | _MSDOS_DIRECTORY
        archive.writestr(info, b"")
        return
    info.external_attr = (stat.S_IFREG | (0o755 if item.executable else 0o644)) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size = item.source.stat().st_size
    with item.source.open("rb") as source, archive.open(info, "w") as target:
        shutil.copyfileobj(source, target)
