"""Execution environments as real child processes: init, invoke, every error path, logs, limits, pools."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdahost.runtime.pool import EnvironmentPool, PoolOptions
from lambdahost.runtime.spec import EnvironmentSpec, InvokeOutcome, InvokeRequest, Outcome
from tests.integration.runtime_app import spec, write_code


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_code(tmp_path_factory.mktemp("code"))


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvironmentPool]:
    p = EnvironmentPool(tmp_path_factory.mktemp("runtime"), PoolOptions(idle_timeout_s=60, log_limit_bytes=64 * 1024))
    p.start()
    yield p
    p.close()


def run(pool: EnvironmentPool, s: EnvironmentSpec, event: object = None, **kw: object) -> InvokeOutcome:
    env = pool.acquire(s)
    try:
        payload = b"" if event is None else json.dumps(event).encode()
        return env.invoke(
            InvokeRequest(str(uuid.uuid4()), payload, "arn:aws:lambda:us-east-1:000000000000:function:fn", **kw)
        )  # type: ignore[arg-type]
    finally:
        pool.release(env)


def test_result_and_warm_reuse(pool: EnvironmentPool, code_dir: Path) -> None:
    s = spec(code_dir)
    first = run(pool, s, {"action": "count"})
    second = run(pool, s, {"action": "count"})
    assert (first.outcome, first.payload) == (Outcome.OK, b"1")
    assert second.payload == b"2", "the warm environment keeps its globals"
    assert first.init_duration_ms is not None and second.init_duration_ms is None
    assert "Init Duration:" in first.log and "Init Duration:" not in second.log
    assert "init says hi" in first.log and "init says hi" not in second.log


def test_log_framing(pool: EnvironmentPool, code_dir: Path) -> None:
    out = run(pool, spec(code_dir), {"action": "print"})
    lines = out.log.splitlines()
    assert lines[:2] == ["init says hi", f"START RequestId: {out.request_id} Version: $LATEST"], (
        "init output comes before START, as on AWS"
    )
    body = "\n".join(lines)
    for text in ("from print", "from stderr", "from fd 1", "from child process"):
        assert text in body
    assert lines[-2] == f"END RequestId: {out.request_id}"
    assert lines[-1].startswith(f"REPORT RequestId: {out.request_id}\tDuration: ")
    for field in ("Billed Duration: ", "Memory Size: 128 MB", "Max Memory Used: "):
        assert field in lines[-1]


def test_context_and_environment(pool: EnvironmentPool, code_dir: Path) -> None:
    s = spec(code_dir, timeout=5, CUSTOM="value")
    out = run(pool, s, {"action": "context"}, client_context={"custom": {"k": "v"}})
    body = json.loads(out.payload)
    assert body["aws_request_id"] == out.request_id
    assert body["function_name"] == "fn"
    assert body["memory_limit_in_mb"] == "128"
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"].endswith(":function:fn")
    assert 4000 < body["remaining"] <= 5000
    assert body["client_context"] == {"k": "v"}
    assert body["env"]["CUSTOM"] == "value"
    assert "/envs/" in body["env"]["TMPDIR"], "each environment has its own temporary directory"
    assert "PYTEST_CURRENT_TEST" not in body["env"], "the platform's environment must not leak"
    assert body["cwd"] == str(code_dir)


def test_nested_handler_path(pool: EnvironmentPool, code_dir: Path) -> None:
    out = run(pool, spec(code_dir, handler="pkg/mod.func"), {})
    assert out.payload == b'"nested"'


def test_unhandled_exception_keeps_environment(pool: EnvironmentPool, code_dir: Path) -> None:
    s = spec(code_dir)
    run(pool, s, {"action": "count"})
    out = run(pool, s, {"action": "raise"})
    error = json.loads(out.payload)
    assert out.outcome is Outcome.ERROR and out.function_error == "Unhandled"
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (error["errorMessage"], error["errorType"], error["requestId"]) == (
        "boom",
        "ValueError",
        out.request_id,
    )
    assert any("app.py" in frame and "in handler" in frame for frame in error["stackTrace"])
    assert not any("lambdahost" in frame for frame in error["stackTrace"])
    assert "[ERROR] ValueError: boom" in out.log
    assert run(pool, s, {"action": "count"}).payload == b"3", "environment survived the exception"


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("nodot", "Runtime.MalformedHandlerName", "Bad handler 'nodot': not enough values to unpack"),
        (
            "missing_module.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'missing_module': No module named 'missing_module'",
        ),
        (
            "import_bad.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'import_bad': No module named 'not_a_module_anywhere'",
        ),
        ("syntax_bad.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'syntax_bad'"),
        ("no_handler.handler", "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'no_handler'"),
        ("raises_at_import.handler", "RuntimeError", "init failed"),
        ("exits_at_import.handler", "Runtime.ExitError", "Runtime exited with error: exit status 3"),
    ],
)
def test_init_errors(pool: EnvironmentPool, code_dir: Path, handler: str, error_type: str, message: str) -> None:
    out = run(pool, spec(code_dir, handler=handler), {})
    error = json.loads(out.payload)
    assert out.outcome is Outcome.INIT_ERROR and out.function_error == "Unhandled"
    assert error["errorType"] == error_type
    assert error["errorMessage"].startswith(message)
    assert "INIT_REPORT Init Duration: " in out.log and f"Error Type: {error_type}" in out.log


def test_timeout_kills_environment_promptly(pool: EnvironmentPool, code_dir: Path) -> None:
    s = spec(code_dir, timeout=1)
    started = time.monotonic()
    out = run(pool, s, {"action": "sleep", "seconds": 30})
    elapsed = time.monotonic() - started
    assert out.outcome is Outcome.TIMEOUT
    assert json.loads(out.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {out.request_id} Error: Task timed out after 1.00 seconds",
    }
    assert 1.0 <= elapsed < 1.1 + 0.5  # deadline plus process start slack; killed within 100 ms of it
    assert "Task timed out after 1.00 seconds" in out.log and "Status: timeout" in out.log
    again = run(pool, s, {"action": "count"})
    assert again.payload == b"1" and again.init_duration_ms is not None, "a fresh environment after a timeout"


@pytest.mark.parametrize(
    ("event", "description"),
    [
        ({"action": "exit", "code": 1}, "Runtime exited with error: exit status 1"),
        ({"action": "hard_exit", "code": 7}, "Runtime exited with error: exit status 7"),
        ({"action": "segfault"}, "Runtime exited with error: signal: segmentation fault"),
    ],
)
def test_crash(pool: EnvironmentPool, code_dir: Path, event: dict[str, object], description: str) -> None:
    s = spec(code_dir)
    out = run(pool, s, event)
    assert out.outcome is Outcome.CRASH
    assert json.loads(out.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {out.request_id} Error: {description}",
    }
    assert "Status: error\tError Type: Runtime.ExitError" in out.log
    assert run(pool, s, {"action": "count"}).payload == b"1"


def test_out_of_memory(pool: EnvironmentPool, code_dir: Path) -> None:
    out = run(pool, spec(code_dir, memory=128), {"action": "allocate", "mb": 400})
    assert out.outcome is Outcome.OUT_OF_MEMORY
    assert json.loads(out.payload)["errorType"] == "Runtime.OutOfMemory"
    assert out.max_memory_mb >= 128
    ok = run(pool, spec(code_dir, memory=1024), {"action": "allocate", "mb": 200})
    assert ok.outcome is Outcome.OK and ok.max_memory_mb >= 200


def test_marshal_and_response_size(pool: EnvironmentPool, code_dir: Path) -> None:
    s = spec(code_dir)
    bad = json.loads(run(pool, s, {"action": "unserialisable"}).payload)
    assert bad["errorType"] == "Runtime.MarshalError"
    assert bad["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"
    huge = run(pool, s, {"action": "huge"})
    assert json.loads(huge.payload) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    assert huge.function_error == "Unhandled"


def test_filesystem_confinement(pool: EnvironmentPool, code_dir: Path) -> None:
    s = spec(code_dir)
    denied = json.loads(run(pool, s, {"action": "write_code"}).payload)
    assert denied["errorType"] == "PermissionError"
    assert not (code_dir / "new.txt").exists()
    written = json.loads(run(pool, s, {"action": "write_tmp"}).payload)
    assert os.path.exists(written) and "/envs/" in written


def test_concurrent_invocations_use_separate_environments(pool: EnvironmentPool, code_dir: Path) -> None:
    s = spec(code_dir)
    first, second = pool.acquire(s), pool.acquire(s)
    try:
        assert first.pid != second.pid
    finally:
        pool.release(first)
        pool.release(second)
    assert pool.stats()["functions"]["fn"]["idle"] >= 2


def test_retire_and_idle_reaping(pool: EnvironmentPool, code_dir: Path) -> None:
    s = spec(code_dir)
    run(pool, s, {})
    env_pids = [e.pid for e in pool.environments() if e.spec.key == s.key]
    assert env_pids
    pool.retire("fn")
    assert not [e for e in pool.environments() if e.spec.function_name == "fn"]
    for pid in env_pids:
        for _ in range(100):
            if not _running(pid):
                break
            time.sleep(0.01)
        else:
            pytest.fail(f"environment {pid} still running after retire")
    run(pool, s, {})
    assert pool.reap_idle(time.monotonic() + 3600) >= 1


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_log_is_bounded(pool: EnvironmentPool, code_dir: Path) -> None:
    out = run(pool, spec(code_dir), {"action": "log_spam", "bytes": 200_000})
    assert out.log_truncated
    assert "bytes of log truncated" in out.log
    assert len(out.log) < 80_000
    assert out.log.rstrip().splitlines()[-1].startswith("REPORT RequestId:")


def test_snapshot_mode(tmp_path: Path, code_dir: Path) -> None:
    p = EnvironmentPool(tmp_path, PoolOptions())
    p.start()
    try:
        s = EnvironmentSpec(**{**spec(code_dir).__dict__, "snapshot": True})
        first = p.acquire(s)
        second = p.acquire(s)
        try:
            r1 = first.invoke(InvokeRequest("a", b'{"action": "count"}', "arn"))
            r2 = second.invoke(InvokeRequest("b", b'{"action": "context"}', "arn"))
        finally:
            p.release(first)
            p.release(second)
        assert r1.payload == b"1"
        assert json.loads(r2.payload)["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "snap-start"
        assert "init says hi" not in r1.log, "init ran once, in the template"
        assert p.stats()["templates"] == 1
    finally:
        p.close()
