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
from bench.stats import Sample, measure, summarize
from lambdahost.client import Client
from lambdahost.core.settings import Settings
from lambdahost.server import Platform

TRIVIAL = "def handler(event, context):\n    return event\n"
# An init that imports a few standard-library packages, as real handlers import their SDKs and libraries.
HEAVY = (
    "import asyncio, decimal, email.mime.multipart, http.client, json, logging.handlers, sqlite3, ssl,"
    " urllib.request, xml.etree.ElementTree, zipfile\n\ndef handler(event, context):\n    return event\n"
)
PAYLOAD = b'{"a":1}'
NAME = "bench"
SETTLE_S = 0.02


def trivial_zip(source: str = TRIVIAL) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


def _create(platform: Platform, name: str = NAME, source: str = TRIVIAL) -> None:
    platform.functions.create(
        {
            "FunctionName": name,
            "Runtime": "python3.11",
            "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(trivial_zip(source)).decode()},
        }
    )


@contextmanager
def embedded(snapshot: bool = False, source: str = TRIVIAL) -> Iterator[tuple[Platform, Callable[[], object]]]:
    """A Platform in this process with the function; yields it and one warm sync invoke."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Platform(Settings(data_dir=Path(tmp), snapshot=snapshot)) as platform,
    ):
        _create(platform, source=source)
        invoker = platform.invoker

        def once() -> object:
            return invoker.invoke(NAME, PAYLOAD)

        yield platform, once


def cold_starts(platform: Platform, n: int, label: str) -> Sample:
    """A new environment's first invocation, n times: the function's idle environments are stopped before each
    (a snapshot template is kept), so the invoke forks a new one from the pre-forked server (or the template),
    sandboxes it, runs init (or the after-restore hooks) and the handler. The stopped environment's teardown is
    given a moment to finish first: it is not part of the next cold start."""
    platform.invoker.invoke(NAME, PAYLOAD)  # the function is resolved and, in snapshot mode, its template ready
    times = []
    for _ in range(n):
        platform.pool.discard_idle(NAME)
        time.sleep(SETTLE_S)
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


def runtime_work(n: int) -> Sample:
    """What the environment's runtime does per invocation (decode the frame, parse the event, build the context,
    call the handler, encode the result, flush the log streams, read peak memory, encode the reply), run
    in-process, with no channel and hot caches: the part of a round trip no placement of processes removes."""
    from lambdahost.runtime import bootstrap
    from lambdahost.runtime.protocol import decode_invoke, encode_invoke

    bootstrap._context_env = ("/aws/lambda/bench", "stream", NAME, "128", "$LATEST")
    frame = encode_invoke(
        b"00000000-0000-4000-8000-000000000000",
        0,
        b"arn:aws:lambda:us-east-1:000000000000:function:bench",
        b"",
        PAYLOAD,
    )

    def handler(event: object, context: object) -> object:
        return event

    def once() -> None:
        request_id, deadline_ms, arn, meta, body = decode_invoke(frame)
        bootstrap.invoke_once(handler, request_id, deadline_ms, arn, meta, body)

    return measure("runtime work per invocation, in-process (no channel)", once, n, warmup=1000)


def platform_work(platform: Platform, n: int) -> Sample:
    """What the platform does per warm sync invocation around the round trip (resolve, admit, take an environment,
    frame, decode, outcome, release, hand the record over), with the environment's socket replaced by one that
    answers at once: hot caches, no channel."""
    from lambdahost.runtime.protocol import REPLY_OK, encode_reply

    env = platform.pool.environments()[0]
    reply = encode_reply(REPLY_OK, 0.05, 10_000, None, PAYLOAD)

    class Answering:
        def sendall(self, data: bytes) -> None:
            pass

        def recv_into(self, buf: bytearray, *args: int) -> int:
            buf[: len(reply)] = reply
            return len(reply)

    real = env._sock
    env._sock = Answering()  # type: ignore[assignment]
    try:
        return measure(
            "platform work per warm invocation, in-process (socket answered at once)",
            lambda: platform.invoker.invoke(NAME, PAYLOAD),
            n,
            warmup=1000,
        )
    finally:
        env._sock = real
        platform.recorder.flush()
