"""Asynchronous invocation, the accepting side: check the request, store it in the queue, wake the workers.

``Invoke`` with ``InvocationType: Event`` (and the legacy ``InvokeAsync``) is answered 202 only once
``enqueue`` has returned, that is once the invocation is committed to the store: nothing acknowledged is lost.
The request id is the invocation's id and stays the same across retries. A batch (``enqueue_many``, lambdahost's
native ``POST /lambdahost/v1/functions/{name}/invocations``) is committed in one transaction, all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lambdahost.core.batches import MAX_BATCH_BYTES, check_count
from lambdahost.core.errors import InvalidParameterValue, InvalidRequestContent, RequestTooLarge
from lambdahost.core.ids import Clock, new_request_id, wall_clock
from lambdahost.core.model import FunctionConfig, Invocation, InvocationStatus, InvocationType, Transition
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
        wake: Callable[[str, int], None] = lambda function_name, lane: None,
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
        invocation = self.prepare(function_name, payload, qualifier, lane, legacy, trace)
        self.commit([invocation])
        return invocation.id

    def prepare(
        self,
        function_name: str,
        payload: bytes = b"",
        qualifier: str | None = None,
        lane: int = 0,
        legacy: bool = False,
        trace: str | None = None,
    ) -> Invocation:
        """The checks of ``enqueue`` and the invocation it would queue, not stored yet (``commit`` stores it)."""
        limit, operation = (
            (MAX_INVOKE_ASYNC_PAYLOAD, "InvokeAsync") if legacy else (MAX_EVENT_PAYLOAD, "InvokeFunction")
        )
        if len(payload) > limit:
            raise RequestTooLarge(f"Request must be smaller than {limit} bytes for the {operation} operation")
        check_payload_json(payload)
        config = self._target(function_name, qualifier, lane)
        return self._queued(config, payload, lane, trace, self._clock())

    def commit(self, invocations: Sequence[Invocation]) -> None:
        """Store prepared invocations in one transaction (all or nothing) and wake the workers of their lanes."""
        if len(invocations) == 1:
            self.store.enqueue(invocations[0])
        else:
            self.store.enqueue_many(invocations)
        for function_name, lane in {(inv.function_name, inv.lane) for inv in invocations}:
            self._wake(function_name, lane)

    def enqueue_many(
        self,
        function_name: str,
        payloads: Sequence[bytes],
        qualifier: str | None = None,
        lane: int = 0,
        trace: str | None = None,
    ) -> list[str]:
        """Queue one invocation per payload, all in one store transaction: their request ids, in order, once all
        are committed. Each payload is checked as ``enqueue`` checks an Event's (at most 1 MB, JSON); a batch
        holds at most ``MAX_BATCH_INVOCATIONS`` (10,000) payloads totalling at most ``MAX_BATCH_BYTES`` (6 MB).
        Nothing is queued when any check fails; the error names the index of the payload (``Payloads[3]: ...``).

        The invocations are created one microsecond apart, the last at the clock's reading, so the workers claim
        them in the order given (a claim takes the oldest first). An empty batch queues nothing."""
        config = self._target(function_name, qualifier, lane)
        check_batch(payloads)
        if not payloads:
            return []
        now, last = self._clock(), len(payloads) - 1
        invocations = [self._queued(config, p, lane, trace, now - (last - n) * 1e-6) for n, p in enumerate(payloads)]
        self.store.enqueue_many(invocations)
        self._wake(config.name, lane)
        return [invocation.id for invocation in invocations]

    def _target(self, function_name: str, qualifier: str | None, lane: int) -> FunctionConfig:
        """The configuration an invocation of ``function_name`` runs with; ``lane`` must be one of its lanes."""
        target = self.functions.target(function_name, qualifier)
        lanes = 1 if target.config.lanes is None else len(target.config.lanes)
        if not 0 <= lane < lanes:
            raise InvalidParameterValue(
                f"Lane {lane} does not exist: function {target.config.name} has "
                + ("lane 0 only." if lanes == 1 else f"lanes 0 to {lanes - 1}.")
            )
        return target.config

    def _queued(self, config: FunctionConfig, payload: bytes, lane: int, trace: str | None, now: float) -> Invocation:
        """A new pending Event invocation, created at ``now``."""
        return Invocation(
            id=new_request_id(),
            function_name=config.name,
            version=config.version,
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


def check_batch(payloads: Sequence[bytes]) -> None:
    """The checks of ``Enqueuer.enqueue_many`` on its payloads: ``RequestTooLarge`` or ``InvalidRequestContent``,
    naming the index of the first bad payload."""
    check_count(len(payloads))
    total = 0
    for n, payload in enumerate(payloads):
        if len(payload) > MAX_EVENT_PAYLOAD:
            raise RequestTooLarge(
                f"Payloads[{n}]: Request must be smaller than {MAX_EVENT_PAYLOAD} bytes for the InvokeFunction "
                "operation"
            )
        try:
            check_payload_json(payload)
        except InvalidRequestContent as exc:
            detail = exc.message.removeprefix("Could not parse request body into json: ")
            raise InvalidRequestContent(f"Payloads[{n}]: {detail}") from None
        total += len(payload)
    if total > MAX_BATCH_BYTES:
        raise RequestTooLarge(f"The payloads of a batch must total at most {MAX_BATCH_BYTES} bytes, not {total}.")
