"""Start servers for the HTTP benchmarks and time keep-alive POSTs against them."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(port: int, path: str = "/", timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not come up")


@contextmanager
def process(args: list[str], port: int, health: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(port, health)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def uvicorn_echo() -> Iterator[int]:
    """The HTTP floor: the same server stack and options as `lambdahost serve`, answering from a bare route."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.echo_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
        "--no-proxy-headers",
        "--lifespan",
        "off",
    ]
    with process(args, port, "/"):
        yield port


@contextmanager
def lambdahost_server(data_dir: Path, *extra: str) -> Iterator[int]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "lambdahost",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *extra,
    ]
    with process(args, port, "/health"):
        yield port


@contextmanager
def poster(port: int, path: str, body: bytes) -> Iterator[Callable[[], None]]:
    """One keep-alive connection; yields a function doing one POST and reading the whole answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def once() -> None:
        conn.request("POST", path, body)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"POST {path} on port {port}: HTTP {resp.status}")

    try:
        yield once
    finally:
        conn.close()
