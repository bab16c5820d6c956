"""Artifacts in an embedded Platform (real SQLite file, real sandboxed environments): what a function writes to
``$LAMBDAHOST_OUTPUT_DIR`` is stored with the invocation, sync and async, on success and on failure, byte for byte;
a warm environment's next invocation starts with an empty directory; the per-invocation limits keep what fits and
say so in the log; the retention sweep (the worker's loop) deletes expired artifacts; an input file is readable by
the function and not writable."""

from __future__ import annotations

import base64
import io
import json
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdahost.core.artifacts import MAX_FILES
from lambdahost.core.errors import InvalidParameterValue, ResourceNotFound
from lambdahost.core.model import InvocationStatus
from lambdahost.core.settings import Settings
from lambdahost.runtime import outputs
from lambdahost.server import Platform
from tests.integration.platforms import finished
from tests.waiting import eventually

APP = """
import json, os

def handler(event, context):
    out = os.environ["LAMBDAHOST_OUTPUT_DIR"]
    before = sorted(os.listdir(out))
    for name, text in event.get("files", {}).items():
        path = os.path.join(out, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(text.encode("latin-1"))
    for i in range(event.get("many", 0)):
        with open(os.path.join(out, f"f{i:03d}.txt"), "w") as handle:
            handle.write(str(i))
    result = {"before": before, "pid": os.getpid(), "out": out}
    if "read" in event:
        with open(event["read"], "rb") as handle:
            result["read"] = handle.read().decode()
        try:
            with open(event["read"], "ab") as handle:
                handle.write(b"changed")
            result["wrote"] = True
        except OSError as exc:
            result["wrote"] = type(exc).__name__
        try:
            open(os.path.join(os.path.dirname(event["read"]), "new.txt"), "w").close()
            result["created"] = True
        except OSError as exc:
            result["created"] = type(exc).__name__
    if event.get("fail"):
        raise RuntimeError("failed after writing")
    return result
"""
BINARY = "".join(chr(i) for i in range(256))  # every byte value, through latin-1


def zipped(source: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return base64.b64encode(buf.getvalue()).decode()


WRITER = {"FunctionName": "writer", "Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": zipped(APP)}}


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(
        data_dir=tmp_path / "data", retry_delays_s=(0.2,), config_recheck_s=0.2, heartbeat_s=0.2, lease_s=5.0
    )
    with Platform(settings) as p:
        p.functions.create(WRITER)
        yield p


def event(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def stored(platform: Platform, invocation_id: str) -> dict[str, bytes]:
    return {a.name: platform.artifacts.read(invocation_id, a.name)[1] for a in platform.artifacts.list(invocation_id)}


def test_sync_files_are_stored_and_a_warm_environment_starts_empty(platform: Platform) -> None:
    first = platform.invoker.invoke("writer", event(files={"report.txt": "hello", "plots/bytes.bin": BINARY}))
    second = platform.invoker.invoke("writer", event(files={"other.txt": "2"}))
    one, two = json.loads(first.payload), json.loads(second.payload)
    assert one["pid"] == two["pid"], "the second invocation ran in the same warm environment"
    assert one["before"] == [] and two["before"] == [], "each invocation starts with an empty output directory"
    assert one["out"] == two["out"] and one["out"].startswith(str(platform.settings.data_dir))
    assert platform.recorder.flush()
    assert stored(platform, first.request_id) == {"plots/bytes.bin": BINARY.encode("latin-1"), "report.txt": b"hello"}
    assert stored(platform, second.request_id) == {"other.txt": b"2"}
    infos = platform.artifacts.list(first.request_id)
    assert [a.size for a in infos] == [256, 5]
    assert all(a.expires_at - a.created_at == pytest.approx(platform.settings.artifact_retention_s) for a in infos)
    assert os.listdir(one["out"]) == [], "collected files are removed from the environment"


def test_nothing_written_stores_nothing(platform: Platform) -> None:
    result = platform.invoker.invoke("writer", event())
    assert platform.recorder.flush()
    assert platform.store.get_invocation(result.request_id) is not None
    assert platform.artifacts.list(result.request_id) == []


def test_async_and_failed_invocations_keep_their_files(platform: Platform) -> None:
    queued = platform.enqueuer.enqueue("writer", event(files={"a.csv": "x,y\n1,2\n", "b.json": "{}"}))
    record = finished(platform, queued)
    assert record.status is InvocationStatus.SUCCEEDED
    assert eventually(lambda: len(platform.artifacts.list(queued)) == 2)
    assert stored(platform, queued) == {"a.csv": b"x,y\n1,2\n", "b.json": b"{}"}
    failed = platform.invoker.invoke("writer", event(files={"partial.txt": "half"}, fail=True))
    assert failed.function_error == "Unhandled"
    assert platform.recorder.flush()
    assert stored(platform, failed.request_id) == {"partial.txt": b"half"}


def test_over_the_file_limit_what_fits_is_kept_and_the_log_says_so(platform: Platform) -> None:
    result = platform.invoker.invoke("writer", event(many=MAX_FILES + 5))
    assert result.function_error is None
    assert platform.recorder.flush()
    names = [a.name for a in platform.artifacts.list(result.request_id)]
    assert names == [f"f{i:03d}.txt" for i in range(MAX_FILES)]
    assert f"kept {MAX_FILES} of {MAX_FILES + 5} output files" in result.log


def test_collect_keeps_files_by_name_within_the_byte_limit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "a.bin").write_bytes(b"a" * 40)
    (out / "b.bin").write_bytes(b"b" * 40)
    (out / "sub" / "c.bin").write_bytes(b"c" * 10)
    (out / "link").symlink_to("/etc/hostname")
    collected = outputs.collect(str(out), max_files=10, max_bytes=60)
    assert collected is not None
    assert [(f.name, f.content) for f in collected.files] == [("a.bin", b"a" * 40), ("sub/c.bin", b"c" * 10)]
    assert collected.note is not None and "kept 2 of 3" in collected.note and "link" in collected.note
    assert list(out.iterdir()) == [], "emptied"
    assert outputs.collect(str(out)) is None
    out.rmdir()
    assert outputs.collect(str(out)) is None and out.is_dir(), "a removed directory is made again"


