"""The platform's API as seen from inside a function: boto3's ``lambda`` client for the functions, and
lambdahost's native ``GET /lambdahost/v1/invocations`` (which boto3 has no operation for) through urllib.

The platform gives every function ``AWS_ENDPOINT_URL`` (boto3 1.28+ uses it on its own) and a key pair. The
native request is signed like boto3 signs (SigV4, service ``lambda``, botocore's signer with the same
credentials), so it works whether or not the server requires signatures; without any credentials it goes
unsigned, which only a server without authentication accepts (a 403 otherwise, reported as such).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

PAGE = 1000  # the native API's largest page


class PlatformApi:
    def __init__(self, endpoint: str | None = None, region: str | None = None, timeout: float = 30.0) -> None:
        self.endpoint = (endpoint or os.environ.get("AWS_ENDPOINT_URL") or "").rstrip("/")
        if not self.endpoint:
            raise RuntimeError("AWS_ENDPOINT_URL is not set: run this function on lambdahost (or pass the endpoint)")
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.session = boto3.Session(region_name=self.region)
        self.timeout = timeout

    def function_names(self) -> list[str]:
        client = self.session.client("lambda", endpoint_url=self.endpoint)
        names: list[str] = []
        for page in client.get_paginator("list_functions").paginate():
            names.extend(function["FunctionName"] for function in page["Functions"])
        return names

    def _get(self, path: str, query: dict[str, Any]) -> Any:
        url = f"{self.endpoint}{path}?{urllib.parse.urlencode(query)}"
        headers = {}
        credentials = self.session.get_credentials()
        if credentials is not None:
            request = AWSRequest(method="GET", url=url)
            SigV4Auth(credentials.get_frozen_credentials(), "lambda", self.region).add_auth(request)
            headers = dict(request.headers.items())
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:300]
            raise RuntimeError(f"GET {path} answered {error.code}: {detail}") from None

    def invocations(self, function: str, since: float, limit: int) -> Iterator[dict[str, Any]]:
        """``function``'s invocation records created at or after ``since`` (epoch seconds), newest first, at most
        ``limit``. Pages go back by ``before`` = the oldest ``created_at`` seen; records sharing that exact
        time across a page boundary can be missed (the API pages by time, not by a cursor)."""
        before: float | None = None
        seen: set[str] = set()
        count = 0
        while count < limit:
            query: dict[str, Any] = {"function": function, "limit": min(PAGE, limit - count)}
            if before is not None:
                query["before"] = repr(before)
            page = self._get("/lambdahost/v1/invocations", query)["Invocations"]
            fresh = [record for record in page if record["id"] not in seen]
            for record in fresh:
                if record["created_at"] < since:
                    return
                seen.add(record["id"])
                count += 1
                yield record
                if count >= limit:
                    return
            if len(page) < query["limit"] or not fresh:
                return
            before = min(record["created_at"] for record in page)
