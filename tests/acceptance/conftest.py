"""Acceptance fixtures: real ``lambdahost serve`` processes and a runner for the real CLI.

- ``server`` (session-scoped): one server on a free port with a temporary data dir, shared by every acceptance
  test (use unique function names). ``server.url``, ``server.data_dir``, ``server.output()``.
- ``cli``: ``cli("list")`` runs ``python -m lambdahost list`` against ``server``; returns the CompletedProcess.
- ``server_factory``: ``server_factory(data_dir, "--example")`` starts another server; stopped at teardown.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambdahost.client import Client, ServerUnreachable

START_TIMEOUT_S = 20.0
READY_RE = re.compile(r"listening on (http://\S+)")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``LAMBDAHOST_*`` variable (tests choose their own)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAMBDAHOST_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        """Everything the server printed (stdout and stderr) so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the server, wait for it to exit (kill it after ``timeout``) and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def cli_command(self, *args: str, endpoint_from_env: bool = True) -> tuple[list[str], dict[str, str]]:
        """The argv and environment that run ``lambdahost ARGS...`` against this server."""
        env = clean_env(LAMBDAHOST_ENDPOINT=self.url) if endpoint_from_env else clean_env()
        return [sys.executable, "-m", "lambdahost", *args], env

    def run_cli(
        self, *args: str, stdin: str | None = None, endpoint_from_env: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run ``lambdahost ARGS...`` to completion against this server."""
        argv, env = self.cli_command(*args, endpoint_from_env=endpoint_from_env)
        return subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=self.data_dir.parent,
            check=False,
        )


def _healthy(url: str) -> bool:
    try:
        with Client(url, timeout=2.0) as client:
            return client.health().get("status") == "ok"
    except (ServerUnreachable, TimeoutError):
        return False


def start_server(data_dir: Path, *args: str) -> ServerProcess:
    """``lambdahost serve --port 0 --data-dir DATA_DIR ARGS...``, returned once ``/health`` answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.with_name(data_dir.name + ".log")
    command = [
        sys.executable,
        "-m",
        "lambdahost",
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        *args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=clean_env(), cwd=data_dir.parent)
    server = ServerProcess("", data_dir, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        match = READY_RE.search(server.output())
        if match and _healthy(match.group(1)):
            server.url = match.group(1)
            return server
        time.sleep(0.05)
    status = server.stop(signal.SIGKILL)
    pytest.fail(
        f"`lambdahost serve` did not come up within {START_TIMEOUT_S:.0f} s (exit status {status}). "
        f"Its output:\n{server.output()}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # short retry delays: the asynchronous tests see the whole retry lifecycle in well under a second
    running = start_server(tmp_path_factory.mktemp("lambdahost") / "data", "--retry-delays", "0.2,0.4")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def cli(server: ServerProcess) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m lambdahost ARGS...`` against ``server`` (through ``LAMBDAHOST_ENDPOINT``)."""
    return server.run_cli


@pytest.fixture
def server_factory() -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(data_dir: Path, *args: str) -> ServerProcess:
        started.append(start_server(data_dir, *args))
        return started[-1]

    yield start
    for running in started:
        running.stop()
