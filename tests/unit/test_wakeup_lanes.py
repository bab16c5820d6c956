"""What a cross-process wake-up says: the lanes work was queued into (``lanes_text``/``parse_lanes``), delivered
to a subscriber once per lane, or as "anywhere" when it cannot say."""

from __future__ import annotations

from lambdahost.core.model import Invocation, InvocationStatus, InvocationType
from lambdahost.storage.base import MAX_LANES_TEXT, deliver_wakeup, lanes_text, parse_lanes


def queued(function_name: str, lane: int) -> Invocation:
    return Invocation("id", function_name, "$LATEST", InvocationType.EVENT, InvocationStatus.PENDING, 1.0, lane=lane)


def test_lanes_round_trip_once_each_in_order() -> None:
    text = lanes_text([queued("b", 1), queued("a", 0), queued("b", 1), queued("a-1", 3)])
    assert text == "a\t0\na-1\t3\nb\t1"
    assert parse_lanes(text) == [("a", 0), ("a-1", 3), ("b", 1)]


def test_a_wake_up_that_cannot_say_means_anywhere() -> None:
    assert parse_lanes("") is None
    assert parse_lanes("fn\tnot-a-number") is None
    many = [queued(f"function-{n:04d}", 0) for n in range(400)]
    assert lanes_text(many) == "", f"longer than {MAX_LANES_TEXT} characters: anywhere"


def test_deliver_calls_back_once_per_lane_or_once_for_anywhere() -> None:
    calls: list[tuple[str | None, int]] = []
    deliver_wakeup(lambda name, lane: calls.append((name, lane)), ["fn\t0", "fn\t0\nfn\t1", "other\t2"])
    assert calls == [("fn", 0), ("fn", 1), ("other", 2)]
    calls.clear()
    deliver_wakeup(lambda name, lane: calls.append((name, lane)), ["fn\t0", ""])
    assert calls == [(None, 0)]
