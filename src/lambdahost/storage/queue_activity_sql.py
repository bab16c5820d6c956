"""``QueueActivitySqlStore``: ``Store.queue_activity`` for ``SqlStore`` (a mixin, as ``ParameterSqlStore`` is),
one statement for SQLite and PostgreSQL, so its parts read one snapshot on both.

Each part is a range of an existing index (no migration; ``tests/integration/test_query_plans.py`` asks both
planners): the finished ones walk ``invocations_function_finished_id`` backwards from the newest ``finished_at`` and
stop at ``:limit``; the pending ones range over ``invocations_pending`` (function, lane, ``available_at >=
:since``) per lane; the leased ones are ``invocations_leased``; the pending count per lane is an index-only count of
``invocations_pending``. The status conditions repeat the partial indexes' own word for word (SQLite uses a partial
index only then). The count reads every pending entry of the lanes: an exact depth is a count, as in
``queue_depth``.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from lambdahost.core.queue_history import QueueActivity
from lambdahost.storage.base import check_limit
from lambdahost.storage.queue_activity import Part, assemble
from lambdahost.storage.rows import steps_from_json

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx


@functools.cache
def queue_activity_sql(lanes: int) -> str:
    """The statement for ``lanes`` lanes (``:lane0`` ... ``:lane{lanes - 1}``), with ``:function_name``, ``:since``
    and ``:limit``. Each row is tagged with its ``part``: ``finished``, ``pending``, ``leased`` or ``count``."""
    in_lanes = f"lane IN ({', '.join(f':lane{n}' for n in range(lanes))})"
    return (
        "SELECT 'finished' AS part, lane, transitions, finished_at AS key, 0 AS n FROM ("
        "SELECT lane, transitions, finished_at FROM invocations "
        f"WHERE function_name = :function_name AND finished_at >= :since AND {in_lanes} "
        "AND status IN ('succeeded', 'failed', 'terminated') AND available_at IS NOT NULL "
        "ORDER BY finished_at DESC LIMIT :limit) AS finished "
        "UNION ALL "
        "SELECT 'pending' AS part, lane, transitions, available_at AS key, 0 AS n FROM ("
        "SELECT lane, transitions, available_at FROM invocations "
        f"WHERE status = 'pending' AND function_name = :function_name AND {in_lanes} AND available_at >= :since "
        "ORDER BY available_at DESC LIMIT :limit) AS pending "
        "UNION ALL "
        "SELECT 'leased' AS part, lane, transitions, NULL AS key, 0 AS n FROM invocations "
        f"WHERE function_name = :function_name AND {in_lanes} AND status IN ('ready', 'running') "
        "AND available_at IS NOT NULL "
        "UNION ALL "
        "SELECT 'count' AS part, lane, NULL AS transitions, NULL AS key, COUNT(*) AS n FROM invocations "
        f"WHERE status = 'pending' AND function_name = :function_name AND {in_lanes} AND available_at IS NOT NULL "
        "GROUP BY lane"
    )


def queue_activity_params(function_name: str, lanes: list[int], since: float, limit: int) -> dict[str, object]:
    return {"function_name": function_name, "since": since, "limit": limit} | {
        f"lane{n}": lane for n, lane in enumerate(lanes)
    }


class QueueActivitySqlStore(abc.ABC):
    """``queue_activity`` for ``SqlStore``, which provides the transactions."""

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    def queue_activity(self, function_name: str, lanes: Sequence[int], since: float, limit: int) -> QueueActivity:
        check_limit(limit)
        chosen = sorted(set(lanes))
        if not chosen:
            return QueueActivity(since)
        with self._transaction(write=False) as tx:
            found = tx.all(queue_activity_sql(len(chosen)), queue_activity_params(function_name, chosen, since, limit))
        parts: dict[str, list[Part]] = {"finished": [], "pending": [], "leased": []}
        counts: dict[int, int] = {}
        for row in found:
            if row["part"] == "count":
                counts[int(row["lane"])] = int(row["n"])
            else:
                key = row["key"]
                part = Part(int(row["lane"]), steps_from_json(row["transitions"]), 0.0 if key is None else key)
                parts[row["part"]].append(part)
        return assemble(since, limit, parts["finished"], parts["pending"], parts["leased"], counts)
