"""Entry names inside a code zip: turned into safe relative paths, or rejected (zip slip).

Backslashes count as separators, as Windows tools write them (old PowerShell ``Compress-Archive`` did), so
``lib\\util.py`` unpacks to ``lib/util.py`` instead of a file whose name holds a backslash. ``.`` and empty
components are dropped. Rejected: NUL characters, absolute paths (``/x``, ``\\x``, ``//server``), drive
letters (``C:x``), ``..`` components anywhere, and components longer than a filesystem allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambdahost.core.errors import InvalidParameterValue

_SEPARATORS = re.compile(r"[/\\]")
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 4000


@dataclass(frozen=True)
class EntryPath:
    parts: tuple[str, ...]
    is_dir: bool

    @property
    def text(self) -> str:
        return "/".join(self.parts)


def parse_entry_name(name: str) -> EntryPath:
    """The relative path ``name`` unpacks to; ``InvalidParameterValue`` naming the entry when it is unsafe."""
    if "\x00" in name:
        raise entry_error(name, "contains a NUL character")
    if name[:1] in ("/", "\\"):
        raise entry_error(name, "is an absolute path; entries must be relative to the root of the zip")
    if _DRIVE.match(name):
        raise entry_error(name, "starts with a drive letter; entries must be relative to the root of the zip")
    parts = tuple(part for part in _SEPARATORS.split(name) if part not in ("", "."))
    if ".." in parts:
        raise entry_error(name, "contains a '..' component and would unpack outside the code directory (zip slip)")
    if not parts:
        raise entry_error(name, "has an empty name")
    if any(len(part.encode()) > MAX_COMPONENT_BYTES for part in parts):
        raise entry_error(name, f"has a path component longer than {MAX_COMPONENT_BYTES} bytes")
    if len(name.encode()) > MAX_PATH_BYTES:
        raise entry_error(name, f"has a name longer than {MAX_PATH_BYTES} bytes")
    return EntryPath(parts=parts, is_dir=name[-1] in ("/", "\\"))


def entry_error(name: str, problem: str) -> InvalidParameterValue:
    """``Zip entry 'name' <problem>.``: every per-entry rejection reads the same way."""
    return InvalidParameterValue(f"Zip entry {name!r} {problem}.")
