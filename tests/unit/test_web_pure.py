"""The web UI's pure parts: field mapping of engine errors, environment lines, charts (the queue's step chart
included), sessions."""

from __future__ import annotations

import re

import pytest

from lambdahost.core.credentials import Credentials
from lambdahost.core.model import Invocation, InvocationStatus, InvocationType
from lambdahost.core.queue_history import DepthSeries
from lambdahost.web import charts
from lambdahost.web.function_form import field_of, parse_environment
from lambdahost.web.session import MAX_AGE_S, Sessions, safe_next
from lambdahost.web.templating import pretty, size, when


def test_environment_lines() -> None:
    assert parse_environment("A_B=1\n\n# note\nURL=http://x/?a=b\n") == {"A_B": "1", "URL": "http://x/?a=b"}
    with pytest.raises(ValueError, match="Line 2"):
        parse_environment("A=1\nnope")


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("The runtime parameter of cobol is not supported by lambdahost.", "runtime"),
        ("1 validation error detected: Value 'x y' at 'handler' failed to satisfy constraint", "handler"),
        ("Value '64' at 'memorySize' failed to satisfy constraint", "memory"),
        ("Value '0' at 'timeout' failed to satisfy constraint", "timeout"),
        ("Value at 'environment.variables' failed to satisfy constraint", "environment"),
        ("Could not unzip uploaded file. Please check your file, then try to upload again.", "package"),
        ("Function already exist: f", "name"),
        ("The maximum concurrency of lane 1 must be a whole number of at least 1, not 0.", "lanes"),
        ("Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint", "concurrency"),
        ("Something else entirely", "form"),
    ],
)
def test_engine_errors_go_next_to_their_field(message: str, field: str) -> None:
    assert field_of(message) == field


def run(n: int, status: InvocationStatus, duration: float | None) -> Invocation:
    return Invocation(
        id=f"<r{n}>", function_name="f", version="$LATEST", type=InvocationType.SYNC, status=status,
        created_at=float(n), duration_ms=duration, max_memory_mb=30,
    )  # fmt: skip


def test_charts_draw_one_dot_per_measured_run_and_escape_labels() -> None:
    runs = [run(1, InvocationStatus.SUCCEEDED, 12.0), run(2, InvocationStatus.FAILED, 37.0),
            run(3, InvocationStatus.TERMINATED, None)]  # fmt: skip
    svg = str(charts.line_chart("Duration <per> run", "ms", runs, [r.duration_ms for r in runs]))
    assert svg.count("<circle") == 2 and "<polyline" in svg
    assert "&lt;per&gt;" in svg and "&lt;r2&gt;: 37 ms (failed, 01-01 00:00:02)" in svg and "<r2>" not in svg
    assert ">50 ms<" in svg  # the axis is rounded up to 1, 2 or 5 times a power of ten
    bars = str(charts.outcome_chart(runs))
    assert re.findall(r">(\d+)</text>", bars) == ["1", "1", "1"]
    assert "no runs yet" in str(charts.line_chart("x", "ms", [], []))


def test_the_queue_chart_draws_a_step_line_per_lane_with_its_current_and_highest_depth() -> None:
    series = [
        DepthSeries(0, ((0.0, 0), (10.0, 2), (20.0, 1), (30.0, 1))),
        DepthSeries(1, ((0.0, 0), (30.0, 0))),
    ]
    svg = str(charts.queue_chart(series, {0: 4, 1: None}))
    lanes = re.findall(r'<g class="queue-lane" data-lane="(\d+)" data-now="(\d+)" data-peak="(\d+)">', svg)
    assert lanes == [("0", "1", "2"), ("1", "0", "0")]
    # x: 64 + 408 * t / 30; y: 20 + 116 * (1 - depth / 2), the axis's top being 2
    lines = re.findall(r'<polyline class="steps" stroke="[^"]+" points="([^"]+)"', svg)
    assert lines[0] == "64.0,136.0 200.0,136.0 200.0,20.0 336.0,20.0 336.0,78.0 472.0,78.0"
    assert lines[1] == "64.0,136.0 472.0,136.0"
    assert "lane 0 (max 4): 1 waiting now, at most 2 since 01-01 00:00:00" in svg
    assert "lane 1: 0 waiting now" in svg  # no maximum of its own
    assert ">2</text>" in svg and "01-01 00:00:30 (now)" in svg
    assert "nothing waited" not in svg
    idle = str(charts.queue_chart([DepthSeries(0, ((5.0, 0),))], {0: None}))
    assert "nothing waited" in idle and 'data-peak="0"' in idle


def test_the_queue_chart_draws_a_burst_within_one_pixel_as_its_vertical_span() -> None:
    """Thousands of changes within one unit of x cost four vertices there, and the highest depth is drawn."""
    burst = [(1000.0 + n / 1000, 1 + n % 7 if n < 999 else 3) for n in range(1000)]
    series = DepthSeries(0, ((0.0, 0), *burst, (100_000.0, 3)))
    svg = str(charts.queue_chart([series], {0: None}))
    [line] = re.findall(r'class="steps" stroke="[^"]+" points="([^"]+)"', svg)
    vertices = [tuple(map(float, pair.split(","))) for pair in line.split()]
    assert len(vertices) <= 8
    top = 20.0  # the axis's top is 10 (the peak, 7, rounded up): depth 7 is at 20 + 116 * 0.3
    assert (68.1, round(top + 116 * 0.3, 1)) in vertices and vertices[-1] == (472.0, round(top + 116 * 0.7, 1))


def test_sessions_sign_expire_and_check_logins() -> None:
    now = [1_000_000.0]
    sessions = Sessions(Credentials("AKID", "secret"), clock=lambda: now[0])
    cookie = sessions.issue()
    assert sessions.valid(cookie)
    assert not sessions.valid(cookie.replace(".", ".0", 1))
    assert not Sessions(Credentials("AKID", "other"), clock=lambda: now[0]).valid(cookie)
    now[0] += MAX_AGE_S + 1
    assert not sessions.valid(cookie)
    assert sessions.check_login("AKID", "secret")
    assert not sessions.check_login("AKID", "secreT") and not sessions.check_login("AKI", "secret")
    assert not sessions.valid("") and not sessions.valid("abc.def")


def test_safe_next_and_formatting() -> None:
    assert safe_next("/ui/functions/f?status=failed") == "/ui/functions/f?status=failed"
    assert safe_next("//evil.example/ui/") == "/ui/" and safe_next("http://evil/ui/") == "/ui/"
    assert safe_next("/metrics") == "/ui/" and safe_next(None) == "/ui/"
    assert pretty(b'{"a":[1,2]}') == '{\n  "a": [\n    1,\n    2\n  ]\n}' and pretty(b"plain") == "plain"
    assert size(2048) == "2.0 KB" and size(10) == "10 B" and when(0) == "1970-01-01 00:00:00"
