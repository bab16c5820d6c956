"""The ``jtl-report`` example, run in-process on generated JTL files whose every value is known, and on a real
JMeter file when ``../shared/data/jtl`` is present. Expected figures are computed here, from the generator's
record, with the nearest-rank percentile written out below (rank ``ceil(p/100*n)``)."""

from __future__ import annotations

import csv
import math
import random
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.examples.conftest import EXAMPLES, load_example
from tests.examples.jtl_gen import COLUMNS, DEFAULT_LABELS, Label, Sample, Truth, write_jtl

REAL_JTL_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "jtl"
PERCENTILES = (50, 90, 95, 99)


def rank(values: list[int], p: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


def expected(samples: list[Sample]) -> dict[str, Any]:
    elapsed = [s.elapsed for s in samples]
    span = (max(s.ts + s.elapsed for s in samples) - min(s.ts for s in samples)) / 1000
    errors = sum(not s.ok for s in samples)

    def dist(values: list[int]) -> dict[str, Any]:
        return {"mean": sum(values) / len(values), "min": min(values), "max": max(values)} | {
            f"p{p}": rank(values, p) for p in PERCENTILES
        }

    return {
        "count": len(samples),
        "errors": errors,
        "error_pct": 100 * errors / len(samples),
        "throughput": len(samples) / span,
        "elapsed": dist(elapsed),
        "latency": dist([s.latency for s in samples]),
        "connect": dist([s.connect for s in samples]),
        "received_kb_s": sum(s.received for s in samples) / 1024 / span,
        "sent_kb_s": sum(s.sent for s in samples) / 1024 / span,
    }


def assert_figures(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key in ("count", "errors"):
        assert got[key] == want[key], key
    for key in ("error_pct", "throughput", "received_kb_s", "sent_kb_s"):
        assert got[key] == pytest.approx(want[key], abs=1e-3), key
    for metric in ("elapsed", "latency", "connect"):
        for key, value in want[metric].items():
            assert got[metric][key] == pytest.approx(value, abs=1e-3), (metric, key)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("LAMBDAHOST_OUTPUT_DIR", str(tmp_path / "out"))
    return load_example("jtl_report")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    path = tmp_path_factory.mktemp("jtl") / "run.jtl"
    return path, write_jtl(path, 4000, malformed_every=700, seed=7)


def test_per_label_and_total_figures_match_an_independent_computation(app: Any, generated: Any) -> None:
    path, truth = generated
    result = app.handler({"jtl": str(path)}, None)

    assert result["rows"] == truth.rows
    assert result["subsamples"] == truth.subsamples > 0
    assert result["malformed"] == len(truth.malformed_lines) == 5
    assert result["malformed_lines"] == truth.malformed_lines
    assert result["samples"] == 4000
    labels = {row["label"]: row for row in result["labels"]}
    assert sorted(labels) == sorted(truth.samples)  # "Step-7" kept; no "Login-0" label
    for name, samples in truth.samples.items():
        assert_figures(labels[name], expected(samples))
    assert_figures(result["totals"], expected(truth.all()))
    assert result["totals"]["errors"] > 0
    assert sorted(result["outputs"]) == ["jtl-report.html", "jtl-report.xlsx"]
    for name in result["outputs"]:
        assert (Path(result["output_dir"]) / name).stat().st_size > 0


def test_percentiles_are_nearest_rank(app: Any) -> None:
    from jtlreport.stats import nearest_rank

    values = list(range(1, 11))
    assert [nearest_rank(values, p) for p in (10, 50, 90, 95, 99, 100)] == [1, 5, 9, 10, 10, 10]
    assert nearest_rank([7], 50) == 7


def test_workbook_has_the_summary_sheets_charts_and_figures(app: Any, generated: Any) -> None:
    path, truth = generated
    result = app.handler({"jtl": str(path)}, None)
    book = openpyxl.load_workbook(Path(result["output_dir"]) / "jtl-report.xlsx")

    assert book.sheetnames[:3] == ["Summary", "Timeline", "Run"]
    assert set(book.sheetnames[3:]) == set(truth.samples)  # one sheet per label
    summary = book["Summary"]
    header = [c.value for c in summary[1]]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in summary.iter_rows(min_row=2, values_only=True)}
    total = expected(truth.all())
    assert rows["TOTAL"]["Samples"] == total["count"]
    assert rows["TOTAL"]["Errors"] == total["errors"]
    assert rows["TOTAL"]["p95"] == total["elapsed"]["p95"]
    assert rows["TOTAL"]["Latency p99"] == total["latency"]["p99"]
    assert rows["Login"]["p90"] == expected(truth.samples["Login"])["elapsed"]["p90"]
    assert len(summary._charts) == 1
    assert len(book["Timeline"]._charts) == 2
    assert len(book["Login"]._charts) == 2

    per_second: dict[int, int] = {}
    for sample in truth.all():
        per_second[sample.ts // 1000] = per_second.get(sample.ts // 1000, 0) + 1
    timeline = {r[1]: r[2] for r in book["Timeline"].iter_rows(min_row=2, values_only=True)}
    assert timeline == per_second
    run = {r[0]: r[1] for r in book["Run"].iter_rows(values_only=True)}
    assert run["Malformed rows"] == 5


class CellCollector(HTMLParser):
    """The ``data-metric`` cells of the table ``id=totals``."""

    def __init__(self) -> None:
        super().__init__()
        self.in_totals, self.metric, self.cells = False, None, {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.in_totals = found.get("id") == "totals"
        elif tag == "td" and self.in_totals:
            self.metric = found.get("data-metric")

    def handle_data(self, data: str) -> None:
        if self.metric:
            self.cells[self.metric] = float(data.replace(",", ""))
            self.metric = None


def test_html_report_shows_the_totals_and_is_self_contained(app: Any, generated: Any) -> None:
    path, truth = generated
    result = app.handler({"jtl": str(path), "title": "Shop <test>"}, None)
    page = (Path(result["output_dir"]) / "jtl-report.html").read_text()
    parser = CellCollector()
    parser.feed(page)
    want = expected(truth.all())

    assert parser.cells["count"] == want["count"]
    assert parser.cells["errors"] == want["errors"]
    assert parser.cells["p99"] == want["elapsed"]["p99"]
    assert parser.cells["mean"] == pytest.approx(want["elapsed"]["mean"], abs=0.01)
    assert parser.cells["throughput"] == pytest.approx(want["throughput"], abs=0.01)
    assert "Shop &lt;test&gt;" in page and "<svg" in page
    assert not re.search(r"(src|href)=\"https?:", page)  # nothing fetched from the network
    assert 'id="malformed" data-count="5"' in page


def test_baseline_regressions_are_flagged_exactly(app: Any, tmp_path: Path) -> None:
    slower = tuple(
        Label(lb.name, lb.mean_ms * (1.6 if lb.name == "Login" else 1), lb.error_rate, lb.redirects, lb.transaction)
        for lb in DEFAULT_LABELS
    )
    base_truth = write_jtl(tmp_path / "base.jtl", 3000, seed=11)
    cur_truth = write_jtl(tmp_path / "cur.jtl", 3000, labels=slower, seed=12)
    threshold = 10.0
    result = app.handler(
        {
            "jtl": str(tmp_path / "cur.jtl"),
            "baseline": str(tmp_path / "base.jtl"),
            "threshold_pct": threshold,
            "regression_metrics": ["p95", "mean"],
        },
        None,
    )

    want = set()
    groups = [(name, cur_truth.samples[name], base_truth.samples[name]) for name in cur_truth.samples]
    groups.append(("TOTAL", cur_truth.all(), base_truth.all()))
    for name, cur, base in groups:
        for metric in ("p95", "mean"):
            now, then = expected(cur)["elapsed"][metric], expected(base)["elapsed"][metric]
            if (now - then) / then * 100 > threshold:
                want.add((name, metric))
    got = {(r["label"], r["metric"]) for r in result["regressions"]}
    assert ("Login", "p95") in got
    assert got == want
    assert len(result["comparison"]["deltas"]) == 2 * (len(cur_truth.samples) + 1)
    book = openpyxl.load_workbook(Path(result["output_dir"]) / "jtl-report.xlsx")
    flagged = {(r[0], r[1]) for r in book["Comparison"].iter_rows(min_row=2, values_only=True) if r[6] == "yes"}
    assert flagged == want


def test_column_order_and_missing_optional_columns(app: Any, tmp_path: Path) -> None:
    kept = [c for c in COLUMNS if c not in ("Latency", "Connect", "sentBytes", "success")]
    random.Random(3).shuffle(kept)
    truth = write_jtl(tmp_path / "few.jtl", 500, columns=tuple(kept), seed=5)
    result = app.handler({"jtl": str(tmp_path / "few.jtl")}, None)

    total = result["totals"]
    assert total["latency"] is None and total["connect"] is None and total["sent_kb_s"] is None
    want = expected(truth.all())
    assert total["count"] == want["count"]
    assert total["errors"] == want["errors"] > 0  # from responseCode when success is absent
    assert total["elapsed"]["p90"] == want["elapsed"]["p90"]
    assert total["received_kb_s"] == pytest.approx(want["received_kb_s"], abs=1e-3)


def test_bad_input_is_a_clear_error(app: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="name the JTL"):
        app.handler({}, None)
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no column timeStamp"):
        app.handler({"jtl": str(tmp_path / "x.csv")}, None)
    (tmp_path / "bad.jtl").write_text("timeStamp,elapsed,label\nx,1,a\n")
    with pytest.raises(ValueError, match="no sample"):
        app.handler({"jtl": str(tmp_path / "bad.jtl")}, None)


def test_default_output_dir_is_a_new_temporary_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = load_example("jtl_report")
    monkeypatch.delenv("LAMBDAHOST_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    write_jtl(tmp_path / "small.jtl", 50)
    result = app.handler({"jtl": str(tmp_path / "small.jtl")}, None)
    out = Path(result["output_dir"])
    try:
        assert out.parent == tmp_path and out.name.startswith("jtl-report-")
        assert sorted(p.name for p in out.iterdir()) == ["jtl-report.html", "jtl-report.xlsx"]
    finally:
        for p in out.iterdir():
            p.unlink()
        out.rmdir()


@pytest.mark.skipif(not REAL_JTL_DIR.is_dir(), reason="../shared/data/jtl (real JMeter files) is absent")
def test_real_jmeter_files(app: Any) -> None:
    for path in sorted(REAL_JTL_DIR.glob("*.jtl")):
        with path.open(newline="") as file:
            rows = list(csv.DictReader(file))
        # Independently: a sub-sample's label is the previous top-level label of its thread plus "-<n>".
        last: dict[str, str] = {}
        top = []
        for row in rows:
            parent = last.get(row["threadName"])
            if parent and re.fullmatch(re.escape(parent) + r"(-\d+)+", row["label"]):
                continue
            last[row["threadName"]] = row["label"]
            top.append(row)
        result = app.handler({"jtl": str(path)}, None)

        assert result["malformed"] == 0
        assert result["samples"] == len(top) == result["totals"]["count"]
        assert result["subsamples"] == len(rows) - len(top) > 0
        assert sum(row["count"] for row in result["labels"]) == len(top)
        assert {row["label"] for row in result["labels"]} == {row["label"] for row in top}
        assert result["totals"]["elapsed"]["max"] == max(int(row["elapsed"]) for row in top)
        assert result["totals"]["errors"] == sum(row["success"] != "true" for row in top)


def test_requirements_name_openpyxl() -> None:
    assert "openpyxl" in (EXAMPLES / "jtl_report" / "requirements.txt").read_text()
