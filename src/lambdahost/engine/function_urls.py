"""Function URLs: AWS Lambda's ``Create/Get/Update/Delete/ListFunctionUrlConfig(s)`` with AWS's rules and
shapes, and the lookup the gateway makes by url id.

A function has at most one URL per qualifier. ``Qualifier`` names an alias (AWS's pattern: not a version number,
not ``$LATEST``); lambdahost has no aliases yet, so a qualified request is ``ResourceNotFound`` and every URL is
the function's unqualified one (stored with qualifier ``$LATEST``). ``InvokeMode`` ``RESPONSE_STREAM`` is
accepted and served buffered (the whole response at once, as a client that reads a streamed response to its end
sees it). ``AuthType`` ``AWS_IAM`` makes the gateway require a SigV4 signature (service ``lambda``) from one of
the platform's key pairs.

``FunctionUrl`` is ``<gateway>/lambda-url/<url-id>/``: the routes listener's address, which every client reaches
without DNS (see docs/http.md); when the listener binds a wildcard address (``0.0.0.0``, ``::``), the host is the
one the client reached the API by (its ``Host`` header), with the listener's port. ``by_url_id`` is cached for
``recheck_s`` (a URL created or deleted through another node is served or refused within that time; one changed
here, at once).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from lambdahost.core.errors import ResourceConflict, ResourceNotFound, ValidationError
from lambdahost.core.function_urls import (
    URL_ID_RE,
    FunctionUrlConfig,
    check_auth_type,
    check_cors,
    check_invoke_mode,
    check_qualifier,
    new_url_id,
)
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.model import LATEST
from lambdahost.core.names import parse_function_ref
from lambdahost.core.settings import Settings
from lambdahost.engine.functions import FunctionService
from lambdahost.storage.base import Store

MAX_LIST_ITEMS = 50
PATH_PREFIX = "/lambda-url/"
WILDCARD_HOSTS = ("0.0.0.0", "::", "[::]", "")


def host_without_port(host: str | None) -> str:
    """A ``Host`` header without its port (``localhost`` when there is none)."""
    if not host:
        return "localhost"
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


def gateway_url(settings: Settings, request_host: str | None = None) -> str:
    """The base URL of routes and function URLs for a client that reached the API with ``Host: request_host``: the
    routes listener's address, or with a wildcard address the client's host name and the listener's port."""
    listen = settings.routes_listen
    if listen is None or listen[0] not in WILDCARD_HOSTS or not request_host:
        return settings.gateway_url
    return f"http://{host_without_port(request_host)}:{listen[1]}"


