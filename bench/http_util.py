"""Start servers for the HTTP benchmarks and time keep-alive POSTs against them."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.stats import Sample, measure


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
        "--log-level",
        "warning",
        "--no-access-log",
        "--lifespan",
        "off",
    ]
    with process(args, port, "/"):
        yield port


@contextmanager
def lambdahost_server(data_dir: Path) -> Iterator[int]:
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
    ]
    with process(args, port, "/health"):
        yield port


def post_loop(name: str, port: int, path: str, body: bytes, n: int) -> Sample:
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def once() -> None:
        conn.request("POST", path, body)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{name}: HTTP {resp.status}")

    try:
        return measure(name, once, n, warmup=200)
    finally:
        conn.close()
