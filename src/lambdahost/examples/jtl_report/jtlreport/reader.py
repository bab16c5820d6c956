"""Streaming reader of JMeter JTL CSV files: one pass with the ``csv`` module, no row kept.

Columns are found by the header's names, in any order. ``timeStamp`` (epoch milliseconds, JMeter's default
format), ``elapsed`` and ``label`` are required; every other standard column is optional: a missing ``success``
is derived from ``responseCode`` (2xx and 3xx succeed) or taken as success when that is missing too, a missing
``threadName`` puts every row in one thread, and missing ``Latency``/``Connect``/``bytes``/``sentBytes`` are
reported as absent (``Columns``), not as zeros.

Sub-samples are skipped. JMeter writes a sample's sub-results (the redirects and embedded resources of an HTTP
request, with ``jmeter.save.saveservice.subresults=true``, the default) right after their parent, from the same
thread, labelled ``<parent label>-<n>`` (nested ones ``<parent>-<n>-<m>``). A row is a sub-sample when its label
is the label of the last top-level row of its thread followed by ``-<n>`` suffixes; so a genuine label that merely
ends in ``-1`` (``Step-1``) is kept. Transaction controller samples (``Number of samples in transaction``) are
ordinary samples and kept, like JMeter's Aggregate Report does.

A malformed row (a field count different from the header's, a non-integer number, a negative elapsed time, an
empty label) is counted, its line number remembered (the first ``MAX_BAD_LINES``), and skipped: never fatal.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

MAX_BAD_LINES = 10
REQUIRED = ("timeStamp", "elapsed", "label")
SUFFIX = re.compile(r"(?:-\d+)+")
TRUE = frozenset({"true", "True", "TRUE"})
FIELDS: tuple[str, ...] = ("timeStamp", "elapsed", "label", "success", "responseCode", "threadName", "Latency")
FIELDS += ("Connect", "bytes", "sentBytes")
DEFAULTS = {"success": "", "responseCode": "", "threadName": "", "Latency": "0", "Connect": "0", "bytes": "0"}
DEFAULTS |= {"sentBytes": "0"}

# One sample: (timeStamp ms, elapsed ms, label, success, latency ms, connect ms, bytes, sentBytes).
Sample = tuple[int, int, str, bool, int, int, int, int]


class JtlError(ValueError):
    """The file cannot be read as a JTL at all (no header, a required column missing)."""


@dataclass(frozen=True)
class Columns:
    """Which optional measurements the file has."""

    latency: bool
    connect: bool
    received: bool
    sent: bool


@dataclass
class ReadReport:
    """What the pass saw besides the samples; filled while the samples are read."""

    rows: int = 0  # data rows (every line after the header, malformed ones included)
    samples: int = 0
    subsamples: int = 0
    malformed: int = 0
    malformed_lines: list[int] = field(default_factory=list)  # 1-based physical line numbers, the first few

    def bad(self, line: int) -> None:
        self.malformed += 1
        if len(self.malformed_lines) < MAX_BAD_LINES:
            self.malformed_lines.append(line)


def is_subsample(label: str, parent: str | None) -> bool:
    """``label`` is ``parent`` followed by ``-<n>`` suffixes."""
    return (
        parent is not None
        and len(label) > len(parent)
        and label.startswith(parent)
        and SUFFIX.fullmatch(label, len(parent)) is not None
    )


class JtlReader:
    """``JtlReader(path)``: ``columns`` from the header; iterate for the samples; ``report`` after (or during)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.report = ReadReport()
        with self.path.open(newline="", encoding="utf-8", errors="replace") as file:
            header = next(csv.reader(file), None)
        if not header:
            raise JtlError(f"{self.path}: empty file, expected a JTL CSV with a header")
        self.header = [name.strip().lstrip("\ufeff") for name in header]
        missing = [name for name in REQUIRED if name not in self.header]
        if missing:
            raise JtlError(f"{self.path}: not a JTL CSV with a header: no column {', '.join(missing)}")
        present = set(self.header)
        self.columns = Columns(
            latency="Latency" in present,
            connect="Connect" in present,
            received="bytes" in present,
            sent="sentBytes" in present,
        )

    def _getter(self) -> tuple[Callable[[list[str]], tuple[str, ...]], list[str], int]:
        """An ``itemgetter`` over a row padded with defaults for the missing optional columns."""
        width, padding, indexes = len(self.header), list[str](), list[int]()
        for name in FIELDS:
            if name in self.header:
                indexes.append(self.header.index(name))
            else:
                indexes.append(width + len(padding))
                padding.append(DEFAULTS[name])
        return itemgetter(*indexes), padding, width

    def __iter__(self) -> Iterator[Sample]:
        get, padding, width = self._getter()
        has_success, has_code = "success" in self.header, "responseCode" in self.header
        report = self.report
        parents: dict[str, str] = {}  # thread -> label of its last top-level row
        with self.path.open(newline="", encoding="utf-8", errors="replace") as file:
            reader = csv.reader(file)
            next(reader, None)
            for row in reader:
                report.rows += 1
                if len(row) != width:
                    if row:  # a blank line is not a row
                        report.bad(reader.line_num)
                    else:
                        report.rows -= 1
                    continue
                ts_s, el_s, label, success, code, thread, lat_s, conn_s, rx_s, tx_s = get(
                    row + padding if padding else row
                )
                try:
                    ts, elapsed = int(ts_s), int(el_s)
                    latency, connect = int(lat_s or 0), int(conn_s or 0)
                    received, sent = int(rx_s or 0), int(tx_s or 0)
                except ValueError:
                    report.bad(reader.line_num)
                    continue
                if elapsed < 0 or not label:
                    report.bad(reader.line_num)
                    continue
                if is_subsample(label, parents.get(thread)):
                    report.subsamples += 1
                    continue
                parents[thread] = label
                if has_success:
                    ok = success in TRUE
                elif has_code:
                    ok = code[:1] in ("2", "3")
                else:
                    ok = True
                report.samples += 1
                yield ts, elapsed, label, ok, latency, connect, received, sent
