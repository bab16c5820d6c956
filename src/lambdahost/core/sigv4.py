"""AWS Signature Version 4 in the ``Authorization`` header (``AWS4-HMAC-SHA256``): pure functions, no I/O.

Written against the AWS specification ("Create a signed AWS API request") and checked against botocore's own
signer in ``tests/unit/test_sigv4.py``:

- canonical request: method, canonical URI (the path as sent, dot segments and repeated slashes removed, then
  URI-encoded once more, so ``arn%3Aaws`` is signed as ``arn%253Aaws``), canonical query string (every name and
  value decoded, re-encoded with only ``A-Za-z0-9-_.~`` left as is, sorted), the headers named in
  ``SignedHeaders`` (lower-case names, values trimmed, repeated headers joined with commas), the
  ``SignedHeaders`` list and the payload hash (``x-amz-content-sha256`` when sent, else the body's SHA-256);
- string to sign: algorithm, ``X-Amz-Date`` timestamp, credential scope ``date/region/service/aws4_request``,
  SHA-256 of the canonical request;
- signing key: ``HMAC("AWS4" + secret, date) -> region -> service -> "aws4_request"``.

``sign`` is the client side; ``Verifier`` the server side, in two steps so a server rejects a request by its
headers alone before it reads the body: ``Verifier.check(request)`` (algorithm, scope, clock skew, known key)
returns a ``PendingSignature`` whose ``verify(body)`` compares the signature in constant time.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_to_bytes

from lambdahost.core.credentials import Credentials
from lambdahost.core.errors import IncompleteSignature, InvalidSignature, MissingAuthenticationToken, UnrecognizedClient
from lambdahost.core.ids import Clock, wall_clock

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW_S = 15 * 60
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details."
)
INVALID_KEY = "The security token included in the request is invalid."

_TIMESTAMP_RE = re.compile(r"^\d{8}T\d{6}Z$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_REQUIRED_PARAMETERS = ("Credential", "Signature", "SignedHeaders")


@dataclass(frozen=True)
class HttpRequest:
    """What a signature covers. ``path`` and ``query`` are exactly as sent (percent-encoded, no ``?``);
    ``headers`` keep their order and repeats, names in any case."""

    method: str
    path: str
    query: str = ""
    headers: Sequence[tuple[str, str]] = ()

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower case), or None."""
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


# -- canonical request -----------------------------------------------------------------------------------
def remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal, with empty segments (repeated slashes) dropped as AWS requires."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and kept else ""
    return first + "/".join(kept) + last


def canonical_uri(path: str) -> str:
    """The path as sent, normalised and URI-encoded (again): every service but S3 double-encodes."""
    return quote(remove_dot_segments(path) or "/", safe="/~", errors="surrogateescape")


def _uri_encode(component: str) -> str:
    return quote(unquote_to_bytes(component), safe="-_.~")


def canonical_query(query: str) -> str:
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((_uri_encode(name), _uri_encode(value)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_headers(headers: Sequence[tuple[str, str]], signed_headers: Sequence[str]) -> str:
    """One ``name:value`` line per signed header (values trimmed, repeats joined with commas)."""
    lines = []
    for name in signed_headers:
        values = (" ".join(value.split()) for key, value in headers if key.lower() == name)
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)


def payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256


def canonical_request(request: HttpRequest, signed_headers: Sequence[str], payload: str) -> str:
    return "\n".join(
        (
            request.method.upper(),
            canonical_uri(request.path),
            canonical_query(request.query),
            canonical_headers(request.headers, signed_headers),
            ";".join(signed_headers),
            payload,
        )
    )


# -- string to sign, key, signature ----------------------------------------------------------------------
def credential_scope(date: str, region: str, service: str) -> str:
    return f"{date}/{region}/{service}/{TERMINATOR}"


def string_to_sign(timestamp: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret_access_key).encode("utf-8"), date)
    for part in (region, service, TERMINATOR):
        key = _hmac(key, part)
    return key


def signature(key: bytes, to_sign: str) -> str:
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def format_timestamp(epoch: float) -> str:
    return time.strftime(TIMESTAMP_FORMAT, time.gmtime(int(epoch)))


