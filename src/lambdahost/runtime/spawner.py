"""Parent-side handle on a fork server: a base one (a subprocess started once per interpreter) or a snapshot
template.

``spawn`` sends a spec plus the child's two fds and returns the new pid. Exit statuses of children arrive
asynchronously and are kept for ``wait_exit``.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from lambdahost.core.errors import RuntimeFailure
from lambdahost.runtime.forkserver import OPTIONAL_PRELOAD
from lambdahost.runtime.interpreters import foreign_environ, loader_code, package_dir
from lambdahost.runtime.protocol import Channel, ChannelClosed, FrameReader, encode

_SPAWN_TIMEOUT_S = 10.0


class ForkServer:
    """Replies and exit reports are read by whichever thread needs one (no reader thread, so a spawn costs no
    thread hand-off); other threads wait on a condition and are woken as frames are dispatched."""

    def __init__(self, chan: Channel, pid: int, process: subprocess.Popen[bytes] | None = None) -> None:
        self._sock = chan.sock
        self.pid = pid
        self._process = process
        self._frames = FrameReader()
        self._replies: deque[dict[str, Any]] = deque()
        self._exits: dict[int, int] = {}
        self._watched: set[int] = set()
        self._cond = threading.Condition()
        self._reading = False
        self._spawn_lock = threading.Lock()
        self._closed = False
        self.skipped: tuple[str, ...] = ()  # preload modules a foreign interpreter could not import
        self._sock.setblocking(False)

    @classmethod
    def start(cls, preload: tuple[str, ...] = (), interpreter: str | None = None) -> ForkServer:
        """Start a base fork server on the platform's own interpreter, or on ``interpreter`` (an executable's path:
        a foreign one, which imports lambdahost by its loader and where ``preload`` modules that do not import are
        skipped: ``skipped``)."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        if interpreter is None:
            env = dict(os.environ)
            src = os.path.dirname(package_dir())
            env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            env.pop("PYTHONSTARTUP", None)
            command = [sys.executable, "-s", "-m", "lambdahost.runtime.forkserver", str(child.fileno()), *preload]
        else:
            env = foreign_environ(os.environ)
            main = "from lambdahost.runtime.forkserver import main\nmain(sys.argv[1:])\n"
            optional = [OPTIONAL_PRELOAD + module for module in preload]
            command = [interpreter, "-s", "-c", loader_code(main), str(child.fileno()), *optional]
        try:
            process = subprocess.Popen(command, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, env=env)
        except OSError as exc:
            parent.close()
            raise RuntimeFailure(f"The fork server could not be started with {command[0]}: {exc}") from exc
        finally:
            child.close()
        chan = Channel(parent)
        try:
            header, _ = chan.recv()
        except ChannelClosed as exc:
            process.kill()
            process.wait()
            parent.close()
            raise RuntimeFailure(f"The fork server failed to start ({command[0]}).") from exc
        if header.get("k") != "ready":
            raise RuntimeFailure(f"Unexpected fork server greeting: {header}")
        server = cls(chan, process.pid, process)
        server.skipped = tuple(header.get("skipped", ()))
        return server

    @classmethod
    def adopt(cls, chan: Channel, pid: int) -> ForkServer:
        """Wrap an environment that turned into a snapshot template (it already sent its init report)."""
        return cls(chan, pid)

    # -- reading -----------------------------------------------------------------------------------------------
    def _buffer(self, data: bytes) -> None:
        frame = self._frames.feed(data)
        while frame is not None:
            self._dispatch(frame[0])
            frame = self._frames.feed(b"")

    def _dispatch(self, header: dict[str, Any]) -> None:  # called with self._cond held
        kind = header.get("k")
        if kind == "exit":
            pid = int(header["pid"])
            if pid in self._watched:
                self._exits[pid] = int(header["status"])
        else:
            if kind == "spawned":
                self._watched.add(int(header["pid"]))  # before any exit report of this child is read
            self._replies.append(header)

    def _pump(self, done: Callable[[], bool], timeout: float) -> bool:
        """Read frames until ``done()`` or ``timeout``; one thread reads while the others wait."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done():
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return done()
                if self._reading:
                    self._cond.wait(remaining)
                    continue
                self._reading = True
                self._cond.release()
                try:
                    ready, _, _ = select.select([self._sock], [], [], min(remaining, 0.05))
                finally:
                    self._cond.acquire()
                    self._reading = False
                if ready and not self._read_locked():
                    self._closed = True
                self._cond.notify_all()
            return True

    def _read_locked(self) -> bool:
        while True:
            try:
                data = self._sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data:
                return False
            self._buffer(data)

    def drain(self) -> None:
        """Consume pending exit reports without waiting (keeps the channel from filling up)."""
        self._pump(lambda: True, 0)
        with self._cond:
            if not self._reading and not self._closed and not self._read_locked():
                self._closed = True

    @property
    def alive(self) -> bool:
        return not self._closed

    # -- requests ----------------------------------------------------------------------------------------------
    def spawn(self, spec: dict[str, Any], chan_fd: int, log_fd: int) -> int:
        """Fork a child that will run ``spec``; returns its pid."""
        with self._spawn_lock:
            if self._closed:
                raise RuntimeFailure("The fork server is gone.")
            message = [encode({"k": "spawn", "spec": spec})]
            deadline = time.monotonic() + _SPAWN_TIMEOUT_S
            while True:  # the socket stays non-blocking: another thread may be reading from it
                try:
                    socket.send_fds(self._sock, message, [chan_fd, log_fd])
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RuntimeFailure("The fork server is not taking requests.") from None
                    select.select([], [self._sock], [], 0.05)
                except OSError as exc:
                    raise RuntimeFailure(f"Could not reach the fork server: {exc}") from exc
            if not self._pump(lambda: bool(self._replies), _SPAWN_TIMEOUT_S):
                raise RuntimeFailure("The fork server did not answer.")
            with self._cond:
                reply = self._replies.popleft()
        if reply.get("k") != "spawned":
            raise RuntimeFailure(f"The fork server could not start an environment: {reply}")
        return int(reply["pid"])

    def wait_exit(self, pid: int, timeout: float) -> int | None:
        """The raw wait status of a child once it has exited, or None if unknown within ``timeout``."""
        self._pump(lambda: pid in self._exits, timeout)
        with self._cond:
            self._watched.discard(pid)
            return self._exits.pop(pid, None)

    def forget(self, pid: int) -> None:
        """Stop tracking a child whose exit status nobody will ask for."""
        with self._cond:
            self._watched.discard(pid)
            self._exits.pop(pid, None)

    def close(self) -> None:
        """Close the channel: the server kills its children and exits."""
        with self._cond:
            self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
