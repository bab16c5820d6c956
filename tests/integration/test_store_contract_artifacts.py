"""The ``Store`` contract for artifacts: an invocation's output files stored in one call and read back exactly
(listing without bytes, ordered by name byte-wise; a file of the same name replaced), input files keyed by their
SHA-256 (storing them again only extends the expiry), and the retention sweep deleting both kinds past
``expires_at``. Every test runs against SQLite (a real file), PostgreSQL (a fresh database) and the fake."""

from __future__ import annotations

import hashlib

from lambdahost.core.artifacts import ArtifactFile, ArtifactInfo
from lambdahost.storage.base import Store

T0 = 1_700_000_000.123456
BLOB = bytes(range(256)) * 41 + b"\x00end"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_output_files_are_stored_listed_by_name_and_read_back_exactly(any_store: Store) -> None:
    files = [ArtifactFile("report.xlsx", BLOB), ArtifactFile("plots/a.svg", b"<svg/>"), ArtifactFile("B.txt", b"")]
    stored = any_store.put_artifacts("inv-1", files, T0, T0 + 60)
    expected = [
        ArtifactInfo("inv-1", "B.txt", 0, sha(b""), T0, T0 + 60),
        ArtifactInfo("inv-1", "plots/a.svg", 6, sha(b"<svg/>"), T0, T0 + 60),
        ArtifactInfo("inv-1", "report.xlsx", len(BLOB), sha(BLOB), T0, T0 + 60),
    ]
    assert stored == expected
    assert any_store.list_artifacts("inv-1") == expected
    assert any_store.get_artifact("inv-1", "report.xlsx") == (expected[2], BLOB)
    assert any_store.get_artifact("inv-1", "B.txt") == (expected[0], b"")
    assert any_store.get_artifact("inv-1", "missing") is None
    assert any_store.get_artifact("inv-2", "report.xlsx") is None
    assert any_store.list_artifacts("inv-2") == []
    assert any_store.put_artifacts("inv-3", [], T0, T0 + 60) == []


def test_a_file_of_the_same_name_replaces_the_old_one(any_store: Store) -> None:
    any_store.put_artifacts("inv-1", [ArtifactFile("out.json", b"first")], T0, T0 + 60)
    any_store.put_artifacts("inv-1", [ArtifactFile("out.json", b"second!")], T0 + 1, T0 + 61)
    found = any_store.get_artifact("inv-1", "out.json")
    assert found == (ArtifactInfo("inv-1", "out.json", 7, sha(b"second!"), T0 + 1, T0 + 61), b"second!")
    assert len(any_store.list_artifacts("inv-1")) == 1


def test_input_files_are_keyed_by_hash_and_storing_again_extends_the_expiry(any_store: Store) -> None:
    digest = sha(BLOB)
    any_store.put_input_artifact(digest, BLOB, T0, T0 + 10)
    any_store.put_input_artifact(digest, BLOB, T0 + 5, T0 + 100)
    any_store.put_input_artifact(digest, BLOB, T0 + 6, T0 + 20)  # an earlier expiry never shortens it
    assert any_store.get_input_artifact(digest) == BLOB
    assert any_store.get_input_artifact(sha(b"other")) is None
    assert any_store.delete_expired_artifacts(T0 + 50) == 0
    assert any_store.get_input_artifact(digest) == BLOB
    assert any_store.delete_expired_artifacts(T0 + 100) == 1
    assert any_store.get_input_artifact(digest) is None


def test_the_sweep_deletes_only_expired_artifacts(any_store: Store) -> None:
    any_store.put_artifacts("old", [ArtifactFile("a", b"1"), ArtifactFile("b", b"2")], T0, T0 + 10)
    any_store.put_artifacts("new", [ArtifactFile("a", b"3")], T0 + 5, T0 + 30)
    any_store.put_input_artifact(sha(b"in"), b"in", T0, T0 + 10)
    assert any_store.delete_expired_artifacts(T0 + 9.9) == 0
    assert any_store.delete_expired_artifacts(T0 + 10) == 3
    assert any_store.list_artifacts("old") == []
    assert [a.name for a in any_store.list_artifacts("new")] == ["a"]
    assert any_store.get_input_artifact(sha(b"in")) is None
