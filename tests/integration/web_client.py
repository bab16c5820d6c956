"""A small HTTP client for the web UI's tests: plain ``http.client`` (redirects are not followed, so a test sees
them), urlencoded and multipart form posts, cookies kept by hand."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from lambdahost.core.settings import Settings
from lambdahost.server import Platform
from tests.integration.serving import http_server


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    text: str
    cookies: list[str]

    def json(self) -> Any:
        return json.loads(self.text)


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, source)
    return buf.getvalue()


Files = dict[str, tuple[str, bytes] | list[tuple[str, bytes]]]  # a file input's one file, or several (a folder)


def multipart(fields: dict[str, str], files: Files) -> tuple[bytes, str]:
    boundary = "----lambdahost" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    parts = [(name, one) for name, given in files.items() for one in (given if isinstance(given, list) else [given])]
    for name, (filename, data) in parts:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


class UiClient:
    def __init__(self, url: str) -> None:
        self.host = urlsplit(url).netloc
        self.cookie: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Page:
        connection = http.client.HTTPConnection(self.host, timeout=30)
        all_headers = dict(headers or {})
        if self.cookie:
            all_headers["Cookie"] = self.cookie
        try:
            connection.request(method, path, body, all_headers)
            response = connection.getresponse()
            return Page(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read().decode("utf-8", "replace"),
                response.headers.get_all("set-cookie") or [],
            )
        finally:
            connection.close()

    def get(self, path: str, headers: dict[str, str] | None = None) -> Page:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Page:
        body = urlencode(fields).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        )

    def post_multipart(self, path: str, fields: dict[str, str], files: Files) -> Page:
        body, content_type = multipart(fields, files)
        return self.request("POST", path, body, {"Content-Type": content_type})

    def post_json(self, path: str, value: Any) -> Page:
        return self.request("POST", path, json.dumps(value).encode(), {"Content-Type": "application/json"})


@contextlib.contextmanager
def ui_platform(data_dir: Path) -> Iterator[tuple[Platform, UiClient]]:
    """An embedded Platform on ``data_dir`` (real SQLite file, real environments) served over real HTTP, and a
    client of its web UI."""
    platform = Platform(Settings(data_dir=data_dir)).start()
    try:
        with http_server(platform) as url:
            yield platform, UiClient(url)
    finally:
        platform.close()
