"""Wake-ups across processes sharing one SQLite file: what LISTEN/NOTIFY does for ``PostgresStore``.

Each subscriber binds a Unix datagram socket in the database's wake-up directory (``<database>.wake/`` next to the
file, mode 0700; one socket ``<pid>-<random>.sock`` per subscription, mode 0600, bound under a temporary name and
renamed, so a listed socket is always bound) and a reader thread calls back once per burst of datagrams. After a
commit that queued work, the store sends one byte to every socket there but its own subscriptions' (whose workers
the process wakes directly): non-blocking, over one connected socket per subscriber, so a subscriber that stopped
reading fills only its own queue. The listing is re-read when the directory's modification time changed (one
``stat``), and at least every ``RELIST_S`` (that time is coarse: two changes within a few milliseconds can leave
it the same), so a new subscriber may miss wake-ups for that long at worst (its worker looks at the queue when
it starts, and polls anyway). A socket whose owner died (connection refused) is removed by the first sender that
finds it. A wake-up never blocks or fails the commit: a failure is logged at debug level and the workers find
the work by polling.

SQLite's WAL needs every process of a database on one host, so Unix sockets reach them all. When the directory's
path is too long for a socket address (108 bytes), ``<temp dir>/lambdahost-wake-<hash of the database's real
path>/`` is used instead (processes that disagree on the temp directory then only poll); when that is too long
too, or the directory is not one of this user's, subscribing logs why and returns a no-op.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import secrets
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lambdahost.storage.base import deliver_wakeup

log = logging.getLogger(__name__)

SUFFIX = ".sock"  # the sockets senders look for; ``.new`` while being bound
RELIST_S = 0.1  # the longest a sender's listing of the directory is reused
_MAX_ADDRESS = 107  # bytes of a socket path (``sun_path`` holds 108, its terminating NUL included)
_NAME_ROOM = 32  # "/" + "<pid>-<16 hex digits>.sock", with room to spare
_DEAD = (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTCONN)  # nobody reads that socket any more
_MAX_DATAGRAM = 8192  # a wake-up's text (``lanes_text``) is at most 4,000 characters
_BURST = 256  # datagrams read for one callback at most


def wake_directory(database: Path | str) -> Path | None:
    """Where the subscribers of ``database`` bind their sockets (every process sharing the file computes the same
    place from its real path); None when no candidate fits in a socket address."""
    real = os.path.realpath(database)
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:16]
    for candidate in (real + ".wake", os.path.join(tempfile.gettempdir(), f"lambdahost-wake-{digest}")):
        if len(os.fsencode(candidate)) + _NAME_ROOM <= _MAX_ADDRESS:
            return Path(candidate)
    return None


def _ours(directory: Path) -> bool:
    """Whether ``directory`` is a real directory (not a symbolic link) owned by this user: in a shared temp
    directory another user could have created it first."""
    try:
        found = os.lstat(directory)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(found.st_mode) and found.st_uid == os.geteuid()


def _mtime_ns(directory: Path) -> int:
    try:
        return os.stat(directory).st_mtime_ns
    except FileNotFoundError:
        return 0


def _nothing() -> None:
    pass


class _Subscription:
    """One bound socket and the thread that reads it."""

    def __init__(self, directory: Path, callback: Callable[[str | None, int], None]) -> None:
        directory.mkdir(mode=0o700, exist_ok=True)
        if not _ours(directory):
            raise PermissionError(f"{directory} is not a directory owned by this user")
        self.name = f"{os.getpid()}-{secrets.token_hex(8)}{SUFFIX}"
        self.path = directory / self.name
        staging = self.path.with_suffix(".new")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._sock.bind(os.fspath(staging))
            os.chmod(staging, 0o600)
            os.rename(staging, self.path)
        except BaseException:
            self._sock.close()
            with contextlib.suppress(OSError):
                os.unlink(staging)
            raise
        self._callback = callback
        self._closed = False
        self._thread = threading.Thread(target=self._read, name="sqlite-wake", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            texts: list[str] = []
            try:
                texts.append(self._sock.recv(_MAX_DATAGRAM).decode("utf-8", "replace"))
                for _ in range(_BURST):  # the rest of a burst: one callback per lane for all of it
                    if self._closed:
                        break
                    texts.append(self._sock.recv(_MAX_DATAGRAM, socket.MSG_DONTWAIT).decode("utf-8", "replace"))
            except BlockingIOError:
                pass
            except OSError:
                return
            if self._closed:  # shut down by close()
                return
            try:
                deliver_wakeup(self._callback, texts)
            except Exception:
                log.exception("wake-up callback failed", extra={"action": "wakeup_error"})

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RD)  # ends the blocking recv
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        self._sock.close()


class Wakeups:
    """The subscriptions of one store and its sending side, for the database whose wake-up directory is
    ``directory`` (None: wake-ups off, only polling)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._lock = threading.Lock()  # the listing and the peers' sockets (sends are serialized)
        self._subscriptions: dict[str, _Subscription] = {}
        self._peers: dict[str, socket.socket] = {}  # socket name -> a socket connected to it
        self._listed_at = -RELIST_S
        self._listed_mtime = 0  # the directory's modification time (ns) when it was listed; 0: missing
        self._closed = False

    def subscribe(self, callback: Callable[[str | None, int], None]) -> Callable[[], None]:
        """Call ``callback`` (on a reader thread) whenever another store queues work in the database; returns the
        function that stops it and removes the socket."""
        if self.directory is None:
            log.info("no wake-up directory fits a socket address: polling only", extra={"action": "wakeup_off"})
            return _nothing
        try:
            subscription = _Subscription(self.directory, callback)
        except OSError as exc:
            log.warning(
                "cross-process wake-ups unavailable: polling only",
                extra={"action": "wakeup_off", "directory": str(self.directory), "error": str(exc)},
            )
            return _nothing
        with self._lock:
            self._subscriptions[subscription.name] = subscription
            self._listed_at = -RELIST_S  # list again without it before the next send

        def unsubscribe() -> None:
            with self._lock:
                self._subscriptions.pop(subscription.name, None)
            subscription.close()

        return unsubscribe

    def notify(self, lanes: str = "") -> None:
        """Wake every other subscriber of the database, saying in which ``lanes`` (``lanes_text``; "": anywhere);
        never raises, never blocks on a subscriber."""
        if self.directory is None:
            return
        message = lanes.encode()
        try:
            with self._lock:
                if self._closed:
                    return
                now = time.monotonic()
                mtime = _mtime_ns(self.directory)
                if mtime != self._listed_mtime or now - self._listed_at >= RELIST_S:
                    self._relist(self.directory)  # after the stat: a change meanwhile is seen next time
                    self._listed_at, self._listed_mtime = now, mtime
                dead = []
                for name, peer in self._peers.items():
                    try:
                        peer.send(message)
                    except BlockingIOError:
                        pass  # its queue is full: it has wake-ups to read already
                    except OSError as exc:
                        if exc.errno in _DEAD:
                            dead.append(name)
                        else:
                            log.debug("wake-up not sent", extra={"action": "wakeup_error", "error": str(exc)})
                for name in dead:
                    self._remove(self.directory, name)
        except Exception as exc:
            log.debug("wake-ups not sent", extra={"action": "wakeup_error", "error": str(exc)})

    def _relist(self, directory: Path) -> None:
        names: set[str] = set()
        if _ours(directory):
            with os.scandir(directory) as entries:
                names = {entry.name for entry in entries if entry.name.endswith(SUFFIX)}
        names -= self._subscriptions.keys()
        for name in self._peers.keys() - names:
            self._peers.pop(name).close()
        for name in names - self._peers.keys():
            peer = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            peer.setblocking(False)
            try:
                peer.connect(os.fspath(directory / name))
            except OSError as exc:
                peer.close()
                if exc.errno in _DEAD:
                    self._remove(directory, name)
                else:
                    log.debug("wake-up socket unusable", extra={"action": "wakeup_error", "error": str(exc)})
                continue
            self._peers[name] = peer

    def _remove(self, directory: Path, name: str) -> None:
        """Forget a subscriber whose process is gone and delete its socket."""
        peer = self._peers.pop(name, None)
        if peer is not None:
            peer.close()
        with contextlib.suppress(OSError):
            os.unlink(directory / name)
        log.debug("removed a dead wake-up socket", extra={"action": "wakeup_dead", "socket": name})

    def close(self) -> None:
        """Stop every subscription still open and close the senders' sockets."""
        with self._lock:
            self._closed = True
            subscriptions, self._subscriptions = list(self._subscriptions.values()), {}
            peers, self._peers = list(self._peers.values()), {}
        for peer in peers:
            peer.close()
        for subscription in subscriptions:
            subscription.close()
