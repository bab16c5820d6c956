"""The platform's API as seen from inside a function, with the standard library only: the Lambda API's
``ListFunctions`` (``GET /2015-03-31/functions``, paged with ``Marker``/``MaxItems`` as boto3's paginator pages it)
for the functions, and lambdahost's native ``GET /lambdahost/v1/invocations`` (which AWS's API has no operation
for) for the invocation records, both through urllib.

The platform gives every function ``AWS_ENDPOINT_URL``, ``AWS_REGION`` and a key pair with a session token.
Requests are signed with them (SigV4, service ``lambda``: ``sigv4.py``), so they are accepted whether or not the
server requires signatures; without credentials they go unsigned, which only a server without authentication
accepts (a 403 otherwise, reported as such).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .sigv4 import Credentials, canonical_query, host_header, signed_headers

FUNCTIONS_PATH = "/2015-03-31/functions"  # botocore's ListFunctions path (the API reference adds a "/")
INVOCATIONS_PATH = "/lambdahost/v1/invocations"
FUNCTIONS_PAGE = 50  # ListFunctions' largest page
INVOCATIONS_PAGE = 1000  # the native API's largest page


class PlatformApi:
    def __init__(
        self,
        endpoint: str | None = None,
        region: str | None = None,
        credentials: Credentials | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        environ: Mapping[str, str] = os.environ,
        functions_page: int = FUNCTIONS_PAGE,
    ) -> None:
        self.endpoint = (endpoint or environ.get("AWS_ENDPOINT_URL") or "").rstrip("/")
        if not self.endpoint:
            raise RuntimeError("AWS_ENDPOINT_URL is not set: run this function on lambdahost (or pass the endpoint)")
        self.host = host_header(self.endpoint)
        self.region = region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.credentials = credentials or Credentials.from_environment(environ)
        self.timeout = timeout
        self.clock = clock
        self.functions_page = functions_page

    def _get(self, path: str, params: dict[str, str]) -> Any:
        query = canonical_query(params)
        headers = {"Accept": "application/json"}
        if self.credentials is not None:
            headers.update(
                signed_headers(self.host, path, query, self.credentials, self.region, "lambda", self.clock())
            )
        url = f"{self.endpoint}{path}?{query}" if query else f"{self.endpoint}{path}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:300]
            raise RuntimeError(f"GET {path} answered {error.code}: {detail}") from None

    def function_names(self) -> list[str]:
        """Every function's name, page by page (``NextMarker`` of one page is the ``Marker`` of the next)."""
        names: list[str] = []
        marker: str | None = None
        while True:
            params = {"MaxItems": str(self.functions_page)}
            if marker:
                params["Marker"] = marker
            page = self._get(FUNCTIONS_PATH, params)
            names.extend(function["FunctionName"] for function in page["Functions"])
            marker = page.get("NextMarker")
            if not marker:
                return names

    def invocations(self, function: str, since: float, limit: int) -> Iterator[dict[str, Any]]:
        """``function``'s invocation records created at or after ``since`` (epoch seconds), newest first, at most
        ``limit``. Pages go back from the last record seen (its ``created_at`` and ``id``: the API's cursor), so
        records created in the same instant are neither missed nor counted twice."""
        cursor: tuple[float, str] | None = None
        count = 0
        while count < limit:
            size = min(INVOCATIONS_PAGE, limit - count)
            params = {"function": function, "limit": str(size)}
            if cursor is not None:
                params["before"], params["before_id"] = repr(cursor[0]), cursor[1]
            page = self._get(INVOCATIONS_PATH, params)["Invocations"]
            for record in page:
                if record["created_at"] < since:
                    return
                count += 1
                yield record
                if count >= limit:
                    return
            if len(page) < size:
                return
            cursor = (page[-1]["created_at"], page[-1]["id"])
