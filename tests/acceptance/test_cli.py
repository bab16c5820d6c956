"""The ``lambdahost`` command, run as a real subprocess against a real ``lambdahost serve``."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from lambdahost.client import Client
from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType
from lambdahost.core.settings import Settings
from lambdahost.storage.base import open_store
from tests.waiting import eventually

if TYPE_CHECKING:
    from conftest import ServerProcess

CliRunner = Callable[..., subprocess.CompletedProcess[str]]

HANDLER = """
import os

VERSION = {version}


def handler(event, context):
    event = event or {{}}
    print(f"handling {{event.get('name')}}")
    if event.get("fail"):
        raise ValueError("boom")
    return {{"hello": event.get("name"), "greeting": os.environ.get("GREETING"),
            "request_id": context.aws_request_id, "version": VERSION}}
"""


def function_folder(root: Path, version: int = 1) -> Path:
    folder = root / f"src-v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(HANDLER.format(version=version))
    return folder


def function_zip(root: Path) -> Path:
    path = root / "function.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", HANDLER.format(version=1))
    return path


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


@pytest.fixture(scope="module")
def greeter(cli: CliRunner, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A function created from a folder, shared by the tests that only invoke or read it."""
    folder = function_folder(tmp_path_factory.mktemp("greeter"))
    result = ok(cli("create", "cli-greeter", "--code", str(folder), "--handler", "app.handler"))
    assert result.stdout.startswith("created cli-greeter: python3.11 app.handler, 128 MB, timeout 3 s")
    return "cli-greeter"


def test_create_from_folder_then_list(cli: CliRunner, greeter: str) -> None:
    lines = ok(cli("list")).stdout.splitlines()
    assert lines[0].split()[:4] == ["NAME", "RUNTIME", "PYTHON", "HANDLER"]
    row = next(line.split() for line in lines if line.startswith(greeter + " "))
    # python3.11 runs on the server's own Python when that is 3.11, else on a 3.11 found on this machine
    assert row[:2] == [greeter, "python3.11"] and row[2].startswith("3.11.")
    assert row[3:6] == ["app.handler", "128", "3"]


def test_invoke_inline_payload(cli: CliRunner, greeter: str) -> None:
    result = ok(cli("invoke", greeter, "--payload", '{"name": "Ada"}'))
    body = json.loads(result.stdout)
    assert body["hello"] == "Ada"
    assert body["version"] == 1
    assert result.stdout.startswith("{\n  ")  # pretty-printed
    raw = ok(cli("invoke", greeter, "--payload", '{"name": "Bo"}', "--raw"))
    assert "\n" not in raw.stdout
    assert json.loads(raw.stdout)["hello"] == "Bo"


def test_create_from_zip_and_payload_from_file(cli: CliRunner, tmp_path: Path) -> None:
    created = cli(
        "create",
        "cli-zipped",
        "--code",
        str(function_zip(tmp_path)),
        "--handler",
        "app.handler",
        "--memory",
        "256",
        "--timeout",
        "5",
        "--env",
        "GREETING=hi",
        "--description",
        "from a zip",
    )
    assert ok(created).stdout.startswith("created cli-zipped: python3.11 app.handler, 256 MB, timeout 5 s")
    event = tmp_path / "event.json"
    event.write_text('{"name": "file"}')
    body = json.loads(ok(cli("invoke", "cli-zipped", "--payload", f"@{event}")).stdout)
    assert (body["hello"], body["greeting"]) == ("file", "hi")
    body = json.loads(ok(cli("invoke", "cli-zipped", "--payload", "@-", stdin='{"name": "stdin"}')).stdout)
    assert body["hello"] == "stdin"


def test_function_error_exits_1_and_prints_the_error(cli: CliRunner, greeter: str) -> None:
    result = cli("invoke", greeter, "--payload", '{"fail": true}')
    assert result.returncode == 1, result.stderr
    error = json.loads(result.stdout)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom"
    assert "function error (Unhandled): ValueError: boom" in result.stderr


def test_invoke_log_prints_the_tail_to_stderr(cli: CliRunner, greeter: str) -> None:
    result = ok(cli("invoke", greeter, "--payload", '{"name": "logged"}', "--log"))
    request_id = json.loads(result.stdout)["request_id"]
    assert f"START RequestId: {request_id} Version: $LATEST" in result.stderr
    assert "handling logged" in result.stderr
    assert f"END RequestId: {request_id}" in result.stderr
    assert f"REPORT RequestId: {request_id}\tDuration: " in result.stderr
    assert "START" not in result.stdout


