"""``lambdahost status`` and ``GET /metrics`` of a real ``lambdahost serve`` process, through the real CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client.parser import text_string_to_metric_families

from lambdahost.client import Client

if TYPE_CHECKING:
    from conftest import ServerProcess

CliRunner = Callable[..., subprocess.CompletedProcess[str]]

HANDLER = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("boom")
    return "ok"
"""


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def test_status_shows_the_numbers_of_metrics(cli: CliRunner, server: ServerProcess, tmp_path: Path) -> None:
    folder = tmp_path / "counted"
    folder.mkdir()
    (folder / "app.py").write_text(HANDLER)
    ok(cli("create", "status-counted", "--code", str(folder), "--handler", "app.handler"))
    try:
        for payload in ('{"n": 1}', '{"n": 2}'):
            ok(cli("invoke", "status-counted", "--payload", payload))
        assert cli("invoke", "status-counted", "--payload", '{"fail": true}').returncode == 1

        numbers = json.loads(ok(cli("status", "--json")).stdout)
        row = next(f for f in numbers["functions"] if f["function"] == "status-counted")
        assert (row["succeeded"], row["failed"], row["terminated"], row["cold_starts"]) == (2, 1, 0, 1)
        assert row["duration_ms"]["count"] == 3 and row["init_duration_ms"]["count"] == 1
        assert {"function": "status-counted", "idle": 1, "busy": 0} in numbers["environments"]
        assert numbers["store"] == "sqlite" and numbers["store_up"] is True
        assert [w["alive"] for w in numbers["workers"] if w["id"] == numbers["worker"]] == [True]

        with Client(server.url) as client:
            families = {f.name: f for f in text_string_to_metric_families(client.metrics())}
        counted = {
            sample.labels["outcome"]: sample.value
            for sample in families["lambdahost_invocations"].samples
            if sample.name == "lambdahost_invocations_total" and sample.labels["function"] == "status-counted"
        }
        assert counted == {"succeeded": 2, "failed": 1}

        text = ok(cli("status")).stdout
        assert text.startswith("lambdahost ") and f"worker {numbers['worker']}" in text.splitlines()[0]
        lines = text.splitlines()
        header = lines.index("Invocations finished by this server since it started:") + 1
        assert lines[header].split()[:4] == ["FUNCTION", "SUCCEEDED", "FAILED", "TERMINATED"]
        counted_row = next(line.split() for line in lines if line.startswith("status-counted "))
        assert counted_row[:7] == ["status-counted", "2", "1", "0", "0", "1", "0"]
        assert any(line.startswith("Queues (exact") for line in lines)
        assert any(line.startswith("Workers:") for line in lines)
    finally:
        ok(cli("delete", "status-counted"))
