"""The ``anomaly-detect`` example, run in-process on series and JTL files with injected anomalies whose places
are known, and on clean noise where nothing must be flagged."""

from __future__ import annotations

import csv
import random
import xml.etree.ElementTree as ET
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from tests.examples.conftest import load_example
from tests.examples.jtl_gen import COLUMNS

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("LAMBDAHOST_OUTPUT_DIR", str(tmp_path / "out"))
    return load_example("anomaly_detect")


def noisy(n: int, centre: float, spread: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(centre, spread) for _ in range(n)]


def test_clean_noise_has_no_anomaly(app: Any) -> None:
    series = {"interval_s": 10, "response_time": noisy(300, 200, 10, 1), "throughput": noisy(300, 50, 2, 2)}
    result = app.handler({"series": series}, None)
    assert result["anomalies"] == []
    assert result["points"] == {"response_time": 300, "throughput": 300}


def test_injected_spike_and_drop_are_found_where_they_are(app: Any) -> None:
    response, throughput = noisy(200, 200, 10, 3), noisy(200, 50, 2, 4)
    for i in range(80, 85):
        response[i] = 650 + i
    for i in range(140, 150):
        throughput[i] = 5.0
    response[30] = None  # a missing point is skipped, not an error
    series = {"interval_s": 10, "start": 1_700_000_000, "response_time": response, "throughput": throughput}
    result = app.handler({"series": series, "window": 30, "threshold": 3.5}, None)

    found = [(a["metric"], a["kind"], a["start"], a["end"], a["points"]) for a in result["anomalies"]]
    assert found == [
        ("response_time", "spike", 1_700_000_800, 1_700_000_850, 5),
        ("throughput", "drop", 1_700_001_400, 1_700_001_500, 10),
    ]
    spike = result["anomalies"][0]
    assert spike["observed"] == pytest.approx(sum(650 + i for i in range(80, 85)) / 5, abs=1e-3)
    # The first spiked point's baseline is the median of the 30 points before it (none missing there).
    assert spike["baseline"] == pytest.approx(median([median(response[i - 30 : i]) for i in range(80, 85)]), rel=0.05)
    assert spike["score"] > 3.5
    plot = ET.parse(Path(result["output_dir"]) / "anomalies.svg").getroot()
    shaded = plot.findall(f".//{SVG}rect[@class='anomaly']")
    assert [r.get("data-metric") for r in shaded] == ["response_time", "throughput"]


def test_a_single_point_is_not_a_window_by_default(app: Any) -> None:
    response = noisy(100, 100, 5, 5)
    response[60] = 900
    assert app.handler({"series": {"response_time": response}}, None)["anomalies"] == []
    one = app.handler({"series": {"response_time": response}, "min_points": 1}, None)["anomalies"]
    assert (60, 61) in [(a["start"], a["end"]) for a in one]
    assert all(a["points"] == 1 for a in one)


def write_run(path: Path, slow: range, silent: range, seconds: int = 400) -> None:
    """20 samples a second of ~100 ms, slower during ``slow`` seconds, none during ``silent``; sub-samples after
    every tenth sample (a slow sub-sample must not count) and one malformed row."""
    rng = random.Random(9)
    start = 1_700_000_000_000
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for second in range(seconds):
            if second in silent:
                continue
            for k in range(20):
                elapsed = int(rng.gauss(700 if second in slow else 100, 8))
                at = start + second * 1000 + k * 50
                row = dict.fromkeys(COLUMNS, "") | {"timeStamp": at, "elapsed": elapsed, "label": "Buy"}
                row |= {"threadName": f"T {k}", "success": "true"}
                writer.writerow([row[c] for c in COLUMNS])
                if k % 10 == 0:
                    writer.writerow([(row | {"label": "Buy-0", "elapsed": 99_999})[c] for c in COLUMNS])
        writer.writerow([start, "oops", "Buy"])


def test_jtl_spike_and_drop(app: Any, tmp_path: Path) -> None:
    write_run(tmp_path / "run.jtl", slow=range(150, 170), silent=range(250, 280))
    result = app.handler({"jtl": str(tmp_path / "run.jtl"), "bucket_s": 5}, None)

    found = [
        (a["metric"], a["kind"], a["start"] - result["start"], a["end"] - result["start"]) for a in result["anomalies"]
    ]
    assert found == [("response_time", "spike", 150, 170), ("throughput", "drop", 250, 280)]
    assert result["anomalies"][0]["observed"] == pytest.approx(700, abs=10)
    assert result["anomalies"][1]["observed"] == 0
    assert result["anomalies"][1]["baseline"] == pytest.approx(20, abs=0.5)
    assert result["malformed"] == 1
    assert result["points"]["throughput"] == 79  # 400 s in 5 s buckets, the last (partial) one left out


def test_bad_events(app: Any) -> None:
    with pytest.raises(ValueError, match="either"):
        app.handler({}, None)
    with pytest.raises(ValueError, match="list of numbers"):
        app.handler({"series": {"throughput": ["x"]}}, None)
    with pytest.raises(ValueError, match="window"):
        app.handler({"series": {"throughput": [1]}, "window": 0}, None)
