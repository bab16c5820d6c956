"""The docs/benchmarks.md section of ``bench.ui_pages``: the table of every configuration measured (store and
number of stored invocations) and a short analysis, its figures computed from the measurements."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.ui_pages import Run

TARGET_MS = 100.0
TARGET_N = 10_000  # the issue: every page under 100 ms with 10,000 stored invocations

HOW_THEY_READ = (
    "Every page reads through the store's indexed, paged or capped queries, never a whole table: the history is a "
    "keyset page in `created_at` order (the `before` cursor starts the range where the previous page ended, so a "
    "page deep in the past costs what the newest costs); a status filter walks an index in `created_at` order (the "
    "function's, the status's or the table's: the planner picks) and keeps the rows that match both, so its cost "
    "follows how rare the status is among what it walks, not the table's size; the line charts read the last N "
    "runs; the queue chart's one statement reads at most 2,000 finished and 2,000 pending invocations of its "
    "window and counts each lane's backlog from an index; the invocation page reads one row by its key. What grows "
    "with the stored invocations is only the depth of the indexes (a few more page reads per lookup) and, on the "
    "function page and the overview, the exact counts of the unfinished invocations (here the backlog). On "
    "PostgreSQL every query is a round trip to the server (a fraction of a millisecond, against microseconds for "
    "SQLite's reads in the process), so a page of many small queries costs more there; the functions list reads "
    "the last runs and the trigger counts of its whole page in one statement each (until this session it asked "
    "about six queries a function: 31-35 ms on PostgreSQL for these ten functions). The function page "
    "with charts of 1,000 runs is the heaviest page whatever the store: it reads 1,000 runs, draws each as a dot "
    "with its label in two charts (the largest page), and its queue chart parses the lifecycle steps of every "
    "invocation of the window."
)


def _cell(p50: float, p95: float) -> str:
    return f"{p50:.1f} / {p95:.1f}"


def table(runs: Sequence[Run]) -> list[str]:
    header = ["Page", *(f"{run.store}, {run.n:,}" for run in runs), "Size"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for i, (label, *_rest) in enumerate(runs[0].pages):
        cells = [_cell(run.pages[i][1], run.pages[i][2]) for run in runs]
        lines.append(f"| {label} | {' | '.join(cells)} | {runs[0].pages[i][3] / 1024:.0f} KB |")
    return lines


def over_target(run: Run) -> list[str]:
    return [f"{label} ({p95:.0f} ms)" for label, _p50, p95, _size in run.pages if p95 >= TARGET_MS]


def analysis(runs: Sequence[Run]) -> list[str]:
    """Sentences with the figures: the target at 10,000, and per store what 100 times more invocations changed."""
    text: list[str] = []
    for run in runs:
        slow = over_target(run)
        verdict = "every page" + (" but " + ", ".join(slow) if slow else "") + f" under {TARGET_MS:.0f} ms at p95"
        target = " (the issue's target)" if run.n == TARGET_N else ""
        text.append(f"- {run.store}, {run.n:,} stored invocations{target}: {verdict}; stored in {run.insert_s:.0f} s.")
    for store in dict.fromkeys(run.store for run in runs):
        sizes = sorted((run for run in runs if run.store == store), key=lambda run: run.n)
        if len(sizes) < 2:
            continue
        small, large = sizes[0], sizes[-1]
        changes = [
            (large_page[1] - small_page[1], small_page[0], small_page[1], large_page[1])
            for small_page, large_page in zip(small.pages, large.pages, strict=True)
        ]
        # the history's pages: the function page itself (its newest page) and the ones paged back or filtered
        history = [c for c in changes if c[1].startswith(("History", "Function page ("))]
        worst = max(changes, key=lambda c: c[0])
        worst_history = max(history, key=lambda c: c[0])
        text.append(
            f"- {store}, {small.n:,} to {large.n:,} ({large.n // small.n} times as many): the median of a history page "
            f"(newest, deep in the past, filtered) changes by {worst_history[0]:+.1f} ms at most "
            f"({worst_history[1]}: {worst_history[2]:.1f} to {worst_history[3]:.1f} ms); the largest change of any "
            f"page is {worst[0]:+.1f} ms ({worst[1]}: {worst[2]:.1f} to {worst[3]:.1f} ms)."
        )
    return text


STATISTICS = (
    "PostgreSQL's figures are taken after `VACUUM (ANALYZE) invocations`, as autovacuum runs it on a server with its "
    "defaults. Without statistics (a server with autovacuum off, such as the test server here: `--no-analyze`) the "
    "planner guesses, and on 1,000,000 rows it answered a status-filtered history with a bitmap AND of the "
    "function's and the status's index ranges, reading all the function's rows of that status: hundreds of "
    "milliseconds instead of one. Such a server needs `ANALYZE invocations` after large changes."
)


def report(runs: Sequence[Run], backlog: int, requests: int, others: int, analyzed: bool = True) -> str:
    stores = " and ".join(dict.fromkeys(run.store for run in runs))
    load = os.getloadavg()[0]
    lines = [
        "## Web UI pages",
        "",
        f"Invocations of one function (`report`, two lanes; the newest {backlog:,} still pending) plus {others} "
        f"functions with 50 each, on {stores}; each page fetched {requests} times over real HTTP after a warm-up. "
        f"Each cell: p50 / p95 of the whole request in milliseconds. Target: every page under {TARGET_MS:.0f} ms "
        f"with {TARGET_N:,} stored invocations, and the history paged and fast with 1,000,000.",
        "",
        *table(runs),
        "",
        *analysis(runs),
        "",
        HOW_THEY_READ,
        *(["", STATISTICS] if analyzed and any(run.store == "PostgreSQL" for run in runs) else []),
        "",
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs (load average {load:.1f} at the end: the machine "
        f"is shared, which shows in the p95s), {time.strftime('%Y-%m-%d')}. "
        "Run: `.venv/bin/python -m bench.ui_pages -n 10000 -n 1000000 --store sqlite --store postgresql://...` "
        "(a PostgreSQL URL of an empty database).",
    ]
    return "\n".join(lines)
