"""The Python interpreters this machine has, for the tests that run functions on them.

``foreign()`` lists the runtimes found here that run on an interpreter other than the platform's own (probed once
per test session). A test that needs one that is absent skips locally and fails in CI (``CI`` set), where they
are installed (``missing``).
"""

from __future__ import annotations

import functools
import os
from typing import NoReturn

import pytest

from lambdahost.engine.functions import SUPPORTED_RUNTIMES
from lambdahost.runtime.interpreters import Interpreter, Interpreters


def missing(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{message}: CI must have it")
    pytest.skip(message)


@functools.cache
def interpreters() -> Interpreters:
    return Interpreters(SUPPORTED_RUNTIMES)


def own() -> Interpreter:
    return interpreters().own


def foreign() -> list[Interpreter]:
    """The interpreters found here other than the platform's own, oldest first; ``missing`` when there is none."""
    found = [interpreter for interpreter in interpreters().available() if not interpreter.own]
    if not found:
        missing(f"no Python but the platform's own ({own().version}) on this machine")
    return found
