"""Loop protection: the chain of calls an invocation belongs to, carried in its X-Amzn-Trace-Id.

An invocation runs with ``_X_AMZN_TRACE_ID`` set, and boto3 inside a function sends that value as the
``X-Amzn-Trace-Id`` header of every request it makes (botocore does so whenever ``AWS_LAMBDA_FUNCTION_NAME`` is
set), so an Invoke made from inside a function arrives with its caller's trace. The trace's ``Lineage`` field
counts, per function, how many times the chain has run it: ``Lineage=1f3c9a2b:3|77aa0c11:1`` (a short hash of the
function's name, then the count). Each run of function F adds one to F's count; the run that would be F's 17th
(``MAX_RUNS_PER_CHAIN`` + 1) is stopped (``RecursiveInvocationException``), as AWS stops recursive loops after
about 16 rounds. The chain starts at the first call without a trace.

Pure functions, no I/O.
"""

from __future__ import annotations

import os
import zlib

MAX_RUNS_PER_CHAIN = 16
MAX_TRACE_LENGTH = 2048  # a longer header is not ours to keep: the chain restarts from it

RECURSION_MESSAGE = (
    "Lambda has detected your function being invoked in a recursive loop with other AWS resources and stopped "
    "your function's invocation."
)


def function_key(function_name: str) -> str:
    return f"{zlib.crc32(function_name.encode()):08x}"


def parse(trace: str | None) -> tuple[list[str], dict[str, int]]:
    """The fields of a trace header other than Lineage, in order, and the Lineage counts."""
    fields: list[str] = []
    counts: dict[str, int] = {}
    if not trace or len(trace) > MAX_TRACE_LENGTH:
        return fields, counts
    for raw in trace.split(";"):
        part = raw.strip()
        if not part:
            continue
        if part.startswith("Lineage="):
            for entry in part[len("Lineage=") :].split("|"):
                key, _, count = entry.partition(":")
                if len(key) == 8 and count.isdigit():
                    counts[key] = max(counts.get(key, 0), int(count))
        else:
            fields.append(part)
    return fields, counts


def extend(trace: str | None, function_name: str, now: float) -> tuple[str, int]:
    """The trace a run of ``function_name`` gets when called with ``trace`` (None: a new chain), and how many
    times the chain has now run that function (this run included)."""
    fields, counts = parse(trace)
    if not any(f.startswith("Root=") for f in fields):
        fields = [f"Root=1-{int(now):08x}-{os.urandom(12).hex()}", *fields]
    fields = [f for f in fields if not f.startswith("Parent=")] + [f"Parent={os.urandom(8).hex()}"]
    if not any(f.startswith("Sampled=") for f in fields):
        fields.append("Sampled=0")
    key = function_key(function_name)
    runs = counts.get(key, 0) + 1
    counts[key] = runs
    lineage = "|".join(f"{k}:{v}" for k, v in counts.items())
    return ";".join([*fields, f"Lineage={lineage}"]), runs


def runs_of(trace: str | None, function_name: str) -> int:
    """How many times the chain of ``trace`` has run ``function_name`` so far."""
    return parse(trace)[1].get(function_key(function_name), 0)
