"""The "Asynchronous invocations against peers" section of docs/benchmarks.md: rendered from the saved results,
kept between two markers so that ``python -m bench`` (which rewrites the rest of the page) leaves it in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.async_peers.common import Row
from bench.doc_sections import ASYNC_PEERS


def write_section(section: str, doc: Path) -> None:
    """Replace the peers section of ``doc`` (or append it)."""
    ASYNC_PEERS.write(section, doc)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _ms(x: float) -> str:
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms"


def _result_rows(rows: list[Row]) -> list[list[str]]:
    out = []
    for r in rows:
        name = r.system if r.system == "lambdahost" else f"{r.system} ({_backing(r)})"
        for label, t, lat in ((r.client, r.throughput, r.latency), (_bulk_client(r), r.bulk, None)):
            if t is None:
                continue
            dup = "n/a" if t.duplicates is None else str(t.duplicates)
            out.append(
                [
                    f"**{name}**" if r.system == "lambdahost" else name,
                    r.setup,
                    label,
                    f"**{t.per_s:,.0f}**",
                    f"{t.enqueue_per_s:,.0f}",
                    _ms(lat.p50_ms) if lat else "-",
                    _ms(lat.p99_ms) if lat else "-",
                    f"{t.lost}" + (f" ({t.note})" if t.note else ""),
                    dup,
                    r.versions,
                ]
            )
    return out


def _backing(r: Row) -> str:
    return {"Celery": "Redis", "Dramatiq": "Redis", "Huey": "SQLite", "procrastinate": "PostgreSQL"}.get(r.system, "")


def _bulk_client(r: Row) -> str:
    return "one thread, `noop.batch_defer()` in chunks of 1,000 (bulk API)" if r.system == "procrastinate" else ""


HEADER = [
    "system",
    "processes",
    "client",
    "throughput (inv/s)",
    "enqueue alone (inv/s)",
    "latency p50",
    "latency p99",
    "lost",
    "ran twice",
    "versions",
]


def _targets(rows: list[Row]) -> list[list[str]]:
    def best(store: str, batch: bool = False) -> Row | None:
        # the verdict is on per-invocation clients only (the batch API's rows compare with the peers' bulk APIs);
        # the best batch row is quoted beside it
        mine = [
            r
            for r in rows
            if r.system == "lambdahost" and r.store == store and r.throughput and ("batch_size" in r.extra) == batch
        ]
        return max(mine, key=lambda r: r.throughput.per_s if r.throughput else 0.0, default=None)

    def with_batch(text: str, store: str) -> str:
        b = best(store, batch=True)
        if b is None or b.throughput is None:
            return text
        return f"{text}; with the batch API {b.throughput.per_s:,.0f}/s ({b.setup})"

    peers = [r for r in rows if r.system != "lambdahost" and r.throughput]
    sqlite_peers = [r for r in peers if r.store in ("SQLite", "both")]
    fastest = max(sqlite_peers, key=lambda r: r.throughput.per_s if r.throughput else 0.0, default=None)
    huey = next((r for r in peers if r.system == "Huey"), None)
    out: list[list[str]] = []
    s, p = best("SQLite"), best("PostgreSQL")
    if s and s.throughput and fastest and fastest.throughput:
        ratio = s.throughput.per_s / fastest.throughput.per_s
        text = (
            f"{s.throughput.per_s:,.0f}/s ({s.setup}, {s.client}) vs {fastest.system} {fastest.throughput.per_s:,.0f}/s"
        )
        if huey and huey.throughput and huey is not fastest:
            text += f"; vs Huey (the SQLite peer) {s.throughput.per_s / huey.throughput.per_s:.2f}x"
        out.append(
            [
                "Throughput on SQLite >= 3x the fastest peer (aiming 5,000/s)",
                with_batch(text, "SQLite"),
                f"{ratio:.2f}x: {'met' if ratio >= 3 else 'NOT met'}",
            ]
        )
    if p and p.throughput:
        out.append(
            [
                "Throughput on PostgreSQL >= 2,000/s",
                with_batch(f"{p.throughput.per_s:,.0f}/s ({p.setup}, {p.client})", "PostgreSQL"),
                "met" if p.throughput.per_s >= 2000 else "NOT met",
            ]
        )
    lat = [r for r in rows if r.system == "lambdahost" and r.store == "SQLite" and r.latency]
    if lat:
        b = min(lat, key=lambda r: r.latency.p50_ms if r.latency else 1e9)
        assert b.latency
        out.append(
            [
                "Single async invocation on SQLite, p50 <= 2 ms",
                f"{_ms(b.latency.p50_ms)} ({b.setup}, {b.client})",
                "met" if b.latency.p50_ms <= 2 else "NOT met",
            ]
        )
    return out


def _profile(p: dict[str, Any]) -> str:
    parts = [
        f"**{p['store']}, {p['topology']}**, {p['n']:,} invocations enqueued with {p['client']}: "
        f"{p['per_s']:,.0f}/s while sampled (py-spy at {p['rate_hz']} Hz costs some of it), lost {p['lost']}."
    ]
    switches_key = "context switches of its threads (count)"
    for proc, cpu in p["cpu_us_per_invocation"].items():
        total = sum(v for k, v in cpu.items() if k != switches_key)
        rows = [[k, f"{v:,.0f}"] for k, v in cpu.items() if k != switches_key]
        if switches_key in cpu:
            rows.append(
                ["context switches of its own threads per invocation (a count)", f"{cpu[switches_key] / 1e6:.1f}"]
            )
        parts.append(
            f"CPU of `{proc}` (from /proc) per invocation of the run (all {p['n']:,}, whichever process ran it): "
            f"{total:,.0f} us"
        )
        parts.append(table(["part", "us per invocation"], rows))
        gil = p["gil_us_per_invocation"].get(proc, {})
        if gil:
            parts.append(f"GIL held in `{proc}` per invocation, by step (py-spy --gil): {sum(gil.values()):,.0f} us")
            parts.append(table(["step", "us per invocation"], [[k, f"{v:,.0f}"] for k, v in gil.items() if v >= 1]))
    steps = p.get("steps_ms") or {}
    if steps:
        parts.append(
            "Mean time between the recorded lifecycle steps: "
            + "; ".join(f"{k}: {_ms(v)}" for k, v in steps.items())
            + "."
        )
    return "\n\n".join(parts)


def render(results: dict[str, Any], analysis: str, method: str) -> str:
    rows = [Row.from_json(r) for r in results.get("rows", [])]
    floors = [Row.from_json(r) for r in results.get("floors", [])]
    run = results.get("run", {})
    parts = [
        "## Asynchronous invocations against peers",
        "Written by `python -m bench.async_peers` (see *Method* below); the peers run in the same run on the same "
        f"machine. {run.get('machine', '')}; run {run.get('date', '?')}{run.get('note', '')}.",
    ]
    targets = _targets(rows)
    if targets:
        parts += [
            "### Against the targets (measured only; the engine is held to them later)",
            table(["target", "best measured", "verdict"], targets),
        ]
    for store in ("SQLite", "PostgreSQL"):
        mine = [r for r in rows if r.store == store]
        if not mine:
            continue
        others = [r for r in rows if r.system != "lambdahost" and r.store in (store, "both") and r not in mine]
        parts += [f"### On {store}", table(HEADER, _result_rows(mine + others))]
    if floors:
        parts += [
            "### Floors (the same machine, the same run)",
            table(
                ["operation", "p50", "p99", "n", "version"],
                [
                    [
                        f.system,
                        f"{f.extra['p50_us']:.1f} us",
                        f"{f.extra['p99_us']:.1f} us",
                        str(f.extra["n"]),
                        f.versions,
                    ]
                    for f in floors
                ],
            ),
        ]
    profiles = results.get("profiles", [])
    if profiles or analysis:
        parts.append("### Where lambdahost's time goes per asynchronous invocation")
        if analysis:
            parts.append(analysis)
        parts += [_profile(p) for p in profiles]
    parts += ["### Method", method]
    return "\n\n".join(parts)
