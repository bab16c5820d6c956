"""``Secrets``: set, list, delete and resolve encrypted secrets.

Values are sealed with AES-256-GCM (``cryptography``'s ``AESGCM``): a random 96-bit nonce per value, and the
secret's name as associated data, so a ciphertext copied to another name does not decrypt. The store keeps only
ciphertext and nonce. A value that does not decrypt was sealed with another key (a node started with a different
``LAMBDAHOST_SECRET_KEY`` or key file): ``SecretKeyMismatch`` names the secret; a wrong value is never returned.

``apply(spec)`` resolves the ``{{secret.NAME}}`` references of an environment spec's variables when
``FunctionService`` builds it: the spec then carries the values, a ``Masker`` of them (the environment masks its
outcomes with it) and a ``secrets_version`` (from the values' nonces, so environments holding older values never
serve a spec of newer ones); a reference to a missing secret leaves the spec ``refused`` with the error instead
(nothing starts from it: the invoker answers the error, the worker fails the invocation).

A change (set, delete) calls ``on_change`` with the names at once; ``refresh`` (``ConfigWatcher``, every
``config_recheck_s``) does the same for changes made by other processes sharing the store, for the secrets this
process resolved. ``FunctionService.secrets_changed`` then drops the cached specs that use them and retires their
environments. Values never appear in errors, logs or responses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lambdahost.core.errors import LambdaHostError, ResourceNotFound, SecretKeyMismatch, SecretNotFound
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.secrets import (
    Masker,
    SecretRecord,
    reference,
    references,
    substitute,
    validate_name,
    validate_value,
)
from lambdahost.runtime.spec import EnvironmentSpec
from lambdahost.storage.secrets import SecretStore

NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """What may be shown of a secret: never its value."""

    name: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Resolved:
    """Text with its references replaced, and the values that went into it (to mask)."""

    text: str
    values: tuple[str, ...]


def _info(record: SecretRecord) -> SecretInfo:
    return SecretInfo(record.name, record.created_at, record.updated_at)


class Secrets:
    def __init__(
        self,
        store: SecretStore,
        key: bytes,
        clock: Clock = wall_clock,
        on_change: Callable[[Collection[str]], object] = lambda names: None,
    ) -> None:
        self._store = store
        self._aead = AESGCM(key)
        self._clock = clock
        self.on_change = on_change
        # name -> nonce of the value this process resolved (None: it was missing), for ``refresh``
        self._seen: dict[str, bytes | None] = {}
        self._lock = threading.Lock()

    # -- managing ----------------------------------------------------------------------------------------------
    def set(self, name: str, value: object) -> tuple[SecretInfo, bool]:
        """Create or replace; the secret's info and True when it was created."""
        validate_name(name)
        plain = validate_value(value).encode("utf-8", "surrogatepass")
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain, name.encode())
        record = self._store.put_secret(name, sealed, nonce, self._clock())
        self._changed(name)
        return _info(record), record.created_at == record.updated_at

    def list(self) -> list[SecretInfo]:
        return [_info(record) for record in self._store.list_secrets()]

    def get(self, name: str) -> SecretInfo:
        record = self._store.get_secret(validate_name(name))
        if record is None:
            raise self._not_found(name)
        return _info(record)

    def delete(self, name: str) -> None:
        if not self._store.delete_secret(validate_name(name)):
            raise self._not_found(name)
        self._changed(name)

    def _not_found(self, name: str) -> ResourceNotFound:
        return ResourceNotFound(f"Secret not found: {name}")

    def _changed(self, name: str) -> None:
        with self._lock:
            self._seen.pop(name, None)
        self.on_change((name,))

    # -- resolving ---------------------------------------------------------------------------------------------
    def _open(self, record: SecretRecord) -> str:
        try:
            plain = self._aead.decrypt(record.nonce, record.ciphertext, record.name.encode())
        except InvalidTag:
            raise SecretKeyMismatch(
                f"The secret {reference(record.name)} cannot be decrypted: it was encrypted with a different key "
                "than this process's. Every server and worker sharing a store needs the same LAMBDAHOST_SECRET_KEY "
                "(or the same secret.key file); set it again with `lambdahost secrets set` if the old key is lost."
            ) from None
        return plain.decode("utf-8", "surrogatepass")

    def _lookup(self, name: str, nonces: dict[str, bytes]) -> str:
        record = self._store.get_secret(name)
        with self._lock:
            self._seen[name] = None if record is None else record.nonce
        if record is None:
            raise SecretNotFound(
                f"The secret {reference(name)} does not exist: the function's configuration references it. Create "
                f"it with `lambdahost secrets set {name}` or change the reference."
            )
        nonces[name] = record.nonce
        return self._open(record)

    def resolve_text(self, text: str) -> Resolved:
        """``text`` with its references replaced by the secrets' values (``SecretNotFound`` for a missing one,
        ``SecretKeyMismatch`` for one sealed with another key). For parameters and overrides as for variables."""
        nonces: dict[str, bytes] = {}
        values: list[str] = []

        def value_of(name: str) -> str:
            value = self._lookup(name, nonces)
            values.append(value)
            return value

        return Resolved(substitute(text, value_of), tuple(values))

    def apply(self, spec: EnvironmentSpec) -> EnvironmentSpec:
        """``spec`` with its variables' references resolved (see the module's docstring); unchanged when it has
        none."""
        try:
            if not any(references(value) for value in spec.env.values()):
                return spec
        except LambdaHostError as exc:  # a malformed reference stored before it was refused on input
            return dataclasses.replace(spec, env={}, refused=exc)
        nonces: dict[str, bytes] = {}
        values: list[str] = []
        env: dict[str, str] = {}

        def value_of(name: str) -> str:
            value = self._lookup(name, nonces)
            values.append(value)
            return value

        try:
            for key, text in spec.env.items():
                env[key] = substitute(text, value_of)
        except LambdaHostError as exc:  # SecretNotFound, SecretKeyMismatch: no environment starts from it
            return dataclasses.replace(spec, env={}, refused=exc)
        version = hashlib.sha256(b"".join(nonces[name] for name in sorted(nonces))).hexdigest()[:16]
        return dataclasses.replace(spec, env=env, masker=Masker.of(values), secrets_version=version)

    def refresh(self) -> int:
        """Tell ``on_change`` about the secrets this process resolved that another process changed, created or
        deleted since; returns how many. Reads the store only when there are such secrets."""
        with self._lock:
            seen = dict(self._seen)
        if not seen:
            return 0
        current = {record.name: record.nonce for record in self._store.list_secrets() if record.name in seen}
        changed = [name for name, nonce in seen.items() if current.get(name) != nonce]
        if changed:
            with self._lock:
                for name in changed:
                    if self._seen.get(name, b"") == seen[name]:
                        self._seen.pop(name, None)
            self.on_change(changed)
        return len(changed)
