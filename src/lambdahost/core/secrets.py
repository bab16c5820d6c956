"""Secrets as the domain sees them: names, the ``{{secret.NAME}}`` reference syntax, the stored record and masking.

A secret is a named value kept encrypted in the store (``engine/secrets.py`` encrypts and decrypts). A function's
environment variable values may reference secrets as ``{{secret.NAME}}`` (alone or inside a longer value, with
optional spaces inside the braces: ``{{ secret.NAME }}``); the stored configuration keeps the text, and the value is
put in only when an environment is built. Anything that looks like a reference but names no valid secret name is
an error, never left as it is or rendered empty (``references``).

``Masker`` replaces the values a function was given by ``***`` in what the platform keeps and returns of its runs
(log, result, error). All pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lambdahost.core.errors import InvalidParameterValue

NAME_PATTERN = "[A-Za-z0-9_.-]{1,128}"
NAME_RE = re.compile(f"^{NAME_PATTERN}$")
MAX_VALUE_BYTES = 65536  # as AWS Secrets Manager's SecretString
MASK = "***"
# Anything of the form {{ secret.<something> }}: the something is checked against NAME_RE, so a typo is an error.
_REFERENCE_RE = re.compile(r"\{\{\s*secret\.([^{}]*?)\s*\}\}")
_MISSPELT_RE = re.compile(r"\{\{\s*(secrets|Secret|SECRET)\.", re.ASCII)  # {{secrets.X}}: refused, not left as text
_OPENING = "{{"


def validate_name(name: object) -> str:
    """A secret's name: 1 to 128 of ``A-Z a-z 0-9 _ . -``."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidParameterValue(
            f"Invalid secret name {name!r}: a name is 1 to 128 characters from A-Z, a-z, 0-9, '_', '.' and '-'."
        )
    return name


def validate_value(value: object) -> str:
    """A secret's value: a non-empty string of at most 64 KiB (UTF-8). The message never shows the value."""
    if not isinstance(value, str):
        raise InvalidParameterValue("A secret's Value must be a string.")
    if not value:
        raise InvalidParameterValue("A secret's Value must not be empty.")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_VALUE_BYTES:
        raise InvalidParameterValue(f"A secret's Value must be at most {MAX_VALUE_BYTES} bytes (UTF-8).")
    return value


def reference(name: str) -> str:
    """How a reference to ``name`` is written: ``{{secret.NAME}}``."""
    return "{{secret." + name + "}}"


def references(text: str) -> list[str]:
    """The secret names ``text`` references, in order of appearance (repeats kept); a reference whose name is not a
    valid secret name is an ``InvalidParameterValue``."""
    if _OPENING not in text:  # the usual case: one substring search
        return []
    misspelt = _MISSPELT_RE.search(text)
    if misspelt is not None:
        raise InvalidParameterValue(
            f"Invalid secret reference starting {misspelt.group(0)!r}: write {{{{secret.NAME}}}} (lower case, "
            "singular)."
        )
    names: list[str] = []
    for match in _REFERENCE_RE.finditer(text):
        name = match.group(1)
        if not NAME_RE.match(name):
            raise InvalidParameterValue(
                f"Invalid secret reference {match.group(0)!r}: write {{{{secret.NAME}}}} where NAME is 1 to 128 "
                "characters from A-Z, a-z, 0-9, '_', '.' and '-'."
            )
        names.append(name)
    return names


def mentioned(text: str) -> set[str]:
    """The names in ``text``'s references, checked or not (never raises: for bookkeeping, not validation)."""
    return set(_REFERENCE_RE.findall(text)) if _OPENING in text else set()


def substitute(text: str, value_of: Callable[[str], str]) -> str:
    """``text`` with every reference replaced by ``value_of(name)`` (which raises for an unknown name)."""
    if _OPENING not in text:
        return text
    references(text)  # malformed references are errors, not text
    return _REFERENCE_RE.sub(lambda match: value_of(match.group(1)), text)


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """A stored secret: the AES-GCM ciphertext (with its tag) of the value and the nonce it was sealed with; never
    the value."""

    name: str
    ciphertext: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    created_at: float
    updated_at: float


def _forms(value: str) -> set[str]:
    """The ways a value shows up in output: as it is, and escaped inside a JSON string (both of ``json.dumps``'s
    ``ensure_ascii`` settings), which is how it appears in a result or an error payload."""
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


@dataclass(frozen=True, eq=True)
class Masker:
    """Replaces secret values by ``***``; longer values first, so a value that contains another is masked whole.
    Its ``repr`` shows only how many values it masks."""

    texts: tuple[str, ...] = field(repr=False)
    raw: tuple[bytes, ...] = field(repr=False)

    @classmethod
    def of(cls, values: Iterable[str]) -> Masker | None:
        """A masker of ``values`` (empty ones ignored), or None when there is nothing to mask."""
        forms = {form for value in values if value for form in _forms(value) if form}
        if not forms:
            return None
        texts = tuple(sorted(forms, key=lambda form: (-len(form), form)))
        raw = tuple(sorted({t.encode("utf-8", "surrogatepass") for t in texts}, key=lambda b: (-len(b), b)))
        return cls(texts, raw)

    @staticmethod
    def union(first: Masker | None, second: Masker | None) -> Masker:
        """One masker of both (at least one given)."""
        if first is None or second is None:
            either = first or second
            assert either is not None
            return either
        texts = tuple(sorted(set(first.texts) | set(second.texts), key=lambda form: (-len(form), form)))
        raw = tuple(sorted(set(first.raw) | set(second.raw), key=lambda b: (-len(b), b)))
        return Masker(texts, raw)

    def __repr__(self) -> str:
        return f"Masker({len(self.texts)} forms)"

    def mask_text(self, text: str) -> str:
        for needle in self.texts:
            if needle in text:
                text = text.replace(needle, MASK)
        return text

    def mask_bytes(self, data: bytes) -> bytes:
        for needle in self.raw:
            if needle in data:
                data = data.replace(needle, MASK.encode())
        return data

    def mask_error(self, error: dict[str, Any] | None) -> dict[str, Any] | None:
        """An AWS error payload (``errorMessage``, ``stackTrace``...) with the values masked in its strings."""
        if error is None:
            return None
        return {key: self._masked(value) for key, value in error.items()}

    def _masked(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.mask_text(value)
        if isinstance(value, list):
            return [self._masked(item) for item in value]
        if isinstance(value, dict):
            return {key: self._masked(item) for key, item in value.items()}
        return value
