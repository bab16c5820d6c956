"""Event invokes answered over real HTTP by a server on PostgreSQL, where concurrent ones are committed together
(group commit): every 202 is for an invocation that is stored, a bad request fails alone, and the worker runs
them all."""

from __future__ import annotations

import base64
import io
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdahost.client import Client
from lambdahost.core.errors import InvalidRequestContent
from lambdahost.core.model import InvocationStatus
from lambdahost.core.settings import Settings
from lambdahost.server import Platform
from tests.integration.serving import http_server

pytestmark = pytest.mark.postgres


def zipped() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def platform(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Platform]:
    url = request.getfixturevalue("pg_url")
    with Platform(Settings(data_dir=tmp_path, store_url=url, retry_delays_s=(0.1, 0.2))) as p:
        yield p


def test_concurrent_event_invokes_are_all_committed_and_a_bad_one_fails_alone(platform: Platform) -> None:
    assert not platform.store.local_writes, "PostgreSQL: the group-commit path"
    platform.functions.create(
        {"FunctionName": "grouped", "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": zipped()}}
    )
    acked: list[str] = []
    refused: list[Exception] = []
    lock = threading.Lock()
    with http_server(platform) as url:

        def fire(thread: int) -> None:
            with Client(url) as client:
                for n in range(40):
                    try:
                        if thread == 0 and n == 20:
                            client.invoke_async("grouped", b"{not json")
                        request_id = client.invoke_async("grouped", {"thread": thread, "n": n})
                    except InvalidRequestContent as exc:
                        with lock:
                            refused.append(exc)
                        continue
                    with lock:
                        acked.append(request_id)

        threads = [threading.Thread(target=fire, args=(t,)) for t in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(refused) == 1, "the payload that is not JSON was refused, alone"
    assert len(acked) == len(set(acked)) == 6 * 40 - 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = platform.store.list_invocations("grouped", limit=1000)
        if len(listed) == len(acked) and all(inv.status is InvocationStatus.SUCCEEDED for inv in listed):
            break
        time.sleep(0.05)
    listed = platform.store.list_invocations("grouped", limit=1000)
    assert {inv.id for inv in listed} == set(acked), "every 202 is a stored invocation, and nothing else is"
    assert all(inv.status is InvocationStatus.SUCCEEDED for inv in listed)
