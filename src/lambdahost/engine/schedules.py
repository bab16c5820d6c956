"""Schedules: EventBridge Scheduler's ``CreateSchedule``/``GetSchedule``/``UpdateSchedule``/``DeleteSchedule``/
``ListSchedules`` rules, for the Scheduler API and the CLI.

A request arrives as a draft ``ScheduleConfig`` (the API's fields, times unset); ``create``/``update`` check it the
way Scheduler does, with its error codes (``ValidationException``, ``ResourceNotFoundException``,
``ConflictException``), resolve the target function (any of Lambda's name forms, which must exist: lambdahost
says so at once rather than at the first firing), and store it with its first due time after now
(``core.scheduling.next_due``). An update replaces every field, as Scheduler's does, keeps the creation time (a
``rate()`` keeps its grid) and starts over from now, so disabled time is never caught up. Only the ``default``
schedule group exists."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from lambdahost.core import scheduling
from lambdahost.core.errors import (
    InvalidParameterValue,
    ResourceConflict,
    ResourceNotFound,
    SchedulerConflict,
    ValidationError,
)
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.model import LATEST, ScheduleConfig
from lambdahost.core.names import parse_function_ref
from lambdahost.engine.functions import FunctionService
from lambdahost.storage.base import Store

_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")
_QUEUE_ARN = re.compile(r"arn:aws[a-z-]*:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+")
MAX_DESCRIPTION = 512
MAX_WINDOW_MINUTES = 1440
MAX_RETRY_ATTEMPTS = 185
EVENT_AGE_RANGE = (60, 86400)
ACTIONS = ("NONE", "DELETE")
MAX_LIST = 100


def check_name(name: str, what: str = "name") -> str:
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"1 validation error detected: Value '{name}' at '{what}' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [0-9a-zA-Z-_.]+ and have length between 1 and 64"
        )
    return name


def check_group(group: str | None) -> None:
    """Only the default group exists (``CreateScheduleGroup`` is not offered)."""
    if group is not None and group != scheduling.DEFAULT_GROUP:
        check_name(group, "groupName")
        raise ResourceNotFound(f"Schedule group {group} does not exist.")


class ScheduleService:
    def __init__(
        self,
        store: Store,
        functions: FunctionService,
        queue_exists: Callable[[str], bool],
        place: scheduling.Place,
        clock: Clock = wall_clock,
    ) -> None:
        self.store = store
        self.functions = functions
        self._queue_exists = queue_exists
        self.place = place
        self._clock = clock

    def arn(self, name: str) -> str:
        return self.place.schedule_arn(name)

    def get(self, name: str) -> ScheduleConfig:
        found = self.store.get_schedule(check_name(name))
        if found is None:
            raise ResourceNotFound(f"Schedule {name} does not exist.")
        return found

    def list(
        self, prefix: str | None = None, state: str | None = None, token: str | None = None, limit: int = MAX_LIST
    ) -> tuple[list[ScheduleConfig], str | None]:
        """Schedules by name, those starting with ``prefix`` and in ``state`` (ENABLED or DISABLED); ``token`` is
        the last name of the page before."""
        if not 1 <= limit <= MAX_LIST:
            raise ValidationError(f"MaxResults must be between 1 and {MAX_LIST}, not {limit}.")
        if state not in (None, "ENABLED", "DISABLED"):
            raise ValidationError(f"State must be ENABLED or DISABLED, not {state!r}.")
        found: list[ScheduleConfig] = []
        marker = token
        while True:
            page, marker = self.store.list_schedules(marker, MAX_LIST)
            for schedule in page:
                if prefix is not None and not schedule.name.startswith(prefix):
                    continue
                if state is not None and schedule.enabled != (state == "ENABLED"):
                    continue
                found.append(schedule)
                if len(found) == limit:
                    more = marker is not None or schedule is not page[-1]
                    return found, (schedule.name if more else None)
            if marker is None:
                return found, None

    def create(self, draft: ScheduleConfig) -> ScheduleConfig:
        now = self._clock()
        schedule = self._checked(draft).replace(created_at=now, last_modified=now, last_fired_at=None)
        schedule = schedule.replace(next_fire_at=scheduling.next_due(schedule, now))
        try:
            return self.store.create_schedule(schedule)
        except ResourceConflict:
            raise SchedulerConflict(f"Schedule {schedule.name} already exists.") from None

    def update(self, draft: ScheduleConfig) -> ScheduleConfig:
        current = self.get(draft.name)
        now = self._clock()
        schedule = self._checked(draft).replace(
            created_at=current.created_at, last_modified=now, last_fired_at=current.last_fired_at
        )
        schedule = schedule.replace(next_fire_at=scheduling.next_due(schedule, now))
        return self.store.update_schedule(schedule)

    def delete(self, name: str) -> None:
        if not self.store.delete_schedule(check_name(name)):
            raise ResourceNotFound(f"Schedule {name} does not exist.")

    # -- validation --------------------------------------------------------------------------------------------
    def _checked(self, draft: ScheduleConfig) -> ScheduleConfig:
        """``draft`` with its target resolved to a function name and qualifier, or the first thing wrong."""
        check_name(draft.name)
        scheduling.next_due(draft.replace(created_at=0.0), 0.0)  # the expression and time zone parse
        if len(draft.description) > MAX_DESCRIPTION:
            raise ValidationError(f"Description must be at most {MAX_DESCRIPTION} characters.")
        if not 0 <= draft.flexible_window_minutes <= MAX_WINDOW_MINUTES:
            raise ValidationError(f"MaximumWindowInMinutes must be between 1 and {MAX_WINDOW_MINUTES}.")
        if draft.start_date is not None and draft.end_date is not None and draft.end_date <= draft.start_date:
            raise ValidationError("The EndDate must be after the StartDate.")
        if draft.input is not None:
            try:
                json.loads(draft.input)
            except ValueError:
                raise ValidationError("Target Input must be well-formed JSON for a Lambda function target.") from None
        if draft.retry_max_attempts is not None and not 0 <= draft.retry_max_attempts <= MAX_RETRY_ATTEMPTS:
            raise ValidationError(f"MaximumRetryAttempts must be between 0 and {MAX_RETRY_ATTEMPTS}.")
        low, high = EVENT_AGE_RANGE
        if draft.retry_max_event_age_s is not None and not low <= draft.retry_max_event_age_s <= high:
            raise ValidationError(f"MaximumEventAgeInSeconds must be between {low} and {high}.")
        if draft.action_after_completion not in ACTIONS:
            raise ValidationError(
                f"ActionAfterCompletion must be NONE or DELETE, not {draft.action_after_completion!r}."
            )
        if draft.kind not in (ScheduleConfig.SCHEDULER, ScheduleConfig.RULE):
            raise ValidationError(f"The event format must be scheduler or rule, not {draft.kind!r}.")
        if draft.dead_letter_arn is not None:
            self._check_dead_letter_queue(draft.dead_letter_arn)
        name, qualifier = self._function(draft.function_name, draft.qualifier)
        return draft.replace(function_name=name, qualifier=qualifier)

    def _check_dead_letter_queue(self, arn: str) -> None:
        if arn.endswith(".fifo"):
            raise ValidationError("A FIFO queue cannot be a schedule's dead-letter queue.")
        if not _QUEUE_ARN.fullmatch(arn):
            raise ValidationError(f"DeadLetterConfig Arn {arn} is not an SQS queue ARN.")
        if not self._queue_exists(arn):
            raise ValidationError(f"The dead-letter queue {arn} does not exist.")

    def _function(self, ref: str, qualifier: str | None) -> tuple[str, str]:
        """The name and qualifier of the function ``ref`` (a name or a Lambda ARN) names; it must exist."""
        if ref.startswith("arn:") and ":lambda:" not in ref:
            raise ValidationError(f"Target Arn {ref} is not supported: lambdahost schedules invoke Lambda functions.")
        try:
            parsed = parse_function_ref(ref, None if qualifier in (None, LATEST) else qualifier)
            target = self.functions.target(parsed.name, parsed.qualifier)
        except ResourceNotFound:
            raise ValidationError(f"The target function {ref} does not exist.") from None
        except InvalidParameterValue as exc:
            raise ValidationError(f"Target Arn {ref} is not a Lambda function: {exc}") from None
        return target.config.name, parsed.qualifier or LATEST
