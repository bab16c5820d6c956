"""Snapshot mode on real processes: environments forked from a template that ran init, AWS's runtime hooks
(``snapshot_restore_py``), their failures, the REPORT line, eager snapshots and reaping of templates."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdahost.core.settings import Settings
from lambdahost.runtime.pool import EnvironmentPool, PoolOptions
from lambdahost.runtime.spec import EnvironmentSpec, InvokeOutcome, InvokeRequest, Outcome
from lambdahost.server import Platform

HOOKED = """
import os
from snapshot_restore_py import register_after_restore, register_before_snapshot

STATE = {"init_pid": os.getpid(), "calls": []}

@register_before_snapshot
def first_before():
    STATE["calls"].append("before-1")
    STATE["before_pid"] = os.getpid()

def second_before(tag, *, suffix):
    STATE["calls"].append(tag + suffix)

register_before_snapshot(second_before, "before", suffix="-2")

@register_after_restore
def first_after():
    STATE["calls"].append("after-1")
    STATE["after_pid"] = os.getpid()

register_after_restore(lambda: STATE["calls"].append("after-2"))

def handler(event, context):
    if event.get("fail_restore_next"):
        register_after_restore(lambda: 1 / 0)
    return {**STATE, "pid": os.getpid(), "init_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
"""

BEFORE_FAILS = """
from snapshot_restore_py import register_before_snapshot

@register_before_snapshot
def close_connections():
    raise ConnectionError("could not flush the pool")

def handler(event, context):
    return "unreachable in snapshot mode"
"""

AFTER_FAILS = """
from snapshot_restore_py import register_after_restore

def reconnect():
    raise TimeoutError("database unreachable")

register_after_restore(reconnect)

def handler(event, context):
    return "unreachable in snapshot mode"
"""

BUNDLED_LIBRARY = """
_b, _a = [], []
def register_before_snapshot(f, *a, **k):
    _b.append((f, a, k)); return f
def register_after_restore(f, *a, **k):
    _a.append((f, a, k)); return f
def get_before_snapshot():
    return _b
def get_after_restore():
    return _a
BUNDLED = True
"""


@pytest.fixture
def code(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    root.mkdir()
    (root / "hooked.py").write_text(HOOKED)
    (root / "before_fails.py").write_text(BEFORE_FAILS)
    (root / "after_fails.py").write_text(AFTER_FAILS)
    (root / "broken.py").write_text("import not_installed_anywhere\n")
    return root


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[EnvironmentPool]:
    p = EnvironmentPool(tmp_path / "runtime", PoolOptions(idle_timeout_s=60))
    p.start()
    yield p
    p.close()


def spec(code: Path, handler: str, snapshot: bool = True) -> EnvironmentSpec:
    return EnvironmentSpec(
        function_name="fn",
        version="$LATEST",
        revision_id=uuid.uuid4().hex,
        handler=handler,
        code_dir=str(code),
        memory_mb=256,
        timeout_s=5,
        ephemeral_mb=512,
        env={"AWS_LAMBDA_FUNCTION_NAME": "fn", "LAMBDA_TASK_ROOT": str(code)},
        snapshot=snapshot,
    )


def invoke(pool: EnvironmentPool, s: EnvironmentSpec, event: object, hold: bool = False) -> InvokeOutcome:
    env = pool.acquire(s)
    try:
        return env.invoke(InvokeRequest(str(uuid.uuid4()), json.dumps(event).encode(), "arn"))
    finally:
        if not hold:
            pool.release(env)


def test_hooks_run_in_the_template_and_in_each_restored_environment(pool: EnvironmentPool, code: Path) -> None:
    s = spec(code, "hooked.handler")
    first, second = pool.acquire(s), pool.acquire(s)  # two environments: both forked from one template
    try:
        one = first.invoke(InvokeRequest("a", b"{}", "arn"))
        two = second.invoke(InvokeRequest("b", b"{}", "arn"))
    finally:
        pool.release(first)
        pool.release(second)
    a, b = json.loads(one.payload), json.loads(two.payload)
    assert a["calls"] == ["before-2", "before-1", "after-1", "after-2"], "before: reverse order; after: in order"
    assert a["init_pid"] == a["before_pid"] == b["init_pid"], "init and before-snapshot hooks ran once, in the template"
    assert a["after_pid"] == a["pid"] and b["after_pid"] == b["pid"] and a["pid"] != b["pid"] != a["init_pid"]
    assert a["init_type"] == "snap-start"
    report = one.log.splitlines()[-1]
    assert "\tRestore Duration: " in report and "\tBilled Restore Duration: " in report
    assert "Init Duration" not in report
    assert one.init_duration_ms is not None and one.billed_restore_ms is not None and one.billed_restore_ms >= 1
    warm = invoke(pool, s, {})
    assert "Restore Duration" not in warm.log and warm.billed_restore_ms is None


def test_a_failing_after_restore_hook_fails_the_invocation_and_the_environment(
    pool: EnvironmentPool, code: Path
) -> None:
    s = spec(code, "after_fails.handler")
    out = invoke(pool, s, {})
    error = json.loads(out.payload)
    assert out.outcome is Outcome.INIT_ERROR
    assert error["errorType"] == "Runtime.AfterRestoreError"
    assert error["errorMessage"] == "TimeoutError: database unreachable"
    assert any("reconnect" in frame for frame in error["stackTrace"])
    assert "RESTORE_REPORT Restore Duration: " in out.log and "Error Type: Runtime.AfterRestoreError" in out.log
    assert not [e for e in pool.environments() if e.spec.key == s.key], "the environment is torn down"
    assert invoke(pool, s, {}).outcome is Outcome.INIT_ERROR, "every restore runs the hooks again"


def test_a_failing_before_snapshot_hook_or_init_error_surfaces(pool: EnvironmentPool, code: Path) -> None:
    before = invoke(pool, spec(code, "before_fails.handler"), {})
    error = json.loads(before.payload)
    assert (error["errorType"], error["errorMessage"]) == (
        "Runtime.BeforeSnapshotError",
        "ConnectionError: could not flush the pool",
    )
    assert "INIT_REPORT Init Duration: " in before.log and "Error Type: Runtime.BeforeSnapshotError" in before.log
    broken = json.loads(invoke(pool, spec(code, "broken.handler"), {}).payload)
    assert broken["errorType"] == "Runtime.ImportModuleError"
    assert pool.stats()["templates"] == 0


def test_hooks_never_run_outside_snapshot_mode(pool: EnvironmentPool, code: Path) -> None:
    plain = json.loads(invoke(pool, spec(code, "after_fails.handler", snapshot=False), {}).payload)
    assert plain == "unreachable in snapshot mode"
    hooked = json.loads(invoke(pool, spec(code, "hooked.handler", snapshot=False), {}).payload)
    assert hooked["calls"] == [] and hooked["init_type"] is None


def test_a_bundled_copy_of_the_library_is_the_one_used(pool: EnvironmentPool, code: Path) -> None:
    (code / "snapshot_restore_py.py").write_text(BUNDLED_LIBRARY)
    (code / "uses_bundled.py").write_text(
        "import snapshot_restore_py as lib\nCALLS = []\nlib.register_after_restore(lambda: CALLS.append('after'))\n"
        "def handler(event, context):\n    return {'bundled': getattr(lib, 'BUNDLED', False), 'calls': CALLS}\n"
    )
    out = json.loads(invoke(pool, spec(code, "uses_bundled.handler"), {}).payload)
    assert out == {"bundled": True, "calls": ["after"]}


def test_idle_templates_are_reaped_with_their_environments(pool: EnvironmentPool, code: Path) -> None:
    s = spec(code, "hooked.handler")
    invoke(pool, s, {})
    assert pool.stats()["templates"] == 1
    pool.reap_idle(time.monotonic() + 3600)
    assert pool.stats()["templates"] == 0 and not pool.environments()
    assert invoke(pool, s, {}).outcome is Outcome.OK, "a new template on the next invocation"


def test_the_platform_takes_the_snapshot_when_the_function_changes(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hooked.py", HOOKED)
    with Platform(Settings(data_dir=tmp_path / "data", snapshot=True)) as platform:
        platform.functions.create(
            {
                "FunctionName": "snap",
                "Runtime": "python3.11",
                "Handler": "hooked.handler",
                "Code": {"ZipFile": base64.b64encode(buf.getvalue()).decode()},
            }
        )
        deadline = time.monotonic() + 10
        while platform.pool.stats()["templates"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert platform.pool.stats()["templates"] == 1, "the snapshot exists before the first invocation"
        result = platform.invoker.invoke("snap", b"{}")
        assert json.loads(result.payload)["calls"] == ["before-2", "before-1", "after-1", "after-2"]
        assert "Restore Duration" in result.log
        old_revision = platform.functions.get("snap").revision_id
        new_revision = platform.functions.update_configuration("snap", {"MemorySize": 512}).revision_id
        deadline = time.monotonic() + 10
        while platform.pool.template_keys() != [("snap", "$LATEST", new_revision)] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (
            platform.pool.template_keys() == [("snap", "$LATEST", new_revision)] != [("snap", "$LATEST", old_revision)]
        ), "the old snapshot is gone, the new one taken"
