"""``ArtifactSqlStore``: the artifacts part of ``SqlStore`` (a mixin, as ``SecretSqlStore`` is), with its queries and
row mapping, written once for SQLite and PostgreSQL (migration 0014). Listings never read the bytes."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from lambdahost.core.artifacts import ArtifactFile, ArtifactInfo
from lambdahost.storage.rows import Row

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx

_INFO = "invocation_id, name, size, sha256, created_at, expires_at"
PUT_ARTIFACT = (
    "INSERT INTO artifacts (invocation_id, name, size, sha256, content, created_at, expires_at) "
    "VALUES (:invocation_id, :name, :size, :sha256, :content, :now, :expires_at) "
    "ON CONFLICT (invocation_id, name) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, "
    "content = excluded.content, created_at = excluded.created_at, expires_at = excluded.expires_at"
)
LIST_ARTIFACTS = f"SELECT {_INFO} FROM artifacts WHERE invocation_id = :invocation_id"
GET_ARTIFACT = f"SELECT {_INFO}, content FROM artifacts WHERE invocation_id = :invocation_id AND name = :name"
PUT_INPUT = (
    "INSERT INTO input_artifacts (sha256, size, content, created_at, expires_at) "
    "VALUES (:sha256, :size, :content, :now, :expires_at) "
    "ON CONFLICT (sha256) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE input_artifacts.expires_at < excluded.expires_at"
)
GET_INPUT = "SELECT content FROM input_artifacts WHERE sha256 = :sha256"
DELETE_EXPIRED = "DELETE FROM artifacts WHERE expires_at <= :now"
DELETE_EXPIRED_INPUTS = "DELETE FROM input_artifacts WHERE expires_at <= :now"


def artifact_from_row(row: Row) -> ArtifactInfo:
    return ArtifactInfo(
        invocation_id=row["invocation_id"],
        name=row["name"],
        size=int(row["size"]),
        sha256=row["sha256"],
        created_at=float(row["created_at"]),
        expires_at=float(row["expires_at"]),
    )


def artifact_order(info: ArtifactInfo) -> bytes:
    """The listing order (byte-wise, on every backend)."""
    return info.name.encode()


def artifact_info(invocation_id: str, file: ArtifactFile, now: float, expires_at: float) -> ArtifactInfo:
    digest = hashlib.sha256(file.content).hexdigest()
    return ArtifactInfo(invocation_id, file.name, len(file.content), digest, now, expires_at)


class ArtifactSqlStore(abc.ABC):
    """The artifact methods of ``Store`` for ``SqlStore``, which provides the transactions."""

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    def put_artifacts(
        self, invocation_id: str, files: Sequence[ArtifactFile], now: float, expires_at: float
    ) -> list[ArtifactInfo]:
        infos = [artifact_info(invocation_id, file, now, expires_at) for file in files]
        if not infos:
            return []
        params = [
            {
                "invocation_id": invocation_id,
                "name": info.name,
                "size": info.size,
                "sha256": info.sha256,
                "content": file.content,
                "now": now,
                "expires_at": expires_at,
            }
            for info, file in zip(infos, files, strict=True)
        ]
        with self._transaction(write=True) as tx:
            tx.executemany(PUT_ARTIFACT, params)
        return sorted(infos, key=artifact_order)

    def list_artifacts(self, invocation_id: str) -> list[ArtifactInfo]:
        with self._transaction(write=False) as tx:
            found = tx.all(LIST_ARTIFACTS, {"invocation_id": invocation_id})
        return sorted((artifact_from_row(row) for row in found), key=artifact_order)

    def get_artifact(self, invocation_id: str, name: str) -> tuple[ArtifactInfo, bytes] | None:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_ARTIFACT, {"invocation_id": invocation_id, "name": name})
        return None if row is None else (artifact_from_row(row), bytes(row["content"]))

    def put_input_artifact(self, sha256: str, content: bytes, now: float, expires_at: float) -> None:
        params = {"sha256": sha256, "size": len(content), "content": content, "now": now, "expires_at": expires_at}
        with self._transaction(write=True) as tx:
            tx.execute(PUT_INPUT, params)

    def get_input_artifact(self, sha256: str) -> bytes | None:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_INPUT, {"sha256": sha256})
        return None if row is None else bytes(row["content"])

    def delete_expired_artifacts(self, now: float) -> int:
        with self._transaction(write=True) as tx:
            return tx.execute(DELETE_EXPIRED, {"now": now}) + tx.execute(DELETE_EXPIRED_INPUTS, {"now": now})
