"""The key that encrypts secrets: 32 random bytes (AES-256), given as base64 text.

Where it comes from, in order: ``Settings.secret_key`` (the CLI fills it from ``LAMBDAHOST_SECRET_KEY``), else the
data directory's ``secret.key`` file, generated on first start with mode 0600. A key file that others may read
(any group or other permission bit) or that does not hold base64 of 32 bytes stops the platform with a clear
error: it is never loosened, replaced or used as it is. Generate a key with ``generate_key_text()``, i.e.
``python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"`` (or ``openssl rand -base64
32``). Every process that shares a store (servers and workers on one PostgreSQL) needs the same key.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import uuid
from pathlib import Path

from lambdahost.core.errors import SecretKeyError

KEY_ENV = "LAMBDAHOST_SECRET_KEY"
KEY_FILE = "secret.key"
KEY_BYTES = 32
_GENERATE_HINT = 'python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'


def generate_key_text() -> str:
    """A new random key as base64 text."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def parse_key(text: str, source: str) -> bytes:
    """The 32 key bytes of base64 ``text``; ``source`` names where it came from in the error."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SecretKeyError(
            f"The secrets key from {source} is not the base64 text of {KEY_BYTES} bytes. Generate one with: "
            f"{_GENERATE_HINT}"
        )
    return key


def load_key(data_dir: Path, configured: str | None) -> bytes:
    """The configured key, else the key file's (created, mode 0600, when there is none)."""
    if configured:
        return parse_key(configured, KEY_ENV)
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        _create(path)
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        info = path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretKeyError(
                f"The secrets key file {path} has mode {stat.S_IMODE(info.st_mode):04o}: others can read it. It "
                f"must be readable by its owner only: chmod 600 {path}"
            )
        text = path.read_text("ascii")
    except UnicodeDecodeError:
        text = ""
    except OSError as exc:
        raise SecretKeyError(f"The secrets key file {path} cannot be read: {exc.strerror}.") from None
    return parse_key(text, f"the key file {path}")


def _create(path: Path) -> None:
    """Write a new key to a private temporary file and link it into place: a racing process either wins or finds
    the complete file, never a partly written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{KEY_FILE}.{uuid.uuid4().hex}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(generate_key_text() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
