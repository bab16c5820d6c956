"""Function URLs: the config AWS's ``Create/Get/Update/Delete/ListFunctionUrlConfig(s)`` describe, validated as
AWS's model says, and the CORS answers Lambda gives in front of a function.

Pure. ``url_id`` is the 32 lower-case letters and digits of AWS's ``https://<url-id>.lambda-url.<region>.on.aws/``.

CORS (when the config has ``Cors``), as Lambda does it for function URLs:

- A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered by the platform, not
  the function: 200 with ``Access-Control-Allow-Origin`` (when the origin is allowed), ``-Allow-Methods``,
  ``-Allow-Headers``, ``-Max-Age`` and ``-Allow-Credentials`` from the config.
- Any other request from an allowed origin gets ``Access-Control-Allow-Origin``, ``-Expose-Headers`` and
  ``-Allow-Credentials`` added to the function's response; the function's own ``Access-Control-*`` headers are
  replaced by the config's, as Lambda overrides them.
- An origin matches an ``AllowOrigins`` entry case-insensitively, or ``*`` matches every origin. The allowed origin
  is echoed back, except for ``*`` without ``AllowCredentials``, which answers ``*``.

Without ``Cors`` the platform adds nothing and ``OPTIONS`` reaches the function.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdahost.core.errors import ValidationError
from lambdahost.core.model import LATEST

AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
URL_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
URL_ID_LENGTH = 32
URL_ID_RE = re.compile(r"^[a-z0-9]{32}$")
QUALIFIER_RE = re.compile(r"^(?!\d+$)[0-9a-zA-Z_-]{1,128}$")
CORS_KEYS = ("AllowCredentials", "AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders", "MaxAge")

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class FunctionUrlConfig:
    """A function URL of ``function_name`` (at ``qualifier``: ``$LATEST`` for an unqualified one). ``cors`` holds
    AWS's ``Cors`` object as given (only the keys AWS knows), or None."""

    function_name: str
    url_id: str
    created_at: float
    last_modified: float
    qualifier: str = LATEST
    auth_type: str = "NONE"
    cors: Mapping[str, Any] | None = None
    invoke_mode: str = "BUFFERED"

    def replace(self, **changes: Any) -> FunctionUrlConfig:
        return dataclasses.replace(self, **changes)


def new_url_id() -> str:
    return "".join(secrets.choice(URL_ID_ALPHABET) for _ in range(URL_ID_LENGTH))


def _constraint(value: object, member: str, constraint: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )


def check_qualifier(qualifier: str | None) -> str | None:
    """A function URL's ``Qualifier``: an alias name (not a version number, not ``$LATEST``), or None."""
    if qualifier is None:
        return None
    if not QUALIFIER_RE.match(qualifier):
        raise _constraint(
            qualifier, "qualifier", "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)"
        )
    return qualifier


def check_auth_type(value: object) -> str:
    if value not in AUTH_TYPES:
        raise _constraint(value, "authType", "Member must satisfy enum value set: [NONE, AWS_IAM]")
    return str(value)


def check_invoke_mode(value: object) -> str:
    if value not in INVOKE_MODES:
        raise _constraint(value, "invokeMode", "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]")
    return str(value)


def _strings(value: object, member: str, max_items: int, max_length: int, min_length: int = 0) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _constraint(value, member, "Member must be a list of strings")
    if len(value) > max_items:
        raise _constraint(value, member, f"Member must have length less than or equal to {max_items}")
    for item in value:
        if len(item) > max_length:
            raise _constraint(
                value,
                member,
                f"Member must satisfy constraint: [Member must have length less than or equal to {max_length}]",
            )
        if len(item) < min_length:
            raise _constraint(
                value,
                member,
                f"Member must satisfy constraint: [Member must have length greater than or equal to {min_length}]",
            )
    return list(value)


def check_cors(value: object) -> dict[str, Any] | None:
    """AWS's ``Cors`` object, validated by the model's constraints; None stays None. Unknown keys are dropped (boto3
    refuses them before they are sent)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _constraint(value, "cors", "Member must be an object")
    cors: dict[str, Any] = {}
    credentials = value.get("AllowCredentials")
    if credentials is not None:
        if not isinstance(credentials, bool):
            raise _constraint(credentials, "cors.allowCredentials", "Member must be a boolean")
        cors["AllowCredentials"] = credentials
    for key, member, max_items, max_length, min_length in (
        ("AllowHeaders", "cors.allowHeaders", 100, 1024, 0),
        ("AllowMethods", "cors.allowMethods", 6, 6, 0),
        ("AllowOrigins", "cors.allowOrigins", 100, 253, 1),
        ("ExposeHeaders", "cors.exposeHeaders", 100, 1024, 0),
    ):
        if value.get(key) is not None:
            cors[key] = _strings(value[key], member, max_items, max_length, min_length)
    max_age = value.get("MaxAge")
    if max_age is not None:
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            raise _constraint(max_age, "cors.maxAge", "Member must be an integer")
        if max_age < 0:
            raise _constraint(max_age, "cors.maxAge", "Member must have value greater than or equal to 0")
        if max_age > 86400:
            raise _constraint(max_age, "cors.maxAge", "Member must have value less than or equal to 86400")
        cors["MaxAge"] = max_age
    return cors


def _allowed_origin(cors: Mapping[str, Any], origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` for ``origin``, or None when it is not allowed."""
    if not origin:
        return None
    allowed: Sequence[str] = cors.get("AllowOrigins") or ()
    if any(o.lower() == origin.lower() for o in allowed):
        return origin
    if "*" in allowed:
        return origin if cors.get("AllowCredentials") else "*"
    return None


def is_preflight(method: str, headers: Sequence[tuple[str, str]]) -> bool:
    names = {name.lower() for name, _ in headers}
    return method.upper() == "OPTIONS" and "origin" in names and "access-control-request-method" in names


def preflight_headers(cors: Mapping[str, Any], origin: str | None) -> Headers:
    """The headers of the platform's answer to a preflight request (status 200, no body)."""
    allowed = _allowed_origin(cors, origin)
    if allowed is None:
        return []
    headers: Headers = [("access-control-allow-origin", allowed)]
    if cors.get("AllowMethods"):
        headers.append(("access-control-allow-methods", ",".join(cors["AllowMethods"])))
    if cors.get("AllowHeaders"):
        headers.append(("access-control-allow-headers", ",".join(cors["AllowHeaders"])))
    if cors.get("MaxAge") is not None:
        headers.append(("access-control-max-age", str(cors["MaxAge"])))
    if cors.get("AllowCredentials"):
        headers.append(("access-control-allow-credentials", "true"))
    if allowed != "*":
        headers.append(("vary", "Origin"))
    return headers


def response_headers(cors: Mapping[str, Any], origin: str | None, headers: Headers) -> Headers:
    """A function's response ``headers`` with the config's CORS headers in place of its own."""
    kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
    allowed = _allowed_origin(cors, origin)
    if allowed is None:
        return kept
    kept.append(("access-control-allow-origin", allowed))
    if cors.get("ExposeHeaders"):
        kept.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    if cors.get("AllowCredentials"):
        kept.append(("access-control-allow-credentials", "true"))
    if allowed != "*" and not any(k.lower() == "vary" for k, _ in kept):
        kept.append(("vary", "Origin"))
    return kept
