"""Parent-side handle on a fork server: the base one (a subprocess started once) or a snapshot template.

``spawn`` sends a spec plus the child's two fds and returns the new pid. Exit statuses of children arrive
asynchronously and are kept for ``wait_exit``; a reader thread demultiplexes the two kinds of replies.
"""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
from typing import Any

from lambdahost.core.errors import RuntimeFailure
from lambdahost.runtime.protocol import Channel, ChannelClosed, encode

_SPAWN_TIMEOUT_S = 10.0


class ForkServer:
    def __init__(self, chan: Channel, pid: int, process: subprocess.Popen[bytes] | None = None) -> None:
        self._chan = chan
        self.pid = pid
        self._process = process
        self._replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._watched: set[int] = set()
        self._exit_cond = threading.Condition()
        self._spawn_lock = threading.Lock()
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, name=f"forkserver-{pid}", daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, preload: tuple[str, ...] = ()) -> ForkServer:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.pop("PYTHONSTARTUP", None)
        try:
            process = subprocess.Popen(
                [sys.executable, "-s", "-m", "lambdahost.runtime.forkserver",
                 str(child.fileno()), *preload],
                pass_fds=[child.fileno()],
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            child.close()
        chan = Channel(parent)
        try:
            header, _ = chan.recv()
        except ChannelClosed as exc:
            process.kill()
            process.wait()
            raise RuntimeFailure("The fork server failed to start.") from exc
        if header.get("k") != "ready":
            raise RuntimeFailure(f"Unexpected fork server greeting: {header}")
        return cls(chan, process.pid, process)

    @classmethod
    def adopt(cls, chan: Channel, pid: int) -> ForkServer:
        """Wrap an environment that turned into a snapshot template (it already sent its init report)."""
        return cls(chan, pid)

    def _read_loop(self) -> None:
        while True:
            try:
                header, _ = self._chan.recv()
            except (ChannelClosed, OSError):
                self._replies.put({"k": "closed"})
                with self._exit_cond:
                    self._closed = True
                    self._exit_cond.notify_all()
                return
            if header.get("k") == "exit":
                pid = int(header["pid"])
                with self._exit_cond:
                    if pid in self._watched:
                        self._exits[pid] = int(header["status"])
                        self._exit_cond.notify_all()
            else:
                if header.get("k") == "spawned":
                    with self._exit_cond:  # before any exit report of this child can be read
                        self._watched.add(int(header["pid"]))
                self._replies.put(header)

    @property
    def alive(self) -> bool:
        return not self._closed

    def spawn(self, spec: dict[str, Any], chan_fd: int, log_fd: int) -> int:
        """Fork a child that will run ``spec``; returns its pid."""
        with self._spawn_lock:
            if self._closed:
                raise RuntimeFailure("The fork server is gone.")
            try:
                socket.send_fds(self._chan.sock, [encode({"k": "spawn", "spec": spec})], [chan_fd, log_fd])
            except OSError as exc:
                raise RuntimeFailure(f"Could not reach the fork server: {exc}") from exc
            try:
                reply = self._replies.get(timeout=_SPAWN_TIMEOUT_S)
            except queue.Empty as exc:
                raise RuntimeFailure("The fork server did not answer.") from exc
        if reply.get("k") != "spawned":
            raise RuntimeFailure(f"The fork server could not start an environment: {reply}")
        return int(reply["pid"])

    def wait_exit(self, pid: int, timeout: float) -> int | None:
        """The raw wait status of a child once it has exited, or None if unknown within ``timeout``."""
        with self._exit_cond:
            self._exit_cond.wait_for(lambda: pid in self._exits or self._closed, timeout)
            self._watched.discard(pid)
            return self._exits.pop(pid, None)

    def forget(self, pid: int) -> None:
        """Stop tracking a child whose exit status nobody will ask for."""
        with self._exit_cond:
            self._watched.discard(pid)
            self._exits.pop(pid, None)

    def close(self) -> None:
        """Close the channel: the server kills its children and exits."""
        try:
            self._chan.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._chan.close()
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._reader.join(timeout=2)