# -- client side -----------------------------------------------------------------------------------------
def sign(
    request: HttpRequest, credentials: Credentials, region: str, service: str, now: float, body: bytes = b""
) -> tuple[tuple[str, str], tuple[str, str]]:
    """The ``X-Amz-Date`` and ``Authorization`` headers to add to ``request``. Every header of ``request`` is
    signed, so it must hold the ``Host`` header that will be sent (and no ``X-Amz-Date`` of its own)."""
    timestamp = format_timestamp(now)
    headers = [*request.headers, ("X-Amz-Date", timestamp)]
    signed = sorted({name.lower() for name, _ in headers})
    payload = request.header("x-amz-content-sha256") or payload_hash(body)
    canonical = canonical_request(replace(request, headers=headers), signed, payload)
    scope = credential_scope(timestamp[:8], region, service)
    key = signing_key(credentials.secret_access_key, timestamp[:8], region, service)
    value = signature(key, string_to_sign(timestamp, scope, canonical))
    authorization = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={value}"
    )
    return ("X-Amz-Date", timestamp), ("Authorization", authorization)


# -- server side -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Authorization:
    """A parsed ``Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


def parse_authorization(value: str) -> Authorization:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignature(
            f"Unsupported Authorization algorithm '{algorithm}': lambdahost accepts AWS Signature Version 4 "
            f"({ALGORITHM}) in the Authorization header. Authorization={value}"
        )
    parameters: dict[str, str] = {}
    for piece in rest.split(","):
        part = piece.strip()
        if not part:
            continue
        name, sep, content = part.partition("=")
        if not sep:
            raise IncompleteSignature(
                f"'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{value}'."
            )
        parameters[name.strip()] = content.strip()
    missing = [name for name in _REQUIRED_PARAMETERS if not parameters.get(name)]
    if missing:
        problems = " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
        raise IncompleteSignature(f"{problems} Authorization={value}")
    credential = parameters["Credential"].split("/")
    if len(credential) != 5 or not all(credential):
        raise IncompleteSignature(
            f"Credential '{parameters['Credential']}' is not ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/{TERMINATOR}. "
            f"Authorization={value}"
        )
    key_id, date, region, service, terminator = credential
    return Authorization(
        access_key_id=key_id,
        date=date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=tuple(name.strip().lower() for name in parameters["SignedHeaders"].split(";")),
        signature=parameters["Signature"],
    )


def request_timestamp(request: HttpRequest, authorization: str) -> str:
    """The request's time as ``YYYYMMDDTHHMMSSZ``: ``X-Amz-Date``, else the ``Date`` header."""
    amz_date = request.header("x-amz-date")
    if amz_date is not None:
        if not _TIMESTAMP_RE.match(amz_date):
            raise IncompleteSignature(
                f"X-Amz-Date must be in ISO-8601 basic format (YYYYMMDDTHHMMSSZ); got '{amz_date}'."
            )
        return amz_date
    date = request.header("date")
    if date is None:
        raise IncompleteSignature(
            f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            f"Authorization={authorization}"
        )
    try:
        parsed = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise IncompleteSignature(f"The Date header must be an HTTP date; got '{date}'.") from None
    return format_timestamp(parsed.timestamp())


def _epoch(timestamp: str) -> int:
    try:
        return calendar.timegm(time.strptime(timestamp, TIMESTAMP_FORMAT))
    except ValueError:
        raise IncompleteSignature(f"X-Amz-Date is not a valid date: '{timestamp}'.") from None


