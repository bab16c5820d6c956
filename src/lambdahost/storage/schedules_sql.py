"""``ScheduleSqlStore``: the schedules part of ``SqlStore`` (a mixin, as ``MessageQueueSqlStore`` is), written once
for SQLite and PostgreSQL on the adapter's transactions and row locking."""

from __future__ import annotations

import abc
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from lambdahost.core.errors import ResourceConflict, ResourceNotFound
from lambdahost.core.model import Invocation, ScheduleConfig
from lambdahost.storage import queries as q
from lambdahost.storage import rows
from lambdahost.storage.base import advanced, check_limit, lanes_text, queued_records

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx


class ScheduleSqlStore(abc.ABC):
    """The schedule methods of ``Store`` for ``SqlStore``, which provides the transactions and the row locking."""

    lock_rows_sql: ClassVar[str]
    notify_queued_sql: ClassVar[str | None]

    @abc.abstractmethod
    def _work_queued(self, lanes: str) -> None: ...

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    def create_schedule(self, schedule: ScheduleConfig) -> ScheduleConfig:
        with self._transaction(write=True) as tx:
            inserted = tx.execute(q.INSERT_SCHEDULE, rows.schedule_params(schedule))
        if inserted != 1:
            raise ResourceConflict(f"Schedule {schedule.name} already exists.")
        return schedule

    def get_schedule(self, name: str) -> ScheduleConfig | None:
        with self._transaction(write=False) as tx:
            row = tx.one(q.GET_SCHEDULE, {"name": name})
        return rows.schedule_from_row(row) if row is not None else None

    def list_schedules(self, marker: str | None, limit: int) -> tuple[list[ScheduleConfig], str | None]:
        check_limit(limit)
        params: dict[str, Any] = {"limit": limit + 1, "marker": marker}
        with self._transaction(write=False) as tx:
            found = tx.all(q.LIST_SCHEDULES if marker is None else q.LIST_SCHEDULES_AFTER, params)
        page = [rows.schedule_from_row(row) for row in found[:limit]]
        return page, (page[-1].name if len(found) > limit else None)

    def schedules_of(self, function_name: str, limit: int) -> list[ScheduleConfig]:
        check_limit(limit)
        with self._transaction(write=False) as tx:
            found = tx.all(q.SCHEDULES_OF, {"function_name": function_name, "limit": limit})
        return [rows.schedule_from_row(row) for row in found]

    def update_schedule(self, schedule: ScheduleConfig) -> ScheduleConfig:
        with self._transaction(write=True) as tx:
            changed = tx.execute(q.UPDATE_SCHEDULE, rows.schedule_params(schedule))
        if changed != 1:
            raise ResourceNotFound(f"Schedule {schedule.name} does not exist.")
        return schedule

    def delete_schedule(self, name: str) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(q.DELETE_SCHEDULE, {"name": name}) > 0

    def claim_due_schedules(
        self,
        now: float,
        limit: int,
        advance: Callable[[ScheduleConfig, float], float | None],
        queue: Callable[[ScheduleConfig, float], Invocation | None] | None = None,
    ) -> list[tuple[ScheduleConfig, float]]:
        """Reads the due rows (locking them on PostgreSQL), advances each by its key and inserts the invocations
        ``queue`` makes of them (as ``enqueue_many`` does), in one transaction."""
        check_limit(limit)
        claimed: list[tuple[ScheduleConfig, float]] = []
        queued: list[Invocation] = []
        with self._transaction(write=True) as tx:
            for row in tx.all(q.due_schedules(self.lock_rows_sql), {"now": now, "limit": limit}):
                due = rows.schedule_from_row(row)
                fired = advanced(due, now, advance(due, now))
                claimed.append((fired, float(row["next_fire_at"])))
                invocation = queue(due, float(row["next_fire_at"])) if queue is not None else None
                if invocation is not None:
                    queued.append(invocation)
            if claimed:
                params = [{"name": s.name, "next_fire_at": s.next_fire_at, "due": s.last_fired_at} for s, _ in claimed]
                tx.executemany(q.ADVANCE_SCHEDULE, params)
            if queued:
                stored = queued_records(queued)
                if tx.executemany(q.INSERT_QUEUED, [rows.invocation_params(inv) for inv in stored]) != len(stored):
                    raise ResourceConflict("An invocation id of a scheduled event is taken.")  # rolls back
                if self.notify_queued_sql:
                    tx.execute(self.notify_queued_sql, {"lanes": lanes_text(stored)})
        if queued:
            self._work_queued(lanes_text(queued))
        return claimed
