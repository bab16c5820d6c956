"""Decompressing one entry in bounded chunks while holding it to what its headers promised.

Headers can lie, so every entry is checked on its real bytes: it may not produce one byte more than its
declared size (a bomb that under-declares is stopped after at most one chunk past that size), must produce
exactly that size, and must match its CRC-32. ``UnzippedBudget`` also counts the real bytes of the whole
zip against the unzipped limit. Memory stays at a few chunks whatever the entry claims.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator

from lambdahost.code.limits import ZipLimits
from lambdahost.code.manifest import ZipEntry
from lambdahost.code.names import entry_error
from lambdahost.core.errors import InvalidParameterValue

IN_CHUNK = 64 * 1024
OUT_CHUNK = 256 * 1024


class UnzippedBudget:
    """The real bytes unpacked so far across a whole zip, against ``limits.max_unzipped_bytes``."""

    def __init__(self, limits: ZipLimits) -> None:
        self.limits = limits
        self.used = 0

    def take(self, count: int) -> None:
        self.used += count
        if self.used > self.limits.max_unzipped_bytes:
            raise InvalidParameterValue(self.limits.unzipped_too_large_message())


def iter_entry_bytes(data: bytes, entry: ZipEntry, budget: UnzippedBudget) -> Iterator[bytes]:
    """Yield ``entry``'s uncompressed bytes; ``InvalidParameterValue`` the moment they break a promise."""
    raw = memoryview(data)[entry.data_offset : entry.data_offset + entry.compressed_size]
    chunks = _stored(raw) if entry.method == zipfile.ZIP_STORED else _inflated(raw, entry)
    produced = 0
    crc = 0
    for chunk in chunks:
        produced += len(chunk)
        if produced > entry.size:
            raise entry_error(
                entry.name,
                f"unpacks to more than the {entry.size} bytes its header declares; the zip is corrupt or a zip bomb",
            )
        budget.take(len(chunk))
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if produced != entry.size:
        raise entry_error(
            entry.name,
            f"unpacks to {produced} bytes but its header declares {entry.size}; the zip is corrupt",
        )
    if crc != entry.crc:
        raise entry_error(entry.name, "fails its CRC-32 check; the zip is corrupt")


def drain(data: bytes, entry: ZipEntry, budget: UnzippedBudget) -> None:
    """Check an entry's real bytes without keeping them."""
    for _ in iter_entry_bytes(data, entry, budget):
        pass


def _stored(raw: memoryview) -> Iterator[bytes]:
    for start in range(0, len(raw), OUT_CHUNK):
        yield bytes(raw[start : start + OUT_CHUNK])


def _inflated(raw: memoryview, entry: ZipEntry) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    position = 0
    try:
        while not inflater.eof:
            if inflater.unconsumed_tail:
                feed = inflater.unconsumed_tail
            else:
                feed = bytes(raw[position : position + IN_CHUNK])
                position += len(feed)
            out = inflater.decompress(feed, OUT_CHUNK)
            if out:
                yield out
            elif not feed:
                break  # no input left and nothing more comes out: the stream is cut short
    except zlib.error as exc:
        raise entry_error(entry.name, f"has corrupt compressed data ({exc}); the zip is corrupt") from exc
    if not inflater.eof:
        raise entry_error(entry.name, "has truncated compressed data; the zip is corrupt")
