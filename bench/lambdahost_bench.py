"""lambdahost's own numbers: warm invoke (Python client and HTTP), cold start, environment memory."""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import zipfile
from pathlib import Path

from bench.http_util import lambdahost_server, post_loop
from bench.stats import Sample, measure, summarize
from lambdahost.client import Client
from lambdahost.core.settings import Settings
from lambdahost.server import Platform

TRIVIAL = "def handler(event, context):\n    return event\n"
PAYLOAD = b'{"a":1}'


def trivial_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", TRIVIAL)
    return buf.getvalue()


def _create(platform: Platform, name: str) -> None:
    import base64

    platform.functions.create(
        {
            "FunctionName": name,
            "Runtime": "python3.11",
            "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(trivial_zip()).decode()},
        }
    )


def embedded(n_warm: int, n_cold: int) -> tuple[Sample, Sample, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp, Platform(Settings(data_dir=Path(tmp))) as platform:
        _create(platform, "bench")
        warm = measure(
            "warm sync invoke, Python client (embedded `Platform.invoker.invoke`)",
            lambda: platform.invoker.invoke("bench", PAYLOAD),
            n_warm,
            warmup=500,
        )
        memory = environment_memory(platform)
        cold_times = []
        for i in range(n_cold):
            platform.functions.update_configuration("bench", {"Description": f"rev {i}"})
            platform.functions.resolve("bench")  # new revision: its environments are retired
            started = time.perf_counter()
            result = platform.invoker.invoke("bench", PAYLOAD)
            cold_times.append((time.perf_counter() - started) * 1e3)
            assert result.outcome is not None and result.outcome.init_duration_ms is not None
        cold = summarize("cold start, trivial handler, to first result (Python client)", cold_times, "ms")
    return warm, cold, memory


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
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import re;print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read())[1])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout) / 1024


def over_http(n: int) -> Sample:
    with tempfile.TemporaryDirectory() as tmp, lambdahost_server(Path(tmp)) as port:
        client = Client(f"http://127.0.0.1:{port}")
        client.create_function("bench", trivial_zip(), handler="app.handler")
        client.invoke("bench", PAYLOAD)
        return post_loop(
            "warm sync invoke over HTTP (AWS Invoke API, keep-alive)",
            port,
            "/2015-03-31/functions/bench/invocations",
            PAYLOAD,
            n,
        )


def json_rows(samples: list[Sample]) -> str:
    return json.dumps([s.__dict__ for s in samples])


if __name__ == "__main__":  # pragma: no cover
    print(os.getpid())
