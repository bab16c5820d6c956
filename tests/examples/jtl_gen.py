"""Realistic JMeter JTL CSV files with known contents, for the example tasks' tests and benchmark.

``write_jtl`` writes what JMeter's CSV writer writes: the standard 17 columns (or a chosen subset, in a chosen
order), several threads interleaved, transaction-controller rows (``Number of samples in transaction``, empty
``dataType``, ``URL`` null), HTTP samples whose redirects follow them as sub-samples labelled ``<label>-0``,
``<label>-1`` (from the same thread, as JMeter writes sub-results), failures with quoted messages that contain
commas, and, on request, malformed rows (truncated, non-numeric, negative elapsed, an empty label). A label
that merely ends in ``-<n>`` (``Step-7``) is a real label, never a sub-sample.

The returned ``Truth`` keeps every top-level sample's values (when ``record``), so a test computes its expected
figures independently of the code under test.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = (
    "timeStamp",
    "elapsed",
    "label",
    "responseCode",
    "responseMessage",
    "threadName",
    "dataType",
    "success",
    "failureMessage",
    "bytes",
    "sentBytes",
    "grpThreads",
    "allThreads",
    "URL",
    "Latency",
    "IdleTime",
    "Connect",
)


@dataclass
class Sample:
    ts: int
    elapsed: int
    ok: bool
    latency: int
    connect: int
    received: int
    sent: int


@dataclass
class Truth:
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    rows: int = 0  # data rows written, malformed included
    subsamples: int = 0
    malformed_lines: list[int] = field(default_factory=list)  # physical line numbers (header = 1)

    def add(self, label: str, sample: Sample) -> None:
        self.samples.setdefault(label, []).append(sample)

    def all(self) -> list[Sample]:
        return [s for values in self.samples.values() for s in values]


@dataclass(frozen=True)
class Label:
    name: str
    mean_ms: float  # response times are log-normal around this
    error_rate: float = 0.0
    redirects: int = 0  # sub-samples after each sample
    transaction: bool = False


DEFAULT_LABELS = (
    Label("Home page", 120, 0.01, redirects=1),
    Label("Login", 300, 0.02, redirects=2),
    Label("Search, with a comma", 450, 0.05),
    Label("Step-7", 80),  # ends in -<n> but is a real label
    Label("Checkout", 900, 0.1, transaction=True),
)


def many_labels(n: int) -> tuple[Label, ...]:
    rng = random.Random(n)
    return tuple(
        Label(
            f"{i:03d} - /api/resource{i}",
            rng.uniform(20, 800),
            rng.choice((0, 0.001, 0.01, 0.05)),
            redirects=1 if i % 4 == 0 else 0,
            transaction=i % 7 == 0,
        )
        for i in range(n)
    )


def write_jtl(
    path: Path,
    samples: int,
    labels: tuple[Label, ...] = DEFAULT_LABELS,
    threads: int = 4,
    seed: int = 1,
    columns: tuple[str, ...] = COLUMNS,
    malformed_every: int = 0,
    start_ms: int = 1_700_000_000_000,
    duration_s: float | None = None,
    record: bool = True,
    max_rows: int | None = None,
) -> Truth:
    """``samples`` top-level samples (plus their sub-samples and malformed rows) spread over ``duration_s``;
    stops early once ``max_rows`` data rows are written (a sample's sub-samples are always written with it)."""
    rng = random.Random(seed)
    truth = Truth()
    duration_ms = int((duration_s if duration_s is not None else max(10.0, samples / 50)) * 1000)
    clocks = [start_ms + t for t in range(threads)]
    step = max(1, duration_ms * threads // max(1, samples))
    line = 1
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(columns)
        index = {name: i for i, name in enumerate(columns)}

        def emit(values: dict[str, object]) -> None:
            nonlocal line
            writer.writerow([values[name] for name in columns])
            line += 1
            truth.rows += 1

        for n in range(samples):
            if max_rows is not None and truth.rows >= max_rows:
                break
            if malformed_every and n % malformed_every == malformed_every - 1:
                kind = (n // malformed_every) % 4
                row: list[object] = [clocks[0], 10, "Home page"] + [""] * (len(columns) - 3)
                if kind == 0:
                    row = row[:3]  # truncated
                elif kind == 1:
                    row[index["elapsed"]] = "n/a"
                elif kind == 2:
                    row[index["elapsed"]] = -5
                else:
                    row[index["label"]] = ""
                    row[index["elapsed"]] = 10
                writer.writerow(row)
                line += 1
                truth.rows += 1
                truth.malformed_lines.append(line)
            thread = rng.randrange(threads)
            label = labels[rng.randrange(len(labels))]
            ts = clocks[thread]
            elapsed = max(1, int(rng.lognormvariate(0, 0.6) * label.mean_ms))
            connect = rng.choice((0, 0, 0, rng.randint(1, 40)))
            latency = min(elapsed, connect + int(elapsed * rng.uniform(0.3, 0.95)))
            ok = rng.random() >= label.error_rate
            received, sent = rng.randint(200, 20_000), rng.randint(100, 2_000)
            code = "200" if ok else rng.choice(("500", "503", "Non HTTP response code: java.net.SocketException"))
            values: dict[str, object] = {
                "timeStamp": ts,
                "elapsed": elapsed,
                "label": label.name,
                "responseCode": code,
                "responseMessage": "Number of samples in transaction : 2, number of failing samples : 0"
                if label.transaction
                else ("OK" if ok else "Internal Server Error, retry later"),
                "threadName": f"Users 1-{thread + 1}",
                "dataType": "" if label.transaction else "text",
                "success": "true" if ok else "false",
                "failureMessage": "" if ok else 'Test failed: text expected to contain /"ok", status/',
                "bytes": received,
                "sentBytes": sent,
                "grpThreads": threads,
                "allThreads": threads,
                "URL": "null" if label.transaction else f"https://shop.example.com/{label.name.replace(' ', '_')}",
                "Latency": 0 if label.transaction else latency,
                "IdleTime": rng.randint(0, 5),
                "Connect": connect,
            }
            emit(values)
            if record:
                truth.add(
                    label.name,
                    Sample(ts, elapsed, ok, int(values["Latency"]), connect, received, sent),  # type: ignore[call-overload]
                )
            offset = 0
            for r in range(label.redirects):
                part = max(1, elapsed // (label.redirects + 1))
                emit(
                    values
                    | {
                        "label": f"{label.name}-{r}",
                        "elapsed": part,
                        "timeStamp": ts + offset,
                        "responseCode": "302" if r < label.redirects - 1 else code,
                    }
                )
                offset += part
                truth.subsamples += 1
            clocks[thread] = ts + elapsed + rng.randint(0, 2 * step)
    return truth
