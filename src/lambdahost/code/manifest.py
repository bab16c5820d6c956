"""Reading a code zip's structure without decompressing it: the central directory plus each local header.

``read_manifest`` rejects everything that can be decided from the headers (see ``limits`` and ``names`` for
the rules). What the headers claim about sizes is then enforced on the real bytes by ``inflate``.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import stat
import struct
import zipfile
from dataclasses import dataclass

from lambdahost.code.limits import DEFAULT_LIMITS, ZipLimits
from lambdahost.code.names import entry_error as _bad
from lambdahost.code.names import parse_entry_name
from lambdahost.core.errors import InvalidParameterValue

NOT_A_ZIP_MESSAGE = "Could not unzip uploaded file. Please check your file, then try to upload again."

_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")  # APPNOTE 4.3.7, 30 bytes
_LOCAL_SIGNATURE = 0x04034B50
_FLAG_ENCRYPTED = 0x0001
_FLAG_STRONG_ENCRYPTION = 0x0040
_FLAG_UTF8 = 0x0800
SUPPORTED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


@dataclass(frozen=True)
class ZipEntry:
    name: str  # as written in the zip, for messages
    parts: tuple[str, ...]  # the safe relative path it unpacks to
    is_dir: bool
    executable: bool
    method: int
    crc: int
    compressed_size: int
    size: int  # uncompressed size, as declared by the central directory
    header_offset: int
    data_offset: int

    @property
    def path(self) -> str:
        return "/".join(self.parts)


@dataclass(frozen=True)
class ZipManifest:
    sha256_hex: str
    size: int
    unzipped_size: int  # declared; ``inflate`` holds the real bytes to it
    entries: tuple[ZipEntry, ...]


def read_manifest(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> ZipManifest:
    """Check everything the headers can tell; ``InvalidParameterValue`` naming the problem otherwise."""
    if not data:
        raise InvalidParameterValue("The zip file is empty (0 bytes).")
    if len(data) > limits.max_zip_bytes:
        raise InvalidParameterValue(
            f"The zip file is {len(data)} bytes; a code package must be at most {limits.max_zip_bytes} bytes."
        )
    infos = _central_directory(data)
    if not infos:
        raise InvalidParameterValue("The zip file contains no entries.")
    if len(infos) > limits.max_entries:
        raise InvalidParameterValue(
            f"The zip file has {len(infos)} entries; a code package may have at most {limits.max_entries}."
        )
    unzipped = sum(info.file_size for info in infos)
    if unzipped > limits.max_unzipped_bytes:
        raise InvalidParameterValue(limits.unzipped_too_large_message())
    entries = tuple(_entry(data, info, limits) for info in infos)
    _check_tree(entries)
    _check_overlaps(entries)
    if unzipped > limits.ratio_floor_bytes and unzipped > limits.max_total_ratio * len(data):
        raise InvalidParameterValue(
            f"The zip file unpacks to {unzipped} bytes from {len(data)} ({unzipped // len(data)}:1); "
            f"at most {limits.max_total_ratio}:1 is allowed (zip bomb?)."
        )
    return ZipManifest(
        sha256_hex=hashlib.sha256(data).hexdigest(), size=len(data), unzipped_size=unzipped, entries=entries
    )


def _central_directory(data: bytes) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, struct.error, EOFError, OSError) as exc:
        raise InvalidParameterValue(NOT_A_ZIP_MESSAGE) from exc


def _entry(data: bytes, info: zipfile.ZipInfo, limits: ZipLimits) -> ZipEntry:
    name = info.orig_filename
    path = parse_entry_name(name)
    if info.flag_bits & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION):
        raise _bad(name, "is encrypted; encrypted zip files are not supported")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        raise _bad(name, "is a symbolic link; code packages may only hold files and folders")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _bad(name, f"is a special file (mode {mode:#o}); code packages may only hold files and folders")
    is_dir = path.is_dir or kind == stat.S_IFDIR
    if is_dir and info.file_size:
        raise _bad(name, f"is a folder but holds {info.file_size} bytes; the zip is corrupt")
    if info.compress_type not in SUPPORTED_METHODS:
        raise _bad(
            name,
            f"uses compression method {info.compress_type}; only stored (0) and deflate (8) are supported",
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise _bad(
            name,
            f"is stored uncompressed but declares {info.compress_size} bytes stored and "
            f"{info.file_size} unpacked; the zip is corrupt",
        )
    if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_entry_ratio * info.compress_size:
        ratio = info.file_size // max(info.compress_size, 1)
        raise _bad(
            name,
            f"unpacks to {info.file_size} bytes from {info.compress_size} ({ratio}:1); entries "
            f"over {limits.ratio_floor_bytes} bytes may be compressed at most "
            f"{limits.max_entry_ratio}:1 (zip bomb?)",
        )
    return ZipEntry(
        name=name,
        parts=path.parts,
        is_dir=is_dir,
        executable=not is_dir and bool(mode & 0o111),
        method=info.compress_type,
        crc=info.CRC,
        compressed_size=info.compress_size,
        size=info.file_size,
        header_offset=info.header_offset,
        data_offset=_data_offset(data, info),
    )


def _data_offset(data: bytes, info: zipfile.ZipInfo) -> int:
    """Where the entry's compressed bytes start, after checking its local header agrees with the directory."""
    name = info.orig_filename
    start = info.header_offset
    if start < 0 or start + _LOCAL_HEADER.size > len(data):
        raise _bad(name, "points outside the file; the zip is corrupt")
    fields = _LOCAL_HEADER.unpack_from(data, start)
    if fields[0] != _LOCAL_SIGNATURE:
        raise _bad(name, "has no local header where the central directory says; the zip is corrupt")
    name_len: int = fields[9]
    extra_len: int = fields[10]
    name_start = start + _LOCAL_HEADER.size
    local_name = data[name_start : name_start + name_len]
    expected = name.encode("utf-8" if info.flag_bits & _FLAG_UTF8 else "cp437")
    if local_name != expected:
        shown = local_name.decode("utf-8", "replace")
        raise _bad(name, f"is named {shown!r} in its local header; the zip is corrupt or crafted")
    offset = name_start + name_len + extra_len
    if offset + info.compress_size > len(data):
        raise _bad(name, "runs past the end of the file; the zip is corrupt")
    return offset


def _check_tree(entries: tuple[ZipEntry, ...]) -> None:
    """No two entries unpack to the same path, and no file sits where a folder is needed."""
    seen: dict[tuple[str, ...], ZipEntry] = {}
    for entry in entries:
        first = seen.setdefault(entry.parts, entry)
        if first is not entry:
            if first.name == entry.name:
                raise _bad(entry.name, "appears more than once")
            raise _bad(entry.name, f"is a duplicate of {first.name!r}: both unpack to {entry.path!r}")
    for entry in entries:
        for depth in range(1, len(entry.parts)):
            parent = seen.get(entry.parts[:depth])
            if parent is not None and not parent.is_dir:
                raise _bad(
                    entry.name,
                    f"needs {parent.path!r} to be a folder, but zip entry {parent.name!r} is a file",
                )


def _check_overlaps(entries: tuple[ZipEntry, ...]) -> None:
    """Entries whose bytes overlap are the "non-recursive" zip bomb: many entries inflating one stream."""
    spans = sorted(entries, key=lambda entry: entry.header_offset)
    for before, after in itertools.pairwise(spans):
        if after.header_offset < before.data_offset + before.compressed_size:
            raise InvalidParameterValue(
                f"Zip entries {before.name!r} and {after.name!r} overlap in the file; overlapping entries "
                "are a zip-bomb technique and are not allowed."
            )
