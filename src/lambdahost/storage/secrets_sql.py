"""``SecretSqlStore``: the secrets part of ``SqlStore`` (a mixin, as ``HttpRouteSqlStore`` is), with its queries and
row mapping, written once for SQLite and PostgreSQL (migration 0013). A put is one upsert on the primary key
(``ON CONFLICT (name) DO UPDATE``, which keeps ``created_at``) and a read of the row in the same transaction."""

from __future__ import annotations

import abc
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from lambdahost.core.secrets import SecretRecord
from lambdahost.storage.rows import Row

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx

SECRET_COLUMNS = ("name", "ciphertext", "nonce", "created_at", "updated_at")

_SECRETS = f"SELECT {', '.join(SECRET_COLUMNS)} FROM secrets"
PUT_SECRET = (
    f"INSERT INTO secrets ({', '.join(SECRET_COLUMNS)}) VALUES (:name, :ciphertext, :nonce, :now, :now) "
    "ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, nonce = excluded.nonce, "
    "updated_at = excluded.updated_at"
)
GET_SECRET = f"{_SECRETS} WHERE name = :name"
LIST_SECRETS = _SECRETS
DELETE_SECRET = "DELETE FROM secrets WHERE name = :name"


def secret_from_row(row: Row) -> SecretRecord:
    return SecretRecord(
        name=row["name"],
        ciphertext=bytes(row["ciphertext"]),
        nonce=bytes(row["nonce"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
    )


def secret_order(record: SecretRecord) -> bytes:
    """The listing order (byte-wise, on every backend)."""
    return record.name.encode()


class SecretSqlStore(abc.ABC):
    """The secret methods of ``Store`` for ``SqlStore``, which provides the transactions."""

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    def put_secret(self, name: str, ciphertext: bytes, nonce: bytes, now: float) -> SecretRecord:
        with self._transaction(write=True) as tx:
            tx.execute(PUT_SECRET, {"name": name, "ciphertext": ciphertext, "nonce": nonce, "now": now})
            row = tx.one(GET_SECRET, {"name": name})
        assert row is not None
        return secret_from_row(row)

    def get_secret(self, name: str) -> SecretRecord | None:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_SECRET, {"name": name})
        return None if row is None else secret_from_row(row)

    def list_secrets(self) -> list[SecretRecord]:
        with self._transaction(write=False) as tx:
            found = tx.all(LIST_SECRETS)
        return sorted((secret_from_row(row) for row in found), key=secret_order)

    def delete_secret(self, name: str) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(DELETE_SECRET, {"name": name}) > 0
