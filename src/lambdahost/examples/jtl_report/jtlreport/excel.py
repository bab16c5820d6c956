"""The Excel workbook (openpyxl, native Excel charts).

Sheets: ``Summary`` (one row per label, then the ``TOTAL`` row; a bar chart of the p95 per label), ``Timeline``
(per second, all labels: samples, errors, mean response time; two line charts), ``Comparison`` (when a baseline
is given), ``Run`` (input, skipped and malformed rows), then one sheet per label (its figures, its per-second
series and two charts), for at most ``MAX_LABEL_SHEETS`` labels; with more, the Summary table is the per-label
view. A series longer than ``TIMELINE_POINTS`` (``LABEL_POINTS`` on a label's sheet) seconds is written in
buckets of several seconds (rates per second, the mean weighted by counts; the first column names the width).

The workbook is written in openpyxl's write-only mode (rows streamed to the file, not kept as cell objects): memory
stays flat, and a million-row JTL's workbook takes about a second. openpyxl writes faster still with lxml
installed; the example does not require it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.chart import BarChart, LineChart, Reference  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from .compare import Comparison
from .reader import ReadReport
from .stats import LabelStats, SecondPoint, resample

MAX_LABEL_SHEETS = 50
TIMELINE_POINTS, LABEL_POINTS = 10_000, 1_000  # longer series are written in buckets of several seconds
BOLD = Font(bold=True)
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def summary_header(percentiles: Sequence[str]) -> list[str]:
    return [
        "Label",
        "Samples",
        "Errors",
        "Error %",
        "Throughput/s",
        "Mean",
        "Min",
        "Max",
        *percentiles,
        *(f"Latency {name}" for name in ("mean", *percentiles)),
        *(f"Connect {name}" for name in ("mean", *percentiles)),
        "Received KB/s",
        "Sent KB/s",
    ]


def summary_row(row: LabelStats, percentiles: Sequence[str]) -> list[Any]:
    def spread(dist: Any) -> list[Any]:
        if dist is None:
            return [None] * (1 + len(percentiles))
        return [round(dist.mean, 3), *(dist.percentiles[name] for name in percentiles)]

    throughput = row.throughput
    return [
        row.label,
        row.count,
        row.errors,
        round(row.error_pct, 3),
        None if throughput is None else round(throughput, 3),
        round(row.elapsed.mean, 3),
        row.elapsed.min,
        row.elapsed.max,
        *(row.elapsed.percentiles[name] for name in percentiles),
        *spread(row.latency),
        *spread(row.connect),
        row.kb_per_s(row.received_bytes),
        row.kb_per_s(row.sent_bytes),
    ]


class Sheet:
    """A write-only sheet (rows are streamed to the file, not kept as cell objects) that counts its rows."""

    def __init__(self, book: Any, title: str) -> None:
        self.sheet = book.create_sheet(title)
        self.rows = 0

    def append(self, values: Sequence[Any], bold: bool = False) -> int:
        if bold:
            values = [styled(self.sheet, value) for value in values]
        self.sheet.append(list(values))
        self.rows += 1
        return self.rows

    def header(self, names: Sequence[str]) -> int:
        row = self.append(names, bold=True)
        self.sheet.freeze_panes = f"A{row + 1}"
        return row


def styled(sheet: Any, value: Any) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = BOLD
    return cell


def write_series(sheet: Sheet, series: Sequence[SecondPoint], start_s: int, max_points: int) -> tuple[int, int]:
    """The series as rows (in buckets when longer than ``max_points`` seconds); the first and last row numbers."""
    width, points = resample(series, start_s, max_points)
    first_column = "Second" if width == 1 else f"Second (buckets of {width} s)"
    first = sheet.header([first_column, "Epoch second", "Samples/s", "Errors/s", "Mean response time (ms)"]) + 1
    for p in points:
        rate = [p.count, p.errors] if width == 1 else [round(p.count / width, 3), round(p.errors / width, 3)]
        sheet.append([p.second - start_s, p.second, *rate, round(p.mean_elapsed, 3)])
    return first, sheet.rows


def add_series_charts(sheet: Sheet, first_row: int, last_row: int, anchor_column: str, title: str) -> None:
    """Line charts of the samples/s (column C) and mean response time (column E) rows of ``sheet``."""
    if last_row < first_row:
        return
    categories = Reference(sheet.sheet, min_col=1, min_row=first_row, max_row=last_row)
    for number, (column, name, unit) in enumerate(((3, "Throughput", "samples/s"), (5, "Response time", "ms"))):
        chart = LineChart()
        chart.title = f"{title}: {name}"
        chart.y_axis.title = unit
        chart.x_axis.title = "seconds from start"
        chart.height, chart.width = 7.5, 18
        data = Reference(sheet.sheet, min_col=column, min_row=first_row - 1, max_row=last_row)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(categories)
        sheet.sheet.add_chart(chart, f"{anchor_column}{first_row + number * 16}")


def sheet_title(label: str, taken: set[str]) -> str:
    base = SHEET_NAME_FORBIDDEN.sub("_", label).strip("'") or "label"
    title, n = base[:31], 1
    while title.lower() in taken:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
    taken.add(title.lower())
    return title


def write_workbook(
    path: Path,
    rows: Sequence[LabelStats],
    total: LabelStats,
    percentiles: Sequence[str],
    read: ReadReport,
    comparison: Comparison | None,
    source: str,
) -> None:
    book = Workbook(write_only=True)
    summary = Sheet(book, "Summary")
    summary.sheet.column_dimensions["A"].width = 40
    summary.header(summary_header(percentiles))
    for row in rows:
        summary.append(summary_row(row, percentiles))
    summary.append(summary_row(total, percentiles), bold=True)
    if rows:
        p95_column = 9 + list(percentiles).index("p95") if "p95" in percentiles else 6
        chart = BarChart()
        chart.type = "bar"
        chart.title = "p95 response time per label" if "p95" in percentiles else "Mean response time per label"
        chart.y_axis.title = "ms"
        chart.height, chart.width = max(7.5, 0.6 * len(rows)), 18
        data = Reference(summary.sheet, min_col=p95_column, min_row=1, max_row=len(rows) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(summary.sheet, min_col=1, min_row=2, max_row=len(rows) + 1))
        summary.sheet.add_chart(chart, f"A{len(rows) + 4}")

    timeline = Sheet(book, "Timeline")
    start_s = total.start_ms // 1000
    first, last = write_series(timeline, total.series, start_s, TIMELINE_POINTS)
    add_series_charts(timeline, first, last, "G", "All labels")

    if comparison is not None:
        sheet = Sheet(book, "Comparison")
        sheet.sheet.column_dimensions["A"].width = 40
        sheet.header(["Label", "Metric", "Baseline", "Current", "Delta", "Delta %", "Regression"])
        for delta in comparison.deltas:
            values = [delta.label, delta.metric, delta.baseline, delta.current, delta.delta, delta.delta_pct]
            sheet.append([*values, "yes" if delta.regression else "no"], bold=delta.regression)

    run = Sheet(book, "Run")
    for key, value in (
        ("JTL", source),
        ("Data rows", read.rows),
        ("Samples", read.samples),
        ("Sub-samples skipped", read.subsamples),
        ("Malformed rows", read.malformed),
        ("First malformed lines", ", ".join(map(str, read.malformed_lines))),
        ("Percentiles", "nearest rank"),
        ("Regression threshold %", comparison.threshold_pct if comparison else None),
    ):
        run.append([key, value])

    if len(rows) <= MAX_LABEL_SHEETS:
        taken = {name.lower() for name in book.sheetnames}
        for row in rows:
            sheet = Sheet(book, sheet_title(row.label, taken))
            sheet.sheet.column_dimensions["A"].width = 22
            sheet.append(["Label", row.label])
            for name, value in zip(summary_header(percentiles)[1:], summary_row(row, percentiles)[1:], strict=True):
                sheet.append([name, value])
            sheet.append([])
            first, last = write_series(sheet, row.series, start_s, LABEL_POINTS)
            add_series_charts(sheet, first, last, "G", row.label)
    book.save(path)
