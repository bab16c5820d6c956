"""The ``scheduled-digest`` handler: what every other function did over the last days, for a weekly schedule.

Event (every key optional; a schedule's input, or ``{}``)::

    {"days": 7,                     # the period, ending now
     "functions": ["jtl-report"],   # default: every function but this one
     "max_invocations": 10000,      # per function, newest first
     "now": 1700000000}             # the period's end (epoch seconds), for reproducible digests

Output directory contract (as the other examples): ``digest.md`` goes to ``LAMBDAHOST_OUTPUT_DIR`` when set (kept by
the platform as the invocation's artifact), else to a new temporary directory (under ``$TMPDIR``, else ``/tmp``).
Returns ``since``, ``until``, one row per function (``functions``), the totals, and ``output_dir``/``outputs``.

``lambdahost serve --example`` deploys it with a schedule, ``weekly-digest``: every Monday at 08:00 UTC
(``cron(0 8 ? * MON *)``) with the input ``{"days": 7}``. Elsewhere, create one the same way, e.g.
``lambdahost schedules add weekly-digest 'cron(0 8 ? * MON *)' scheduled-digest --input '{"days": 7}'``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from .platform_api import PlatformApi
from .summary import digest, markdown

OUTPUT_ENV = "LAMBDAHOST_OUTPUT_DIR"
REPORT = "digest.md"


def output_dir() -> Path:
    named = os.environ.get(OUTPUT_ENV)
    if named:
        Path(named).mkdir(parents=True, exist_ok=True)
        return Path(named)
    return Path(tempfile.mkdtemp(prefix="scheduled-digest-"))


def number(event: dict[str, Any], key: str, default: float) -> float:
    value = event.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"'{key}' must be a positive number")
    return float(value)


def handler(event: Any, context: Any, api: PlatformApi | None = None) -> dict[str, Any]:
    event = event if isinstance(event, dict) else {}
    until = number(event, "now", time.time())
    since = until - number(event, "days", 7) * 86400
    limit = int(number(event, "max_invocations", 10_000))
    api = api or PlatformApi()
    names = event.get("functions")
    if names is None:
        me = getattr(context, "function_name", None)
        names = [name for name in api.function_names() if name != me]
    elif not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError("'functions' must be a list of function names")
    rows = []
    for name in sorted(names):
        records = (r for r in api.invocations(name, since, limit) if r["created_at"] <= until)
        rows.append(digest(name, records))
    out = output_dir()
    (out / REPORT).write_text(markdown(rows, since, until), encoding="utf-8")
    runs, failed = sum(r.runs for r in rows), sum(r.failed for r in rows)
    print(f"{len(rows)} functions, {runs} runs, {failed} failed since {since:.0f}")
    return {
        "since": since,
        "until": until,
        "functions": [row.as_dict() for row in rows],
        "totals": {"functions": len(rows), "runs": runs, "failed": failed},
        "output_dir": str(out),
        "outputs": [REPORT],
    }