def test_the_retention_sweep_deletes_expired_artifacts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", heartbeat_s=0.1, lease_s=5.0, artifact_retention_s=1.0)
    with Platform(settings) as p:
        p.functions.create(WRITER)
        result = p.invoker.invoke("writer", event(files={"short.txt": "lived"}))
        assert p.recorder.flush()
        ref = p.artifacts.put_input(b"input", "in.txt")
        assert p.store.get_input_artifact(ref.sha256) == b"input"
        assert [a.name for a in p.artifacts.list(result.request_id)] == ["short.txt"]
        assert eventually(lambda: p.artifacts.list(result.request_id) == [], timeout=5.0), "swept by the worker"
        assert p.store.get_input_artifact(ref.sha256) is None


def test_an_input_file_is_readable_and_not_writable_by_the_function(platform: Platform) -> None:
    ref = platform.artifacts.put_input(b"jtl,rows\n1,2\n", "results.jtl")
    assert ref.size == 13 and len(ref.sha256) == 64
    path = platform.artifacts.input_path(ref)
    assert path == str(platform.settings.data_dir / "inputs" / ref.sha256 / "results.jtl")
    assert platform.artifacts.input_path(ref) == path, "materialized once"
    result = json.loads(platform.invoker.invoke("writer", event(read=path)).payload)
    assert result["read"] == "jtl,rows\n1,2\n"
    assert result["wrote"] == "PermissionError" and result["created"] == "PermissionError"
    assert Path(path).read_bytes() == b"jtl,rows\n1,2\n"
    # another node (no local copy yet) writes it from the store
    os.chmod(path, 0o644)
    os.unlink(path)
    assert Path(platform.artifacts.input_path(ref)).read_bytes() == b"jtl,rows\n1,2\n"


def test_input_names_are_checked(platform: Platform) -> None:
    for bad in ("", "..", "a/b", "x\0y"):
        with pytest.raises(InvalidParameterValue):
            platform.artifacts.put_input(b"x", bad)
    ref = platform.artifacts.put_input(b"x", "x.txt")
    with pytest.raises(ResourceNotFound):
        platform.artifacts.input_path(type(ref)("0" * 64, "x.txt", 1))
    with pytest.raises(ResourceNotFound):
        platform.artifacts.read("nope", "x.txt")
    with pytest.raises(InvalidParameterValue):
        platform.artifacts.read("nope", "../x")


def test_the_hot_path_of_an_invocation_that_wrote_nothing_is_one_listing(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    started = time.perf_counter()
    for _ in range(1000):
        assert outputs.collect(str(out)) is None
    assert (time.perf_counter() - started) / 1000 < 0.001
