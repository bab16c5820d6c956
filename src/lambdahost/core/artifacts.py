"""Artifacts: files kept with an invocation (what the function left in its output directory) and input files
handed to a function (a ``file`` parameter), with their limits and name rules. No I/O here.

An output artifact is named by its path relative to the output directory (``report.xlsx``, ``plots/a.svg``); an
input artifact is content-addressed (its SHA-256) and carries the file name the function sees.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import quote

from lambdahost.core.errors import InvalidParameterValue

OUTPUT_DIR_ENV = "LAMBDAHOST_OUTPUT_DIR"
# Per invocation: at most this many files and this many bytes are kept (in the order of their names); the rest is
# dropped with a note in the invocation's log. The invocation itself never fails for it.
MAX_FILES = 100
MAX_BYTES = 50 * 1024 * 1024
MAX_INPUT_BYTES = 50 * 1024 * 1024
DEFAULT_RETENTION_S = 7 * 24 * 3600.0

_SHA256 = re.compile(r"[0-9a-f]{64}")
# Types this platform's users download most, fixed here rather than left to the machine's mime.types.
_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".json": "application/json",
    ".md": "text/markdown",
    ".svg": "image/svg+xml",
    ".html": "text/html",
    ".txt": "text/plain",
    ".jtl": "text/csv",
}


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    """A collected output file: its relative name and bytes."""

    name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Collected:
    """What one invocation's output directory held: the files kept, and a note when some were dropped."""

    files: tuple[ArtifactFile, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """A stored output artifact, without its bytes."""

    invocation_id: str
    name: str
    size: int
    sha256: str
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """An input artifact: its content hash, the file name the function sees and its size."""

    sha256: str
    filename: str
    size: int


def check_filename(filename: str) -> str:
    """An input file's name: one path segment, no NUL, not ``.``/``..``, at most 255 bytes."""
    if (
        not filename
        or "/" in filename
        or "\\" in filename
        or "\0" in filename
        or filename in (".", "..")
        or len(filename.encode()) > 255
    ):
        raise InvalidParameterValue(f"Invalid file name {filename!r}: one path segment of 1 to 255 bytes.")
    return filename


def check_sha256(value: str) -> str:
    if not _SHA256.fullmatch(value):
        raise InvalidParameterValue(f"Invalid SHA-256 {value!r}: 64 lowercase hex digits.")
    return value


def check_artifact_name(name: str) -> str:
    """An output artifact's name as a request gives it: a relative path without ``..`` segments."""
    parts = name.split("/")
    if not name or name.startswith("/") or "\0" in name or any(part in ("", ".", "..") for part in parts):
        raise InvalidParameterValue(f"Invalid artifact name {name!r}.")
    return name


def content_type(name: str) -> str:
    suffix = posixpath.splitext(name)[1].lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def disposition(name: str) -> str:
    """``attachment`` with the base name: ASCII in ``filename``, exact in ``filename*`` (RFC 6266)."""
    base = posixpath.basename(name)
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in base)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(base, safe='')}"