def test_update_code_and_configuration(cli: CliRunner, tmp_path: Path) -> None:
    ok(cli("create", "cli-updated", "--code", str(function_folder(tmp_path, 1)), "--handler", "app.handler"))
    result = ok(
        cli(
            "update",
            "cli-updated",
            "--code",
            str(function_folder(tmp_path, 2)),
            "--memory",
            "512",
            "--timeout",
            "10",
            "--env",
            "GREETING=updated",
        )
    )
    assert result.stdout.startswith("updated cli-updated: python3.11 app.handler, 512 MB, timeout 10 s")
    body = json.loads(ok(cli("invoke", "cli-updated")).stdout)
    assert (body["version"], body["greeting"]) == (2, "updated")
    ok(cli("update", "cli-updated", "--env", ""))  # configuration only: clears the variables
    assert json.loads(ok(cli("invoke", "cli-updated")).stdout)["greeting"] is None
    nothing = cli("update", "cli-updated")
    assert nothing.returncode == 2
    assert "nothing to update" in nothing.stderr


def test_logs_prints_finished_invocations_oldest_first(cli: CliRunner, tmp_path: Path) -> None:
    ok(cli("create", "cli-logged", "--code", str(function_folder(tmp_path)), "--handler", "app.handler"))
    ids = [
        json.loads(ok(cli("invoke", "cli-logged", "--payload", json.dumps({"name": n}))).stdout)["request_id"]
        for n in ("first", "second")
    ]
    output = ok(cli("logs", "cli-logged")).stdout
    starts = re.findall(r"START RequestId: (\S+)", output)
    assert starts == ids
    assert output.index("handling first") < output.index("handling second")
    assert "REPORT RequestId" in output
    assert ok(cli("logs", "cli-logged", "--since", "600")).stdout == output


def test_logs_follow_prints_new_invocations_until_interrupted(
    cli: CliRunner, server: ServerProcess, tmp_path: Path
) -> None:
    ok(cli("create", "cli-followed", "--code", str(function_folder(tmp_path)), "--handler", "app.handler"))
    first = json.loads(ok(cli("invoke", "cli-followed")).stdout)["request_id"]
    out_path = tmp_path / "follow.out"
    argv, env = server.cli_command("logs", "cli-followed", "--follow")
    with out_path.open("w") as out:
        follower = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_for(lambda: f"START RequestId: {first}" in out_path.read_text(), "the earlier invocation's log")
        second = json.loads(ok(cli("invoke", "cli-followed", "--payload", '{"name": "late"}')).stdout)
        _wait_for(lambda: f"END RequestId: {second['request_id']}" in out_path.read_text(), "the new log")
    finally:
        follower.send_signal(signal.SIGINT)
        status = follower.wait(10)
    output = out_path.read_text()
    assert status == 0, output
    assert output.count("START RequestId") == 2
    assert "handling late" in output


def test_logs_pages_through_many_invocations_that_finished_at_one_instant(
    cli: CliRunner, server: ServerProcess, tmp_path: Path
) -> None:
    """250 invocations stored with one finished_at, as another worker sharing the store may record a burst, read
    by ``logs`` 100 at a time: each printed once, in order, then the one invoked through the server."""
    ok(cli("create", "cli-paged", "--code", str(function_folder(tmp_path)), "--handler", "app.handler"))
    finished_at = time.time() - 60
    ids = [str(uuid.uuid4()) for _ in range(250)]
    burst = [
        Invocation(
            id=inv_id,
            function_name="cli-paged",
            version="$LATEST",
            type=InvocationType.SYNC,
            status=InvocationStatus.SUCCEEDED,
            created_at=finished_at - 0.001,
            log=f"START RequestId: {inv_id} Version: $LATEST\nEND RequestId: {inv_id}\n",
            finished_at=finished_at,
        )
        for inv_id in ids
    ]
    store = open_store(Settings(data_dir=server.data_dir).resolved_store_url())  # the server's own SQLite file
    try:
        store.insert_invocations(burst)
    finally:
        store.close()
    invoked = json.loads(ok(cli("invoke", "cli-paged")).stdout)["request_id"]
    output = ok(cli("logs", "cli-paged")).stdout
    assert re.findall(r"START RequestId: (\S+)", output) == [*sorted(ids), invoked]
    assert re.findall(r"END RequestId: (\S+)", output) == [*sorted(ids), invoked]
    recent = ok(cli("logs", "cli-paged", "--since", "30")).stdout
    assert re.findall(r"START RequestId: (\S+)", recent) == [invoked]
    with Client(server.url) as client:
        last = client.function_logs("cli-paged", after=finished_at, limit=250)
        assert [e["id"] for e in last.events] == sorted(ids)
        assert client.function_logs("cli-paged", next_token=last.next_token).events[0]["id"] == invoked
        with pytest.raises(InvalidParameterValue, match="NextToken"):
            client.function_logs("cli-paged", next_token="bogus")
        with pytest.raises(InvalidParameterValue, match="limit"):
            client.function_logs("cli-paged", limit=1001)


