"""Functions run on their runtime's Python, with real processes: one base fork server per interpreter (cold starts
after the first are forks of it), every outcome and the log framing on a foreign interpreter, snapshot mode per
interpreter; through a Platform, a function declared for a runtime reports that Python, and one whose runtime is not
on this machine runs on the platform's own and says so (log, native API, ``available_runtimes``).

The interpreters are the ones found on this machine (``tests/pythons.py``): the tests assert on what was found, and
fail in CI when nothing but the platform's own Python is there."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import logging
import os
import signal
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdahost.client import Client
from lambdahost.core.settings import Settings
from lambdahost.runtime.interpreters import Interpreter
from lambdahost.runtime.pool import EnvironmentPool, PoolOptions
from lambdahost.runtime.spec import EnvironmentSpec, InvokeOutcome, InvokeRequest, Outcome
from lambdahost.server import Platform
from tests.integration.runtime_app import spec, write_code
from tests.integration.serving import http_server
from tests.integration.test_snapshot import HOOKED
from tests.pythons import foreign, own

REPORT = """
import os, sys

def handler(event, context):
    return {
        "version": "%d.%d.%d" % sys.version_info[:3],
        "executable": sys.executable,
        "path": os.environ.get("PATH"),
        "execution_env": os.environ.get("AWS_EXECUTION_ENV"),
    }
