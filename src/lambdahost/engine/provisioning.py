"""Provisioned concurrency: environments initialised ahead of demand and kept warm.

``Put/Get/Delete/ListProvisionedConcurrencyConfig(s)`` store how many environments a function keeps; a background
loop in every process that runs invocations (``lambdahost serve``, ``lambdahost worker``) keeps that many
initialised in its own pool (``EnvironmentPool.provision``), started with ``AWS_LAMBDA_INITIALIZATION_TYPE`` set to
``provisioned-concurrency``, never reaped for being idle, and re-created when they die or the function changes.
Invocations beyond them start on demand (spill-over), as on AWS. ``Allocated``/``Available`` report this
process's environments; ``Status`` is ``READY`` once they are all up. AWS accepts only published versions and
aliases; lambdahost has neither yet, so the qualifier is ``$LATEST``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from lambdahost.core.errors import (
    InvalidParameterValue,
    LambdaHostError,
    ProvisionedConcurrencyConfigNotFound,
    ResourceNotFound,
    ValidationError,
)
from lambdahost.core.ids import Clock, format_last_modified, wall_clock
from lambdahost.core.model import LATEST, ProvisionedConcurrency
from lambdahost.core.names import parse_function_ref
from lambdahost.engine.functions import FunctionService
from lambdahost.runtime.pool import EnvironmentPool
from lambdahost.storage.base import Store

log = logging.getLogger(__name__)

MAX_LIST_ITEMS = 50


class Provisioning:
    def __init__(
        self,
        store: Store,
        functions: FunctionService,
        pool: EnvironmentPool,
        interval_s: float = 1.0,
        clock: Clock = wall_clock,
    ) -> None:
        self.store = store
        self.functions = functions
        self.pool = pool
        self._interval = interval_s
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: dict[str, str] = {}  # function -> why its environments could not all start

    # -- the API -----------------------------------------------------------------------------------------------
    def put(self, function_name: str, qualifier: str | None, requested: Any) -> ProvisionedConcurrency:
        name, qualifier = self._function(function_name, qualifier)
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
            raise ValidationError(
                f"1 validation error detected: Value '{requested}' at 'provisionedConcurrentExecutions' failed to "
                "satisfy constraint: Member must have value greater than or equal to 1"
            )
        config = self.functions.get(name)
        if config.reserved_concurrency is not None and requested > config.reserved_concurrency:
            raise InvalidParameterValue(
                "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for "
                "function"
            )
        limit = self.functions.settings.max_concurrency - self.functions.unreserved_minimum
        if requested > limit:
            raise InvalidParameterValue(
                f"Requested Provisioned Concurrency exceeds the account's available concurrency of {limit} (the "
                f"account limit less the {self.functions.unreserved_minimum} that must stay unreserved)."
            )
        stored = self.store.put_provisioned_concurrency(
            ProvisionedConcurrency(name, qualifier, requested, self._clock())
        )
        self._failed.pop(name, None)
        self._wake.set()
        return stored

    def get(self, function_name: str, qualifier: str | None) -> ProvisionedConcurrency:
        name, qualifier = self._function(function_name, qualifier)
        found = self.store.get_provisioned_concurrency(name, qualifier)
        if found is None:
            raise ProvisionedConcurrencyConfigNotFound("No Provisioned Concurrency Config found for this function")
        return found

    def delete(self, function_name: str, qualifier: str | None) -> None:
        name, qualifier = self._function(function_name, qualifier)
        if not self.store.delete_provisioned_concurrency(name, qualifier):
            raise ProvisionedConcurrencyConfigNotFound("No Provisioned Concurrency Config found for this function")
        self._wake.set()

    def list(
        self, function_name: str, marker: str | None, max_items: int | None
    ) -> tuple[list[ProvisionedConcurrency], str | None]:
        name, _ = self._function(function_name, LATEST)
        limit = MAX_LIST_ITEMS if max_items is None else max(1, min(max_items, MAX_LIST_ITEMS))
        found = [c for c in self.store.list_provisioned_concurrency(name) if marker is None or c.qualifier > marker]
        page = found[:limit]
        return page, (page[-1].qualifier if len(found) > limit else None)

    def shape(self, config: ProvisionedConcurrency, with_arn: bool = False) -> dict[str, Any]:
        allocated = min(self.pool.provisioned().get(config.function_name, 0), config.requested)
        failed = self._failed.get(config.function_name)
        status = "READY" if allocated >= config.requested else ("FAILED" if failed else "IN_PROGRESS")
        shape: dict[str, Any] = {}
        if with_arn:
            shape["FunctionArn"] = self.functions.arn(config.function_name, config.qualifier)
        shape |= {
            "RequestedProvisionedConcurrentExecutions": config.requested,
            "AvailableProvisionedConcurrentExecutions": allocated,
            "AllocatedProvisionedConcurrentExecutions": allocated,
            "Status": status,
            "LastModified": format_last_modified(config.last_modified),
        }
        if status == "FAILED" and failed:
            shape["StatusReason"] = failed
        return shape

    # -- keeping them warm -------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="provisioning", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def reconcile(self) -> None:
        """Bring this process's provisioned environments in line with the stored configs, once."""
        wanted = {c.function_name: c.requested for c in self.store.list_provisioned_concurrency()}
        for name in set(self.pool.provisioned()) - set(wanted):
            self.pool.unprovision(name)
        for name, requested in wanted.items():
            if self._stop.is_set():
                return
            try:
                _config, spec = self.functions.resolve(name)
                have = self.pool.provision(spec, requested)
            except LambdaHostError as exc:
                self._failed[name] = str(exc)
                continue
            if have < requested:
                self._failed[name] = "An environment failed its init; see the function's log."
            else:
                self._failed.pop(name, None)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.reconcile()
            except Exception:  # a passing store error: try again at the next interval
                log.exception("could not provision environments", extra={"action": "provision_error"})
            self._wake.wait(self._interval)
            self._wake.clear()

    # -- helpers -----------------------------------------------------------------------------------------------
    def _function(self, function_name: str, qualifier: str | None) -> tuple[str, str]:
        ref = parse_function_ref(function_name, qualifier)
        qualifier = ref.qualifier or LATEST
        if qualifier != LATEST or self.store.get_function(ref.name) is None:
            raise ResourceNotFound(f"Function not found: {self.functions.arn(ref.name, qualifier)}")
        return ref.name, qualifier
