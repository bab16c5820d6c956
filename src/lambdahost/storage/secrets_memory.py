"""The in-memory fake of ``SecretStore`` (a mixin of ``InMemoryStore``), with the SQL stores' semantics: an upsert
that keeps the creation time, and the same listing order."""

from __future__ import annotations

import threading

from lambdahost.core.secrets import SecretRecord
from lambdahost.storage.secrets_sql import secret_order


class SecretMemoryStore:
    _lock: threading.Lock

    def _init_secrets(self) -> None:
        self._secrets: dict[str, SecretRecord] = {}

    def put_secret(self, name: str, ciphertext: bytes, nonce: bytes, now: float) -> SecretRecord:
        with self._lock:
            current = self._secrets.get(name)
            created = now if current is None else current.created_at
            record = SecretRecord(name, ciphertext, nonce, created, now)
            self._secrets[name] = record
            return record

    def get_secret(self, name: str) -> SecretRecord | None:
        with self._lock:
            return self._secrets.get(name)

    def list_secrets(self) -> list[SecretRecord]:
        with self._lock:
            found = list(self._secrets.values())
        return sorted(found, key=secret_order)

    def delete_secret(self, name: str) -> bool:
        with self._lock:
            return self._secrets.pop(name, None) is not None
