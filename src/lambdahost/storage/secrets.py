"""The storage port of secrets, which ``Store`` inherits.

A row holds a secret's name, the AES-GCM ciphertext of its value, the nonce it was sealed with and its creation
and update times; never the value (``engine/secrets.py`` encrypts before anything reaches the store). Implemented
once for SQL (``secrets_sql.SecretSqlStore``, SQLite and PostgreSQL) and once for the in-memory fake
(``secrets_memory``); one contract suite (``tests/integration/test_store_contract_secrets.py``) covers all three.
"""

from __future__ import annotations

import abc

from lambdahost.core.secrets import SecretRecord


class SecretStore(abc.ABC):
    """Durable encrypted secrets."""

    @abc.abstractmethod
    def put_secret(self, name: str, ciphertext: bytes, nonce: bytes, now: float) -> SecretRecord:
        """Insert, or replace the ciphertext and nonce of an existing one (keeping its creation time); the stored
        record. Racing writers of one name: the last to commit wins, whole."""

    @abc.abstractmethod
    def get_secret(self, name: str) -> SecretRecord | None: ...

    @abc.abstractmethod
    def list_secrets(self) -> list[SecretRecord]:
        """Every secret, ordered by name (byte-wise)."""

    @abc.abstractmethod
    def delete_secret(self, name: str) -> bool:
        """Delete; True if it existed."""