@dataclass(frozen=True)
class PendingSignature:
    """A request whose headers passed every check; only the signature over the payload is left."""

    request: HttpRequest
    authorization: Authorization
    timestamp: str
    key: bytes
    declared_payload: str | None  # the x-amz-content-sha256 header, when sent

    @property
    def needs_body(self) -> bool:
        return self.declared_payload != UNSIGNED_PAYLOAD

    def verify(self, body: bytes = b"") -> str:
        """Check the signature (and the declared payload hash against ``body``); returns the access key id."""
        payload = self.declared_payload
        if payload is None:
            payload = payload_hash(body)
        elif payload != UNSIGNED_PAYLOAD and not hmac.compare_digest(payload, payload_hash(body)):
            raise InvalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
        auth = self.authorization
        canonical = canonical_request(self.request, auth.signed_headers, payload)
        expected = signature(self.key, string_to_sign(self.timestamp, auth.scope, canonical))
        if not hmac.compare_digest(expected.encode(), auth.signature.encode("utf-8", "replace")):
            raise InvalidSignature(SIGNATURE_MISMATCH)
        return auth.access_key_id


class Verifier:
    """Checks Signature Version 4 requests signed with one of ``keys`` for ``service`` or one of
    ``other_services`` (any region)."""

    def __init__(
        self,
        keys: Iterable[Credentials],
        service: str = "lambda",
        clock: Clock = wall_clock,
        other_services: Iterable[str] = (),
    ) -> None:
        self._secrets = {key.access_key_id: key.secret_access_key for key in keys}
        if not self._secrets:
            raise ValueError("a Verifier needs at least one key pair")
        self.service = service
        self.services = frozenset((service, *other_services))
        self.clock = clock
        self._keys: dict[tuple[str, str, str, str], bytes] = {}  # signing keys by (key id, date, region, service)

    def check(self, request: HttpRequest) -> PendingSignature:
        """Everything but the signature itself: raises the AWS error for a missing, malformed, mis-scoped,
        expired or unknown-key request."""
        header = request.header("authorization")
        if header is None:
            raise MissingAuthenticationToken("Missing Authentication Token")
        auth = parse_authorization(header)
        timestamp = request_timestamp(request, header)
        self._check_scope(auth, timestamp)
        self._check_clock(timestamp)
        secret = self._secrets.get(auth.access_key_id)
        if secret is None:
            raise UnrecognizedClient(INVALID_KEY)
        if "host" not in auth.signed_headers:
            raise IncompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        declared = request.header("x-amz-content-sha256")
        if declared is not None and declared != UNSIGNED_PAYLOAD and not _SHA256_RE.match(declared):
            raise InvalidSignature(
                f"x-amz-content-sha256 must be the hex SHA-256 of the body or {UNSIGNED_PAYLOAD}; got '{declared}'."
            )
        return PendingSignature(request, auth, timestamp, self._signing_key(auth, secret), declared)

    def verify(self, request: HttpRequest, body: bytes = b"") -> str:
        """``check`` and ``verify`` in one call; returns the access key id."""
        return self.check(request).verify(body)

    def _check_scope(self, auth: Authorization, timestamp: str) -> None:
        if auth.terminator != TERMINATOR:
            raise InvalidSignature(
                f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{auth.terminator}'."
            )
        if auth.service not in self.services:
            raise InvalidSignature(f"Credential should be scoped to correct service: '{self.service}'.")
        if auth.date != timestamp[:8]:
            raise InvalidSignature(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{auth.date}' != '{timestamp[:8]}', from '{timestamp}'."
            )

    def _check_clock(self, timestamp: str) -> None:
        now = int(self.clock())
        at = _epoch(timestamp)
        if at < now - MAX_SKEW_S:
            raise InvalidSignature(
                f"Signature expired: {timestamp} is now earlier than {format_timestamp(now - MAX_SKEW_S)} "
                f"({format_timestamp(now)} - 15 min.)"
            )
        if at > now + MAX_SKEW_S:
            raise InvalidSignature(
                f"Signature not yet current: {timestamp} is still later than {format_timestamp(now + MAX_SKEW_S)} "
                f"({format_timestamp(now)} + 15 min.)"
            )

    def _signing_key(self, auth: Authorization, secret: str) -> bytes:
        cache_key = (auth.access_key_id, auth.date, auth.region, auth.service)
        key = self._keys.get(cache_key)
        if key is None:
            if len(self._keys) >= 256:
                self._keys.clear()
            key = self._keys[cache_key] = signing_key(secret, auth.date, auth.region, auth.service)
        return key
