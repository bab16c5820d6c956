"""An environment's log file: the append-mode memfd its stdout and stderr write to (the child's output, C extensions
and subprocesses included), read by the platform from where it last stopped.

``read_new`` takes what was written since the last read (one ``pread`` when that is little or nothing, the common
case); ``peek`` reads it without taking it (the web UI's live log, from another thread); ``rotate`` empties the file
between invocations once it has grown past ``ROTATE_BYTES``, so a long-lived environment's memfd stays small."""

from __future__ import annotations

import os

ROTATE_BYTES = 4 * 1024 * 1024
_CHUNK = 65536


class LogFile:
    __slots__ = ("fd", "limit", "offset")

    def __init__(self, fd: int, limit: int) -> None:
        self.fd = fd
        self.limit = limit  # the most of one invocation's log that is kept (the rest is cut, as AWS does)
        self.offset = 0

    def read_new(self) -> bytes:
        """What was written since the last read."""
        try:
            data = os.pread(self.fd, _CHUNK, self.offset)
            if len(data) == _CHUNK:
                size = os.fstat(self.fd).st_size
                data += os.pread(self.fd, max(0, size - self.offset - len(data)), self.offset + _CHUNK)
        except OSError:
            return b""
        self.offset += len(data)
        return data

    def peek(self, limit: int) -> bytes | None:
        """Up to ``limit`` bytes written since the last read, left in place; None when the file cannot be read."""
        try:
            return os.pread(self.fd, limit, self.offset)
        except OSError:
            return None

    def rotate(self) -> None:
        """Empty the file once it has grown past ``ROTATE_BYTES`` (only between invocations: all of it was read)."""
        if self.offset > ROTATE_BYTES:
            try:
                os.ftruncate(self.fd, 0)
                self.offset = 0
            except OSError:
                pass

    def close(self) -> None:
        os.close(self.fd)
