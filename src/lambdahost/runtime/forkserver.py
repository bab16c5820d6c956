"""A process that forks execution environments on request.

A base fork server is started once per interpreter in a platform process (``python -m lambdahost.runtime.forkserver
FD`` on the platform's own, the loader's ``main(argv)`` on another: see ``interpreters.py``) and imports the runtime
up front, so forking an environment costs a ``fork()`` instead of an interpreter start.
A snapshot template (``template: true`` in a spawn spec) is an environment that ran init and then serves the same
protocol, so its children start with the function already imported.

This module and what it and ``bootstrap.py`` import run on every interpreter that runs a runtime, the oldest
being ``MINIMUM_PYTHON``: no run-time use of syntax or library features newer than that (``socket.send_fds`` and
``recv_fds`` are 3.9's; annotations are never evaluated).

Requests arrive as one frame with two file descriptors attached (the child's end of its channel and its log
file): ``{"k":"spawn","spec":{...}}``. Replies: ``{"k":"spawned","pid":N}`` or ``{"k":"failed","error":"..."}``;
and whenever a child exits, ``{"k":"exit","pid":N,"status":RAW_WAIT_STATUS}``.
"""

from __future__ import annotations

import ctypes
import gc
import os
import select
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, Any, NoReturn

MINIMUM_PYTHON = (3, 9)
if sys.version_info < MINIMUM_PYTHON:
    raise ImportError(
        f"lambdahost's execution environments need Python {MINIMUM_PYTHON[0]}.{MINIMUM_PYTHON[1]} or later, "
        f"not {sys.version.split()[0]}"
    )

from lambdahost.runtime.protocol import Channel, FrameReader, encode  # noqa: E402

if TYPE_CHECKING:  # not evaluated at run time: this module also runs on the oldest supported Python (3.9)
    from collections.abc import Callable

    SpawnChild = Callable[[Channel, dict[str, Any], int], NoReturn]

_PR_SET_PDEATHSIG = 1
_REPLENISH_DELAY_S = 0.005
OPTIONAL_PRELOAD = "?"  # a preload module named "?mod" is imported if it can be, else reported as skipped


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _report_exits(chan: Channel, children: set[int]) -> set[int]:
    exited: set[int] = set()
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return exited
        if pid == 0:
            return exited
        exited.add(pid)
        children.discard(pid)
        chan.send({"k": "exit", "pid": pid, "status": status})


def serve_forks(chan: Channel, child_main: SpawnChild, spares: int = 1) -> NoReturn:
    """Fork a child for every spawn request until the channel closes; then kill the children and exit.
    With ``spares``, one child is always forked ahead and handed the next request."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    sock = chan.sock
    children: set[int] = set()
    server_pid = os.getpid()
    try:
        _serve(chan, child_main, sock, wake_r, wake_w, children, server_pid, spares)
    except OSError:  # the parent went away while we were answering it
        pass
    _kill_all(children)
    os._exit(0)


def _kill_all(children: set[int]) -> None:
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


class _Spare:
    """A child forked ahead of time and waiting for its spawn request, so a cold start does not wait for fork."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock


def _fork_child(sock: socket.socket, wake_r: int, wake_w: int, server_pid: int) -> int:
    """fork(); in the child: detach from the server's plumbing and do the function-independent setup."""
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(wake_r)
        os.close(wake_w)
        _die_with_parent()
        if os.getppid() != server_pid:
            os._exit(1)
        sock.close()
        from lambdahost.runtime.bootstrap import prepare_process

        prepare_process()
    return pid


def _spare_main(spare_sock: socket.socket, child_main: SpawnChild) -> NoReturn:
    reader = FrameReader()
    fds: list[int] = []
    frame = None
    while frame is None:
        data, new_fds, _flags, _addr = socket.recv_fds(spare_sock, 65536, 8)
        fds.extend(new_fds)
        if not data:
            os._exit(0)
        frame = reader.feed(data)
    spare_sock.close()
    header, _body = frame
    child_main(Channel(socket.socket(fileno=fds[0])), header["spec"], fds[1])


def _new_spare(sock: socket.socket, wake_r: int, wake_w: int, server_pid: int, child_main: SpawnChild) -> _Spare:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = _fork_child(sock, wake_r, wake_w, server_pid)
    if pid == 0:
        ours.close()
        _spare_main(theirs, child_main)
    theirs.close()
    return _Spare(pid, ours)


def _serve(
    chan: Channel,
    child_main: SpawnChild,
    sock: socket.socket,
    wake_r: int,
    wake_w: int,
    children: set[int],
    server_pid: int,
    spares: int,
) -> None:
    reader = FrameReader()
    fds: list[int] = []
    spare: _Spare | None = None
    replenish_at = 0.0  # fork the next spare a little after a spawn, not while the new child is starting
    while True:
        timeout: float | None = None
        if spare is None and spares > 0:
            timeout = max(0.0, replenish_at - time.monotonic())
            if timeout == 0.0:
                spare = _new_spare(sock, wake_r, wake_w, server_pid, child_main)
                timeout = None
        try:
            ready, _, _ = select.select([sock.fileno(), wake_r], [], [], timeout)
        except InterruptedError:  # pragma: no cover - PEP 475 retries select
            continue
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            exited = _report_exits(chan, children)
            if spare is not None and spare.pid in exited:
                spare.sock.close()
                spare = None
        if sock.fileno() not in ready:
            continue
        try:
            data, new_fds, _flags, _addr = socket.recv_fds(sock, 65536, 8)
        except OSError:
            data = b""
        fds.extend(new_fds)
        if not data:
            if spare is not None:
                spare.sock.close()
                children.add(spare.pid)
            return
        frame = reader.feed(data)
        while frame is not None:
            header, _body = frame
            child_fds, fds = fds[:2], fds[2:]
            if header.get("k") != "spawn" or len(child_fds) != 2:
                for fd in child_fds:
                    os.close(fd)
                chan.send({"k": "failed", "error": "bad spawn request"})
            elif spare is not None:
                socket.send_fds(spare.sock, [encode(header)], child_fds)
                spare.sock.close()
                for fd in child_fds:
                    os.close(fd)
                children.add(spare.pid)
                chan.send({"k": "spawned", "pid": spare.pid})
                spare = None
                replenish_at = time.monotonic() + _REPLENISH_DELAY_S
            else:
                pid = _fork_child(sock, wake_r, wake_w, server_pid)
                if pid == 0:
                    child_main(Channel(socket.socket(fileno=child_fds[0])), header["spec"], child_fds[1])
                for fd in child_fds:
                    os.close(fd)
                children.add(pid)
                chan.send({"k": "spawned", "pid": pid})
            frame = reader.feed(b"")


def main(argv: list[str]) -> NoReturn:
    """Entry point of the base fork server: argv = [control fd, modules to preload...]."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = int(argv[0])
    skipped: list[str] = []
    for module in argv[1:]:
        if not module.startswith(OPTIONAL_PRELOAD):
            __import__(module)
            continue
        try:
            __import__(module[len(OPTIONAL_PRELOAD) :])
        except ImportError:
            skipped.append(module[len(OPTIONAL_PRELOAD) :])
    from lambdahost.runtime.bootstrap import run_environment

    # Objects created so far are shared with every child; keep the collector from touching (and so copying)
    # their pages after fork.
    gc.collect()
    gc.freeze()
    chan = Channel(socket.socket(fileno=fd))
    chan.send({"k": "ready", "pid": os.getpid(), "skipped": skipped})
    serve_forks(chan, run_environment)


if __name__ == "__main__":
    main(sys.argv[1:])
