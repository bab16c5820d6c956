"""Parent-side handle on one execution environment: send an invocation, wait for its result with the deadline,
and turn whatever happened (result, function error, init failure, timeout, crash, out of memory) into an
``InvokeOutcome`` with AWS's payloads and log lines.

Two drivers share one state machine: ``invoke`` blocks the calling thread (the Python client, workers);
``invoke_async`` runs on an asyncio loop with ``add_reader`` (the HTTP server), without a thread hop.
"""

from __future__ import annotations

import asyncio
import enum
import json
import math
import os
import shutil
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

from lambdahost.core.secrets import Masker
from lambdahost.runtime import faults, logs, outputs
from lambdahost.runtime.log_file import LogFile
from lambdahost.runtime.protocol import (
    REPLY_ERROR,
    REPLY_OK,
    Channel,
    ChannelClosed,
    FrameAssembler,
    FrameReader,
    decode_reply,
    encode_invoke,
    recv_frame,
    spin_recv,
)
from lambdahost.runtime.spawner import ForkServer
from lambdahost.runtime.spec import EnvironmentSpec, InvokeOutcome, InvokeRequest, Outcome

INIT_TIMEOUT_S = 10.0
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

Frame = tuple[dict[str, Any], bytes]
Reply = tuple[int, float, int, str | None, bytes]


