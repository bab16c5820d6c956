"""Asynchronous invocation, the accepting side: check the request, store it in the queue, wake the workers.

``Invoke`` with ``InvocationType: Event`` (and the legacy ``InvokeAsync``) is answered 202 only once
``enqueue`` has returned, that is once the invocation is committed to the store: nothing acknowledged is lost.
The request id is the invocation's id and stays the same across retries.
"""

from __future__ import annotations

from collections.abc import Callable

from lambdahost.core.errors import InvalidParameterValue, RequestTooLarge
from lambdahost.core.ids import Clock, new_request_id, wall_clock
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType, Transition
from lambdahost.engine.functions import FunctionService
from lambdahost.engine.invoker import check_payload_json
from lambdahost.engine.lineage import MAX_TRACE_LENGTH
from lambdahost.storage.base import Store

MAX_EVENT_PAYLOAD = 1048576  # InvocationType Event
MAX_INVOKE_ASYNC_PAYLOAD = 262144  # the deprecated InvokeAsync operation


class Enqueuer:
    def __init__(
        self,
        functions: FunctionService,
        store: Store,
        node_id: str,
        wake: Callable[[], None] = lambda: None,
        clock: Clock = wall_clock,
    ) -> None:
        self.functions = functions
        self.store = store
        self.node_id = node_id
        self._wake = wake
        self._clock = clock

    def enqueue(
        self,
        function_name: str,
        payload: bytes = b"",
        qualifier: str | None = None,
        lane: int = 0,
        legacy: bool = False,
        trace: str | None = None,
    ) -> str:
        """Queue an invocation of ``function_name`` in ``lane``; returns its request id once it is committed.
        ``trace`` is the caller's X-Amzn-Trace-Id (an invocation made from inside a function carries its chain)."""
        limit, operation = (
            (MAX_INVOKE_ASYNC_PAYLOAD, "InvokeAsync") if legacy else (MAX_EVENT_PAYLOAD, "InvokeFunction")
        )
        if len(payload) > limit:
            raise RequestTooLarge(f"Request must be smaller than {limit} bytes for the {operation} operation")
        check_payload_json(payload)
        target = self.functions.target(function_name, qualifier)
        lanes = 1 if target.config.lanes is None else len(target.config.lanes)
        if not 0 <= lane < lanes:
            raise InvalidParameterValue(
                f"Lane {lane} does not exist: function {target.config.name} has "
                + ("lane 0 only." if lanes == 1 else f"lanes 0 to {lanes - 1}.")
            )
        now = self._clock()
        invocation = Invocation(
            id=new_request_id(),
            function_name=target.config.name,
            version=target.config.version,
            type=InvocationType.EVENT,
            status=InvocationStatus.PENDING,
            created_at=now,
            transitions=(
                Transition(InvocationStatus.CREATED, now, self.node_id),
                Transition(InvocationStatus.PENDING, now, self.node_id),
            ),
            lane=lane,
            payload=payload,
            available_at=now,
            trace=trace if trace and len(trace) <= MAX_TRACE_LENGTH else None,
        )
        self.store.enqueue(invocation)
        self._wake()
        return invocation.id
