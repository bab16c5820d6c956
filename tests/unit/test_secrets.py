"""Secrets without I/O beyond a temporary directory: the ``{{secret.NAME}}`` syntax, masking, the key file's rules
(created 0600, refused when others may read it or when malformed), and the ``Secrets`` service over the in-memory
store (AES-GCM: no plaintext stored, a value bound to its name, a wrong key detected)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from lambdahost.core.errors import (
    InvalidParameterValue,
    ResourceNotFound,
    SecretKeyError,
    SecretKeyMismatch,
    SecretNotFound,
)
from lambdahost.core.secrets import (
    Masker,
    mentioned,
    references,
    substitute,
    validate_name,
    validate_value,
)
from lambdahost.engine.secret_key import KEY_FILE, generate_key_text, load_key, parse_key
from lambdahost.engine.secrets import Secrets
from lambdahost.runtime.spec import EnvironmentSpec
from lambdahost.storage.memory import InMemoryStore

KEY = bytes(range(32))


# -- names and references ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a", "API_TOKEN", "db.password", "x-1", "a" * 128])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "a b", "a/b", "é", "a" * 129, None, 7])
def test_invalid_names(name: object) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid secret name"):
        validate_name(name)


def test_values_are_non_empty_bounded_strings_and_errors_never_show_them() -> None:
    assert validate_value("s3cr3t") == "s3cr3t"
    for bad in ("", 5, None, "x" * 65537):
        with pytest.raises(InvalidParameterValue) as caught:
            validate_value(bad)
        assert "x" * 100 not in caught.value.message


def test_references_are_found_in_order_with_optional_spaces() -> None:
    text = "u={{secret.user}} p={{ secret.db.pass }} again={{secret.user}} {{other}} {single}"
    assert references(text) == ["user", "db.pass", "user"]
    assert references("no references at all") == []
    assert mentioned(text) == {"user", "db.pass"} and mentioned("{{secret.bad name}}") == {"bad name"}


@pytest.mark.parametrize(
    "text",
    ["{{secret.bad name}}", "{{secret.}}", "{{ secret.a/b }}", "{{secret.é}}", "{{secrets.token}}", "{{ SECRET.x }}"],
)
def test_a_malformed_reference_is_an_error_not_text(text: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid secret reference"):
        references(text)


def test_substitute_replaces_every_reference() -> None:
    values = {"user": "alice", "db.pass": "p{{secret.user}}w"}  # a value is not resolved again
    text = "u={{secret.user}} p={{ secret.db.pass }}"
    assert substitute(text, values.__getitem__) == "u=alice p=p{{secret.user}}w"
    assert substitute("plain", values.__getitem__) == "plain"
    with pytest.raises(KeyError):
        substitute("{{secret.missing}}", values.__getitem__)


# -- masking ----------------------------------------------------------------------------------------------------
def test_masker_masks_raw_and_json_escaped_forms_longest_first() -> None:
    value = 'p"a\\ss-\u00fc'
    masker = Masker.of([value, "p", ""])
    assert masker is not None
    result = json.dumps({"v": value, "w": value}).encode()
    assert masker.mask_bytes(result).count(b"***") == 2 and b"ss-" not in masker.mask_bytes(result)
    assert masker.mask_text(f"log {value} end") == "log *** end"
    assert masker.mask_bytes(json.dumps(value, ensure_ascii=False).encode()) == b'"***"'
    error = {"errorMessage": f"bad {value}", "stackTrace": [f"  at {value}"], "errorType": "E", "n": 1}
    assert masker.mask_error(error) == {"errorMessage": "bad ***", "stackTrace": ["  at ***"], "errorType": "E", "n": 1}
    assert value not in repr(masker)


def test_nothing_to_mask_is_no_masker() -> None:
    assert Masker.of([]) is None and Masker.of([""]) is None


# -- the key ----------------------------------------------------------------------------------------------------
def test_the_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    key = load_key(tmp_path / "data", None)
    path = tmp_path / "data" / KEY_FILE
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(tmp_path / "data", None) == key, "read back, not replaced"
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE], "no temporary file left"


def test_a_key_file_others_can_read_is_refused_and_left_alone(tmp_path: Path) -> None:
    load_key(tmp_path, None)
    path = tmp_path / KEY_FILE
    before = path.read_bytes()
    os.chmod(path, 0o640)
    with pytest.raises(SecretKeyError, match=r"mode 0640.*chmod 600"):
        load_key(tmp_path, None)
    assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize("content", [b"", b"not base64!!\n", base64.b64encode(b"short") + b"\n", b"\xff\xfe"])
def test_a_malformed_key_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / KEY_FILE
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(SecretKeyError, match="not the base64 text of 32 bytes"):
        load_key(tmp_path, None)


def test_a_configured_key_wins_and_is_checked(tmp_path: Path) -> None:
    text = generate_key_text()
    assert load_key(tmp_path, text) == base64.b64decode(text)
    assert not (tmp_path / KEY_FILE).exists(), "no key file when a key is configured"
    with pytest.raises(SecretKeyError, match="LAMBDAHOST_SECRET_KEY"):
        parse_key("abc", "LAMBDAHOST_SECRET_KEY")


# -- the service ------------------------------------------------------------------------------------------------
def spec(env: dict[str, str]) -> EnvironmentSpec:
    return EnvironmentSpec("fn", "$LATEST", "rev", "app.handler", "/code", 128, 3.0, 512, env=env)


def test_the_store_holds_ciphertext_bound_to_the_name() -> None:
    store = InMemoryStore()
    secrets = Secrets(store, KEY)
    info, created = secrets.set("token", "hunter2-value")
    assert created and info.name == "token"
    record = store.get_secret("token")
    assert record is not None and b"hunter2" not in record.ciphertext and len(record.nonce) == 12
    assert secrets.resolve_text("x={{secret.token}}").text == "x=hunter2-value"
    _, created = secrets.set("token", "hunter2-value")
    again = store.get_secret("token")
    assert not created and again is not None and again.nonce != record.nonce, "a fresh nonce per value"
    store.put_secret("moved", record.ciphertext, record.nonce, 0.0)  # copied to another name: does not open
    with pytest.raises(SecretKeyMismatch, match=r"\{\{secret\.moved\}\}"):
        secrets.resolve_text("{{secret.moved}}")


def test_another_key_is_detected_never_decrypted() -> None:
    store = InMemoryStore()
    Secrets(store, KEY).set("token", "value")
    with pytest.raises(SecretKeyMismatch, match="different key"):
        Secrets(store, bytes(32)).resolve_text("{{secret.token}}")


def test_apply_resolves_masks_versions_and_refuses() -> None:
    store = InMemoryStore()
    changed: list[list[str]] = []
    secrets = Secrets(store, KEY, on_change=lambda names: changed.append(list(names)))
    secrets.set("a", "alpha-value")
    plain = spec({"X": "1"})
    assert secrets.apply(plain) is plain
    resolved = secrets.apply(spec({"X": "{{secret.a}}!", "Y": "y"}))
    assert resolved.env == {"X": "alpha-value!", "Y": "y"} and resolved.masker is not None
    assert resolved.secrets_version and resolved.key != plain.key and "alpha" not in repr(resolved)
    refused = secrets.apply(spec({"X": "{{secret.b}}"}))
    assert isinstance(refused.refused, SecretNotFound) and refused.env == {}
    assert "{{secret.b}}" in refused.refused.message
    malformed = secrets.apply(spec({"X": "{{secrets.a}}"}))  # stored by an older version: refused, not raised
    assert isinstance(malformed.refused, InvalidParameterValue) and malformed.env == {}
    assert changed == [["a"]]
    secrets.set("a", "alpha-2")
    assert secrets.apply(spec({"X": "{{secret.a}}"})).key != resolved.key, "a new value: a new pool key"


def test_refresh_reports_changes_made_elsewhere_only_for_resolved_secrets() -> None:
    store = InMemoryStore()
    changed: list[list[str]] = []
    here = Secrets(store, KEY, on_change=lambda names: changed.append(sorted(names)))
    elsewhere = Secrets(store, KEY)
    elsewhere.set("used", "1")
    elsewhere.set("unused", "1")
    assert here.refresh() == 0
    here.apply(spec({"X": "{{secret.used}}", "Y": "{{secret.later}}"}))
    assert here.refresh() == 0
    elsewhere.set("unused", "2")
    elsewhere.set("later", "now")
    elsewhere.set("used", "2")
    assert here.refresh() == 2 and changed == [["later", "used"]]
    assert here.refresh() == 0


def test_delete_and_get_of_a_missing_secret() -> None:
    secrets = Secrets(InMemoryStore(), KEY)
    with pytest.raises(ResourceNotFound, match="Secret not found: nope"):
        secrets.delete("nope")
    with pytest.raises(ResourceNotFound):
        secrets.get("nope")


def test_union_of_maskers_masks_both() -> None:
    first, second = Masker.of(["alpha-1"]), Masker.of(["beta-22"])
    assert first is not None and second is not None
    both = Masker.union(first, second)
    assert both.mask_text("alpha-1 beta-22") == "*** ***"
    assert Masker.union(first, None) is first and Masker.union(None, second) is second
