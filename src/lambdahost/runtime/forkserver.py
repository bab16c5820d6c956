"""A process that forks execution environments on request.

The base fork server is started once per platform process (``python -m lambdahost.runtime.forkserver FD``)
and imports the runtime up front, so forking an environment costs a ``fork()`` instead of an interpreter start.
A snapshot template (``template: true`` in a spawn spec) is an environment that ran init and then serves the same
protocol, so its children start with the function already imported.

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
from collections.abc import Callable
from typing import Any, NoReturn

from lambdahost.runtime.protocol import Channel, FrameReader

_PR_SET_PDEATHSIG = 1

SpawnChild = Callable[[Channel, dict[str, Any], int], NoReturn]


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _report_exits(chan: Channel, children: set[int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        chan.send({"k": "exit", "pid": pid, "status": status})


def serve_forks(chan: Channel, child_main: SpawnChild) -> NoReturn:
    """Fork a child for every spawn request until the channel closes; then kill the children and exit."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    sock = chan.sock
    reader = FrameReader()
    fds: list[int] = []
    children: set[int] = set()
    server_pid = os.getpid()
    while True:
        try:
            ready, _, _ = select.select([sock, wake_r], [], [])
        except InterruptedError:  # pragma: no cover - PEP 475 retries select
            continue
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            _report_exits(chan, children)
        if sock not in ready:
            continue
        try:
            data, new_fds, _flags, _addr = socket.recv_fds(sock, 65536, 8)
        except OSError:
            data = b""
        fds.extend(new_fds)
        if not data:
            for pid in children:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            os._exit(0)
        frame = reader.feed(data)
        while frame is not None:
            header, _body = frame
            child_fds, fds = fds[:2], fds[2:]
            if header.get("k") != "spawn" or len(child_fds) != 2:
                for fd in child_fds:
                    os.close(fd)
                chan.send({"k": "failed", "error": "bad spawn request"})
            else:
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
                    child_sock = socket.socket(fileno=child_fds[0])
                    child_main(Channel(child_sock), header["spec"], child_fds[1])
                for fd in child_fds:
                    os.close(fd)
                children.add(pid)
                chan.send({"k": "spawned", "pid": pid})
            frame = reader.feed(b"")


def main(argv: list[str]) -> NoReturn:
    """Entry point of the base fork server: argv = [control fd, modules to preload...]."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = int(argv[0])
    for module in argv[1:]:
        __import__(module)
    from lambdahost.runtime.bootstrap import run_environment

    # Objects created so far are shared with every child; keep the collector from touching (and so copying)
    # their pages after fork.
    gc.collect()
    gc.freeze()
    chan = Channel(socket.socket(fileno=fd))
    chan.send({"k": "ready", "pid": os.getpid()})
    serve_forks(chan, run_environment)


if __name__ == "__main__":
    main(sys.argv[1:])
