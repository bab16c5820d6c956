"""CodeStore on a real directory: content addressing, concurrency, fetching, permissions, and that every
rejection leaves nothing behind."""

import hashlib
import os
import stat
import subprocess
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambdahost.code import CodeIntegrityError, CodeNotFound, CodeStore, ZipLimits, zip_folder
from lambdahost.code import store as store_module
from lambdahost.code import unpack as unpack_module
from lambdahost.code.manifest import ZipManifest, read_manifest
from lambdahost.code.testing import make_zip, patch_entry, unix_entry
from lambdahost.core.errors import InvalidParameterValue

MIB = 1024 * 1024
HANDLER = b"def handler(event, context):\n    return event\n"
BOOTSTRAP = b"#!/bin/sh\necho bootstrapped\n"


def code_zip() -> bytes:
    return make_zip(
        [
            ("handler.py", HANDLER),
            (unix_entry("bootstrap", 0o755), BOOTSTRAP),
            ("pkg/", b""),
            ("pkg/util.py", b"X = 1\n"),
            ("data/deep/table.csv", b"a,b\n1,2\n"),
        ]
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def assert_nothing_left(root: Path) -> None:
    """Only the two (empty) top folders may exist after a rejection."""
    assert [path for path in tree(root) if path not in ("code", "packages")] == []


@pytest.fixture
def store(tmp_path: Path) -> CodeStore:
    return CodeStore(tmp_path / "store", clock=lambda: 1000.0)


# --- content addressing ----------------------------------------------------------------------------------


def test_add_keeps_the_zip_and_its_unpacked_tree(store: CodeStore) -> None:
    data = code_zip()
    package = store.add(data)
    assert package.sha256_hex == sha(data)
    assert (package.size, package.entries, package.created_at) == (len(data), 5, 1000.0)
    assert store.zip_path(package.sha256_hex) == store.root / "packages" / f"{sha(data)}.zip"
    assert store.read(package.sha256_hex) == data
    code = store.code_dir(package.sha256_hex)
    assert code == store.root / "code" / sha(data)
    assert tree(code) == [
        "bootstrap",
        "data",
        "data/deep",
        "data/deep/table.csv",
        "handler.py",
        "pkg",
        "pkg/util.py",
    ]
    assert (code / "handler.py").read_bytes() == HANDLER
    assert (code / "data" / "deep" / "table.csv").read_bytes() == b"a,b\n1,2\n"
    assert store.has(package.sha256_hex)


def test_same_bytes_share_one_tree_unpacked_once(store: CodeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    unpacks = count_unpacks(monkeypatch)
    data = code_zip()
    first = store.add(data)
    inode = store.code_dir(first.sha256_hex).stat().st_ino
    second = store.add(data)
    again = CodeStore(store.root).add(data)  # another process's store on the same root
    assert first == second
    assert again.sha256_hex == first.sha256_hex
    assert store.code_dir(first.sha256_hex).stat().st_ino == inode
    assert unpacks == [first.sha256_hex]
    assert os.listdir(store.root / "code") == [first.sha256_hex]
    assert os.listdir(store.root / "packages") == [f"{first.sha256_hex}.zip"]


def test_different_bytes_get_different_trees(store: CodeStore) -> None:
    one = store.add(make_zip({"handler.py": HANDLER}))
    two = store.add(make_zip({"handler.py": HANDLER + b"# v2\n"}))
    assert one.sha256_hex != two.sha256_hex
    assert sorted(os.listdir(store.root / "code")) == sorted([one.sha256_hex, two.sha256_hex])


def test_zip_folder_round_trips_through_the_store(store: CodeStore, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "handler.py").write_bytes(HANDLER)
    (source / "pkg" / "util.py").write_bytes(b"X = 1\n")
    (source / "bootstrap").write_bytes(BOOTSTRAP)
    (source / "bootstrap").chmod(0o755)
    code = store.code_dir(store.add(zip_folder(source)).sha256_hex)
    assert tree(code) == tree(source)
    assert (code / "pkg" / "util.py").read_bytes() == b"X = 1\n"
    assert stat.S_IMODE((code / "bootstrap").stat().st_mode) == 0o555


# --- concurrency -----------------------------------------------------------------------------------------


def count_unpacks(
    monkeypatch: pytest.MonkeyPatch, pause: threading.Barrier | None = None, slow_s: float = 0.0
) -> list[str]:
    """Record each unpack; ``pause`` holds every unpacker until all have unpacked, ``slow_s`` widens the
    window in which a second adder could start unpacking too."""
    calls: list[str] = []
    real = unpack_module.unpack

    def counting(data: bytes, manifest: ZipManifest, into: Path, limits: ZipLimits) -> None:
        calls.append(manifest.sha256_hex)
        real(data, manifest, into, limits)
        time.sleep(slow_s)
        if pause is not None:
            pause.wait(timeout=10)

    monkeypatch.setattr(store_module, "unpack", counting)
    return calls


def run_together(count: int, work: Callable[[int], object]) -> list[object]:
    start = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        start.wait(timeout=10)
        try:
            results[index] = work(index)
        except BaseException as exc:  # handed back to the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_threads_adding_the_same_zip_unpack_it_once(store: CodeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    unpacks = count_unpacks(monkeypatch, slow_s=0.1)
    data = code_zip()
    results = run_together(8, lambda _: store.add(data))
    assert all(result == results[0] for result in results)
    assert unpacks == [sha(data)]
    assert os.listdir(store.root / "code") == [sha(data)]
    assert (store.code_dir(sha(data)) / "handler.py").read_bytes() == HANDLER


def test_racing_processes_both_unpack_and_the_loser_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two stores on one root share no lock, like two processes: both unpack, both try to rename.
    both_unpacked = threading.Barrier(2)
    unpacks = count_unpacks(monkeypatch, pause=both_unpacked)
    stores = [CodeStore(tmp_path / "shared"), CodeStore(tmp_path / "shared")]
    data = code_zip()
    results = run_together(2, lambda index: stores[index].add(data))
    assert [getattr(result, "sha256_hex", result) for result in results] == [sha(data), sha(data)]
    assert unpacks == [sha(data), sha(data)]
    assert os.listdir(tmp_path / "shared" / "code") == [sha(data)]
    assert os.listdir(tmp_path / "shared" / "packages") == [f"{sha(data)}.zip"]
    assert (tmp_path / "shared" / "code" / sha(data) / "pkg" / "util.py").read_bytes() == b"X = 1\n"


# --- ensure: fetch only when missing ---------------------------------------------------------------------


class Fetcher:
    def __init__(self, data: bytes | None) -> None:
        self.data = data
        self.calls = 0

    def __call__(self) -> bytes | None:
        self.calls += 1
        return self.data


def test_ensure_fetches_only_when_this_machine_lacks_the_package(store: CodeStore, tmp_path: Path) -> None:
    data = code_zip()
    other = CodeStore(tmp_path / "other-machine")
    fetch = Fetcher(data)
    code = other.ensure(sha(data), fetch)
    assert code == other.code_dir(sha(data))
    assert (code / "handler.py").read_bytes() == HANDLER
    assert other.read(sha(data)) == data
    assert other.ensure(sha(data), fetch) == code
    assert fetch.calls == 1


def test_ensure_does_not_fetch_what_add_put_here(store: CodeStore) -> None:
    data = code_zip()
    store.add(data)
    fetch = Fetcher(None)
    assert (store.ensure(sha(data), fetch) / "handler.py").is_file()
    assert fetch.calls == 0


def test_ensure_unpacks_the_local_zip_without_fetching(store: CodeStore) -> None:
    data = code_zip()
    store.add(data)
    unpack_module.remove_tree(store.code_dir(sha(data)))
    fetch = Fetcher(None)
    assert (store.ensure(sha(data), fetch) / "handler.py").read_bytes() == HANDLER
    assert fetch.calls == 0


def test_ensure_refetches_over_a_corrupt_local_zip(store: CodeStore) -> None:
    data = code_zip()
    store.zip_path(sha(data)).parent.mkdir(parents=True)
    store.zip_path(sha(data)).write_bytes(b"bit rot")
    fetch = Fetcher(data)
    assert (store.ensure(sha(data), fetch) / "handler.py").read_bytes() == HANDLER
    assert fetch.calls == 1
    assert store.read(sha(data)) == data


def test_ensure_rejects_bytes_with_the_wrong_sha(store: CodeStore) -> None:
    data = code_zip()
    wanted = sha(make_zip({"other.py": b""}))
    with pytest.raises(CodeIntegrityError) as caught:
        store.ensure(wanted, Fetcher(data))
    assert caught.value.message == (f"Fetched code for package {wanted} hashes to {sha(data)}; refusing to use it.")
    assert caught.value.status == 500
    assert not store.has(wanted)
    assert_nothing_left(store.root)


def test_ensure_without_bytes_anywhere_is_not_found(store: CodeStore) -> None:
    missing = sha(b"nothing")
    with pytest.raises(CodeNotFound) as caught:
        store.ensure(missing, Fetcher(None))
    assert caught.value.status == 404
    assert missing in caught.value.message
    assert_nothing_left(store.root)


def test_ensure_rejects_fetched_bytes_that_are_not_a_valid_zip(store: CodeStore) -> None:
    slip = make_zip({"../evil.py": b"x"})
    with pytest.raises(InvalidParameterValue, match="zip slip"):
        store.ensure(sha(slip), Fetcher(slip))
    assert_nothing_left(store.root)


@pytest.mark.parametrize("bad", ["../../etc", "A" * 64, "abc", f"{'0' * 63}/", ""])
def test_package_ids_are_checked_before_touching_paths(store: CodeStore, bad: str) -> None:
    for call in (store.code_dir, store.zip_path, store.remove, lambda s: store.ensure(s, Fetcher(None))):
        with pytest.raises(InvalidParameterValue, match="is not a code package id"):
            call(bad)


# --- permissions -----------------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_tree_is_read_only_and_keeps_exec_bits(store: CodeStore) -> None:
    data = code_zip()
    code = store.code_dir(store.add(data).sha256_hex)
    assert mode(code) == 0o555
    assert {mode(path) for path in code.rglob("*") if path.is_dir()} == {0o555}
    assert mode(code / "handler.py") == 0o444
    assert mode(code / "pkg" / "util.py") == 0o444
    assert mode(code / "bootstrap") == 0o555
    assert mode(store.zip_path(sha(data))) == 0o444
    ran = subprocess.run([code / "bootstrap"], capture_output=True, check=True, timeout=10)
    assert ran.stdout == b"bootstrapped\n"


def test_modes_do_not_depend_on_the_umask(store: CodeStore) -> None:
    old = os.umask(0o077)
    try:
        code = store.code_dir(store.add(code_zip()).sha256_hex)
    finally:
        os.umask(old)
    assert (mode(code), mode(code / "pkg"), mode(code / "handler.py")) == (0o555, 0o555, 0o444)


# --- remove and sweep ------------------------------------------------------------------------------------


def test_remove_drops_zip_and_tree_and_allows_adding_again(store: CodeStore) -> None:
    data = code_zip()
    package = store.add(data)
    store.remove(package.sha256_hex)
    assert not store.has(package.sha256_hex)
    assert store.read(package.sha256_hex) is None
    assert_nothing_left(store.root)
    store.remove(package.sha256_hex)  # removing what is gone is fine
    assert (store.code_dir(store.add(data).sha256_hex) / "handler.py").read_bytes() == HANDLER


def test_sweep_removes_only_stale_temp_leftovers(store: CodeStore) -> None:
    store.add(code_zip())
    stale_dir = store.root / "code" / f".{'a' * 64}.crashed.tmp"
    (stale_dir / "pkg").mkdir(parents=True)
    (stale_dir / "pkg" / "x.py").write_bytes(b"")
    (stale_dir / "pkg").chmod(0o555)
    stale_zip = store.root / "packages" / f".{'a' * 64}.crashed.tmp"
    stale_zip.write_bytes(b"half")
    fresh = store.root / "packages" / f".{'b' * 64}.inflight.tmp"
    fresh.write_bytes(b"writing")
    an_hour_ago = time.time() - 3700
    for path in (stale_dir, stale_zip):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert store.sweep() == 2
    assert not stale_dir.exists()
    assert not stale_zip.exists()
    assert fresh.exists()
    assert store.has(sha(code_zip()))


# --- every rejection leaves nothing behind ---------------------------------------------------------------


def lying_bomb() -> bytes:
    """20 MiB of zeros whose headers say 1000 bytes: passes every header check, fails while unpacking."""
    return patch_entry(make_zip({"handler.py": HANDLER, "bomb.bin": bytes(20 * MIB)}), 1, file_size=1000)


def bad_second_entry() -> bytes:
    """The first entry unpacks fine; the second fails its CRC after being written."""
    return patch_entry(make_zip({"handler.py": HANDLER, "pkg/util.py": b"X = 1\n" * 100}), 1, crc=1)


REJECTED = {
    "empty": (b"", "The zip file is empty (0 bytes)."),
    "not-a-zip": (b"not a zip at all", "Could not unzip uploaded file."),
    "zip-slip": (make_zip({"../evil.py": b"x"}), "zip slip"),
    "absolute": (make_zip({"/etc/evil": b"x"}), "absolute path"),
    "symlink": (make_zip([(unix_entry("link", stat.S_IFLNK | 0o777), b"/etc/passwd")]), "symbolic link"),
    "encrypted": (patch_entry(make_zip({"a.py": b"x"}), 0, flags=1), "is encrypted"),
    "ratio-bomb": (make_zip({"zeros.bin": bytes(2 * MIB)}), "zip bomb?"),
    "claims-over-250mb": (
        patch_entry(make_zip({"a.bin": b"x"}), 0, file_size=262144001),
        "Unzipped size must be smaller than 262144000 bytes",
    ),
    "lying-header-bomb": (lying_bomb(), "unpacks to more than the 1000 bytes its header declares"),
    "crc-after-writing": (bad_second_entry(), "fails its CRC-32 check"),
}


@pytest.mark.parametrize("case", REJECTED)
def test_rejected_add_leaves_nothing_behind(store: CodeStore, case: str) -> None:
    data, message = REJECTED[case]
    with pytest.raises(InvalidParameterValue) as caught:
        store.add(data)
    assert message in caught.value.message
    assert_nothing_left(store.root)


def test_lying_header_bomb_passes_the_headers_and_is_stopped_while_unpacking(store: CodeStore) -> None:
    data = lying_bomb()
    assert read_manifest(data).unzipped_size == len(HANDLER) + 1000  # the headers alone look fine
    started = time.monotonic()
    with pytest.raises(InvalidParameterValue, match=r"'bomb\.bin' unpacks to more than the 1000 bytes"):
        store.add(data)
    assert time.monotonic() - started < 2
    assert_nothing_left(store.root)


def test_real_bytes_over_a_lowered_limit_leave_nothing_behind(tmp_path: Path) -> None:
    store = CodeStore(tmp_path, limits=ZipLimits(max_unzipped_bytes=1000))
    with pytest.raises(InvalidParameterValue, match=r"^Unzipped size must be smaller than 1000 bytes$"):
        store.add(make_zip({"a.bin": bytes(600), "b.bin": bytes(600)}))
    assert_nothing_left(tmp_path)


def test_rejection_keeps_what_was_already_there(store: CodeStore) -> None:
    good = store.add(code_zip())
    with pytest.raises(InvalidParameterValue):
        store.add(bad_second_entry())
    assert os.listdir(store.root / "code") == [good.sha256_hex]
    assert os.listdir(store.root / "packages") == [f"{good.sha256_hex}.zip"]


def test_reading_an_unknown_package_gives_none(store: CodeStore) -> None:
    assert store.read(sha(b"unknown")) is None
    assert not store.has(sha(b"unknown"))


def test_stored_zip_is_a_zip_of_the_same_entries(store: CodeStore) -> None:
    data = code_zip()
    store.add(data)
    with zipfile.ZipFile(store.zip_path(sha(data))) as archive:
        assert archive.read("handler.py") == HANDLER


def test_validate_gives_the_verdict_without_writing(store: CodeStore) -> None:
    data = code_zip()
    assert store.validate(data).sha256_hex == sha(data)
    with pytest.raises(InvalidParameterValue, match="zip slip"):
        store.validate(make_zip({"../x.py": b""}))
    assert tree(store.root) == []
