"""Writing a checked zip's entries into a fresh directory, read-only, verifying the real bytes as they land.

Files end up ``0o444``, or ``0o555`` when the zip gave them any executable bit (a custom runtime's
``bootstrap`` must stay executable); folders end up ``0o555``. Nothing here creates a symlink or follows one:
names were made safe by ``names``, files are opened with ``O_EXCL | O_NOFOLLOW``, and the target is a
directory nobody else writes to. On a rejection the caller removes the directory (``remove_tree``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lambdahost.code.inflate import UnzippedBudget, iter_entry_bytes
from lambdahost.code.limits import ZipLimits
from lambdahost.code.manifest import ZipManifest

FILE_MODE = 0o444
EXEC_MODE = 0o555
DIR_MODE = 0o555
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def unpack(data: bytes, manifest: ZipManifest, into: Path, limits: ZipLimits) -> None:
    """Unpack every entry under ``into`` (an existing, empty directory), then make the tree read-only."""
    budget = UnzippedBudget(limits)
    folders: set[Path] = {into}
    for entry in manifest.entries:
        target = into.joinpath(*entry.parts)
        if entry.is_dir:
            _make_folders(target, folders)
            continue
        _make_folders(target.parent, folders)
        with open(os.open(target, _OPEN_FLAGS, 0o600), "wb") as out:
            for chunk in iter_entry_bytes(data, entry, budget):
                out.write(chunk)
            os.fchmod(out.fileno(), EXEC_MODE if entry.executable else FILE_MODE)
    for folder in sorted(folders, key=lambda path: len(path.parts), reverse=True):
        os.chmod(folder, DIR_MODE)


def remove_tree(path: Path) -> None:
    """Delete a tree this module made read-only (folders need their write bit back first)."""
    if not path.exists():
        return
    for folder, _, _ in os.walk(path):
        os.chmod(folder, 0o755)
    shutil.rmtree(path)


def _make_folders(folder: Path, made: set[Path]) -> None:
    missing: list[Path] = []
    while folder not in made:
        if folder == folder.parent:
            raise ValueError(f"{folder} is not under the unpack directory")
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o755)
        made.add(path)
