"""Confine an environment's writes with Linux Landlock: everything is readable, only the environment's own
temporary directory (plus /dev and /proc) is writable, so the code directory is read-only even to root.

Runs inside the child after fork. Returns False (and changes nothing) where Landlock is unavailable.
"""

from __future__ import annotations

import ctypes
import os
import struct

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_PR_SET_NO_NEW_PRIVS = 38
_RULE_PATH_BENEATH = 1
_CREATE_RULESET_VERSION = 1

_WRITE_FILE = 1 << 1
_REMOVE_DIR = 1 << 4
_REMOVE_FILE = 1 << 5
_MAKE_CHAR = 1 << 6
_MAKE_DIR = 1 << 7
_MAKE_REG = 1 << 8
_MAKE_SOCK = 1 << 9
_MAKE_FIFO = 1 << 10
_MAKE_BLOCK = 1 << 11
_MAKE_SYM = 1 << 12
_REFER = 1 << 13
_TRUNCATE = 1 << 14

_libc: ctypes.CDLL | None = None


def _syscall(*args: int | bytes | None) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    result: int = _libc.syscall(*args)
    return result


def abi_version() -> int:
    """Landlock ABI version of the running kernel, 0 when unsupported."""
    try:
        version = _syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def _write_rights(abi: int) -> int:
    rights = (
        _WRITE_FILE
        | _REMOVE_DIR
        | _REMOVE_FILE
        | _MAKE_CHAR
        | _MAKE_DIR
        | _MAKE_REG
        | _MAKE_SOCK
        | _MAKE_FIFO
        | _MAKE_BLOCK
        | _MAKE_SYM
    )
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def restrict_writes(writable: list[str], write_only_files: tuple[str, ...] = ("/dev", "/proc")) -> bool:
    """Allow creating/removing/writing only beneath ``writable``; allow writing (not creating) existing files
    beneath ``write_only_files`` (``/dev/null``, ``/proc/self/...``). Everything else becomes read-only."""
    abi = abi_version()
    if abi <= 0:
        return False
    handled = _write_rights(abi)
    attr = struct.pack("Q", handled)
    ruleset = _syscall(_SYS_CREATE_RULESET, attr, len(attr), 0)
    if ruleset < 0:
        return False
    try:
        file_rights = _WRITE_FILE | (_TRUNCATE if abi >= 3 else 0)
        rules = [(path, handled) for path in writable] + [(path, file_rights) for path in write_only_files]
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rule = struct.pack("=Qi", rights, fd)
                if _syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, rule, 0) != 0:
                    return False
            finally:
                os.close(fd)
        if _libc is None or _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return _syscall(_SYS_RESTRICT_SELF, ruleset, 0) == 0
    finally:
        os.close(ruleset)
