"""Event invoke configs: how a function's asynchronous invocations are retried and where their records go.

``Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s)`` with AWS's rules: a put replaces the whole config, an
update merges into an existing one; at least one setting is required; ``MaximumRetryAttempts`` 0-2,
``MaximumEventAgeInSeconds`` 60-21600; destinations are another function (which must exist, and not be the function
itself) or a queue (which must exist). lambdahost has no published versions or aliases yet, so the one qualifier
is ``$LATEST`` (an unqualified request means it too).

``effective(name)`` is what the queue worker asks for every invocation it finishes: cached per function for
``recheck_s`` (a change made through another process sharing the store applies within that time; one made here,
at once).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from lambdahost.core.errors import InvalidParameterValue, ResourceNotFound, ValidationError
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.model import LATEST, EventInvokeConfig
from lambdahost.core.names import DESTINATION_ARN_RE, QUEUE_ARN_RE, parse_function_ref
from lambdahost.engine.functions import FunctionService
from lambdahost.storage.base import Store

MAX_LIST_ITEMS = 50


def _bounded(value: Any, member: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            "Member must be an integer"
        )
    if value < low:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must have value greater than or equal to {low}"
        )
    if value > high:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must have value less than or equal to {high}"
        )
    return value


class EventInvokeConfigs:
    def __init__(
        self,
        store: Store,
        functions: FunctionService,
        queue_exists: Callable[[str], bool],
        recheck_s: float = 1.0,
        clock: Clock = wall_clock,
    ) -> None:
        self.store = store
        self.functions = functions
        self._queue_exists = queue_exists
        self._recheck_s = recheck_s
        self._clock = clock
        self._cache: dict[str, tuple[float, EventInvokeConfig]] = {}
        self._lock = threading.Lock()

    # -- the API -----------------------------------------------------------------------------------------------
    def put(self, function_name: str, qualifier: str | None, request: dict[str, Any]) -> EventInvokeConfig:
        """PutFunctionEventInvokeConfig: the config becomes exactly what ``request`` says."""
        name, qualifier = self._function(function_name, qualifier)
        changes = self._settings_from(name, request)
        config = EventInvokeConfig(name, qualifier, last_modified=self._clock()).replace(**changes)
        return self._store(config)

    def update(self, function_name: str, qualifier: str | None, request: dict[str, Any]) -> EventInvokeConfig:
        """UpdateFunctionEventInvokeConfig: the settings in ``request`` change, the others stay."""
        name, qualifier = self._function(function_name, qualifier)
        changes = self._settings_from(name, request)
        current = self.store.get_event_invoke_config(name, qualifier)
        if current is None:
            raise self._none(name, qualifier)
        return self._store(current.replace(last_modified=self._clock(), **changes))

    def get(self, function_name: str, qualifier: str | None) -> EventInvokeConfig:
        name, qualifier = self._ref(function_name, qualifier)
        found = self.store.get_event_invoke_config(name, qualifier)
        if found is None:
            raise self._none(name, qualifier)
        return found

    def delete(self, function_name: str, qualifier: str | None) -> None:
        name, qualifier = self._ref(function_name, qualifier)
        if not self.store.delete_event_invoke_config(name, qualifier):
            raise self._none(name, qualifier)
        self._forget(name)

    def list(
        self, function_name: str, marker: str | None, max_items: int | None
    ) -> tuple[list[EventInvokeConfig], str | None]:
        name, _ = self._function(function_name, None)
        limit = MAX_LIST_ITEMS if max_items is None else _bounded(max_items, "maxItems", 1, MAX_LIST_ITEMS)
        found = [c for c in self.store.list_event_invoke_configs(name) if marker is None or c.qualifier > marker]
        page = found[:limit]
        return page, (page[-1].qualifier if len(found) > limit else None)

    def arn(self, config: EventInvokeConfig) -> str:
        return self.functions.arn(config.function_name, config.qualifier)

    # -- for the queue worker ----------------------------------------------------------------------------------
    def effective(self, function_name: str) -> EventInvokeConfig:
        """The config that applies to ``function_name``'s asynchronous invocations (AWS's defaults when none)."""
        now = self._clock()
        cached = self._cache.get(function_name)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = self.store.get_event_invoke_config(function_name, LATEST) or EventInvokeConfig(function_name)
        with self._lock:
            self._cache[function_name] = (now + self._recheck_s, found)
        return found

    # -- helpers -----------------------------------------------------------------------------------------------
    def _store(self, config: EventInvokeConfig) -> EventInvokeConfig:
        stored = self.store.put_event_invoke_config(config)
        self._forget(config.function_name)
        return stored

    def _forget(self, name: str) -> None:
        with self._lock:
            self._cache.pop(name, None)

    def _ref(self, function_name: str, qualifier: str | None) -> tuple[str, str]:
        ref = parse_function_ref(function_name, qualifier)
        return ref.name, ref.qualifier or LATEST

    def _function(self, function_name: str, qualifier: str | None) -> tuple[str, str]:
        """The function (which must exist, at a qualifier that exists) the config belongs to."""
        name, qualifier = self._ref(function_name, qualifier)
        if qualifier != LATEST or self.store.get_function(name) is None:
            raise ResourceNotFound("The function doesn't exist.")
        return name, qualifier

    def _none(self, name: str, qualifier: str) -> ResourceNotFound:
        return ResourceNotFound(f"The function {self.functions.arn(name, qualifier)} doesn't have an EventInvokeConfig")

    def _settings_from(self, name: str, request: dict[str, Any]) -> dict[str, Any]:
        """The validated settings of a Put/Update request (only those present)."""
        keys = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
        present = {k: request[k] for k in keys if request.get(k) is not None}
        if not present:
            raise InvalidParameterValue("You must specify at least one of error handling or destination setting.")
        out: dict[str, Any] = {}
        if "MaximumRetryAttempts" in present:
            out["maximum_retry_attempts"] = _bounded(present["MaximumRetryAttempts"], "maximumRetryAttempts", 0, 2)
        if "MaximumEventAgeInSeconds" in present:
            out["maximum_event_age_s"] = _bounded(
                present["MaximumEventAgeInSeconds"], "maximumEventAgeInSeconds", 60, 21600
            )
        if "DestinationConfig" in present:
            destinations = present["DestinationConfig"]
            if not isinstance(destinations, dict):
                raise InvalidParameterValue("DestinationConfig must be an object with OnSuccess and OnFailure.")
            for key, field in (("OnSuccess", "on_success"), ("OnFailure", "on_failure")):
                out[field] = self._destination(name, destinations.get(key), key)
        return out

    def _destination(self, name: str, value: Any, key: str) -> str | None:
        if value is None:
            return None
        arn = value.get("Destination") if isinstance(value, dict) else None
        if not isinstance(arn, str) or not arn:
            return None
        member = f"destinationConfig.{key[0].lower()}{key[1:]}.destination"
        if not DESTINATION_ARN_RE.fullmatch(arn):
            raise ValidationError(
                f"1 validation error detected: Value '{arn}' at '{member}' failed to satisfy constraint: Member "
                "must satisfy regular expression pattern: ^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}"
                "((-gov)|(-iso(b?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)"
            )
        service = arn.split(":")[2]
        if service == "lambda":
            ref = parse_function_ref(arn)
            if ref.name == name:
                raise InvalidParameterValue("You can't specify the function as a destination for itself.")
            if ref.qualifier not in (None, LATEST) or self.store.get_function(ref.name) is None:
                raise InvalidParameterValue(f"The destination ARN {arn} is invalid.")
            return arn
        if service == "sqs":
            if not QUEUE_ARN_RE.match(arn) or not self._queue_exists(arn):
                raise InvalidParameterValue(f"The destination ARN {arn} is invalid: no such queue.")
            return arn
        raise InvalidParameterValue(
            f"The destination ARN {arn} is invalid: lambdahost delivers to functions (arn:aws:lambda:...) and "
            "queues (arn:aws:sqs:...)."
        )
