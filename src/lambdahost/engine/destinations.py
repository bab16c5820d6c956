"""Where the record of a finished asynchronous invocation goes: destinations and the dead-letter queue.

On success, the ``OnSuccess`` destination of the function's event invoke config gets an invocation record; on a
final failure (``RetriesExhausted``, ``EventAgeExceeded``, ``ZeroReservedConcurrency``, or a stopped recursive loop,
``RecursiveInvocationException``) the ``OnFailure`` destination gets one, and the function's ``DeadLetterConfig``
queue gets the raw event with the message attributes ``RequestID``, ``ErrorCode`` and ``ErrorMessage``. When both
are configured, both receive it (nothing is lost by configuring a second target).

The record has AWS's shape::

    {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
     "requestContext": {"requestId": ..., "functionArn": "...:$LATEST", "condition": "RetriesExhausted",
                        "approximateInvokeCount": 3},
     "requestPayload": {...},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
     "responsePayload": {...}}

``responseContext`` and ``responsePayload`` are left out when the function never ran (an event too old before its
first attempt, reserved concurrency 0, a stopped loop). A destination function receives the record as an
asynchronous invocation (its own retries and destinations apply; the trace goes on, so loops through destinations
are stopped too); a destination queue receives it as a message.

Delivery happens before the invocation's final status is stored: a worker lost in between runs the invocation
again, so a record may be delivered twice but never not at all (at-least-once, as on AWS).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from lambdahost.core.model import LATEST, EventInvokeConfig, Invocation, InvocationStatus

log = logging.getLogger(__name__)

SUCCESS = "Success"
RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"
ZERO_RESERVED_CONCURRENCY = "ZeroReservedConcurrency"
RECURSIVE_LOOP = "RecursiveInvocationException"


class QueueSender(Protocol):
    def __call__(self, queue_arn: str, body: str, attributes: Mapping[str, tuple[str, str]]) -> str:
        """Send ``body`` to the queue ``queue_arn`` with message attributes ``name -> (DataType, value)``;
        returns the message id. Raises a ``LambdaHostError`` when the queue does not exist."""
        ...


class FunctionSender(Protocol):
    def __call__(self, function_arn: str, payload: bytes, trace: str | None) -> str:
        """Queue an asynchronous invocation of ``function_arn``; returns its request id."""
        ...


def iso_timestamp(at: float) -> str:
    """``2019-11-14T18:16:05.568Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


def _json_or_text(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def invocation_record(invocation: Invocation, function_arn: str, condition: str, now: float) -> dict[str, Any]:
    """The destination record of ``invocation`` (its final state: result or error of the last attempt)."""
    ran = (
        invocation.duration_ms is not None
        or invocation.function_error is not None
        or any(step.status is InvocationStatus.RUNNING for step in invocation.transitions)  # e.g. lost with its worker
    )
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_timestamp(now),
        "requestContext": {
            "requestId": invocation.id,
            "functionArn": f"{function_arn}:{invocation.version}",
            "condition": condition,
            "approximateInvokeCount": invocation.attempt if ran else 0,
        },
        "requestPayload": _json_or_text(invocation.payload),
    }
    if ran:
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": invocation.version or LATEST}
        error = invocation.function_error or ("Unhandled" if invocation.error_type else None)
        if error:
            response["functionError"] = error
        record["responseContext"] = response
        payload = _json_or_text(invocation.result)
        if payload is None and invocation.error_type:  # the platform ended it (a lost worker): its error, as AWS's
            payload = {
                "errorMessage": invocation.error_message or invocation.error_type,
                "errorType": invocation.error_type,
            }
        record["responsePayload"] = payload
    return record


def dead_letter_attributes(invocation: Invocation, condition: str) -> dict[str, tuple[str, str]]:
    """``RequestID``, ``ErrorCode`` and ``ErrorMessage``, as AWS sets them on a dead-letter message."""
    code = "429" if condition == ZERO_RESERVED_CONCURRENCY else "200"
    message = invocation.error_message or invocation.error_type or condition
    return {
        "RequestID": ("String", invocation.id),
        "ErrorCode": ("Number", code),
        "ErrorMessage": ("String", message[:1024]),
    }


@dataclass(frozen=True)
class Routed:
    """What ``Router.route`` delivered: the ARNs that received the record (empty: nothing configured or every
    delivery failed) and the condition."""

    targets: tuple[str, ...]
    condition: str

    def apply(self, invocation: Invocation) -> Invocation:
        return invocation.replace(routed_to=", ".join(self.targets) or None, route_condition=self.condition)


class Router:
    def __init__(
        self,
        function_arn: Callable[[str], str],
        to_function: FunctionSender,
        to_queue: QueueSender,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._function_arn = function_arn
        self._to_function = to_function
        self._to_queue = to_queue
        self._clock = clock

    def route(
        self, invocation: Invocation, config: EventInvokeConfig, dead_letter_target: str | None, condition: str
    ) -> Routed:
        """Deliver the record of ``invocation`` (final: succeeded, or failed/terminated with ``condition``)."""
        succeeded = invocation.status is InvocationStatus.SUCCEEDED
        destination = config.on_success if succeeded else config.on_failure
        targets: list[str] = []
        if destination:
            record = invocation_record(
                invocation, self._function_arn(invocation.function_name), condition, self._clock()
            )
            if self._deliver(invocation, destination, json.dumps(record)):
                targets.append(destination)
        if not succeeded and dead_letter_target:
            body = invocation.payload.decode("utf-8", "replace")
            try:
                self._to_queue(dead_letter_target, body, dead_letter_attributes(invocation, condition))
                targets.append(dead_letter_target)
            except Exception:
                log.exception(
                    "could not deliver to the dead-letter queue",
                    extra={"action": "dead_letter_failed", "id": invocation.id, "target": dead_letter_target},
                )
        return Routed(tuple(targets), condition)

    def _deliver(self, invocation: Invocation, destination: str, body: str) -> bool:
        try:
            if destination.split(":")[2] == "lambda":
                self._to_function(destination, body.encode(), invocation.trace)
            else:
                self._to_queue(destination, body, {})
            return True
        except Exception:  # a destination deleted since it was configured: the record is lost, as on AWS, but said
            log.exception(
                "could not deliver an invocation record",
                extra={"action": "destination_failed", "id": invocation.id, "target": destination},
            )
            return False
