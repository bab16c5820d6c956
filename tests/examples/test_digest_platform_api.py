"""The ``scheduled-digest`` example lists functions as boto3 does: the same ``ListFunctions`` requests (path,
``MaxItems``, ``Marker`` from the previous page's ``NextMarker``) as boto3's paginator sends to a recording server,
each signed for the ``host`` it is sent to (checked by lambdahost's own verifier); and the examples import nothing
that their ``requirements.txt`` (or the standard library) does not provide."""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.config import Config

from lambdahost.core.credentials import Credentials
from lambdahost.core.sigv4 import HttpRequest, Verifier
from tests.examples.conftest import EXAMPLES, load_example

NAMES = [f"fn-{i}" for i in range(5)]
KEY_ID, SECRET, TOKEN = "AKIDPAGES", "pages-secret", "lambdahost-session"


class Recorder(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ListFunctions)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.verifier = Verifier([Credentials(KEY_ID, SECRET)])


class ListFunctions(BaseHTTPRequestHandler):
    """``ListFunctions`` over ``NAMES`` in pages of ``MaxItems``; ``NextMarker`` is the next name's index."""

    server: Recorder

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        self.server.requests.append((parts.path, query))
        self.server.verifier.verify(HttpRequest("GET", parts.path, parts.query, list(self.headers.items())))
        start = int(query.get("Marker", "0"))
        end = start + int(query.get("MaxItems", "50"))
        body: dict[str, Any] = {"Functions": [{"FunctionName": name} for name in NAMES[start:end]]}
        if end < len(NAMES):
            body["NextMarker"] = str(end)
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_function_names_page_as_boto3s_paginator(recorder: Recorder) -> None:
    endpoint = f"http://127.0.0.1:{recorder.server_address[1]}"
    client = boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    pages = client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
    by_boto3 = [function["FunctionName"] for page in pages for function in page["Functions"]]
    boto3_requests, recorder.requests = recorder.requests, []
    load_example("scheduled_digest")
    platform_api = importlib.import_module("rundigest.platform_api")
    environ = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}

    ours = platform_api.PlatformApi(endpoint, "us-east-1", environ=environ, functions_page=2).function_names()

    assert ours == by_boto3 == NAMES
    assert (
        recorder.requests
        == boto3_requests
        == [
            ("/2015-03-31/functions", {"MaxItems": "2"}),
            ("/2015-03-31/functions", {"MaxItems": "2", "Marker": "2"}),
            ("/2015-03-31/functions", {"MaxItems": "2", "Marker": "4"}),
        ]
    )


def third_party_imports(folder: Path) -> set[str]:
    """The top-level modules ``folder``'s code imports that are neither the standard library's nor its own."""
    own = {child.stem for child in folder.iterdir() if child.suffix == ".py" or (child / "__init__.py").exists()}
    found: set[str] = set()
    for source in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - own - set(sys.stdlib_module_names) - {"__future__"}


@pytest.mark.parametrize("folder", ["hello", "anomaly_detect", "scheduled_digest", "jtl_report"])
def test_examples_import_only_what_their_requirements_name(folder: str) -> None:
    """Functions run on the platform's interpreter, which has lambdahost's runtime dependencies only (boto3 is a
    development dependency): the digest must not need it, as the tests' interpreter would hide."""
    requirements = EXAMPLES / folder / "requirements.txt"
    named = set()
    if requirements.exists():
        named = {re.split(r"[<>=!~\[; ]", line.strip())[0] for line in requirements.read_text().splitlines()}
    assert third_party_imports(EXAMPLES / folder) <= named - {""}
    if folder == "scheduled_digest":
        assert not requirements.exists()
