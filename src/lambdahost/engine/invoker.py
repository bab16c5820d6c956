"""Synchronous invocation: check the request, admit it, run it in a warm (or new) environment, record it.

``invoke`` blocks the calling thread (Python client, CLI, workers); ``invoke_async`` is the same path for the
asyncio HTTP server. Both return an ``InvokeResult`` shaped for AWS's Invoke response.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdahost.core.errors import (
    InvalidParameterValue,
    InvalidRequestContent,
    RecursiveInvocation,
    RequestTooLarge,
    TooManyRequests,
)
from lambdahost.core.ids import new_request_id
from lambdahost.core.lifecycle import SYNC_PATH
from lambdahost.core.model import (
    FunctionConfig,
    Invocation,
    InvocationStatus,
    InvocationType,
    Transition,
)
from lambdahost.core.names import parse_function_ref
from lambdahost.core.secrets import Masker
from lambdahost.engine import lineage
from lambdahost.engine.admission import Admission
from lambdahost.engine.artifacts import Artifacts
from lambdahost.engine.functions import FunctionService
from lambdahost.engine.recorder import InvocationRecorder
from lambdahost.runtime import logs
from lambdahost.runtime.environment import Environment
from lambdahost.runtime.pool import EnvironmentPool
from lambdahost.runtime.spec import EnvironmentSpec, InvokeOutcome, InvokeRequest, Outcome

MAX_SYNC_PAYLOAD = 6291456
MAX_CLIENT_CONTEXT = 3583
RECORD_BODY_LIMIT = 256 * 1024

_FINAL_STATUS = {
    Outcome.OK: InvocationStatus.SUCCEEDED,
    Outcome.ERROR: InvocationStatus.FAILED,
    Outcome.INIT_ERROR: InvocationStatus.FAILED,
    Outcome.CRASH: InvocationStatus.FAILED,
    Outcome.TIMEOUT: InvocationStatus.TERMINATED,
    Outcome.OUT_OF_MEMORY: InvocationStatus.TERMINATED,
}


@dataclass(slots=True)
class InvokeResult:
    request_id: str
    payload: bytes
    function_error: str | None
    executed_version: str
    outcome: InvokeOutcome

    @property
    def log(self) -> str:
        return self.outcome.log

    @property
    def log_tail_b64(self) -> str:
        return logs.tail_b64(self.log)


@dataclass(slots=True)
class _Call:
    config: FunctionConfig
    spec: EnvironmentSpec
    request: InvokeRequest
    created_at: float
    admitted_at: float
    shared_slot: bool


def decode_client_context(raw: str | None) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_CLIENT_CONTEXT:
        raise InvalidParameterValue(f"Client context must be smaller than {MAX_CLIENT_CONTEXT} bytes.")
    try:
        value = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestContent(f"Client context must be a valid Base64-encoded JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
    return value


def invalid_payload(detail: str) -> InvalidRequestContent:
    return InvalidRequestContent(f"Could not parse request body into json: Could not parse payload into json: {detail}")


def check_payload_size(payload: bytes) -> None:
    if len(payload) > MAX_SYNC_PAYLOAD:
        raise RequestTooLarge(f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation")


def check_payload_json(payload: bytes) -> None:
    """The JSON check of a payload that is stored before it runs (asynchronous invocations). A synchronous invoke
    checks only the size up front: the environment parses the payload anyway and reports one that is not JSON
    before running anything (``Outcome.INVALID_EVENT``), which the invoker turns into the same error."""
    if payload and not payload.isspace():
        try:
            json.loads(payload)
        except ValueError as exc:
            raise invalid_payload(str(exc)) from None


class Invoker:
    def __init__(
        self,
        functions: FunctionService,
        pool: EnvironmentPool,
        admission: Admission,
        recorder: InvocationRecorder,
        worker_id: str | None = None,
        on_throttle: Callable[[str, str], None] | None = None,
        artifacts: Artifacts | None = None,
    ) -> None:
        self.artifacts = artifacts  # stores what functions leave in their output directories
        self.functions = functions
        self.pool = pool
        self.admission = admission
        self.recorder = recorder
        self.on_throttle = on_throttle  # (function, reason) of a refused request: Metrics.throttled
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"

    def _prepare(
        self,
        function_name: str,
        payload: bytes,
        qualifier: str | None,
        client_context: str | None,
        request_id: str | None,
        trace: str | None = None,
        masker: Masker | None = None,
    ) -> _Call:
        created_at = time.time()
        check_payload_size(payload)
        context = decode_client_context(client_context) if client_context else None
        target = self.functions.target(function_name, qualifier)
        config = target.config
        if target.spec.refused is not None:  # its configuration references a secret that does not exist
            raise target.spec.refused
        if trace is not None:  # called from inside a function: the chain goes on, and loops are stopped
            trace, runs = lineage.extend(trace, config.name, created_at)
            if runs > lineage.MAX_RUNS_PER_CHAIN:
                raise RecursiveInvocation(lineage.RECURSION_MESSAGE)
        try:
            shared = self.admission.acquire(config.name)
        except TooManyRequests as exc:
            if self.on_throttle is not None:
                self.on_throttle(config.name, exc.reason)
            raise
        request = InvokeRequest(
            request_id or new_request_id(), payload, target.invoked_arn, context, trace=trace, masker=masker
        )
        return _Call(config, target.spec, request, created_at, time.time(), shared)

    def dry_run(self, function_name: str, qualifier: str | None = None) -> FunctionConfig:
        """``InvocationType: DryRun``: checks that the function exists and could be invoked."""
        ref = parse_function_ref(function_name, qualifier)
        return self.functions.get(ref.name, ref.qualifier)

    def invoke(
        self,
        function_name: str,
        payload: bytes = b"",
        qualifier: str | None = None,
        client_context: str | None = None,
        request_id: str | None = None,
        trace: str | None = None,
        masker: Masker | None = None,
    ) -> InvokeResult:
        call = self._prepare(function_name, payload, qualifier, client_context, request_id, trace, masker)
        try:
            env = self.pool.acquire(call.spec)
            ready_at = time.time()
            try:
                outcome = env.invoke(call.request, self.pool.spin_window())
            finally:
                self.pool.release(env)
        finally:
            self.admission.release(call.config.name, call.shared_slot)
        return self._finish(call, ready_at, outcome)

    async def invoke_async(
        self,
        function_name: str,
        payload: bytes = b"",
        qualifier: str | None = None,
        client_context: str | None = None,
        request_id: str | None = None,
        trace: str | None = None,
        masker: Masker | None = None,
    ) -> InvokeResult:
        call = self._prepare(function_name, payload, qualifier, client_context, request_id, trace, masker)
        try:
            env = self.pool.try_acquire_warm(call.spec) or await self._acquire_cold(call.spec)
            ready_at = time.time()
            try:
                outcome = await env.invoke_async(call.request, self.pool.spin_window())
            finally:
                self.pool.release(env)
        finally:
            self.admission.release(call.config.name, call.shared_slot)
        return self._finish(call, ready_at, outcome)

    async def _acquire_cold(self, spec: EnvironmentSpec) -> Environment:
        """A new environment, started on a thread; if the caller gives up meanwhile, it goes back to the pool."""
        acquiring = asyncio.ensure_future(asyncio.to_thread(self.pool.acquire, spec))
        try:
            return await asyncio.shield(acquiring)
        except asyncio.CancelledError:
            acquiring.add_done_callback(
                lambda done: None if done.cancelled() or done.exception() else self.pool.release(done.result())
            )
            raise

    def _finish(self, call: _Call, ready_at: float, outcome: InvokeOutcome) -> InvokeResult:
        if outcome.outcome is Outcome.INVALID_EVENT:
            raise invalid_payload(outcome.error_message or "")
        if outcome.artifacts is not None and self.artifacts is not None:  # files to keep: stored off the request path
            self.recorder.submit(lambda: self._record_with_artifacts(call, ready_at, outcome))
        else:
            self.recorder.submit(lambda: self._record(call, ready_at, outcome))
        return InvokeResult(outcome.request_id, outcome.payload, outcome.function_error, call.config.version, outcome)

    def _record_with_artifacts(self, call: _Call, ready_at: float, outcome: InvokeOutcome) -> Invocation:
        assert self.artifacts is not None and outcome.artifacts is not None
        self.artifacts.save(outcome.request_id, outcome.artifacts.files)
        return self._record(call, ready_at, outcome)

    def _record(self, call: _Call, ready_at: float, outcome: InvokeOutcome) -> Invocation:
        status = _FINAL_STATUS[outcome.outcome]
        times = (call.created_at, call.created_at, call.admitted_at, ready_at)
        path = [Transition(state, at, self.worker_id) for state, at in zip(SYNC_PATH, times, strict=True)]
        transitions = (*path, Transition(status, outcome.finished_at, self.worker_id))
        return Invocation(
            id=outcome.request_id,
            function_name=call.config.name,
            version=call.config.version,
            type=InvocationType.SYNC,
            status=status,
            created_at=call.created_at,
            transitions=transitions,
            payload=_kept_payload(call.request),
            trace=call.request.trace,
            **record_fields(outcome, self.worker_id),
        )


def _kept_payload(request: InvokeRequest) -> bytes:
    """The payload as recorded: secret values the event was given (a run's parameters) masked."""
    if len(request.payload) > RECORD_BODY_LIMIT:
        return b""
    return request.payload if request.masker is None else request.masker.mask_bytes(request.payload)


def record_fields(outcome: InvokeOutcome, worker: str) -> dict[str, Any]:
    """The fields of an invocation record that one run produced (result, error, log, measurements)."""
    return {
        "result": outcome.payload if len(outcome.payload) <= RECORD_BODY_LIMIT else None,
        "function_error": outcome.function_error,
        "error_type": outcome.error_type,
        "error_message": outcome.error_message,
        "log": outcome.log,
        "log_truncated": outcome.log_truncated,
        "duration_ms": outcome.duration_ms,
        "billed_duration_ms": outcome.billed_duration_ms,
        "init_duration_ms": outcome.init_duration_ms,
        "max_memory_mb": outcome.max_memory_mb,
        "memory_mb": outcome.memory_mb,
        "worker": worker,
        "finished_at": outcome.finished_at,
    }
