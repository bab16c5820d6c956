"""Batches of asynchronous invocations (lambdahost's own ``POST /lambdahost/v1/functions/{name}/invocations``):
their limits, how a payload is written, and how a client splits a long list into requests. Pure: the engine, the
API and the client share it, so a client's requests always fit the server's limits.

A batch request is ``{"Payloads": [<any JSON value>, ...], "Lane": 0, "Qualifier": null}``. Each payload is
stored as its compact JSON (``encode_payload``): the value, not the client's bytes (keys keep their order;
whitespace goes; a number is written as Python's ``json`` writes it, so ``1E2`` becomes ``100.0``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from lambdahost.core.errors import RequestTooLarge

MAX_BATCH_INVOCATIONS = 10_000  # payloads in one batch
MAX_BATCH_BYTES = 6_291_456  # a batch request's body, and the sum of its stored payloads (a synchronous Invoke's)
MAX_BATCH_PAYLOAD = 1_048_576  # one payload: an Event invocation's limit (``engine.enqueue.MAX_EVENT_PAYLOAD``)

_PREFIX = b'{"Payloads":['


def check_count(count: int) -> None:
    """``RequestTooLarge`` for a batch of more than ``MAX_BATCH_INVOCATIONS`` payloads."""
    if count > MAX_BATCH_INVOCATIONS:
        raise RequestTooLarge(f"A batch holds at most {MAX_BATCH_INVOCATIONS} payloads, not {count}.")


def encode_payload(value: Any) -> bytes:
    """The stored bytes of one payload: compact JSON, non-ASCII text as UTF-8 (``\\u`` escapes only for what UTF-8
    cannot carry: a lone surrogate makes the whole payload ASCII-escaped)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()


def request_body(payloads: Sequence[bytes], lane: int | None = None, qualifier: str | None = None) -> bytes:
    """The body of one batch request carrying already encoded ``payloads``."""
    options = b"" if lane is None else b',"Lane":' + str(lane).encode()
    if qualifier is not None:
        options += b',"Qualifier":' + json.dumps(qualifier).encode()
    return _PREFIX + b",".join(payloads) + b"]" + options + b"}"


def split(
    payloads: Sequence[bytes],
    overhead: int = 64,
    max_invocations: int = MAX_BATCH_INVOCATIONS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[slice]:
    """Consecutive slices of ``payloads`` (encoded), each small enough for one request: at most
    ``max_invocations`` payloads and a body (payloads, commas and ``overhead`` bytes of wrapper) of at most
    ``max_bytes``. A payload too large for any request is the caller's to refuse first."""
    start, size = 0, overhead
    for n, payload in enumerate(payloads):
        grown = size + len(payload) + 1
        if n > start and (n - start >= max_invocations or grown > max_bytes):
            yield slice(start, n)
            start, grown = n, overhead + len(payload) + 1
        size = grown
    if start < len(payloads):
        yield slice(start, len(payloads))
