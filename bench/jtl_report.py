"""The ``jtl-report`` example on a large JTL: wall time and peak memory of one run, against the targets
(< 20 s and < 300 MB for 1,000,000 rows); written into docs/benchmarks.md (its own section, between markers):

    .venv/bin/python -m bench.jtl_report [--rows 1000000] [--no-write]

The JTL is generated first (not timed) by ``tests/examples/jtl_gen.py``: 20 labels with log-normal response
times, 50 threads, errors, transaction-controller rows, redirect sub-samples after a quarter of the labels' samples
and a malformed row every 100,000 samples. The handler then runs in a fresh ``python`` process (its example
directory on ``sys.path``, as the runtime puts it, and ``LAMBDAHOST_OUTPUT_DIR`` set): wall time of the whole
process (interpreter start and imports included) and its peak resident memory (``getrusage(RUSAGE_CHILDREN)``).

Not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.examples.jtl_gen import many_labels, write_jtl

from bench.doc_sections import JTL_REPORT

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
EXAMPLE = ROOT / "src" / "lambdahost" / "examples" / "jtl_report"
TARGET_S, TARGET_MB = 20.0, 300.0
CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import app
result = app.handler({"jtl": sys.argv[2]}, None)
print(json.dumps({k: result[k] for k in ("rows", "samples", "subsamples", "malformed", "outputs")}))
"""


@dataclass(frozen=True)
class Result:
    rows: int
    size_mb: float
    samples: int
    labels: int
    wall_s: float
    cpu_s: float
    peak_mb: float
    load: float


def run(rows: int) -> Result:
    with tempfile.TemporaryDirectory(prefix="lh-jtl-bench-") as tmp:
        path = Path(tmp) / "big.jtl"
        labels = many_labels(20)
        print(f"generating {rows:,} rows ...", flush=True)
        write_jtl(
            path,
            rows,
            labels=labels,
            threads=50,
            malformed_every=100_000,
            seed=2024,
            duration_s=3600,
            record=False,
            max_rows=rows,
        )
        out = Path(tmp) / "out"
        env = {"PATH": "/usr/bin:/bin", "LAMBDAHOST_OUTPUT_DIR": str(out)}
        load = os.getloadavg()[0]
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(EXAMPLE), str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        return Result(
            rows=summary["rows"],
            size_mb=path.stat().st_size / 1e6,
            samples=summary["samples"],
            labels=len(labels),
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_mb=usage.ru_maxrss / 1024,
            load=load,
        )


def verdict(value: float, target: float) -> str:
    return "met" if value < target else "NOT met"


def report(result: Result) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""## jtl-report example on a large JTL

`python -m bench.jtl_report`: {platform.machine()}, Python {platform.python_version()}; run {when}. One run of
the `jtl-report` handler in a fresh process on a generated JTL ({result.rows:,} rows, {result.size_mb:.0f} MB;
{result.samples:,} samples in {result.labels} labels, the rest sub-samples and malformed rows), writing the
workbook and the HTML page. The machine's 1-minute load average when the run started: {result.load:.1f} (other
work on its 2 CPUs stretches the wall time; the CPU time does not depend on it).

| what | measured | target |
|---|---|---|
| wall time (process start to exit) | {result.wall_s:.1f} s | < {TARGET_S:.0f} s: {verdict(result.wall_s, TARGET_S)} |
| CPU time (user + system) | {result.cpu_s:.1f} s | |
| peak resident memory | {result.peak_mb:.0f} MB | < {TARGET_MB:.0f} MB: {verdict(result.peak_mb, TARGET_MB)} |
"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.jtl_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    result = run(args.rows)
    text = report(result)
    print(text)
    if not args.no_write:
        JTL_REPORT.write(text, DOC)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