def test_invocations_list_and_show(cli: CliRunner, greeter: str) -> None:
    good = json.loads(ok(cli("invoke", greeter, "--payload", '{"name": "shown"}')).stdout)["request_id"]
    assert cli("invoke", greeter, "--payload", '{"fail": true}').returncode == 1
    table = ok(cli("invocations", "list", "--function", greeter, "--limit", "100")).stdout
    assert table.splitlines()[0].split()[:3] == ["ID", "FUNCTION", "STATUS"]
    assert good in table
    failed = ok(cli("invocations", "list", "--function", greeter, "--status", "failed")).stdout.splitlines()[1:]
    assert failed
    assert all(line.split()[2] == "failed" and "ValueError" in line for line in failed)

    shown = ok(cli("invocations", "show", good)).stdout
    assert re.search(rf"^id:\s+{good}$", shown, re.M)
    assert re.search(r"^status:\s+succeeded$", shown, re.M)
    steps = re.findall(r"^  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  (\w+)", shown, re.M)
    assert steps == ["created", "pending", "ready", "running", "succeeded"]
    assert '"name": "shown"' in shown
    assert f"START RequestId: {good}" in shown
    missing = cli("invocations", "show", "no-such-invocation")
    assert missing.returncode == 2
    assert "error: ResourceNotFoundException: Invocation not found" in missing.stderr


def test_delete(cli: CliRunner, tmp_path: Path) -> None:
    ok(cli("create", "cli-deleted", "--code", str(function_folder(tmp_path)), "--handler", "app.handler"))
    assert ok(cli("delete", "cli-deleted")).stdout.strip() == "deleted cli-deleted"
    assert "cli-deleted" not in ok(cli("list")).stdout
    again = cli("delete", "cli-deleted")
    assert again.returncode == 2
    assert again.stderr.startswith("error: ResourceNotFoundException: Function not found:")


def test_unknown_function_exits_2(cli: CliRunner) -> None:
    result = cli("invoke", "cli-no-such-function", "--payload", "{}")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ResourceNotFoundException: Function not found: arn:aws:lambda:")
    assert result.stdout == ""


def test_bad_zip_is_rejected(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"this is not a zip file")
    result = cli("create", "cli-bad-zip", "--code", str(bad), "--handler", "app.handler")
    assert result.returncode == 2
    assert result.stderr.startswith("error: InvalidParameterValueException: ")
    assert "cli-bad-zip" not in ok(cli("list")).stdout


def test_usage_and_connection_errors_exit_2(cli: CliRunner, greeter: str) -> None:
    bad_payload = cli("invoke", greeter, "--payload", "{not json")
    assert bad_payload.returncode == 2
    assert bad_payload.stderr.startswith("error: InvalidRequestContentException: ")
    bad_env = cli("update", greeter, "--env", "NOEQUALS")
    assert bad_env.returncode == 2
    assert "is not KEY=VALUE" in bad_env.stderr
    unreachable = cli("list", "--endpoint", "http://127.0.0.1:9")
    assert unreachable.returncode == 2
    assert "cannot reach lambdahost at http://127.0.0.1:9" in unreachable.stderr
    assert "lambdahost serve" in unreachable.stderr
    remote = cli("serve", "--host", "0.0.0.0")
    assert remote.returncode == 2
    assert "not a loopback address" in remote.stderr


def test_serve_example_redeploy_and_graceful_stop(server_factory: Callable[..., ServerProcess], tmp_path: Path) -> None:
    data = tmp_path / "data"
    for signum, verb in ((signal.SIGTERM, "deployed"), (signal.SIGINT, "kept")):
        server = server_factory(data, "--example")
        _wait_for(lambda: "invoke it with" in server.output(), "the example to be deployed")  # noqa: B023
        assert f"{verb} the example function 'hello'" in server.output()
        assert f"--endpoint {server.url}" in server.output()
        invoked = server.run_cli(
            "invoke", "hello", "--payload", '{"name": "Ada"}', "--endpoint", server.url, endpoint_from_env=False
        )
        body = json.loads(ok(invoked).stdout)
        assert body["message"] == "Hello, Ada!"
        assert 0 < body["remaining_ms"] <= 3000
        assert re.fullmatch(r"[0-9a-f-]{36}", body["request_id"])
        listed = ok(server.run_cli("list", "--endpoint", server.url, endpoint_from_env=False)).stdout
        for task in ("jtl-report", "anomaly-detect", "scheduled-digest"):  # the example tasks come with it
            assert task in listed
        schedules = ok(server.run_cli("schedules", "list", "--endpoint", server.url, endpoint_from_env=False)).stdout
        assert schedules.count("weekly-digest") == 1, schedules  # created once, kept on the restart
        assert "cron(0 8 ? * MON *)  scheduled-digest" in schedules
        assert server.stop(signum) == 0, server.output()
        assert "lambdahost stopped" in server.output()


