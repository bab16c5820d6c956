"""AWS Signature Version 4 for the body-less GET requests this example makes, with the standard library only
(``hmac``, ``hashlib``), so the example needs no boto3.

What is signed, as the AWS specification ("Create a signed AWS API request") and botocore do it:

- canonical request: ``GET``, the path as sent encoded once more (every service but S3 double-encodes), the query
  with every name and value RFC 3986-encoded (only ``A-Za-z0-9-_.~`` left as is) and sorted, the headers ``host``,
  ``x-amz-date`` and, with a session token, ``x-amz-security-token`` (lower-case names, sorted), their names, and
  the SHA-256 of the empty payload;
- string to sign: ``AWS4-HMAC-SHA256``, the ``X-Amz-Date`` timestamp, the scope
  ``YYYYMMDD/region/service/aws4_request`` and the SHA-256 of the canonical request;
- key: ``HMAC("AWS4" + secret, date)``, then region, service and ``aws4_request``; the signature is the hex HMAC of
  the string to sign.

The caller must send exactly the query string ``canonical_query`` returns and the headers ``signed_headers``
returns (``Host`` included), which is what ``platform_api`` does.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Credentials | None:
        """The key pair (and token) the platform gives every function; None when there is none."""
        key_id, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
        if not key_id or not secret:
            return None
        return cls(key_id, secret, environ.get("AWS_SESSION_TOKEN") or None)


def uri_encode(text: str) -> str:
    """RFC 3986 percent-encoding of UTF-8 bytes: only unreserved characters are left as they are."""
    return urllib.parse.quote(text, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """The query string to send and to sign: names and values encoded, sorted by name, then value."""
    return "&".join(
        f"{name}={value}" for name, value in sorted((uri_encode(k), uri_encode(v)) for k, v in params.items())
    )


def host_header(endpoint: str) -> str:
    """The ``Host`` header for ``endpoint`` (``http://host:port``): its host, with the port unless it is the
    scheme's default (as HTTP clients and botocore write it)."""
    parts = urllib.parse.urlsplit(endpoint)
    if parts.hostname is None:
        raise ValueError(f"{endpoint!r} is not a URL with a host")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if parts.port is None or parts.port == DEFAULT_PORTS.get(parts.scheme):
        return host
    return f"{host}:{parts.port}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signed_headers(
    host: str,
    path: str,
    query: str,
    credentials: Credentials,
    region: str,
    service: str,
    now: float,
    method: str = "GET",
) -> dict[str, str]:
    """The headers that sign a body-less request for ``path`` (already percent-encoded) with the query string
    ``query`` (from ``canonical_query``), made at ``now`` (epoch seconds): ``Host``, ``X-Amz-Date``,
    ``X-Amz-Security-Token`` when there is a session token, and ``Authorization``."""
    timestamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(int(now)))
    date = timestamp[:8]
    headers = {"host": host, "x-amz-date": timestamp}
    if credentials.session_token:
        headers["x-amz-security-token"] = credentials.session_token
    names = sorted(headers)
    canonical = "\n".join(
        (
            method,
            urllib.parse.quote(path or "/", safe="/~"),
            query,
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in names),
            ";".join(names),
            EMPTY_SHA256,
        )
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    key = _hmac(("AWS4" + credentials.secret_access_key).encode("utf-8"), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    sent = {"Host": host, "X-Amz-Date": timestamp}
    if credentials.session_token:
        sent["X-Amz-Security-Token"] = credentials.session_token
    sent["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return sent
