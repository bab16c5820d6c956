"""Pure parts of the runtime: log lines, the context object, handler loading errors, frame decoding."""

from __future__ import annotations

import base64
import json

from lambdahost.runtime import faults, logs
from lambdahost.runtime.context import LambdaContext
from lambdahost.runtime.protocol import FrameReader, encode


def test_report_line_matches_aws() -> None:
    line = logs.report_line("abc", 79.666, 128, 73, 118.254)
    assert line == (
        "REPORT RequestId: abc\tDuration: 79.67 ms\tBilled Duration: 80 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 73 MB\tInit Duration: 118.25 ms\t\n"
    )
    timeout = logs.report_line("abc", 3000.0, 128, 40, None, status="timeout")
    assert timeout.endswith("Max Memory Used: 40 MB\tStatus: timeout\t\n")
    assert logs.billed_ms(0.01) == 1 and logs.billed_ms(1.2) == 2


def test_log_tail_is_last_4kb() -> None:
    log = "a" * 5000 + "END"
    tail = base64.b64decode(logs.tail_b64(log))
    assert len(tail) == 4096 and tail.endswith(b"END")


def test_bound_keeps_head_and_tail() -> None:
    text, truncated = logs.bound(b"H" * 100 + b"M" * 1000 + b"T" * 100, 200)
    assert truncated and text.startswith("H" * 100) and text.endswith("T" * 100)
    assert "1000 bytes of log truncated" in text
    assert logs.bound(b"short", 200) == ("short", False)


def test_context_remaining_time_uses_injected_clock() -> None:
    now = [1000.0]
    ctx = LambdaContext(
        "rid",
        {"custom": {"a": 1}, "client": {"app_title": "t"}},
        {"cognitoIdentityId": "i"},
        1_000_500,
        "arn:x",
        time_source=lambda: now[0],
    )
    assert ctx.get_remaining_time_in_millis() == 500
    now[0] = 1001.0
    assert ctx.get_remaining_time_in_millis() == 0
    assert ctx.client_context.custom == {"a": 1} and ctx.client_context.client.app_title == "t"
    assert ctx.identity.cognito_identity_id == "i" and ctx.identity.cognito_identity_pool_id is None


def test_error_payload_order_and_log_line() -> None:
    error = faults.make_error("m", "T", ["  File x\n"], "rid")
    assert list(json.loads(json.dumps(error))) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert faults.log_line_for(error).startswith("[ERROR] T: m\nTraceback (most recent call last):\n")


def test_frame_reader_handles_split_and_joined_frames() -> None:
    data = encode({"k": "a"}, b"one") + encode({"k": "b"}, b"")
    reader = FrameReader()
    frames = []
    for byte in data:
        frame = reader.feed(bytes([byte]))
        while frame is not None:
            frames.append(frame)
            frame = reader.feed(b"")
    assert frames == [({"k": "a"}, b"one"), ({"k": "b"}, b"")]
    assert reader.pending() == 0