def _wait_for(condition: object, what: str, timeout: float = 10.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_invoke_async_prints_the_request_id_and_the_invocation_runs(cli: CliRunner, greeter: str) -> None:
    request_id = ok(cli("invoke", greeter, "--async", "--payload", '{"name": "queued"}')).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", request_id)
    deadline = time.monotonic() + 15
    shown = ""
    while time.monotonic() < deadline:
        shown = ok(cli("invocations", "show", request_id)).stdout
        if re.search(r"^status:\s+succeeded$", shown, re.M):
            break
        time.sleep(0.1)
    assert re.search(r"^status:\s+succeeded$", shown, re.M), shown
    assert '"queued"' in shown
    lane = cli("invoke", greeter, "--async", "--lane", "3", "--payload", "{}")
    assert lane.returncode == 2 and "Lane 3 does not exist" in lane.stderr
    assert cli("invoke", greeter, "--lane", "1").returncode == 2, "--lane without --async is a usage error"


SLEEPER = "import time\n\ndef handler(event, context):\n    time.sleep(event.get('seconds', 0))\n    return 'woke'\n"


def _status(cli: CliRunner, request_id: str) -> str:
    found = re.search(r"^status:\s+(\w+)$", ok(cli("invocations", "show", request_id)).stdout, re.M)
    assert found is not None
    return found.group(1)


def test_queues_show_exact_depth_and_cancel_terminates(cli: CliRunner, server: ServerProcess, tmp_path: Path) -> None:
    folder = tmp_path / "sleeper"
    folder.mkdir()
    (folder / "app.py").write_text(SLEEPER)
    ok(cli("create", "cli-sleeper", "--code", str(folder), "--handler", "app.handler", "--timeout", "60"))
    try:
        lam = boto3.client(
            "lambda",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        try:  # the CLI has no verb for reserved concurrency yet
            lam.put_function_concurrency(FunctionName="cli-sleeper", ReservedConcurrentExecutions=1)
        finally:
            lam.close()
        ids = [
            ok(cli("invoke", "cli-sleeper", "--async", "--payload", '{"seconds": 30}')).stdout.strip() for _ in range(3)
        ]
        assert eventually(lambda: "running" in [_status(cli, i) for i in ids], timeout=15.0, interval=0.1)
        table = ok(cli("queues")).stdout.splitlines()
        assert table[0].split() == ["FUNCTION", "LANE", "PENDING", "READY", "RUNNING", "ORPHANED"]
        row = next(line.split() for line in table[1:] if line.startswith("cli-sleeper"))
        assert row == ["cli-sleeper", "0", "2", "0", "1", "0"], "reserved concurrency 1: one runs, two wait (exact)"
        started = time.monotonic()
        for request_id in ids:
            assert ok(cli("invocations", "cancel", request_id)).stdout.strip() == f"{request_id}: terminated"
        assert all(_status(cli, i) == "terminated" for i in ids)
        assert not any(line.startswith("cli-sleeper") for line in ok(cli("queues")).stdout.splitlines())
        again = cli("invocations", "cancel", ids[0])
        assert again.returncode == 2 and "already finished: terminated" in again.stderr
        assert time.monotonic() - started < 20, "the running one was stopped, not waited for"
    finally:
        ok(cli("delete", "cli-sleeper"))


def test_schedules_next_shows_fire_times_in_a_time_zone_and_refuses_bad_expressions(cli: CliRunner) -> None:
    shown = cli(
        "schedules", "next", "cron(0 9 ? * MON *)", "--after", "2026-11-25T00:00:00", "--timezone", "Europe/Berlin"
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "2026-11-30 09:00:00 CET (Mon)",
        "2026-12-07 09:00:00 CET (Mon)",
        "2026-12-14 09:00:00 CET (Mon)",
        "2026-12-21 09:00:00 CET (Mon)",
        "2026-12-28 09:00:00 CET (Mon)",
    ]
    dst = cli("schedules", "next", "rate(1 day)", "--after", "2026-03-07T12:00:00", "--timezone", "America/New_York")
    assert dst.stdout.splitlines()[:2] == ["2026-03-08 13:00:00 EDT (Sun)", "2026-03-09 13:00:00 EDT (Mon)"], (
        "a rate counts real hours: 24 h after noon EST is 13:00 EDT"
    )
    bad = cli("schedules", "next", "rate(5 minute)")
    assert bad.returncode == 2 and "ValidationException" in bad.stderr and "plural: minutes" in bad.stderr
    over = cli("schedules", "next", "at(2020-01-01T00:00:00)")
    assert over.returncode == 0 and "fires no more" in over.stdout
