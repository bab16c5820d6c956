"""A folder's files uploaded one by one (the web UI's drop zone: every file named by its path inside the dropped
folder) written back into a folder on disk, so it is packaged exactly as ``lambdahost package`` packages a folder.

Paths are checked like zip entry names (``names.parse_entry_name``: no ``..``, nothing absolute, no drive
letters, no NUL). When every path starts with the same folder (the one the user dropped), that folder is the
package's root, as ``lambdahost package DIR`` zips DIR's contents. Two files of the same path, or a path that is
both a file and a folder, are refused. Nothing is written outside ``into``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lambdahost.code.limits import DEFAULT_LIMITS, ZipLimits
from lambdahost.code.names import parse_entry_name
from lambdahost.core.errors import InvalidParameterValue


def relative_paths(names: Sequence[str]) -> list[tuple[str, ...]]:
    """Each uploaded name as the path of its file inside the package (the dropped folder's own name removed)."""
    paths = []
    for name in names:
        try:
            entry = parse_entry_name(name)
        except InvalidParameterValue as exc:
            raise InvalidParameterValue(f"The uploaded file {name!r} has an unsafe path: {exc.message}") from None
        if entry.is_dir:
            raise InvalidParameterValue(f"The uploaded file {name!r} is named like a folder.")
        paths.append(entry.parts)
    if paths and all(len(parts) > 1 for parts in paths) and len({parts[0] for parts in paths}) == 1:
        paths = [parts[1:] for parts in paths]
    files: set[tuple[str, ...]] = set()
    for parts in paths:
        if parts in files:
            raise InvalidParameterValue(f"The file {'/'.join(parts)!r} was uploaded twice.")
        files.add(parts)
    for parts in paths:
        for depth in range(1, len(parts)):
            if parts[:depth] in files:
                raise InvalidParameterValue(f"{'/'.join(parts[:depth])!r} is uploaded as a file and used as a folder.")
    return paths


def write_uploaded_folder(files: Sequence[tuple[str, bytes]], into: Path, limits: ZipLimits = DEFAULT_LIMITS) -> int:
    """Write ``(name, data)`` pairs under ``into`` (an empty folder); the number of files written."""
    if not files:
        raise InvalidParameterValue("The folder has no files.")
    if len(files) > limits.max_entries:
        raise InvalidParameterValue(f"A package has at most {limits.max_entries} files, not {len(files)}.")
    total = sum(len(data) for _name, data in files)
    if total > limits.max_unzipped_bytes:
        raise InvalidParameterValue(limits.unzipped_too_large_message())
    paths = relative_paths([name for name, _data in files])
    for parts, (_name, data) in zip(paths, files, strict=True):
        target = into.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return len(files)
