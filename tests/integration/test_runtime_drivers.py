"""The two ways an environment is driven (blocking for the Python client and workers, asyncio for the HTTP
server) and the reply polling, on real child processes: same outcomes for every path, large frames both ways,
a payload that is not JSON."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdahost.runtime.pool import EnvironmentPool, PoolOptions
from lambdahost.runtime.spec import EnvironmentSpec, InvokeOutcome, InvokeRequest, Outcome
from tests.integration.runtime_app import spec, write_code

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_code(tmp_path_factory.mktemp("code"))


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvironmentPool]:
    p = EnvironmentPool(tmp_path_factory.mktemp("runtime"), PoolOptions(idle_timeout_s=60))
    p.start()
    yield p
    p.close()


DRIVERS = ["blocking", "blocking-spin", "asyncio", "asyncio-spin"]


def drive(pool: EnvironmentPool, s: EnvironmentSpec, driver: str, payload: bytes) -> InvokeOutcome:
    env = pool.acquire(s)
    request = InvokeRequest(str(uuid.uuid4()), payload, ARN)
    spin = 0.001 if driver.endswith("-spin") else 0.0
    try:
        if driver.startswith("asyncio"):
            return asyncio.run(env.invoke_async(request, spin))
        return env.invoke(request, spin)
    finally:
        pool.release(env)


def event(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize("driver", DRIVERS)
def test_results_errors_and_reuse(pool: EnvironmentPool, code_dir: Path, driver: str) -> None:
    s = spec(code_dir)
    first = drive(pool, s, driver, event(action="count"))
    assert (first.outcome, first.payload, first.function_error) == (Outcome.OK, b"1", None)
    assert first.init_duration_ms is not None and "init says hi" in first.log
    error = drive(pool, s, driver, event(action="raise"))
    assert error.outcome is Outcome.ERROR and json.loads(error.payload)["errorMessage"] == "boom"
    assert (error.error_type, error.error_message) == ("ValueError", "boom")
    again = drive(pool, s, driver, event(action="count"))
    assert again.payload == b"3" and again.init_duration_ms is None, "the same warm environment"
    assert again.log.splitlines()[0] == f"START RequestId: {again.request_id} Version: $LATEST"


@pytest.mark.parametrize("driver", DRIVERS)
def test_slow_function_outlasts_the_polling(pool: EnvironmentPool, code_dir: Path, driver: str) -> None:
    out = drive(pool, spec(code_dir), driver, event(action="sleep", seconds=0.05))
    assert out.payload == b'"slept"' and out.duration_ms >= 50


@pytest.mark.parametrize("driver", ["blocking", "asyncio"])
def test_timeout_and_crash(pool: EnvironmentPool, code_dir: Path, driver: str) -> None:
    s = spec(code_dir, timeout=1)
    started = time.monotonic()
    timed_out = drive(pool, s, driver, event(action="sleep", seconds=30))
    assert timed_out.outcome is Outcome.TIMEOUT and time.monotonic() - started < 1.6
    assert json.loads(timed_out.payload)["errorType"] == "Sandbox.Timedout"
    crashed = drive(pool, s, driver, event(action="exit", code=4))
    assert crashed.outcome is Outcome.CRASH
    assert json.loads(crashed.payload)["errorMessage"].endswith("Runtime exited with error: exit status 4")
    assert drive(pool, s, driver, event(action="count")).payload == b"1", "a fresh environment afterwards"


@pytest.mark.parametrize("driver", DRIVERS)
def test_large_payloads_both_ways(pool: EnvironmentPool, code_dir: Path, driver: str) -> None:
    """Frames far larger than one socket read: a 5 MB event echoed back."""
    blob = "x" * 5_000_000
    out = drive(pool, spec(code_dir), driver, event(action="echo", blob=blob))
    assert out.outcome is Outcome.OK
    assert json.loads(out.payload)["blob"] == blob


@pytest.mark.parametrize("driver", ["blocking", "asyncio"])
def test_payload_that_is_not_json_runs_nothing(pool: EnvironmentPool, code_dir: Path, driver: str) -> None:
    s = spec(code_dir)
    bad = drive(pool, s, driver, b'{"action": ')
    assert bad.outcome is Outcome.INVALID_EVENT
    assert bad.error_message is not None and bad.error_message.startswith("Expecting value")
    first = drive(pool, s, driver, event(action="count"))
    assert first.payload == b"1", "the handler did not run for the bad payload"
    assert first.init_duration_ms is not None, "the cold start is still reported, on the first real invocation"
    assert drive(pool, s, driver, b"  ").payload == b'"ok"', "a blank payload is an empty event"


def test_a_cancelled_async_invocation_discards_its_environment(pool: EnvironmentPool, code_dir: Path) -> None:
    s = spec(code_dir)
    env = pool.acquire(s)

    async def cancel_midway() -> None:
        task = asyncio.ensure_future(env.invoke_async(InvokeRequest("late", event(action="sleep", seconds=0.5), ARN)))
        await asyncio.sleep(0.2)  # init done, the handler sleeping
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(cancel_midway())
        assert not env.alive and env.kill_reason == "cancelled", "its late reply must not reach the next caller"
    finally:
        pool.release(env)
    fresh = drive(pool, s, "asyncio", event(action="count"))
    assert (fresh.payload, fresh.init_duration_ms is not None) == (b"1", True)
