"""Crafting code zips, honest and hostile, for tests in any layer (e.g. an API test that a zip-slip upload
gets a 400). ``patch_entry`` rewrites header fields in place, which is how lying headers are made."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from collections.abc import Iterable, Mapping

_EOCD_SIGNATURE = b"PK\x05\x06"
# field: (offset in the central directory header, offset in the local header or None, struct format)
_FIELDS = {
    "flags": (8, 6, "<H"),
    "method": (10, 8, "<H"),
    "crc": (16, 14, "<I"),
    "compress_size": (20, 18, "<I"),
    "file_size": (24, 22, "<I"),
    "external_attr": (38, None, "<I"),
    "header_offset": (42, None, "<I"),
}

Entries = Mapping[str, bytes] | Iterable[tuple[str | zipfile.ZipInfo, bytes]]


def make_zip(entries: Entries, *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``entries`` (name or ``ZipInfo`` -> bytes), in the order given."""
    items = entries.items() if isinstance(entries, Mapping) else entries
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, content in items:
            archive.writestr(name, content)
    return buffer.getvalue()


def unix_entry(name: str, mode: int, *, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """A ``ZipInfo`` carrying a Unix mode (``stat.S_IFLNK | 0o777`` for a symlink, ``0o755`` for an exe)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = ((mode if stat.S_IFMT(mode) else stat.S_IFREG | mode) & 0xFFFF) << 16
    info.compress_type = method
    return info


def central_headers(data: bytes) -> list[int]:
    """Offsets of the central directory headers, in directory order."""
    end = data.rfind(_EOCD_SIGNATURE)
    count, _, position = struct.unpack_from("<HII", data, end + 10)
    offsets = []
    for _ in range(count):
        offsets.append(position)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        position += 46 + name_len + extra_len + comment_len
    return offsets


def patch_entry(data: bytes, index: int, *, local: bool = True, **fields: int) -> bytes:
    """``data`` with entry ``index``'s header fields (see ``_FIELDS``) overwritten, in the central directory
    and, when ``local``, in the local header too."""
    out = bytearray(data)
    central = central_headers(data)[index]
    (local_header,) = struct.unpack_from("<I", data, central + 42)
    for field, value in fields.items():
        central_at, local_at, fmt = _FIELDS[field]
        struct.pack_into(fmt, out, central + central_at, value)
        if local and local_at is not None:
            struct.pack_into(fmt, out, local_header + local_at, value)
    return bytes(out)


def rename_entries(data: bytes, old: str, new: str) -> bytes:
    """Every occurrence of the name ``old`` (local and central) replaced by ``new`` of the same length."""
    if len(old.encode()) != len(new.encode()):
        raise ValueError("names must have the same length in bytes")
    return data.replace(old.encode(), new.encode())
