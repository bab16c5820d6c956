"""An AWS-style key pair: an access key id (public, names the key) and a secret access key (never shown)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

_FORBIDDEN_IN_KEY_ID = frozenset("/,=" + string.whitespace)
_KEY_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.access_key_id or any(c in _FORBIDDEN_IN_KEY_ID for c in self.access_key_id):
            raise ValueError(f"access key id {self.access_key_id!r} must be non-empty, without spaces, '/', ',' or '='")
        if not self.secret_access_key:
            raise ValueError("the secret access key must not be empty")

    @classmethod
    def generate(cls, prefix: str = "LH") -> Credentials:
        """A random key pair (20-character key id like AWS's, 40-character secret)."""
        key_id = prefix + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(20 - len(prefix)))
        return cls(key_id, secrets.token_urlsafe(30))


PLACEHOLDER = Credentials("lambdahost", "lambdahost")
"""What functions get while authentication is off: any key pair is accepted then."""
