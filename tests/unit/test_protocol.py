"""The parent <-> environment frames: binary invoke/reply layouts, incremental assembly, blocking reads of
frames of any size, and reply polling, over real socket pairs."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from lambdahost.core.ids import new_request_id
from lambdahost.runtime.protocol import (
    REPLY_BAD_EVENT,
    REPLY_ERROR,
    REPLY_OK,
    ChannelClosed,
    FrameAssembler,
    decode_invoke,
    decode_reply,
    encode_invoke,
    encode_reply,
    frame_length,
    recv_frame,
    spin_recv,
)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_invoke_frame_round_trip() -> None:
    frame = encode_invoke(b"req-1", 1_700_000_000_123, "arn:ü".encode(), b'{"cc":{}}', b'{"a":1}')
    assert frame_length(frame) == len(frame)
    assert decode_invoke(frame) == ("req-1", 1_700_000_000_123, "arn:ü", b'{"cc":{}}', b'{"a":1}')
    empty = encode_invoke(b"r", 0, b"", b"", b"")
    assert decode_invoke(empty) == ("r", 0, "", b"", b"")


@pytest.mark.parametrize(
    ("status", "error_type", "body"),
    [(REPLY_OK, None, b'{"x": 1}'), (REPLY_ERROR, "Runtime.MarshalError", b"{}"), (REPLY_BAD_EVENT, None, b"")],
)
def test_reply_frame_round_trip(status: int, error_type: str | None, body: bytes) -> None:
    frame = encode_reply(status, 12.5, 65536, error_type, body)
    assert frame_length(frame) == len(frame)
    assert decode_reply(frame) == (status, 12.5, 65536, error_type, body)
    assert decode_reply(memoryview(frame)) == (status, 12.5, 65536, error_type, body)


def test_assembler_takes_bytes_in_any_pieces() -> None:
    frame = encode_reply(REPLY_OK, 1.0, 1, None, b"y" * 1000)
    assembler = FrameAssembler()
    got = None
    for index in range(len(frame)):
        assert got is None, "no frame before its last byte"
        got = assembler.feed(frame[index : index + 1])
    assert got == frame
    assert FrameAssembler().feed(frame) is frame, "a frame read whole is handed on without a copy"


def test_recv_frame_small_and_large(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    chunk = bytearray(65536)
    small = encode_reply(REPLY_OK, 1.0, 1, None, b"small")
    a.sendall(small)
    assert bytes(recv_frame(b, chunk)) == small
    large = encode_reply(REPLY_OK, 1.0, 1, None, os.urandom(3 * 1024 * 1024))
    sender = threading.Thread(target=a.sendall, args=(large,))
    sender.start()
    got = recv_frame(b, chunk)
    sender.join()
    assert bytes(got) == large


def test_recv_frame_with_a_split_length_prefix(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    frame = encode_reply(REPLY_OK, 1.0, 1, None, b"abc")

    def trickle() -> None:
        for piece in (frame[:2], frame[2:5], frame[5:]):
            a.sendall(piece)
            time.sleep(0.02)

    sender = threading.Thread(target=trickle)
    sender.start()
    assert bytes(recv_frame(b, bytearray(65536))) == frame
    sender.join()


def test_closed_channel(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    a.sendall(encode_reply(REPLY_OK, 1.0, 1, None, b"cut")[:6])
    a.close()
    with pytest.raises(ChannelClosed):
        recv_frame(b, bytearray(65536))


def test_spin_recv_polls_then_gives_up(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    buf = bytearray(64)
    started = time.perf_counter()
    assert spin_recv(b, buf, 0.005) == 0
    assert 0.005 <= time.perf_counter() - started < 0.5
    a.sendall(b"hello")
    assert spin_recv(b, buf, 0.5) == 5 and bytes(buf[:5]) == b"hello"
    frame = encode_reply(REPLY_OK, 1.0, 1, None, b"late")
    timer = threading.Timer(0.01, a.sendall, args=(frame,))
    timer.start()
    assert bytes(recv_frame(b, bytearray(65536), spin_s=0.001)) == frame, "blocks after a fruitless spin"
    timer.join()
    a.close()
    with pytest.raises(ChannelClosed):
        spin_recv(b, buf, 0.5)


def test_request_ids_are_uuid4_unique_and_fork_safe() -> None:
    ids = {new_request_id() for _ in range(20000)}
    assert len(ids) == 20000
    for rid in list(ids)[:500]:
        parsed = uuid.UUID(rid)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == rid
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child must not repeat the parent's next ids
        os.write(w, "".join(new_request_id() for _ in range(10)).encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r) as fh:
        child = fh.read()
    parent = "".join(new_request_id() for _ in range(10))
    assert child != parent and len(child) == len(parent) == 360
