"""Real processes for the fault tests: `lambdahost worker` subprocesses, process trees, and `kill -9`.

- ``start_worker(data_dir, store, api_url, *args)``: a `lambdahost worker` whose output goes to a log file;
  returned once it printed its id.
- ``process_tree(pid)``: the live descendants of a process (its fork server, execution environments, spares),
  each as a ``Proc`` that can tell whether it is still alive (and not a recycled pid).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.acceptance.conftest import clean_env

START_TIMEOUT_S = 20.0
WORKER_RE = re.compile(r"lambdahost worker (\S+) running")


@dataclass(frozen=True)
class Proc:
    pid: int
    start_ticks: int  # /proc/PID/stat field 22: tells a process from a later one with the same pid
    command: str

    def alive(self) -> bool:
        """Running or stopped, not a zombie, and not a recycled pid."""
        stat = _stat(self.pid)
        return stat is not None and stat[1] != "Z" and stat[3] == self.start_ticks


def _stat(pid: int) -> tuple[int, str, int, int] | None:
    """(pid, state, ppid, start time) from /proc/PID/stat, or None when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return pid, rest[0], int(rest[1]), int(rest[19])


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def process_tree(root: int) -> list[Proc]:
    """Every live descendant of ``root`` (not ``root`` itself), found through the parent pids in /proc."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, str, int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                stats[stat[0]] = stat
                children.setdefault(stat[2], []).append(stat[0])
    found: list[Proc] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        stat = stats[pid]
        if stat[1] != "Z":
            found.append(Proc(pid, stat[3], _command(pid)))
        todo.extend(children.get(pid, []))
    return found


@dataclass
class WorkerProcess:
    id: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """``kill -9``, and reap it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def start_worker(data_dir: Path, store: str, api_url: str, *args: str) -> WorkerProcess:
    """``lambdahost worker --store STORE --data-dir DATA_DIR --api-url API_URL ARGS...``, once it printed its id."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.with_name(data_dir.name + ".log")
    command = [
        sys.executable,
        "-m",
        "lambdahost",
        "worker",
        "--store",
        store,
        "--data-dir",
        str(data_dir),
        "--api-url",
        api_url,
        *args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=clean_env(), cwd=data_dir.parent)
    worker = WorkerProcess("", process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        found = WORKER_RE.search(worker.output())
        if found:
            worker.id = found.group(1)
            return worker
        time.sleep(0.05)
    worker.kill()
    pytest.fail(
        f"`lambdahost worker` did not start within {START_TIMEOUT_S:.0f} s (exit status {process.returncode}). "
        f"Its output:\n{worker.output()}",
        pytrace=False,
    )
