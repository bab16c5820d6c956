from __future__ import annotations

import pytest

from lambdahost.core.errors import TooManyRequests
from lambdahost.engine.admission import ACCOUNT_LIMIT_EXCEEDED, RESERVED_LIMIT_EXCEEDED, Admission


def test_reserved_function_is_capped_with_aws_reason() -> None:
    admission = Admission(max_concurrency=10)
    admission.set_reserved("f", 2)
    tokens = [admission.acquire("f"), admission.acquire("f")]
    with pytest.raises(TooManyRequests) as caught:
        admission.acquire("f")
    assert caught.value.reason == RESERVED_LIMIT_EXCEEDED
    assert caught.value.status == 429
    assert caught.value.body() == {
        "Reason": RESERVED_LIMIT_EXCEEDED,
        "Type": "User",
        "message": "Rate Exceeded.",
    }
    admission.release("f", tokens.pop())
    admission.acquire("f")


def test_reserved_zero_always_throttles() -> None:
    admission = Admission(max_concurrency=10)
    admission.set_reserved("off", 0)
    with pytest.raises(TooManyRequests) as caught:
        admission.acquire("off")
    assert caught.value.reason == RESERVED_LIMIT_EXCEEDED


def test_unreserved_functions_share_what_reservations_leave() -> None:
    admission = Admission(max_concurrency=5)
    admission.set_reserved("reserved", 3)
    a = admission.acquire("a")
    b = admission.acquire("b")
    with pytest.raises(TooManyRequests) as caught:
        admission.acquire("c")
    assert caught.value.reason == ACCOUNT_LIMIT_EXCEEDED
    for _ in range(3):
        admission.acquire("reserved")  # the reservation is guaranteed
    admission.release("a", a)
    admission.acquire("c")
    assert admission.running() == 5 and admission.running("b") == 1 and b


def test_release_after_reservation_change_keeps_counts_right() -> None:
    admission = Admission(max_concurrency=2)
    token = admission.acquire("f")  # shared slot
    admission.set_reserved("f", 1)
    admission.release("f", token)
    admission.set_reserved("f", None)
    admission.acquire("f")
    admission.acquire("g")
    with pytest.raises(TooManyRequests):
        admission.acquire("h")
