"""Framing of the parent <-> environment channel (a Unix stream socket pair).

A frame is ``!II`` (header length, body length), a compact JSON header, then the body bytes. One ``sendall`` per
frame. Used on both sides, so it imports nothing from the platform.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

_PREFIX = struct.Struct("!II")
PREFIX_SIZE = _PREFIX.size


class ChannelClosed(EOFError):
    """The other side closed the channel (or died)."""


def encode(header: dict[str, Any], body: bytes = b"") -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    return _PREFIX.pack(len(head), len(body)) + head + body


def send(sock: socket.socket, header: dict[str, Any], body: bytes = b"") -> None:
    sock.sendall(encode(header, body))


class FrameReader:
    """Incremental decoder for non-blocking reads (the asyncio path): feed bytes, take whole frames."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes | memoryview) -> tuple[dict[str, Any], bytes] | None:
        """Add bytes; return the first whole frame if there is one (call ``feed(b"")`` again for more)."""
        if data:
            self._buf += data
        if len(self._buf) < PREFIX_SIZE:
            return None
        hlen, blen = _PREFIX.unpack_from(self._buf)
        total = PREFIX_SIZE + hlen + blen
        if len(self._buf) < total:
            return None
        header = json.loads(self._buf[PREFIX_SIZE : PREFIX_SIZE + hlen])
        body = bytes(self._buf[PREFIX_SIZE + hlen : total])
        del self._buf[:total]
        return header, body

    def pending(self) -> int:
        return len(self._buf)


class Channel:
    """A blocking, buffered frame channel over a connected stream socket."""

    __slots__ = ("_chunk", "_reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._reader = FrameReader()
        self._chunk = bytearray(65536)  # reused: no large allocation (and page faults) per read

    def send(self, header: dict[str, Any], body: bytes = b"") -> None:
        self.sock.sendall(encode(header, body))

    def recv(self) -> tuple[dict[str, Any], bytes]:
        frame = self._reader.feed(b"")
        while frame is None:
            n = self.sock.recv_into(self._chunk)
            if not n:
                raise ChannelClosed("channel closed")
            frame = self._reader.feed(memoryview(self._chunk)[:n])
        return frame

    def close(self) -> None:
        self.sock.close()
