"""Paging a function's logs: the native API's ``NextToken`` and the CLI's ``LogCursor`` (read against the
in-memory store through the same token functions the API uses)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from lambdahost.api.native import log_token, parse_log_token
from lambdahost.cli.logs import OVERLAP_S, PAGE, LogCursor
from lambdahost.client import LogPage
from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType
from lambdahost.storage.memory import InMemoryStore

T = 1_700_000_000.123456


@pytest.mark.parametrize(
    "position",
    [(T, "4f1c2a9e-0d3b-4c5e-8f6a-7b8c9d0e1f2a"), (0.0, ""), (1e-7, "ünï/cödé?&="), (1_700_000_000, "x")],
)
def test_a_token_carries_its_position_exactly(position: tuple[float, str]) -> None:
    token = log_token(position)
    assert token.isascii() and "=" not in token and "/" not in token and "+" not in token  # safe in a query
    assert parse_log_token(token) == position


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not base64!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b'{"finished_at": 1}').decode(),
        base64.urlsafe_b64encode(b'[1.5, "id", 3]').decode(),
        base64.urlsafe_b64encode(b'["1.5", "id"]').decode(),
        base64.urlsafe_b64encode(b"[1.5, 7]").decode(),
        base64.urlsafe_b64encode(b'[true, "id"]').decode(),
        base64.urlsafe_b64encode(b'[NaN, "id"]').decode(),
        base64.urlsafe_b64encode(b'[Infinity, "id"]').decode(),
    ],
)
def test_anything_but_a_token_is_an_invalid_parameter(token: str) -> None:
    with pytest.raises(InvalidParameterValue, match="next must be a NextToken"):
        parse_log_token(token)


class StoreClient:
    """``Client.function_logs`` answered from a store the way the native API answers it."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.requests: list[tuple[float | None, str | None]] = []

    def function_logs(self, name: str, after: float = 0.0, limit: int = 100, *, next_token: str | None = None) -> Any:
        self.requests.append((None if next_token else after, next_token))
        position = parse_log_token(next_token) if next_token else (after, "")
        rows = self.store.invocation_logs_after(name, position, limit)
        if rows:
            position = (rows[-1].finished_at or 0.0, rows[-1].id)
        events = [{"id": r.id, "finished_at": r.finished_at, "status": r.status.value, "log": r.log} for r in rows]
        return LogPage(events, log_token(position))


def finished(inv_id: str, finished_at: float) -> Invocation:
    return Invocation(
        id=inv_id,
        function_name="fn",
        version="$LATEST",
        type=InvocationType.SYNC,
        status=InvocationStatus.SUCCEEDED,
        created_at=finished_at - 1,
        log=f"log of {inv_id}\n",
        finished_at=finished_at,
    )


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [event["id"] for event in events]


def test_cursor_prints_each_invocation_once_through_pages_of_one_finished_at_and_late_records() -> None:
    store = InMemoryStore()
    client = StoreClient(store)
    burst = [f"id-{n:03d}" for n in range(250)]
    store.insert_invocations([finished(inv_id, T) for inv_id in burst])
    cursor = LogCursor(client, "fn", 0.0)  # type: ignore[arg-type]

    assert ids(cursor.poll()) == burst
    assert client.requests[0] == (0.0, None)
    assert [after for after, token in client.requests[1:]] == [None, None]  # pages 2 and 3 by token
    assert cursor.poll() == []

    store.insert_invocations([finished("newer", T + 2)])
    assert ids(cursor.poll()) == ["newer"]
    # finished before "newer" but stored after it (a batch, or another worker): found by the overlap
    store.insert_invocations([finished("late", T + 1)])
    assert ids(cursor.poll()) == ["late"]
    assert cursor.poll() == []
    # too late even for the overlap: behind every later poll's starting point
    store.insert_invocations([finished("much-later", T + 3 * OVERLAP_S), finished("lost", T + 2 - OVERLAP_S - 1)])
    assert ids(cursor.poll()) == ["much-later"]


def test_cursor_starts_at_since_and_reads_a_full_last_page_to_its_end() -> None:
    store = InMemoryStore()
    client = StoreClient(store)
    store.insert_invocations([finished("old", T - 60)])
    store.insert_invocations([finished(f"id-{n:03d}", T + n) for n in range(PAGE)])
    cursor = LogCursor(client, "fn", T - 30)  # type: ignore[arg-type]
    assert ids(cursor.poll()) == [f"id-{n:03d}" for n in range(PAGE)]
    assert len(client.requests) == 2  # a full page, then an empty one that ends the poll
    assert cursor.poll() == []
