"""Cold starts per interpreter: a function of every runtime this machine runs, on the platform's own Python and on
the others (runtime/interpreters.py); written into docs/benchmarks.md (its own section, between markers):

    .venv/bin/python -m bench.runtimes [--quick] [--no-write] [-n 200]

One embedded ``Platform`` per mode (normal, ``--snapshot``) with a trivial function (``return event``) per
available runtime. Its first invocation is timed once: it starts that interpreter's base fork server (for the
platform's own, already running) and then cold-starts. Then ``n`` cold starts of each, taken in rounds (one of every
runtime per round, so all see the same moments of a noisy machine), each as ``bench.lambdahost_bench.cold_starts``
takes one: the function's idle environments stopped, 20 ms given to their teardown, one invoke through the Python
client, timed to its result.

Not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.doc_sections import RUNTIMES
from bench.lambdahost_bench import PAYLOAD, SETTLE_S, trivial_zip
from bench.stats import Sample, summarize
from lambdahost.core.settings import Settings
from lambdahost.runtime.interpreters import Interpreter
from lambdahost.server import Platform

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def function_name(runtime: str) -> str:
    return "bench-" + runtime.replace(".", "-")


@contextmanager
def platform_with_functions(snapshot: bool) -> Iterator[tuple[Platform, list[Interpreter]]]:
    """A Platform with one trivial function per available runtime."""
    with tempfile.TemporaryDirectory() as tmp, Platform(Settings(data_dir=Path(tmp), snapshot=snapshot)) as started:
        interpreters = started.available_runtimes()
        code = base64.b64encode(trivial_zip()).decode()
        for interpreter in interpreters:
            started.functions.create(
                {
                    "FunctionName": function_name(interpreter.runtime),
                    "Runtime": interpreter.runtime,
                    "Handler": "app.handler",
                    "Code": {"ZipFile": code},
                }
            )
        yield started, interpreters


def invoke_ms(started: Platform, name: str) -> float:
    began = time.perf_counter()
    result = started.invoker.invoke(name, PAYLOAD)
    elapsed = (time.perf_counter() - began) * 1e3
    if result.function_error is not None or result.outcome.init_duration_ms is None:
        raise RuntimeError(f"{name}: not a successful cold start: {result.payload!r}")
    return elapsed


def cold_starts(snapshot: bool, n: int) -> tuple[list[Interpreter], dict[str, float], dict[str, Sample]]:
    """Per runtime: the first invocation (ms) and ``n`` cold starts, interleaved by rounds."""
    mode = "snapshot mode" if snapshot else "cold start"
    with platform_with_functions(snapshot) as (started, interpreters):
        if snapshot:  # take every snapshot first: the first invocation then times the template's first fork
            for interpreter in interpreters:
                started.pool.prepare_snapshot(started.functions.resolve(function_name(interpreter.runtime))[1])
        first = {i.runtime: invoke_ms(started, function_name(i.runtime)) for i in interpreters}
        times: dict[str, list[float]] = {i.runtime: [] for i in interpreters}
        for _ in range(n):
            for interpreter in interpreters:
                name = function_name(interpreter.runtime)
                started.pool.discard_idle(name)
                time.sleep(SETTLE_S)
                times[interpreter.runtime].append(invoke_ms(started, name))
        samples = {runtime: summarize(f"{mode}, {runtime}", values, "ms") for runtime, values in times.items()}
        return interpreters, first, samples


def report(
    interpreters: list[Interpreter],
    first: dict[str, float],
    cold: dict[str, Sample],
    snap: dict[str, Sample],
    quick: bool,
) -> str:
    own = next(i for i in interpreters if i.own)
    rows = [
        "| runtime | Python | first invocation (starts its fork server) | cold start p50 / p99 | vs own p50 | "
        "snapshot mode p50 / p99 |",
        "|---|---|---|---|---|---|",
    ]
    for interpreter in interpreters:
        runtime = interpreter.runtime
        c, s = cold[runtime], snap[runtime]
        source = "the platform's own" if interpreter.own else interpreter.source
        which = f"{interpreter.version} ({source})"
        rows.append(
            f"| {runtime} | {which} | {first[runtime]:.1f} ms | {c.p50:.2f} / {c.p99:.2f} ms | "
            f"{c.p50 / cold[own.runtime].p50:.2f}x | {s.p50:.2f} / {s.p99:.2f} ms |"
        )
    n = cold[own.runtime].n
    return "\n\n".join(
        [
            "## Cold starts per interpreter",
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, platform on Python {platform.python_version()}; "
            f"run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}{' (quick run)' if quick else ''}; "
            f"n = {n} cold starts per runtime and mode.",
            "\n".join(rows),
            "Each runtime runs on its own interpreter (runtime/interpreters.py), each interpreter has one base fork "
            "server, started by the first invocation that needs it (the *first invocation* column, one sample: the "
            "interpreter's start and its import of the runtime, then a cold start). Every cold start after that is "
            "a fork of that server, like the platform's own. Taken as `bench.lambdahost_bench.cold_starts` takes "
            "them (idle environments stopped, 20 ms for their teardown, one invoke through the Python client), in "
            "rounds of one per runtime. Snapshot mode forks from the function's template, which its interpreter's "
            "server forked and which already ran init.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 cold starts per runtime and mode (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing the doc")
    parser.add_argument("-n", type=int, default=200, help="cold starts per runtime and mode")
    args = parser.parse_args()
    n = 20 if args.quick else args.n
    interpreters, first, cold = cold_starts(False, n)
    _, _, snap = cold_starts(True, n)
    body = report(interpreters, first, cold, snap, args.quick)
    if args.no_write:
        print(body)
    else:
        RUNTIMES.write(body, DOC)
        print(f"wrote the runtimes section of {DOC}")


if __name__ == "__main__":
    main()
