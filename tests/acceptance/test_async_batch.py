"""Batches of asynchronous invocations against a real ``lambdahost serve``: ``Client.invoke_async_batch`` and
``lambdahost invoke NAME --async --batch FILE``."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lambdahost.client import Client
from tests.waiting import eventually

if TYPE_CHECKING:
    from conftest import ServerProcess

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
ECHO = "def handler(event, context):\n    return {'n': event['n'], 'request_id': context.aws_request_id}\n"
REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def echo_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", ECHO)
    return buf.getvalue()


def unfinished(client: Client, function: str) -> int:
    return sum(q["count"] for q in client.queues() if q["function"] == function)


def test_a_batch_of_500_from_the_client_all_succeed_once(server: ServerProcess) -> None:
    with Client(server.url) as client:
        client.create_function("batch-echo", echo_zip(), "app.handler")
        ids = client.invoke_async_batch("batch-echo", [{"n": n} for n in range(500)])
        assert len(ids) == len(set(ids)) == 500 and all(REQUEST_ID.fullmatch(i) for i in ids)
        assert eventually(lambda: unfinished(client, "batch-echo") == 0, timeout=120, interval=0.1)
        records = [client.get_invocation(i) for i in ids]
    assert [r["status"] for r in records] == ["succeeded"] * 500
    assert [r["attempt"] for r in records] == [1] * 500
    assert [json.loads(r["result"]) for r in records] == [{"n": n, "request_id": i} for n, i in enumerate(ids)]


def test_cli_batch_prints_one_request_id_a_line(cli: CliRunner, server: ServerProcess, tmp_path: Path) -> None:
    with Client(server.url) as client:
        client.create_function("batch-cli", echo_zip(), "app.handler")
    batch = tmp_path / "events.jsonl"
    batch.write_text('{"n": 0}\n\n{"n": 1}\n  {"n": 2}  \n')
    result = cli("invoke", "batch-cli", "--async", "--batch", str(batch))
    assert result.returncode == 0, result.stderr
    ids = result.stdout.splitlines()
    assert len(ids) == 3 and all(REQUEST_ID.fullmatch(i) for i in ids)
    from_stdin = cli("invoke", "batch-cli", "--async", "--batch", "-", stdin='{"n": 3}\n{"n": 4}\n')
    assert from_stdin.returncode == 0, from_stdin.stderr
    ids += from_stdin.stdout.splitlines()
    with Client(server.url) as client:
        assert eventually(lambda: unfinished(client, "batch-cli") == 0, timeout=60, interval=0.1)
        records = [client.get_invocation(i) for i in ids]
    assert [r["status"] for r in records] == ["succeeded"] * 5
    assert [json.loads(r["result"])["n"] for r in records] == [0, 1, 2, 3, 4]

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"n": 5}\n{"n": \n')
    refused = cli("invoke", "batch-cli", "--async", "--batch", str(bad))
    assert refused.returncode == 2 and "line 2 is not JSON" in refused.stderr
    assert cli("invoke", "batch-cli", "--batch", str(batch)).returncode == 2, "--batch without --async"
    both = cli("invoke", "batch-cli", "--async", "--batch", str(batch), "--payload", "{}")
    assert both.returncode == 2 and "not both" in both.stderr
    missing = cli("invoke", "batch-cli-missing", "--async", "--batch", str(batch))
    assert missing.returncode == 2 and "Function not found" in missing.stderr