class EnvState(enum.StrEnum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    DEAD = "dead"


@dataclass
class _Init:
    ok: bool
    duration_ms: float
    error: dict[str, Any] | None
    log: bytes


class Environment:
    """One child process serving one function version. Not thread-safe: one invocation at a time."""

    def __init__(
        self,
        env_id: str,
        spec: EnvironmentSpec,
        server: ForkServer,
        pid: int,
        sock: socket.socket,
        env_dir: str,
        log_fd: int,
        log_limit: int,
    ) -> None:
        self.id = env_id
        self.spec = spec
        self.server = server
        self.pid = pid
        self._sock = sock
        self._reader = FrameReader()
        self._chunk = bytearray(65536)
        self._sock_mode = "blocking"
        self.deadline: float | None = None
        self.env_dir = env_dir
        self.output_dir = outputs.OutputDir(outputs.output_dir(env_dir))
        self._log = LogFile(log_fd, log_limit)  # the environment's stdout/stderr, shared with the child
        self.state = EnvState.STARTING
        self.kill_reason: str | None = None
        self.created_at = time.time()
        self.spawned_at = time.perf_counter()
        self.last_used = time.monotonic()
        self.invocations = 0
        self.retired = False
        self._init: _Init | None = None
        self._pending_init_ms: float | None = None
        self.peak_rss_kb = 0
        self.max_rss_kb = 0
        self.restored = False  # forked from a snapshot template (known once init reports)
        self.provisioned = False  # kept warm by provisioned concurrency: never reaped for being idle
        self.billed_restore_ms: int | None = None
        self.request_id: str | None = None  # the invocation it runs (or ran last): the web UI's live log
        self._masker: Masker | None = None  # the running invocation's own secret values, with the spec's

    # -- init --------------------------------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return self._init is not None

    def _take_init(self, header: dict[str, Any]) -> _Init:
        duration = (time.perf_counter() - self.spawned_at) * 1000
        self._init = _Init(bool(header.get("ok")), duration, header.get("error"), self._log.read_new())
        self.restored = bool(header.get("snapshot"))
        if self.restored:  # restored from a snapshot: the child's own restore work is what is billed
            self.billed_restore_ms = logs.billed_ms(float(header.get("ms", 0.0)))
        self.max_rss_kb = max(self.max_rss_kb, int(header.get("rss", 0)))
        self._pending_init_ms = duration
        if self._init.ok:
            self.state = EnvState.IDLE
        return self._init

    def _init_timed_out(self, timeout: float) -> bool:
        self.kill("init-timeout")
        error = faults.make_error(f"Init timed out after {timeout:.2f} seconds", "Runtime.InitTimeout", [])
        self._init = _Init(False, timeout * 1000, error, self._log.read_new())
        return False

    def prewarm(self, timeout: float = INIT_TIMEOUT_S) -> bool:
        """Wait for init ahead of any invocation (provisioned concurrency): the first invocation is then not a
        cold start and reports no init duration. True when init succeeded."""
        ok = self.wait_init(timeout)
        self._pending_init_ms = None
        return ok

    def wait_init(self, timeout: float = INIT_TIMEOUT_S) -> bool:
        """Block until the environment reported its init; True when init succeeded."""
        if self._init is not None:
            return self._init.ok
        try:
            frame = self._read_blocking(time.monotonic() + timeout)
        except (ChannelClosed, OSError):
            frame = ({"k": "init", "ok": False, "error": self._exit_error()}, b"")
        if frame is None:
            return self._init_timed_out(timeout)
        return self._take_init(frame[0]).ok

    async def wait_init_async(self, timeout: float = INIT_TIMEOUT_S) -> bool:
        if self._init is not None:
            return self._init.ok
        try:
            frame = await self._read_async(time.monotonic() + timeout)
        except (ChannelClosed, OSError):
            frame = ({"k": "init", "ok": False, "error": self._exit_error()}, b"")
        if frame is None:
            return self._init_timed_out(timeout)
        return self._take_init(frame[0]).ok

    def _exit_error(self) -> dict[str, Any]:
        """The init error of an environment that died before reporting init (e.g. killed at import)."""
        status = self._reap()
        return {"errorType": faults.EXIT_ERROR, "errorMessage": faults.exit_description(status)}

    # -- invoke ------------------------------------------------------------------------------------------------
    def _frame_for(self, req: InvokeRequest, deadline_epoch_ms: int) -> bytes:
        meta = b""
        if req.client_context is not None or req.cognito_identity is not None or req.trace is not None:
            extra: dict[str, Any] = {}
            if req.client_context is not None:
                extra["cc"] = req.client_context
            if req.cognito_identity is not None:
                extra["ci"] = req.cognito_identity
            if req.trace is not None:
                extra["tr"] = req.trace
            meta = json.dumps(extra).encode()
        return encode_invoke(
            req.request_id.encode(), deadline_epoch_ms, req.invoked_function_arn.encode(), meta, req.payload
        )

    def invoke(self, req: InvokeRequest, spin_s: float = 0.0) -> InvokeOutcome:
        """Run one invocation, blocking until it finishes, fails, times out or the environment dies.

        The socket stays in blocking mode (no poll per read); the pool's monitor thread enforces the deadline
        by killing the environment, which ends the read. With ``spin_s``, the reply is polled for that long
        before the thread blocks (``protocol.spin_recv``)."""
        started_wall = time.time()
        init = self._init
        if (init is None or not init.ok) and not self.wait_init():
            return self._init_failure(req, started_wall)
        t0, frame = self._start(req, started_wall, blocking=True)
        try:
            self._sock.sendall(frame)
            reply = decode_reply(recv_frame(self._sock, self._chunk, spin_s))
        except (ChannelClosed, OSError):
            return self._ended(req, started_wall, t0)
        finally:
            self.deadline = None
        return self._replied(req, reply, started_wall)

    async def invoke_async(self, req: InvokeRequest, spin_s: float = 0.0) -> InvokeOutcome:
        """``invoke`` for an asyncio loop: the reply is awaited with ``add_reader`` (no thread hop). The deadline is
        enforced the same way, by the pool's monitor killing the environment. With ``spin_s``, the reply is
        polled for that long before the loop goes back to its other work (only worth it when it has none)."""
        started_wall = time.time()
        init = self._init
        if (init is None or not init.ok) and not await self.wait_init_async():
            return self._init_failure(req, started_wall)
        t0, frame = self._start(req, started_wall, blocking=False)
        sock = self._sock
        try:
            try:
                sent = sock.send(frame)
            except BlockingIOError:
                sent = 0
            assembler = FrameAssembler()
            got = None
            if sent < len(frame):
                await asyncio.get_running_loop().sock_sendall(sock, memoryview(frame)[sent:])
            elif spin_s > 0:
                n = spin_recv(sock, self._chunk, spin_s)
                if n:
                    got = assembler.feed(self._chunk[:n])
            reply = decode_reply(got if got is not None else await self._read_reply_async(assembler))
        except (ChannelClosed, OSError):
            return await asyncio.to_thread(self._ended, req, started_wall, t0)  # it waits for the exit report
        except asyncio.CancelledError:  # the caller gave up mid-invocation: a reply may still come, so the
            self.kill("cancelled")  # environment cannot serve anyone else; the pool destroys it on release
            raise
        finally:
            self.deadline = None
        return self._replied(req, reply, started_wall)

    def _start(self, req: InvokeRequest, started_wall: float, blocking: bool) -> tuple[float, bytes]:
        """Mark the environment busy with its deadline armed (the pool's monitor enforces it) and the socket in
        the driver's mode; returns the start time and the invoke frame."""
        self.state = EnvState.BUSY
        self.request_id = req.request_id
        self._masker = req.masker if req.masker is None else Masker.union(self.spec.masker, req.masker)
        timeout = self.spec.timeout_s
        self.deadline = time.monotonic() + timeout
        mode = "blocking" if blocking else "nonblocking"
        if self._sock_mode != mode:
            self._sock.setblocking(blocking)
            self._sock_mode = mode
        return time.perf_counter(), self._frame_for(req, int((started_wall + timeout) * 1000))

    def _ended(self, req: InvokeRequest, started_wall: float, t0: float) -> InvokeOutcome:
        """The channel broke during an invocation: the deadline killed the environment, or it died."""
        if self.kill_reason == "timeout":
            return self._timed_out(req, started_wall)
        return self._crashed(req, started_wall, t0)

    # -- reading frames ----------------------------------------------------------------------------------------
    def _read_blocking(self, deadline: float) -> Frame | None:
        frame = self._reader.feed(b"")
        while frame is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._sock.settimeout(remaining)
            self._sock_mode = "timeout"
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                return None
            if not data:
                raise ChannelClosed("environment closed its channel")
            frame = self._reader.feed(data)
        return frame

    async def _read_async(self, deadline: float) -> Frame | None:
        frame = self._reader.feed(b"")
        if frame is not None:
            return frame
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Frame | None] = loop.create_future()
        fd = self._sock.fileno()
        if self._sock_mode != "nonblocking":
            self._sock.setblocking(False)
            self._sock_mode = "nonblocking"

        def readable() -> None:
            try:
                data = self._sock.recv(65536)
            except BlockingIOError:
                return
            except OSError as exc:
                finish(exc)
                return
            if not data:
                finish(ChannelClosed("environment closed its channel"))
                return
            got = self._reader.feed(data)
            if got is not None:
                finish(got)

        def finish(result: Frame | BaseException | None) -> None:
            loop.remove_reader(fd)
            timer.cancel()
            if future.done():
                return
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

        timer = loop.call_at(loop.time() + max(0.0, deadline - time.monotonic()), finish, None)
        loop.add_reader(fd, readable)
        try:
            return await future
        finally:
            if not future.done():  # cancelled by the caller
                loop.remove_reader(fd)
                timer.cancel()

    def _read_reply_async(self, assembler: FrameAssembler) -> asyncio.Future[bytes | bytearray]:
        """A future of the next reply frame, read with ``add_reader`` as the bytes arrive."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes | bytearray] = loop.create_future()
        sock = self._sock
        fd = sock.fileno()
        chunk = self._chunk  # reused: a fresh large buffer per read would cost an mmap and page faults

        def readable() -> None:
            try:
                n = sock.recv_into(chunk)
            except BlockingIOError:
                return
            except OSError as exc:
                loop.remove_reader(fd)
                if not future.done():
                    future.set_exception(exc)
                return
            if not n:
                loop.remove_reader(fd)
                if not future.done():
                    future.set_exception(ChannelClosed("environment closed its channel"))
                return
            frame = assembler.feed(chunk[:n])
            if frame is not None:
                loop.remove_reader(fd)
                if not future.done():
                    future.set_result(frame)

        def cancelled(done: asyncio.Future[bytes | bytearray]) -> None:
            if done.cancelled():
                loop.remove_reader(fd)

        loop.add_reader(fd, readable)
        future.add_done_callback(cancelled)
        return future

    # -- turning what happened into an outcome -----------------------------------------------------------------
    def running_log(self, request_id: str, limit: int = 1 << 20) -> bytes | None:
        """What the function has written so far while it runs invocation ``request_id`` (at most ``limit`` bytes,
        the first ones), without consuming it; None when the environment is not running that invocation. Read by
        another thread (the web UI's live log): a result read across the end of the invocation is dropped."""
        if self.state is not EnvState.BUSY or self.request_id != request_id:
            return None
        data = self._log.peek(limit)
        if data is None:
            return None
        masker = self.spec.masker if self._masker is None else self._masker
        if masker is not None:  # secret values masked; only whole lines, so a value written in pieces never shows
            data = masker.mask_bytes(data[: data.rfind(b"\n") + 1])
        return data if self.state is EnvState.BUSY and self.request_id == request_id else None

    def _max_memory_mb(self) -> int:
        kb = max(self.max_rss_kb, self.peak_rss_kb)
        return max(1, math.ceil(kb / 1024))

    def _cold_init_ms(self) -> float | None:
        ms, self._pending_init_ms = self._pending_init_ms, None
        return ms

    def _outcome(
        self,
        req: InvokeRequest,
        outcome: Outcome,
        payload: bytes,
        error: dict[str, Any] | None,
        body: bytes,
        duration_ms: float,
        started_wall: float,
        init_ms: float | None,
        prefix: str = "",
        suffix: str = "",
        status: str | None = None,
    ) -> InvokeOutcome:
        self.invocations += 1
        self.last_used = time.monotonic()
        if self.state is not EnvState.DEAD:
            self.state = EnvState.IDLE
            self._log.rotate()
        spec = self.spec
        artifacts = self.output_dir.collect()
        if artifacts is not None and artifacts.note is not None:
            suffix += f"{logs.timestamp()} {req.request_id} lambdahost: {artifacts.note}\n"
        if spec.masker is not None or req.masker is not None:  # secret values given: *** in all kept and returned
            masker = Masker.union(spec.masker, req.masker)
            payload, body, prefix, error = (
                masker.mask_bytes(payload),
                masker.mask_bytes(body),
                masker.mask_text(prefix),
                masker.mask_error(error),
            )
        return InvokeOutcome(
            req.request_id,
            outcome,
            payload,
            error.get("errorType") if error else None,
            error.get("errorMessage") if error else None,
            duration_ms,
            spec.memory_mb,
            self._max_memory_mb(),
            init_ms,
            started_wall,
            time.time(),
            spec.version,
            body,
            self._log.limit,
            prefix,
            suffix,
            status,
            self.billed_restore_ms if init_ms is not None else None,
            artifacts,
        )

    def _replied(self, req: InvokeRequest, reply: Reply, started_wall: float) -> InvokeOutcome:
        status, duration_ms, max_rss_kb, _error_type, body = reply
        self.max_rss_kb = max(self.max_rss_kb, max_rss_kb)
        if status == REPLY_OK:
            error, outcome = None, Outcome.OK
        elif status == REPLY_ERROR:
            error, outcome = json.loads(body), Outcome.ERROR
        else:
            return self._invalid_event(req, body, started_wall)
        init_ms = self._pending_init_ms
        if init_ms is None:
            prefix = ""
        else:
            self._pending_init_ms = None
            init_log = self._init.log if self._init else b""
            prefix = init_log.decode("utf-8", "replace") if init_log else ""
        return self._outcome(
            req, outcome, body, error, self._log.read_new(), duration_ms, started_wall, init_ms, prefix=prefix
        )

    def _invalid_event(self, req: InvokeRequest, body: bytes, started_wall: float) -> InvokeOutcome:
        """The payload was not JSON; the environment stays as it was (a cold start stays pending for the next
        invocation's report)."""
        self.state = EnvState.IDLE
        message = body.decode("utf-8", "replace")
        spec = self.spec
        return InvokeOutcome(
            req.request_id,
            Outcome.INVALID_EVENT,
            body,
            None,
            message,
            0.0,
            spec.memory_mb,
            0,
            None,
            started_wall,
            time.time(),
            spec.version,
        )

    def _init_failure(self, req: InvokeRequest, started_wall: float) -> InvokeOutcome:
        assert self._init is not None
        self.state = EnvState.DEAD
        error = self._init.error or faults.make_error("Init failed", faults.EXIT_ERROR, [])
        error_type = str(error.get("errorType"))
        init_log = self._init.log + self._log.read_new()
        if self.restored:
            report = logs.restore_report_line(self._init.duration_ms, "error", error_type)
        else:
            report = logs.init_report_line(self._init.duration_ms, "init", "error", error_type)
        prefix = init_log.decode("utf-8", "replace") + report
        duration = (time.time() - started_wall) * 1000
        return self._outcome(
            req,
            Outcome.INIT_ERROR,
            json.dumps(error).encode(),
            error,
            b"",
            duration,
            started_wall,
            None,
            prefix=prefix,
            status="error",
        )

    def _timed_out(self, req: InvokeRequest, started_wall: float) -> InvokeOutcome:
        self.kill("timeout")
        timeout = self.spec.timeout_s
        message = f"RequestId: {req.request_id} Error: Task timed out after {timeout:.2f} seconds"
        error = {"errorType": faults.TIMEOUT, "errorMessage": message}
        suffix = f"{logs.timestamp()} {req.request_id} Task timed out after {timeout:.2f} seconds\n"
        self._reap()
        return self._outcome(
            req,
            Outcome.TIMEOUT,
            json.dumps(error).encode(),
            error,
            self._log.read_new(),
            timeout * 1000,
            started_wall,
            self._cold_init_ms(),
            suffix=suffix,
            status="timeout",
        )

    def _crashed(self, req: InvokeRequest, started_wall: float, t0: float) -> InvokeOutcome:
        status = self._reap()
        duration = (time.perf_counter() - t0) * 1000
        reason = self.kill_reason
        self.state = EnvState.DEAD
        description = faults.exit_description(status)
        if reason == "oom":
            description = "Runtime exited with error: signal: killed"
            error_type = faults.OUT_OF_MEMORY
        else:
            error_type = faults.EXIT_ERROR
        message = f"RequestId: {req.request_id} Error: {description}"
        error = {"errorType": error_type, "errorMessage": message}
        suffix = f"{message}\n{error_type}\n"
        return self._outcome(
            req,
            Outcome.OUT_OF_MEMORY if reason == "oom" else Outcome.CRASH,
            json.dumps(error).encode(),
            error,
            self._log.read_new(),
            duration,
            started_wall,
            self._cold_init_ms(),
            suffix=suffix,
            status="error",
        )

    # -- process control ---------------------------------------------------------------------------------------
    def _reap(self) -> int | None:
        """Wait for the process to be gone; its raw wait status if the fork server reported it."""
        status = self.server.wait_exit(self.pid, 2.0)
        if status is None:
            self.kill(self.kill_reason or "lost")
            status = self.server.wait_exit(self.pid, 2.0)
        self.state = EnvState.DEAD
        return status

    def rss_kb(self) -> int:
        """Current resident memory of the environment process (0 if gone)."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as fh:
                return int(fh.read().split()[1]) * _PAGE_KB
        except (OSError, IndexError, ValueError):
            return 0

    def kill(self, reason: str) -> None:
        """Kill the environment and everything it started; the first reason given sticks."""
        if self.kill_reason is None:
            self.kill_reason = reason
        self.state = EnvState.DEAD
        try:
            os.killpg(self.pid, signal.SIGKILL)  # the environment leads its own session: take its children too
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    @property
    def alive(self) -> bool:
        return self.state is not EnvState.DEAD

    def destroy(self) -> None:
        """Stop the process, release its channel, log and directory."""
        if self.state is not EnvState.DEAD:
            self.kill(self.kill_reason or "retired")
        self.server.forget(self.pid)
        for close in (self._sock.close, self._log.close):
            try:
                close()
            except OSError:
                pass
        shutil.rmtree(self.env_dir, ignore_errors=True)

    def channel(self) -> Channel:
        """The raw channel (a snapshot template's fork protocol runs over it)."""
        self._sock.settimeout(None)
        self._sock_mode = "blocking"
        return Channel(self._sock)
