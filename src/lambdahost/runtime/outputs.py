"""Collect what an invocation left in its environment's output directory (``LAMBDAHOST_OUTPUT_DIR``) and empty it.

Runs in the platform's process right after each invocation (``Environment._outcome``), before the environment can
take the next one, so a warm environment's next invocation starts with an empty directory. An invocation that
wrote nothing costs one ``stat`` of the directory (``OutputDir.collect``): after each look the platform sets the
directory's modification time to a mark (the epoch), and since the directory starts every invocation empty, a file
written anywhere in it adds an entry, which sets that time to the present. Only a directory whose time is no longer
the mark is listed (``os.scandir``) and emptied. Regular files are kept in the order
of their relative names, up to ``MAX_FILES`` files and ``MAX_BYTES`` bytes; symbolic links, devices and what does
not fit are dropped and described in the returned note (the log gets it; the invocation never fails for it).
"""

from __future__ import annotations

import os
import shutil
import stat

from lambdahost.core.artifacts import MAX_BYTES, MAX_FILES, ArtifactFile, Collected

OUTPUT_SUBDIR = "output"


def output_dir(env_dir: str) -> str:
    """An environment's output directory: inside its temp directory, the one place the sandbox lets it write."""
    return os.path.join(env_dir, OUTPUT_SUBDIR)


MARK_NS = 0  # the modification time a looked-at directory is given: no file created since has it


class OutputDir:
    """An environment's output directory (see the module's docstring)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def collect(self, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> Collected | None:
        """``collect`` of the directory, skipped while its modification time is still the mark."""
        try:
            if os.stat(self.path).st_mtime_ns == MARK_NS:
                return None  # no entry added or removed since the last look
        except OSError:
            pass
        found = collect(self.path, max_files, max_bytes)
        try:
            os.utime(self.path, ns=(MARK_NS, MARK_NS))
        except OSError:  # it stays unmarked: the next look lists it again
            pass
        return found


def collect(directory: str, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> Collected | None:
    """The files in ``directory`` (None when it is empty), which is left empty."""
    try:
        with os.scandir(directory) as entries:
            if next(entries, None) is None:
                return None
    except FileNotFoundError:  # the function removed it: back for the next invocation
        os.makedirs(directory, exist_ok=True)
        return None
    except OSError:
        return None
    try:
        return _read(directory, max_files, max_bytes)
    finally:
        _empty(directory)


def _read(directory: str, max_files: int, max_bytes: int) -> Collected:
    found: list[tuple[str, str, int]] = []  # (relative name, path, size)
    skipped: list[str] = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        for name in names:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, directory).replace(os.sep, "/")
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                found.append((relative, path, info.st_size))
            else:
                skipped.append(relative)
    found.sort(key=lambda item: item[0].encode())
    kept: list[ArtifactFile] = []
    total = 0
    dropped = 0
    for relative, path, size in found:
        if len(kept) >= max_files or total + size > max_bytes:
            dropped += 1
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            skipped.append(relative)
            continue
        with os.fdopen(fd, "rb") as handle:
            content = handle.read(max_bytes - total + 1)
        if total + len(content) > max_bytes:  # grew since it was listed
            dropped += 1
            continue
        total += len(content)
        kept.append(ArtifactFile(relative, content))
    notes = []
    if dropped:
        notes.append(
            f"kept {len(kept)} of {len(kept) + dropped} output files ({total} bytes); the limits are "
            f"{max_files} files and {max_bytes} bytes per invocation"
        )
    if skipped:
        notes.append(f"not regular files, not kept: {', '.join(sorted(skipped)[:10])}")
    return Collected(tuple(kept), "; ".join(notes) or None)


def _empty(directory: str) -> None:
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    try:
                        os.unlink(entry.path)
                    except OSError:
                        pass
    except OSError:
        pass