def format_time(epoch: float) -> str:
    """``CreationTime``/``LastModifiedTime``: ISO 8601 in UTC with microseconds, ``2021-10-31T12:34:56.789012Z``."""
    secs = int(epoch)
    micros = min(999999, round((epoch - secs) * 1_000_000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{micros:06d}Z"


class FunctionUrls:
    def __init__(
        self,
        store: Store,
        functions: FunctionService,
        settings: Settings,
        recheck_s: float = 1.0,
        clock: Clock = wall_clock,
    ) -> None:
        self.store = store
        self.functions = functions
        self.settings = settings
        self._recheck_s = recheck_s
        self._clock = clock
        self._cache: dict[str, tuple[float, FunctionUrlConfig | None]] = {}
        self._lock = threading.Lock()

    # -- the API ---------------------------------------------------------------------------------------------------
    def create(self, function_name: str, qualifier: str | None, request: dict[str, Any]) -> FunctionUrlConfig:
        name = self._function(function_name, qualifier)
        if request.get("AuthType") is None:
            raise ValidationError(
                "1 validation error detected: Value null at 'authType' failed to satisfy constraint: Member must "
                "not be null"
            )
        now = self._clock()
        config = FunctionUrlConfig(
            function_name=name,
            url_id=new_url_id(),
            created_at=now,
            last_modified=now,
            auth_type=check_auth_type(request["AuthType"]),
            cors=check_cors(request.get("Cors")),
            invoke_mode=check_invoke_mode(request.get("InvokeMode", "BUFFERED")),
        )
        if not self.store.insert_function_url_config(config):
            raise ResourceConflict(
                f"Failed to create function url config for [functionArn = {self.functions.arn(name)}]. Error "
                "message:  FunctionUrlConfig exists for this Lambda function"
            )
        self._forget(config.url_id)
        return config

    def get(self, function_name: str, qualifier: str | None) -> FunctionUrlConfig:
        name = self._function(function_name, qualifier)
        found = self.store.get_function_url_config(name, LATEST)
        if found is None:
            raise ResourceNotFound("The resource you requested does not exist.")
        return found

    def update(self, function_name: str, qualifier: str | None, request: dict[str, Any]) -> FunctionUrlConfig:
        """The settings in ``request`` change, the others stay (``Cors`` is replaced as a whole)."""
        current = self.get(function_name, qualifier)
        changes: dict[str, Any] = {"last_modified": self._clock()}
        if request.get("AuthType") is not None:
            changes["auth_type"] = check_auth_type(request["AuthType"])
        if request.get("Cors") is not None:
            changes["cors"] = check_cors(request["Cors"])
        if request.get("InvokeMode") is not None:
            changes["invoke_mode"] = check_invoke_mode(request["InvokeMode"])
        updated = current.replace(**changes)
        if not self.store.update_function_url_config(updated):
            raise ResourceNotFound("The resource you requested does not exist.")
        self._forget(updated.url_id)
        return updated

    def delete(self, function_name: str, qualifier: str | None) -> None:
        current = self.get(function_name, qualifier)
        if not self.store.delete_function_url_config(current.function_name, current.qualifier):
            raise ResourceNotFound("The resource you requested does not exist.")
        self._forget(current.url_id)

    def list(
        self, function_name: str, marker: str | None, max_items: int | None
    ) -> tuple[list[FunctionUrlConfig], str | None]:
        name = self._function(function_name, None)
        limit = MAX_LIST_ITEMS if max_items is None else max_items
        if not 1 <= limit <= MAX_LIST_ITEMS:
            raise ValidationError(
                f"1 validation error detected: Value '{limit}' at 'maxItems' failed to satisfy constraint: Member "
                f"must have value {'greater than or equal to 1' if limit < 1 else 'less than or equal to 50'}"
            )
        found = [c for c in self.store.list_function_url_configs(name) if not marker or c.qualifier > marker]
        page = found[:limit]
        return page, (page[-1].qualifier if len(found) > limit else None)

    # -- shapes ----------------------------------------------------------------------------------------------------
    def url(self, config: FunctionUrlConfig, request_host: str | None = None) -> str:
        return f"{gateway_url(self.settings, request_host)}{PATH_PREFIX}{config.url_id}/"

    def arn(self, config: FunctionUrlConfig) -> str:
        qualifier = None if config.qualifier == LATEST else config.qualifier
        return self.functions.arn(config.function_name, qualifier)

    def shape(
        self, config: FunctionUrlConfig, *, last_modified: bool = True, request_host: str | None = None
    ) -> dict[str, Any]:
        """The wire shape (Create's answer has no ``LastModifiedTime``)."""
        shape: dict[str, Any] = {
            "FunctionUrl": self.url(config, request_host),
            "FunctionArn": self.arn(config),
            "AuthType": config.auth_type,
        }
        if config.cors is not None:
            shape["Cors"] = dict(config.cors)
        shape["CreationTime"] = format_time(config.created_at)
        if last_modified:
            shape["LastModifiedTime"] = format_time(config.last_modified)
        shape["InvokeMode"] = config.invoke_mode
        return shape

    # -- for the gateway -------------------------------------------------------------------------------------------
    def cached(self, url_id: str) -> tuple[bool, FunctionUrlConfig | None]:
        """``(fresh, config)`` from the cache: when not fresh, call ``by_url_id`` (on a thread: it may read the
        store)."""
        found = self._cache.get(url_id)
        if found is None or found[0] <= self._clock():
            return False, None
        return True, found[1]

    def by_url_id(self, url_id: str) -> FunctionUrlConfig | None:
        if not URL_ID_RE.match(url_id):
            return None
        fresh, config = self.cached(url_id)
        if fresh:
            return config
        config = self.store.get_function_url_config_by_id(url_id)
        with self._lock:
            if len(self._cache) >= 4096:
                self._cache.clear()
            self._cache[url_id] = (self._clock() + self._recheck_s, config)
        return config

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _function(self, function_name: str, qualifier: str | None) -> str:
        """The name of the function (which must exist) a URL belongs to; a qualifier must be an alias, and
        lambdahost has none."""
        ref = parse_function_ref(function_name)
        check_qualifier(qualifier)
        alias = qualifier or ref.qualifier
        if alias is not None:
            check_qualifier(alias)
            raise ResourceNotFound(f"Function not found: {self.functions.arn(ref.name, alias)}")
        if self.store.get_function(ref.name) is None:
            raise self.functions.not_found(ref.name)
        return ref.name

    def _forget(self, url_id: str) -> None:
        with self._lock:
            self._cache.pop(url_id, None)
