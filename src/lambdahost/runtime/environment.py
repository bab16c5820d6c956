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

from lambdahost.runtime import faults, logs
from lambdahost.runtime.protocol import Channel, ChannelClosed, FrameReader, encode
from lambdahost.runtime.spawner import ForkServer
from lambdahost.runtime.spec import EnvironmentSpec, InvokeOutcome, InvokeRequest, LogParts, Outcome

INIT_TIMEOUT_S = 10.0
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
_LOG_ROTATE_BYTES = 4 * 1024 * 1024

Frame = tuple[dict[str, Any], bytes]


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


def exit_description(status: int | None) -> str:
    """How AWS words a runtime exit: ``exit status 1``, ``signal: killed``..."""
    if status is None:
        return "Runtime exited without providing a reason"
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"Runtime exited with error: exit status {code}"
    names = {
        signal.SIGKILL: "killed",
        signal.SIGSEGV: "segmentation fault",
        signal.SIGABRT: "aborted",
        signal.SIGTERM: "terminated",
        signal.SIGBUS: "bus error",
        signal.SIGFPE: "floating point exception",
        signal.SIGILL: "illegal instruction",
    }
    sig = signal.Signals(-code)
    return f"Runtime exited with error: signal: {names.get(sig, sig.name.lower())}"


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
        self._log_fd = log_fd  # the environment's stdout/stderr: an append-mode memfd shared with the child
        self._log_offset = 0
        self._log_limit = log_limit
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

    # -- init --------------------------------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return self._init is not None

    def _take_init(self, header: dict[str, Any]) -> _Init:
        duration = (time.perf_counter() - self.spawned_at) * 1000
        self._init = _Init(bool(header.get("ok")), duration, header.get("error"), self._read_log())
        self.max_rss_kb = max(self.max_rss_kb, int(header.get("rss", 0)))
        self._pending_init_ms = duration
        if self._init.ok:
            self.state = EnvState.IDLE
        return self._init

    def _init_timed_out(self, timeout: float) -> bool:
        self.kill("init-timeout")
        error = faults.make_error(f"Init timed out after {timeout:.2f} seconds", "Runtime.InitTimeout", [])
        self._init = _Init(False, timeout * 1000, error, self._read_log())
        return False

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
        return {"errorType": faults.EXIT_ERROR, "errorMessage": exit_description(status)}

    # -- invoke ------------------------------------------------------------------------------------------------
    def _frame_for(self, req: InvokeRequest, deadline_epoch_ms: int) -> bytes:
        header: dict[str, Any] = {
            "k": "i",
            "id": req.request_id,
            "dl": deadline_epoch_ms,
            "arn": req.invoked_function_arn,
        }
        if req.client_context is not None:
            header["cc"] = req.client_context
        if req.cognito_identity is not None:
            header["ci"] = req.cognito_identity
        return encode(header, req.payload)

    def invoke(self, req: InvokeRequest) -> InvokeOutcome:
        """Run one invocation, blocking until it finishes, fails, times out or the environment dies.

        The socket stays in blocking mode (no poll per read); the pool's monitor thread enforces the deadline
        by killing the environment, which ends the read."""
        started_wall = time.time()
        if not self.wait_init():
            return self._init_failure(req, started_wall)
        self.state = EnvState.BUSY
        timeout = self.spec.timeout_s
        t0 = time.perf_counter()
        self.deadline = time.monotonic() + timeout
        if self._sock_mode != "blocking":
            self._sock.settimeout(None)
            self._sock_mode = "blocking"
        try:
            self._sock.sendall(self._frame_for(req, int((started_wall + timeout) * 1000)))
            frame = self._reader.feed(b"")
            while frame is None:
                n = self._sock.recv_into(self._chunk)
                if not n:
                    raise ChannelClosed("environment closed its channel")
                frame = self._reader.feed(memoryview(self._chunk)[:n])
        except (ChannelClosed, OSError):
            if self.kill_reason == "timeout":
                return self._timed_out(req, started_wall)
            return self._crashed(req, started_wall, t0)
        finally:
            self.deadline = None
        return self._replied(req, frame, started_wall)

    async def invoke_async(self, req: InvokeRequest) -> InvokeOutcome:
        started_wall = time.time()
        if not await self.wait_init_async():
            return self._init_failure(req, started_wall)
        self.state = EnvState.BUSY
        timeout = self.spec.timeout_s
        t0 = time.perf_counter()
        deadline = time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        frame: Frame | None
        try:
            if self._sock_mode != "nonblocking":
                self._sock.setblocking(False)
                self._sock_mode = "nonblocking"
            await loop.sock_sendall(self._sock, self._frame_for(req, int((started_wall + timeout) * 1000)))
            frame = await self._read_async(deadline)
        except (ChannelClosed, OSError):
            return self._crashed(req, started_wall, t0)
        if frame is None:
            return self._timed_out(req, started_wall)
        return self._replied(req, frame, started_wall)

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

    # -- turning what happened into an outcome -----------------------------------------------------------------
    def _read_log(self) -> bytes:
        try:
            size = os.fstat(self._log_fd).st_size
        except OSError:
            return b""
        if size <= self._log_offset:
            self._log_offset = min(self._log_offset, size)
            return b""
        data = os.pread(self._log_fd, size - self._log_offset, self._log_offset)
        self._log_offset += len(data)
        return data

    def _rotate_log(self) -> None:
        if self._log_offset > _LOG_ROTATE_BYTES:
            try:
                os.ftruncate(self._log_fd, 0)
                self._log_offset = 0
            except OSError:
                pass

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
        error_type = error.get("errorType") if error else None
        memory = self._max_memory_mb()
        log = LogParts(
            prefix=prefix,
            body=body,
            limit=self._log_limit,
            suffix=suffix,
            request_id=req.request_id,
            version=self.spec.version,
            duration_ms=duration_ms,
            memory_mb=self.spec.memory_mb,
            max_memory_mb=memory,
            init_duration_ms=init_ms,
            status=status,
            error_type=error_type if status == "error" else None,
        )
        if self.state is not EnvState.DEAD:
            self.state = EnvState.IDLE
            self._rotate_log()
        return InvokeOutcome(
            request_id=req.request_id,
            outcome=outcome,
            payload=payload,
            error_type=error_type,
            error_message=error.get("errorMessage") if error else None,
            log_parts=log,
            duration_ms=duration_ms,
            billed_duration_ms=logs.billed_ms(duration_ms),
            memory_mb=self.spec.memory_mb,
            max_memory_mb=memory,
            init_duration_ms=init_ms,
            started_at=started_wall,
            finished_at=time.time(),
        )

    def _replied(self, req: InvokeRequest, frame: Frame, started_wall: float) -> InvokeOutcome:
        header, body = frame
        self.max_rss_kb = max(self.max_rss_kb, int(header.get("rss", 0)))
        error = None if header.get("ok") else json.loads(body)
        init_ms = self._cold_init_ms()
        init_log = self._init.log if init_ms is not None and self._init else b""
        return self._outcome(
            req,
            Outcome.OK if error is None else Outcome.ERROR,
            body,
            error,
            self._read_log(),
            float(header.get("ms", 0.0)),
            started_wall,
            init_ms,
            prefix=init_log.decode("utf-8", "replace"),
        )

    def _init_failure(self, req: InvokeRequest, started_wall: float) -> InvokeOutcome:
        assert self._init is not None
        self.state = EnvState.DEAD
        error = self._init.error or faults.make_error("Init failed", faults.EXIT_ERROR, [])
        error_type = str(error.get("errorType"))
        init_log = self._init.log + self._read_log()
        prefix = init_log.decode("utf-8", "replace") + logs.init_report_line(
            self._init.duration_ms, "init", "error", error_type
        )
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
            self._read_log(),
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
        description = exit_description(status)
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
            self._read_log(),
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
        for close in (self._sock.close, lambda: os.close(self._log_fd)):
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
