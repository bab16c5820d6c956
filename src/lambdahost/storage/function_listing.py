"""The storage port of what a list of functions shows of each one (the web UI's functions page), which ``Store``
inherits: read for a whole page of functions at once, not a query per function. ``function_listing_sql`` answers
each with one statement; ``InMemoryStore`` (``memory.py``) is the fake."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.model import Invocation

MAX_NAMES = 1000  # one page of functions is at most 50 (ListFunctions' page); this bounds a statement's parameters


def checked_names(function_names: Sequence[str]) -> list[str]:
    """The distinct names, in order; ``InvalidParameterValue`` past ``MAX_NAMES``."""
    chosen = list(dict.fromkeys(function_names))
    if len(chosen) > MAX_NAMES:
        raise InvalidParameterValue(f"At most {MAX_NAMES} functions at once, not {len(chosen)}.")
    return chosen


class FunctionListingStore(abc.ABC):
    @abc.abstractmethod
    def last_invocations(self, function_names: Sequence[str]) -> dict[str, Invocation]:
        """Each function's newest invocation (by created_at, then id: the first row of ``list_invocations``), as a
        summary (no payload, result, log or transitions); functions without one are left out. At most
        ``MAX_NAMES`` names (``InvalidParameterValue``)."""

    @abc.abstractmethod
    def trigger_counts(self, function_names: Sequence[str]) -> dict[str, int]:
        """How many triggers each function has: schedules, event source mappings, HTTP routes and function URL
        configs together; functions without any are left out. At most ``MAX_NAMES`` names."""
