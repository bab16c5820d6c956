import hashlib
import io
import stat
import zipfile

import pytest

from lambdahost.code import DEFAULT_LIMITS, NOT_A_ZIP_MESSAGE, ZipLimits, validate_zip
from lambdahost.code.inflate import UnzippedBudget
from lambdahost.code.manifest import read_manifest
from lambdahost.code.testing import make_zip, patch_entry, rename_entries, unix_entry
from lambdahost.core.errors import InvalidParameterValue

MIB = 1024 * 1024
HANDLER = b"def handler(event, context):\n    return event\n"


def rejection(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(InvalidParameterValue) as caught:
        validate_zip(data, limits)
    assert caught.value.status == 400
    assert caught.value.code == "InvalidParameterValueException"
    return caught.value.message


# --- what passes -------------------------------------------------------------------------------------------


def test_valid_zip_is_summarised() -> None:
    data = make_zip({"handler.py": HANDLER, "pkg/": b"", "pkg/util.py": b"X = 1\n"})
    package = validate_zip(data, clock=lambda: 1234.5)
    assert package.sha256_hex == hashlib.sha256(data).hexdigest()
    assert package.size == len(data)
    assert package.unzipped_size == len(HANDLER) + 6
    assert package.entries == 3
    assert package.created_at == 1234.5


def test_stored_entries_and_windows_separators_are_accepted() -> None:
    data = make_zip({"lib\\util.py": b"X = 1\n", "./handler.py": HANDLER}, method=zipfile.ZIP_STORED)
    assert validate_zip(data).entries == 2
    assert [entry.path for entry in read_manifest(data).entries] == ["lib/util.py", "handler.py"]


class Unseekable(io.RawIOBase):
    """A pipe-like sink, so zipfile writes data descriptors as streaming zip tools do."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, chunk: bytes) -> int:  # type: ignore[override]
        view = memoryview(chunk)
        self.data += view
        return len(view)


def test_streamed_zip_with_data_descriptors_is_accepted() -> None:
    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handler.py", HANDLER)
        with archive.open("big.txt", "w") as out:
            out.write(b"line\n" * 1000)
    data = bytes(sink.data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(info.flag_bits & 0x08 for info in archive.infolist())
    assert validate_zip(data).unzipped_size == len(HANDLER) + 5000


def test_executable_bit_is_read_from_the_unix_mode() -> None:
    data = make_zip([(unix_entry("bootstrap", 0o755), b"#!/bin/sh\n"), (unix_entry("a.py", 0o644), b"")])
    assert [entry.executable for entry in read_manifest(data).entries] == [True, False]


def test_limits_are_inclusive() -> None:
    data = make_zip({"a": b"1", "b": b"22", "c": b"333"})
    limits = ZipLimits(max_entries=3, max_unzipped_bytes=6, max_zip_bytes=len(data))
    assert validate_zip(data, limits).unzipped_size == 6


def test_highly_compressible_small_entries_are_not_bombs() -> None:
    assert validate_zip(make_zip({"zeros.bin": bytes(MIB)})).unzipped_size == MIB


# --- not a zip, empty, too big ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"hello, this is not a zip", b"PK\x03\x04" + bytes(100), make_zip({"a.py": HANDLER})[:-10]],
    ids=["text", "local-header-only", "truncated"],
)
def test_not_a_zip_gets_the_aws_message(data: bytes) -> None:
    assert rejection(data) == NOT_A_ZIP_MESSAGE
    assert NOT_A_ZIP_MESSAGE == "Could not unzip uploaded file. Please check your file, then try to upload again."


def test_empty_bytes() -> None:
    assert rejection(b"") == "The zip file is empty (0 bytes)."


def test_zip_without_entries() -> None:
    assert rejection(make_zip({})) == "The zip file contains no entries."


def test_zip_over_the_default_50_mb() -> None:
    message = rejection(bytes(52428801))
    assert "52428801 bytes" in message
    assert "at most 52428800 bytes" in message


def test_zip_over_a_lowered_size_limit() -> None:
    data = make_zip({"a.py": HANDLER})
    assert f"is {len(data)} bytes" in rejection(data, ZipLimits(max_zip_bytes=len(data) - 1))


# --- zip slip, links, special files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.py", "'..' component"),
        ("pkg/../../evil.py", "'..' component"),
        ("..\\evil.py", "'..' component"),
        ("/etc/cron.d/evil", "absolute path"),
        ("\\evil.py", "absolute path"),
        ("C:\\evil.py", "drive letter"),
    ],
)
def test_zip_slip_names_are_rejected(name: str, problem: str) -> None:
    message = rejection(make_zip({"handler.py": HANDLER, name: b"pwned"}))
    assert message.startswith(f"Zip entry {name!r} ")
    assert problem in message


def test_nul_in_a_name_is_rejected() -> None:
    data = rename_entries(make_zip({"evil.py.txt": b"x"}), "evil.py.txt", "evil.py\x00txt")
    assert "NUL character" in rejection(data)


def test_symlink_entry_is_rejected() -> None:
    data = make_zip([(unix_entry("link", stat.S_IFLNK | 0o777), b"/etc/passwd"), ("a.py", HANDLER)])
    assert rejection(data) == ("Zip entry 'link' is a symbolic link; code packages may only hold files and folders.")


def test_special_file_entry_is_rejected() -> None:
    data = make_zip([(unix_entry("fifo", stat.S_IFIFO | 0o644), b"")])
    assert "is a special file (mode 0o10644)" in rejection(data)


# --- entries: count, duplicates, encryption, methods -----------------------------------------------------


def test_10001_entries_are_too_many() -> None:
    data = make_zip({f"{index}": b"" for index in range(10001)}, method=zipfile.ZIP_STORED)
    assert rejection(data) == "The zip file has 10001 entries; a code package may have at most 10000."


def test_entry_count_limit_is_configurable() -> None:
    data = make_zip({"a": b"", "b": b"", "c": b"", "d": b""})
    assert "4 entries" in rejection(data, ZipLimits(max_entries=3))


def test_duplicate_names_are_rejected() -> None:
    data = rename_entries(make_zip({"a.py": b"1", "b.py": b"2"}), "b.py", "a.py")
    assert rejection(data) == "Zip entry 'a.py' appears more than once."


def test_names_that_unpack_to_the_same_path_are_duplicates() -> None:
    data = make_zip({"lib/x.py": b"1", "lib\\x.py": b"2"})
    assert rejection(data) == "Zip entry 'lib\\\\x.py' is a duplicate of 'lib/x.py': both unpack to 'lib/x.py'."


def test_file_where_a_folder_is_needed_is_rejected() -> None:
    message = rejection(make_zip({"pkg": b"i am a file", "pkg/mod.py": b""}))
    assert message == "Zip entry 'pkg/mod.py' needs 'pkg' to be a folder, but zip entry 'pkg' is a file."


def test_encrypted_entry_is_rejected() -> None:
    data = patch_entry(make_zip({"handler.py": HANDLER, "secret.py": b"x"}), 1, flags=0x1)
    assert rejection(data) == ("Zip entry 'secret.py' is encrypted; encrypted zip files are not supported.")


def test_unsupported_compression_method_is_rejected() -> None:
    data = make_zip({"a.py": HANDLER}, method=zipfile.ZIP_BZIP2)
    assert "uses compression method 12; only stored (0) and deflate (8)" in rejection(data)


def test_folder_entry_with_data_is_rejected() -> None:
    data = patch_entry(make_zip({"pkg/": b""}), 0, file_size=10)
    assert "is a folder but holds 10 bytes" in rejection(data)


# --- sizes and bombs -------------------------------------------------------------------------------------


def test_header_claiming_over_250_mb_gets_the_exact_aws_message() -> None:
    data = patch_entry(make_zip({"big.bin": b"x"}), 0, file_size=262144001)
    assert rejection(data) == "Unzipped size must be smaller than 262144000 bytes"


def test_entries_summing_over_250_mb_get_the_exact_aws_message() -> None:
    data = make_zip({"a.bin": b"x", "b.bin": b"y"})
    data = patch_entry(patch_entry(data, 0, file_size=131072000), 1, file_size=131072001)
    assert rejection(data) == "Unzipped size must be smaller than 262144000 bytes"


def test_real_bytes_over_a_lowered_unzipped_limit() -> None:
    data = make_zip({"a.bin": bytes(600), "b.bin": bytes(600)})
    assert rejection(data, ZipLimits(max_unzipped_bytes=1000)) == ("Unzipped size must be smaller than 1000 bytes")


def test_entry_with_a_bomb_ratio_is_rejected() -> None:
    message = rejection(make_zip({"handler.py": HANDLER, "zeros.bin": bytes(2 * MIB)}))
    assert message.startswith("Zip entry 'zeros.bin' unpacks to 2097152 bytes from ")
    assert "may be compressed at most 100:1 (zip bomb?)" in message


def test_many_small_entries_with_a_bomb_ratio_overall_are_rejected() -> None:
    data = make_zip({f"z{index}.bin": bytes(900 * 1024) for index in range(3)})
    message = rejection(data)
    assert message.startswith(f"The zip file unpacks to {3 * 900 * 1024} bytes from {len(data)} (")
    assert "at most 100:1 is allowed (zip bomb?)" in message


def test_header_that_under_declares_its_size_is_caught_on_the_real_bytes() -> None:
    # A real 20 MiB of zeros whose headers claim 1000 bytes: small enough to pass every header check.
    data = patch_entry(make_zip({"handler.py": HANDLER, "bomb.bin": bytes(20 * MIB)}), 1, file_size=1000)
    assert read_manifest(data).unzipped_size == len(HANDLER) + 1000
    assert rejection(data) == (
        "Zip entry 'bomb.bin' unpacks to more than the 1000 bytes its header declares; "
        "the zip is corrupt or a zip bomb."
    )


def test_header_that_over_declares_its_size_is_corrupt() -> None:
    data = patch_entry(make_zip({"a.py": HANDLER}), 0, file_size=len(HANDLER) + 5)
    assert rejection(data) == (
        f"Zip entry 'a.py' unpacks to {len(HANDLER)} bytes but its header declares {len(HANDLER) + 5}; "
        "the zip is corrupt."
    )


def test_overlapping_entries_are_rejected() -> None:
    # Stretch the first entry's compressed span over the second entry's local header, as the
    # "non-recursive" zip bomb does to inflate one stream many times.
    data = make_zip({"a.py": HANDLER, "b.py": HANDLER})
    second = read_manifest(data).entries[1]
    stretched = second.header_offset + 8 - read_manifest(data).entries[0].data_offset
    data = patch_entry(data, 0, compress_size=stretched)
    assert rejection(data) == (
        "Zip entries 'a.py' and 'b.py' overlap in the file; overlapping entries are a zip-bomb technique "
        "and are not allowed."
    )


def test_unzipped_budget_counts_real_bytes() -> None:
    budget = UnzippedBudget(ZipLimits(max_unzipped_bytes=10))
    budget.take(6)
    budget.take(4)
    with pytest.raises(InvalidParameterValue, match=r"^Unzipped size must be smaller than 10 bytes$"):
        budget.take(1)


# --- corrupt data ----------------------------------------------------------------------------------------


def test_crc_mismatch_is_rejected() -> None:
    data = patch_entry(make_zip({"a.py": HANDLER}), 0, crc=0xDEADBEEF)
    assert rejection(data) == "Zip entry 'a.py' fails its CRC-32 check; the zip is corrupt."


def test_garbled_deflate_data_is_rejected() -> None:
    data = bytearray(make_zip({"a.py": HANDLER * 50}))
    start = read_manifest(bytes(data)).entries[0].data_offset
    data[start : start + 8] = b"\xff" * 8
    message = rejection(bytes(data))
    assert message.startswith("Zip entry 'a.py' ")
    assert "the zip is corrupt" in message


def test_truncated_deflate_stream_is_rejected() -> None:
    data = make_zip({"a.py": HANDLER * 50, "b.py": b"x"})
    entry = read_manifest(data).entries[0]
    data = patch_entry(data, 0, compress_size=entry.compressed_size // 2)
    assert "has truncated compressed data" in rejection(data)


def test_stored_entry_with_inconsistent_sizes_is_rejected() -> None:
    data = patch_entry(make_zip({"a.py": HANDLER}, method=zipfile.ZIP_STORED), 0, compress_size=3)
    assert "is stored uncompressed but declares 3 bytes stored" in rejection(data)


def test_local_header_with_another_name_is_rejected() -> None:
    data = make_zip({"a.py": HANDLER})
    local = read_manifest(data).entries[0].header_offset
    data = data[: local + 30] + b"b.py" + data[local + 34 :]
    assert rejection(data) == "Zip entry 'a.py' is named 'b.py' in its local header; the zip is corrupt or crafted."


def test_entry_running_past_the_end_is_rejected() -> None:
    data = patch_entry(make_zip({"a.py": HANDLER}), 0, compress_size=10_000)
    assert rejection(data) == "Zip entry 'a.py' runs past the end of the file; the zip is corrupt."


def test_entry_pointing_at_no_local_header_is_rejected() -> None:
    data = patch_entry(make_zip({"a.py": HANDLER, "b.py": HANDLER}), 1, header_offset=2)
    assert "has no local header where the central directory says" in rejection(data)
