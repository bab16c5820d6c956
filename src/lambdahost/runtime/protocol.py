"""Framing of the parent <-> environment channel (a Unix stream socket pair).

Two kinds of frames share the channel:

* Control frames (spawn requests, init reports, exit reports, the snapshot fork protocol): ``!II`` (header
  length, body length), a compact JSON header, then the body bytes.
* Invocation frames, the hot path, in a fixed binary layout so neither side parses JSON to route them:

  - invoke (parent -> child): ``!IqHHI`` = length of the rest, deadline (epoch ms), request id length, invoked
    ARN length, metadata length; then the request id, the ARN, the metadata (JSON of ``{"cc": client context,
    "ci": cognito identity}``, empty when there is neither) and the event payload.
  - reply (child -> parent): ``!IBdQH`` = length of the rest, status (``REPLY_OK``, ``REPLY_ERROR``, or
    ``REPLY_BAD_EVENT`` when the payload was not JSON and the handler did not run), duration in ms, peak resident
    memory in KB, error type length; then the error type and the result (or error) JSON (or, for a bad event,
    the JSON parser's message).

One ``sendall`` per frame. Used on both sides, so it imports nothing from the platform.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import time
from typing import Any

_PREFIX = struct.Struct("!II")
PREFIX_SIZE = _PREFIX.size

INVOKE_HEAD = struct.Struct("!IqHHI")
REPLY_HEAD = struct.Struct("!IBdQH")
_LENGTH = struct.Struct("!I")
REPLY_OK = 0
REPLY_ERROR = 1
REPLY_BAD_EVENT = 2


class ChannelClosed(EOFError):
    """The other side closed the channel (or died)."""


def encode(header: dict[str, Any], body: bytes = b"") -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    return _PREFIX.pack(len(head), len(body)) + head + body


def send(sock: socket.socket, header: dict[str, Any], body: bytes = b"") -> None:
    sock.sendall(encode(header, body))


# -- invocation frames ---------------------------------------------------------------------------------------------
def encode_invoke(request_id: bytes, deadline_ms: int, arn: bytes, meta: bytes, payload: bytes) -> bytes:
    rest = INVOKE_HEAD.size - 4 + len(request_id) + len(arn) + len(meta) + len(payload)
    head = INVOKE_HEAD.pack(rest, deadline_ms, len(request_id), len(arn), len(meta))
    return b"".join((head, request_id, arn, meta, payload))


def decode_invoke(frame: bytes | bytearray | memoryview) -> tuple[str, int, str, bytes, bytes]:
    """A whole invoke frame (length prefix included) -> (request id, deadline ms, ARN, metadata, payload)."""
    _rest, deadline_ms, id_len, arn_len, meta_len = INVOKE_HEAD.unpack_from(frame)
    view = memoryview(frame)
    at = INVOKE_HEAD.size
    request_id = str(view[at : at + id_len], "ascii")
    at += id_len
    arn = str(view[at : at + arn_len], "utf-8")
    at += arn_len
    meta = bytes(view[at : at + meta_len])
    return request_id, deadline_ms, arn, meta, bytes(view[at + meta_len :])


def encode_reply(status: int, duration_ms: float, max_rss_kb: int, error_type: str | None, body: bytes) -> bytes:
    kind = b"" if error_type is None else error_type.encode()
    rest = REPLY_HEAD.size - 4 + len(kind) + len(body)
    return b"".join((REPLY_HEAD.pack(rest, status, duration_ms, max_rss_kb, len(kind)), kind, body))


def decode_reply(frame: bytes | bytearray | memoryview) -> tuple[int, float, int, str | None, bytes]:
    """A whole reply frame -> (status, duration ms, peak memory KB, error type, body)."""
    _rest, status, duration_ms, max_rss_kb, kind_len = REPLY_HEAD.unpack_from(frame)
    at = REPLY_HEAD.size
    if kind_len:
        return status, duration_ms, max_rss_kb, bytes(frame[at : at + kind_len]).decode(), bytes(frame[at + kind_len :])
    return status, duration_ms, max_rss_kb, None, bytes(frame[at:])


def frame_length(buf: bytes | bytearray | memoryview) -> int:
    """Total size of the length-prefixed frame at the start of ``buf`` (which holds at least 4 bytes)."""
    return int(_LENGTH.unpack_from(buf)[0]) + 4


def spin_recv(sock: socket.socket, buf: bytearray, spin_s: float) -> int:
    """Poll ``sock`` with non-blocking reads for up to ``spin_s`` seconds; the number of bytes read into ``buf``
    (0: nothing arrived in time). A caller that expects an answer within microseconds saves the sleep and wake-up
    of a blocking read (on a virtual machine, a cross-CPU wake-up costs tens of microseconds)."""
    deadline = time.perf_counter() + spin_s
    recv_into = sock.recv_into
    clock = time.perf_counter
    yield_cpu = os.sched_yield  # the other side may be waiting for this very CPU
    while True:
        try:
            n = recv_into(buf, 0, socket.MSG_DONTWAIT)
        except BlockingIOError:
            if clock() >= deadline:
                return 0
            yield_cpu()
            continue
        if not n:
            raise ChannelClosed("channel closed")
        return n


def recv_frame(sock: socket.socket, chunk: bytearray, spin_s: float = 0.0) -> bytes | bytearray | memoryview:
    """Read one length-prefixed frame from a blocking socket; ``chunk`` is a reusable receive buffer. Small frames
    (the common case) cost one ``recv_into``; large ones are read straight into a buffer of their size. With
    ``spin_s``, poll that long before blocking (see ``spin_recv``)."""
    have = spin_recv(sock, chunk, spin_s) if spin_s > 0 else 0
    if not have:
        have = sock.recv_into(chunk)
        if not have:
            raise ChannelClosed("channel closed")
    while have < 4:
        n = sock.recv_into(memoryview(chunk)[have:])
        if not n:
            raise ChannelClosed("channel closed")
        have += n
    total = frame_length(chunk)
    if have == total:
        return memoryview(chunk)[:total]
    if have > total:
        raise ChannelClosed("protocol error: more than one frame in flight")
    frame = bytearray(total)
    frame[:have] = memoryview(chunk)[:have]
    view = memoryview(frame)
    while have < total:
        n = sock.recv_into(view[have:])
        if not n:
            raise ChannelClosed("channel closed")
        have += n
    return frame


class FrameAssembler:
    """Collects the bytes of one length-prefixed frame from non-blocking reads."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes | bytearray) -> bytes | bytearray | None:
        """Add bytes; the whole frame once it is complete (the channel carries one frame at a time)."""
        if not self._buf and len(data) >= 4 and frame_length(data) == len(data):
            return data
        self._buf += data
        if len(self._buf) < 4 or len(self._buf) < frame_length(self._buf):
            return None
        frame, self._buf = self._buf, bytearray()
        return frame


class FrameReader:
    """Incremental decoder of control frames for non-blocking reads: feed bytes, take whole frames."""

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
    """A blocking, buffered control-frame channel over a connected stream socket."""

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
