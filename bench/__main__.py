"""Run every benchmark and write docs/benchmarks.md: lambdahost beside the floors, with the targets."""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from bench import floors, lambdahost_bench
from bench.http_util import post_loop, uvicorn_echo
from bench.stats import Sample

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x (target <= {target:g}x: {'met' if ratio <= target else 'NOT met'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print the report instead of writing the doc")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    n_warm, n_cold, n_http = int(20000 * scale), int(200 * scale), int(20000 * scale)

    pipe = floors.pipe_round_trip(int(20000 * scale))
    interp = floors.interpreter_start(int(30 * scale) or 3)
    fork = floors.fork_exit_wait(int(200 * scale))
    with uvicorn_echo() as port:
        echo = post_loop(
            "bare uvicorn/Starlette echo endpoint (keep-alive)",
            port,
            "/2015-03-31/functions/echo/invocations",
            lambdahost_bench.PAYLOAD,
            n_http,
        )
    warm, cold, memory = lambdahost_bench.embedded(n_warm, n_cold)
    http = lambdahost_bench.over_http(n_http)
    bare_rss = lambdahost_bench.bare_interpreter_rss()

    results: list[Sample] = [warm, http, cold, pipe, echo, interp, fork]
    rows = [s.row() for s in results]
    comparisons = [
        [
            "Warm sync invoke, Python client vs pipe round trip",
            f"{warm.p50:.1f} us / {pipe.p50:.1f} us",
            verdict(warm.p50 / pipe.p50, 2),
        ],
        [
            "Warm sync invoke over HTTP vs bare uvicorn/Starlette echo",
            f"{http.p50:.1f} us / {echo.p50:.1f} us",
            verdict(http.p50 / echo.p50, 1.5),
        ],
        [
            "Cold start to first result (p50)",
            f"{cold.p50:.2f} ms (interpreter start alone: {interp.p50:.1f} ms)",
            f"target <= 5 ms: {'met' if cold.p50 <= 5 else 'NOT met'}",
        ],
        [
            "Environment memory (trivial handler)",
            f"RSS {memory['Rss']:.1f} MB, PSS {memory['Pss']:.1f} MB, private {memory['Private']:.1f} MB",
            f"bare interpreter RSS {bare_rss:.1f} MB",
        ],
    ]
    report = (
        "\n\n".join(
            [
                "# Benchmarks",
                "Written by `scripts/bench` (`python -m bench`); every figure and its floor come from the same run on "
                "the same machine. Benchmarks are never run as timed tests.",
                f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                f"{platform.system()} {platform.release()}; run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
                f"{' (quick run)' if args.quick else ''}.",
                "## Against the floors and targets",
                table(comparisons, ["what", "measured", "ratio / verdict"]),
                "## All samples",
                table(rows, ["benchmark", "p50", "p99", "n"]),
                "## How each figure is taken",
                "- *Python client*: `Platform.invoker.invoke(name, payload)` in-process, a warm environment, trivial "
                "handler (`return event`), including the invocation record handed to the background writer.\n"
                "- *HTTP*: `http.client` keep-alive POSTs to the AWS Invoke path of `lambdahost serve` (uvicorn, "
                "uvloop, httptools); the floor is the same server stack answering from a bare Starlette route.\n"
                "- *Cold start*: after each configuration change (which retires the warm environments), one invoke "
                "through the Python client: fork from the pre-forked server, sandbox, import, run.\n"
                "- *Pipe round trip*: a 60-byte message to a forked Python process over a pipe and back.\n"
                "- *Memory*: `/proc/PID/smaps_rollup` of a warm environment; PSS shares the fork server's pages.",
            ]
        )
        + "\n"
    )
    if args.no_write:
        print(report)
    else:
        DOC.write_text(report)
        print(report)
        print(f"written to {DOC}")


if __name__ == "__main__":
    main()
