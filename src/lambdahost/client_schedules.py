"""The schedule operations of ``Client`` (EventBridge Scheduler's API, which the server serves at ``/schedules``), as
a mixin: ``Client`` provides ``_json``, one request with a JSON body and a JSON answer."""

from __future__ import annotations

import abc
from typing import Any
from urllib.parse import quote


def _path(name: str) -> str:
    return f"/schedules/{quote(name, safe='')}"


class ScheduleClient(abc.ABC):
    @abc.abstractmethod
    def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any: ...

    def create_schedule(self, name: str, request: dict[str, Any]) -> str:
        """CreateSchedule with Scheduler's request keys; returns the schedule's ARN."""
        arn: str = self._json("POST", _path(name), request)["ScheduleArn"]
        return arn

    def update_schedule(self, name: str, request: dict[str, Any]) -> str:
        """UpdateSchedule: replaces every setting, as Scheduler's does."""
        arn: str = self._json("PUT", _path(name), request)["ScheduleArn"]
        return arn

    def get_schedule(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self._json("GET", _path(name))
        return found

    def delete_schedule(self, name: str) -> None:
        self._json("DELETE", _path(name))

    def list_schedules(self, prefix: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        """Every schedule (all pages), by name."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            query = {"NamePrefix": prefix, "State": state, "NextToken": token, "MaxResults": 100}
            page = self._json("GET", "/schedules", query=query)
            found.extend(page["Schedules"])
            token = page.get("NextToken")
            if token is None:
                return found
