"""The ``Store`` contract for secrets: put (insert, then replace keeping the creation time), get, list (by name,
byte-wise), delete, and racing writers of one name (one whole record wins). Rows hold what they were given, bytes
exactly. Every test runs against SQLite (a real file), PostgreSQL (a fresh database) and the in-memory fake."""

from __future__ import annotations

import threading

from lambdahost.core.secrets import SecretRecord
from lambdahost.storage.base import Store

T0 = 1_700_000_000.123456  # needs every digit of a double: stored and read back exactly
NONCE = bytes(range(12))
SEALED = bytes(range(256)) + b"\x00tag"


def test_put_inserts_and_get_reads_back_exactly(any_store: Store) -> None:
    stored = any_store.put_secret("api-token", SEALED, NONCE, T0)
    assert stored == SecretRecord("api-token", SEALED, NONCE, T0, T0)
    assert any_store.get_secret("api-token") == stored
    assert any_store.get_secret("other") is None


def test_put_again_replaces_value_and_nonce_but_keeps_the_creation_time(any_store: Store) -> None:
    any_store.put_secret("s", SEALED, NONCE, T0)
    replaced = any_store.put_secret("s", b"new-sealed", b"n" * 12, T0 + 5)
    assert replaced == SecretRecord("s", b"new-sealed", b"n" * 12, T0, T0 + 5)
    assert any_store.get_secret("s") == replaced
    assert len(any_store.list_secrets()) == 1


def test_list_is_ordered_by_name_bytewise(any_store: Store) -> None:
    for name in ("b", "B", "a.b", "a-b", "a_b", "Z"):
        any_store.put_secret(name, SEALED, NONCE, T0)
    assert [s.name for s in any_store.list_secrets()] == ["B", "Z", "a-b", "a.b", "a_b", "b"]


def test_delete(any_store: Store) -> None:
    any_store.put_secret("gone", SEALED, NONCE, T0)
    assert any_store.delete_secret("gone") is True
    assert any_store.delete_secret("gone") is False
    assert any_store.get_secret("gone") is None and any_store.list_secrets() == []


def test_racing_writers_of_one_name_leave_one_whole_record(any_store: Store) -> None:
    writers = 6
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for round_ in range(5):
                any_store.put_secret("raced", bytes([n]) * 40, bytes([n]) * 12, T0 + round_)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    record = any_store.get_secret("raced")
    assert record is not None and record.created_at == T0
    writer = record.nonce[0]
    assert record.nonce == bytes([writer]) * 12 and record.ciphertext == bytes([writer]) * 40, "never mixed"