"""


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_code(tmp_path_factory.mktemp("code"))
    (root / "report.py").write_text(REPORT)
    (root / "hooked.py").write_text(HOOKED)
    return root


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvironmentPool]:
    p = EnvironmentPool(tmp_path_factory.mktemp("runtime"), PoolOptions(idle_timeout_s=60))
    p.start()
    yield p
    p.close()


def on(interpreter: Interpreter, s: EnvironmentSpec) -> EnvironmentSpec:
    """``s`` run by ``interpreter``, under a function name of its own (so each interpreter has its own pool)."""
    name = f"fn-{interpreter.runtime}"
    path = None if interpreter.own else interpreter.path
    return dataclasses.replace(s, function_name=name, interpreter=path, env={**s.env, "AWS_LAMBDA_FUNCTION_NAME": name})


def run(pool: EnvironmentPool, s: EnvironmentSpec, event: object) -> InvokeOutcome:
    env = pool.acquire(s)
    try:
        return env.invoke(InvokeRequest(str(uuid.uuid4()), json.dumps(event).encode(), "arn"))
    finally:
        pool.release(env)


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


def test_each_interpreter_runs_its_environments(pool: EnvironmentPool, code_dir: Path) -> None:
    for interpreter in [own(), *foreign()]:
        out = run(pool, on(interpreter, spec(code_dir, handler="report.handler")), {})
        assert out.outcome is Outcome.OK, out.log
        report = json.loads(out.payload)
        assert (report["version"], report["executable"]) == (interpreter.version, interpreter.path)
    servers = pool.fork_servers()
    assert set(servers) == {None} | {i.path for i in foreign()}, "one base fork server per interpreter"
    assert len(set(servers.values())) == len(servers)


def test_a_cold_start_after_the_first_is_a_fork(pool: EnvironmentPool, code_dir: Path) -> None:
    for interpreter in foreign():
        s = on(interpreter, spec(code_dir))
        run(pool, s, {"action": "count"})  # the interpreter's fork server is up
        server = pool.fork_servers()[interpreter.path]
        first, second = pool.acquire(s), pool.acquire(s)  # the warm one, then a cold start
        try:
            for env in (first, second):
                assert env.server.pid == server and parent_of(env.pid) == server, (
                    f"an environment of {interpreter.runtime} is forked by its interpreter's fork server"
                )
            outcome = second.invoke(InvokeRequest("r", b'{"action": "count"}', "arn"))
            assert outcome.payload == b"1" and outcome.init_duration_ms is not None
        finally:
            pool.release(first)
            pool.release(second)
        assert pool.fork_servers()[interpreter.path] == server, "no new interpreter was started"


def test_init_errors_timeouts_crashes_and_log_framing_on_a_foreign_interpreter(
    pool: EnvironmentPool, code_dir: Path
) -> None:
    for interpreter in foreign():
        where = f"on {interpreter.runtime}"
        for handler, error_type in (
            ("import_bad.handler", "Runtime.ImportModuleError"),
            ("syntax_bad.handler", "Runtime.UserCodeSyntaxError"),
            ("no_handler.handler", "Runtime.HandlerNotFound"),
            ("exits_at_import.handler", "Runtime.ExitError"),
        ):
            out = run(pool, on(interpreter, spec(code_dir, handler=handler)), {})
            assert out.outcome is Outcome.INIT_ERROR, where
            assert json.loads(out.payload)["errorType"] == error_type, where
            assert f"Error Type: {error_type}" in out.log, where

        s = on(interpreter, spec(code_dir, timeout=1))
        timed_out = run(pool, s, {"action": "sleep", "seconds": 30})
        assert timed_out.outcome is Outcome.TIMEOUT and "Task timed out after 1.00 seconds" in timed_out.log, where
        crashed = run(pool, s, {"action": "segfault"})
        assert json.loads(crashed.payload)["errorMessage"].endswith("signal: segmentation fault"), where
        raised = json.loads(run(pool, s, {"action": "raise"}).payload)
        assert (raised["errorType"], raised["errorMessage"]) == ("ValueError", "boom"), where

        out = run(pool, on(interpreter, spec(code_dir)), {"action": "print"})  # a cold start: init output first
        lines = out.log.splitlines()
        assert lines[:2] == ["init says hi", f"START RequestId: {out.request_id} Version: $LATEST"], where
        for text in ("from print", "from stderr", "from fd 1", "from child process"):
            assert text in out.log, where
        assert lines[-2] == f"END RequestId: {out.request_id}", where
        assert lines[-1].startswith(f"REPORT RequestId: {out.request_id}\tDuration: "), where


def test_snapshot_mode_per_interpreter(pool: EnvironmentPool, code_dir: Path) -> None:
    for interpreter in foreign():
        s = dataclasses.replace(on(interpreter, spec(code_dir, handler="hooked.handler")), snapshot=True)
        first, second = pool.acquire(s), pool.acquire(s)
        try:
            one = json.loads(first.invoke(InvokeRequest("a", b"{}", "arn")).payload)
            two = json.loads(second.invoke(InvokeRequest("b", b"{}", "arn")).payload)
        finally:
            pool.release(first)
            pool.release(second)
        template = one["init_pid"]
        assert template == two["init_pid"] and parent_of(template) == pool.fork_servers()[interpreter.path]
        assert first.restored and second.restored
        assert one["calls"] == ["before-2", "before-1", "after-1", "after-2"], interpreter.runtime
        assert one["init_type"] == "snap-start"


def test_a_dead_fork_server_is_started_again(pool: EnvironmentPool, code_dir: Path) -> None:
    interpreter = foreign()[0]
    s = on(interpreter, spec(code_dir, handler="report.handler"))
    run(pool, s, {})
    dead = pool.fork_servers()[interpreter.path]
    pool.retire(s.function_name)
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while interpreter.path in pool.fork_servers() and time.monotonic() < deadline:
        time.sleep(0.02)  # the monitor finds the closed channel

    out = run(pool, s, {})

    assert json.loads(out.payload)["version"] == interpreter.version
    assert pool.fork_servers()[interpreter.path] not in (dead, None)


def test_preloaded_modules_that_a_foreign_interpreter_lacks_are_skipped(
    tmp_path: Path, code_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    interpreter = foreign()[0]
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "platform_only_module.py").write_text("LOADED = True\n")
    monkeypatch.setenv("PYTHONPATH", str(modules))  # the platform's own module path: not a foreign interpreter's
    p = EnvironmentPool(tmp_path / "runtime", PoolOptions(preload=("platform_only_module",)))
    p.start()
    try:
        with caplog.at_level(logging.WARNING, logger="lambdahost.runtime.pool"):
            out = run(p, on(interpreter, spec(code_dir, handler="report.handler")), {})
    finally:
        p.close()
    assert json.loads(out.payload)["version"] == interpreter.version
    skipped = [r for r in caplog.records if getattr(r, "action", None) == "preload_skipped"]
    assert len(skipped) == 1 and "platform_only_module" in skipped[0].getMessage()


# -- through a Platform ----------------------------------------------------------------------------------------
def zipped(source: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.py", source)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    with Platform(Settings(data_dir=tmp_path / "data", config_recheck_s=60)) as started:
        yield started


def create(platform: Platform, name: str, runtime: str) -> None:
    platform.functions.create(
        {"FunctionName": name, "Runtime": runtime, "Handler": "report.handler", "Code": {"ZipFile": zipped(REPORT)}}
    )


def report_of(platform: Platform, name: str) -> dict[str, str]:
    result = platform.invoker.invoke(name, b"{}")
    assert result.function_error is None, result.log
    report: dict[str, str] = json.loads(result.payload)
    return report


def test_a_function_runs_on_its_runtimes_python(platform: Platform) -> None:
    available = platform.available_runtimes()
    assert own() in available and all(i in available for i in foreign())
    for interpreter in available:
        name = "on-" + interpreter.runtime.replace(".", "-")
        create(platform, name, interpreter.runtime)
        report = report_of(platform, name)
        minor = int(interpreter.runtime.rsplit(".", 1)[1])
        assert report["version"].split(".")[:2] == ["3", str(minor)], "sys.version_info[:2] == (3, minor)"
        assert report["version"] == interpreter.version and report["executable"] == interpreter.path
        assert report["path"].startswith(os.path.dirname(interpreter.path) + ":"), "its python first on PATH"
        assert report["execution_env"] == f"AWS_Lambda_{interpreter.runtime}"


def test_changing_the_runtime_moves_the_function(platform: Platform) -> None:
    target = foreign()[-1]
    create(platform, "mover", own().runtime)
    assert report_of(platform, "mover")["version"] == own().version
    platform.functions.update_configuration("mover", {"Runtime": target.runtime})
    assert report_of(platform, "mover")["version"] == target.version


def test_an_unavailable_runtime_runs_on_the_platforms_python_and_says_so(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = "python3.8"  # below the runtime's minimum (forkserver.MINIMUM_PYTHON): never available
    assert runtime not in [i.runtime for i in platform.available_runtimes()]

    with caplog.at_level(logging.WARNING, logger="lambdahost.engine.functions"):
        create(platform, "legacy", runtime)

    notes = [r for r in caplog.records if getattr(r, "action", None) == "runtime_unavailable"]
    assert [(r.function, r.runtime, r.python) for r in notes] == [("legacy", runtime, own().version)]  # type: ignore[attr-defined]
    assert report_of(platform, "legacy")["version"] == own().version
    with http_server(platform) as url, Client(url) as client:
        view = client.function_runtime("legacy")
        listed = client.runtimes()
    assert view == {
        "FunctionName": "legacy",
        "Runtime": runtime,
        "Available": False,
        "Python": {"Version": own().version, "Path": own().path, "Source": "platform"},
        "Message": f"{runtime} is not on this machine: it runs on the platform's own Python {own().version}",
    }
    by_runtime = {entry["Runtime"]: entry for entry in listed}
    assert list(by_runtime) == list(platform.interpreters.runtimes)
    assert by_runtime[runtime]["Available"] is False and by_runtime[runtime]["Python"]["Version"] == own().version
    for interpreter in platform.available_runtimes():
        assert by_runtime[interpreter.runtime] == {
            "Runtime": interpreter.runtime,
            "Available": True,
            "Python": {"Version": interpreter.version, "Path": interpreter.path, "Source": interpreter.source},
        }
