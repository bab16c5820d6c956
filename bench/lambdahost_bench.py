"""lambdahost's own subjects: the embedded platform (Python client), `lambdahost serve` (HTTP), cold starts and
environment memory."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.http_util import lambdahost_server
from bench.stats import Sample, summarize
from lambdahost.client import Client
from lambdahost.core.settings import Settings
from lambdahost.server import Platform

TRIVIAL = "def handler(event, context):\n    return event\n"
PAYLOAD = b'{"a":1}'
NAME = "bench"


def trivial_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", TRIVIAL)
    return buf.getvalue()


def _create(platform: Platform, name: str = NAME) -> None:
    platform.functions.create(
        {
            "FunctionName": name,
            "Runtime": "python3.11",
            "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(trivial_zip()).decode()},
        }
    )


@contextmanager
def embedded(snapshot: bool = False) -> Iterator[tuple[Platform, Callable[[], object]]]:
    """A Platform in this process with the trivial function; yields it and one warm sync invoke."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Platform(Settings(data_dir=Path(tmp), snapshot=snapshot)) as platform,
    ):
        _create(platform)
        invoker = platform.invoker

        def once() -> object:
            return invoker.invoke(NAME, PAYLOAD)

        yield platform, once


def cold_starts(platform: Platform, n: int, label: str) -> Sample:
    """Invoke after each configuration change (which retires the warm environments): fork from the pre-forked
    server (or the snapshot template), sandbox, import, run."""
    times = []
    for i in range(n):
        platform.functions.update_configuration(NAME, {"Description": f"rev {i}"})
        platform.functions.resolve(NAME)  # the new revision is resolved outside the timed part
        started = time.perf_counter()
        result = platform.invoker.invoke(NAME, PAYLOAD)
        times.append((time.perf_counter() - started) * 1e3)
        if result.function_error is not None:
            raise RuntimeError(f"cold start failed: {result.payload!r}")
        if result.outcome.init_duration_ms is None:
            raise RuntimeError("a cold start reported no Init Duration")
    return summarize(label, times, "ms")


def environment_memory(platform: Platform) -> dict[str, float]:
    env = platform.pool.environments()[0]
    fields: dict[str, float] = {}
    with open(f"/proc/{env.pid}/smaps_rollup") as fh:
        for line in fh:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:", "Private_Clean:", "Private_Dirty:"):
                fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    fields["Private"] = fields.pop("Private_Clean", 0) + fields.pop("Private_Dirty", 0)
    return fields


def bare_interpreter_rss() -> float:
    out = subprocess.run(
        [sys.executable, "-c", "import re;print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read())[1])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout) / 1024


@contextmanager
def served() -> Iterator[int]:
    """`lambdahost serve` in a subprocess with the trivial function created and warmed; yields its port."""
    with tempfile.TemporaryDirectory() as tmp, lambdahost_server(Path(tmp)) as port:
        client = Client(f"http://127.0.0.1:{port}")
        client.create_function(NAME, trivial_zip(), handler="app.handler")
        client.invoke(NAME, PAYLOAD)
        yield port
