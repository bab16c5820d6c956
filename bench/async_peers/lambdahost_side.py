"""lambdahost's side of the comparison: `lambdahost serve` (+ `lambdahost worker` processes) on SQLite or on a
dedicated PostgreSQL database, a no-op function deployed with boto3, invocations enqueued as a user would
(boto3 ``invoke(InvocationType='Event')``, or the same request over a bare keep-alive HTTP connection, or lambdahost's
batch API through ``lambdahost.client.Client``), and
results read back through the native API (``/lambdahost/v1/queues`` for the exact depth,
``/lambdahost/v1/invocations/{id}`` for each record)."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

import lambdahost
from bench.async_peers.common import Latency, Row, Throughput, latency_run, wait_until
from bench.http_util import free_port, wait_http
from lambdahost.client import Client

FUNCTION = "noop"
NOOP = "def handler(event, context):\n    return None\n"
PAYLOAD = b"{}"
INVOKE_PATH = f"/2015-03-31/functions/{FUNCTION}/invocations"
ENQUEUE_THREADS = 4  # client threads enqueueing during a throughput run, each with its own connection
ADMIN_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "bench_lambdahost"
RUN_TIMEOUT_S = 600.0
UNFINISHED = ("pending", "ready", "running")


@dataclass(frozen=True)
class Topology:
    key: str
    label: str
    server_args: tuple[str, ...]
    workers: int


TOPOLOGIES = [
    Topology("api+2w", "`serve --worker-slots 0` + 2 x `lambdahost worker`", ("--worker-slots", "0"), 2),
    Topology("serve+1w", "`serve` (embedded worker) + 1 x `lambdahost worker`", (), 1),
    Topology("serve", "`serve` alone (embedded worker, one process)", (), 0),
]


def noop_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", NOOP)
    return buf.getvalue()


def boto3_client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60),
    )


class RawClient:
    """The request boto3 sends for ``invoke(InvocationType='Event')``, on one keep-alive connection, without
    botocore's client-side work (serialising, signing, parsing)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def invoke_event(self) -> str:
        self.conn.request("POST", INVOKE_PATH, PAYLOAD, {"X-Amz-Invocation-Type": "Event"})
        resp = self.conn.getresponse()
        resp.read()
        if resp.status != 202:
            raise RuntimeError(f"Event invoke: HTTP {resp.status}")
        return str(resp.headers["x-amzn-RequestId"])

    def get(self, path: str) -> Any:
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {resp.status} {body[:200]!r}")
        return json.loads(body)

    def status(self, invocation_id: str) -> str:
        return str(self.get(f"/lambdahost/v1/invocations/{invocation_id}")["status"])

    def unfinished(self) -> int:
        rows = self.get("/lambdahost/v1/queues")["Queues"]
        return sum(r["count"] for r in rows if r["function"] == FUNCTION and r["status"] in UNFINISHED)

    def close(self) -> None:
        self.conn.close()


def boto3_enqueuer(url: str) -> Callable[[], str]:
    lam = boto3_client(url)

    def enqueue() -> str:
        resp = lam.invoke(FunctionName=FUNCTION, InvocationType="Event", Payload=PAYLOAD)
        if resp["StatusCode"] != 202:
            raise RuntimeError(f"Event invoke: StatusCode {resp['StatusCode']}")
        return str(resp["ResponseMetadata"]["RequestId"])

    return enqueue


CLIENTS: dict[str, Callable[[str, int], Callable[[], str]]] = {
    "boto3": lambda url, port: boto3_enqueuer(url),
    "raw HTTP": lambda url, port: RawClient(port).invoke_event,
}


def batch_enqueuer(url: str) -> Callable[[int], list[str]]:
    """Enqueue ``k`` invocations in one request of lambdahost's batch API (``Client.invoke_async_batch``)."""
    client = Client(url, timeout=60)
    event = json.loads(PAYLOAD)

    def enqueue(k: int) -> list[str]:
        return client.invoke_async_batch(FUNCTION, [event] * k)

    return enqueue


# Clients that enqueue ``BATCH_SIZE`` invocations a call, from one thread: the bulk row of a store's table.
BATCH_SIZE = 500
BATCH_CLIENTS: dict[str, Callable[[str], Callable[[int], list[str]]]] = {"batch": batch_enqueuer}


# -- processes ---------------------------------------------------------------------------------------------------
@dataclass
class Cluster:
    url: str
    port: int
    store_url: str
    server: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path = Path()

    @property
    def pids(self) -> dict[str, int]:
        out = {"serve": self.server.pid}
        out.update({f"worker-{i + 1}": w.pid for i, w in enumerate(self.workers)})
        return out


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    with psycopg.connect(ADMIN_PG_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DB}")
    yield ADMIN_PG_URL.rsplit("/", 1)[0] + f"/{PG_DB}"


@contextmanager
def cluster(store: str, topology: Topology) -> Iterator[Cluster]:
    """The server (and workers) of ``topology`` on a fresh ``store`` ("sqlite" or "postgresql")."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-lambdahost-")))
        if store == "postgresql":
            store_url = stack.enter_context(fresh_pg_database())
            store_args = ["--store", store_url]
        else:
            store_url = f"sqlite:///{tmp / 'server' / 'lambdahost.db'}"
            store_args = []
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        lh = [sys.executable, "-m", "lambdahost"]
        server_cmd = [*lh, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(tmp / "server")]
        server = subprocess.Popen(
            [*server_cmd, *store_args, *topology.server_args],
            stdout=open(tmp / "serve.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        stack.callback(_stop, server)
        try:
            wait_http(port, "/health", timeout=60)
        except RuntimeError:
            text = (tmp / "serve.log").read_text(errors="replace")
            raise RuntimeError(f"lambdahost serve did not come up: {text}") from None
        found = Cluster(url, port, store_url, server, logs=tmp)
        for i in range(topology.workers):
            log = tmp / f"worker-{i + 1}.log"
            worker = subprocess.Popen(
                [*lh, "worker", "--store", store_url, "--data-dir", str(tmp / f"worker-{i + 1}"), "--api-url", url],
                stdout=open(log, "wb"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, worker)
            if wait_until(lambda log=log: b"running" in log.read_bytes(), 60, 0.05) is None:  # type: ignore[misc]
                raise RuntimeError(f"lambdahost worker did not start: {log.read_text(errors='replace')}")
            found.workers.append(worker)
        lam = boto3_client(url)
        lam.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/bench",
            Handler="app.handler",
            Code={"ZipFile": noop_zip()},
        )
        lam.close()
        yield found


# -- measurements ------------------------------------------------------------------------------------------------
def latency(c: Cluster, client: str, n: int) -> Latency:
    enqueue = CLIENTS[client](c.url, c.port)
    reader = RawClient(c.port)
    try:
        return latency_run(enqueue, lambda rid: reader.status(rid) == "succeeded", n)
    finally:
        reader.close()


def throughput(
    c: Cluster,
    client: str,
    n: int,
    threads: int = ENQUEUE_THREADS,
    timed_part_done: Callable[[], None] = lambda: None,
) -> tuple[Throughput, list[str]]:
    """``threads`` client threads enqueue ``n`` invocations between them (a batch client: ``BATCH_SIZE`` a call);
    then ``/lambdahost/v1/queues`` is read every ``DONE_POLL_S`` until nothing of the function is unfinished.
    ``timed_part_done`` is called then, before every record is read back (through the API) to check it."""
    batch = client in BATCH_CLIENTS
    enqueuers: list[Any] = [
        BATCH_CLIENTS[client](c.url) if batch else CLIENTS[client](c.url, c.port) for _ in range(threads)
    ]
    ids: list[list[str]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    go = threading.Event()

    def run(k: int) -> None:
        go.wait()
        enqueue, out = enqueuers[k], ids[k]
        count = n // threads + (1 if k < n % threads else 0)
        try:
            if batch:
                for start in range(0, count, BATCH_SIZE):
                    out.extend(enqueue(min(BATCH_SIZE, count - start)))
            else:
                for _ in range(count):
                    out.append(enqueue())
        except BaseException as exc:  # reported with the result
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    started = time.perf_counter()
    go.set()
    for t in pool:
        t.join()
    enqueued = time.perf_counter()
    reader = RawClient(c.port)
    try:
        finished = wait_until(lambda: reader.unfinished() == 0, RUN_TIMEOUT_S)
    finally:
        reader.close()
    ended = finished if finished is not None else time.perf_counter()
    timed_part_done()
    all_ids = [i for part in ids for i in part]
    recorded, duplicates = verify(c, all_ids)
    note = "; ".join(
        x
        for x in (
            f"{len(errors)} enqueue errors, first: {errors[0]!r}" if errors else "",
            "" if finished is not None else f"timed out after {RUN_TIMEOUT_S:.0f} s",
        )
        if x
    )
    return (
        Throughput(
            n=n,
            enqueue_s=enqueued - started,
            total_s=ended - started,
            recorded=recorded,
            lost=n - recorded,
            duplicates=duplicates,
            note=note,
        ),
        all_ids,
    )


def records(c: Cluster, ids: list[str]) -> list[dict[str, Any]]:
    """Every record, read through the native API (two connections)."""
    readers = [RawClient(c.port) for _ in range(2)]
    try:
        with ThreadPoolExecutor(len(readers)) as pool:
            halves = [ids[k :: len(readers)] for k in range(len(readers))]
            parts = pool.map(
                lambda k: [readers[k].get(f"/lambdahost/v1/invocations/{i}") for i in halves[k]], range(len(readers))
            )
            return [r for part in parts for r in part]
    finally:
        for r in readers:
            r.close()


def verify(c: Cluster, ids: list[str]) -> tuple[int, int]:
    """(succeeded exactly once, ran more than once) among ``ids``: a record is counted when its status is
    ``succeeded``, its attempt 1 and its transitions hold one ``running``."""
    if len(set(ids)) != len(ids):
        raise RuntimeError("the server returned one request id twice")
    once = more = 0
    for rec in records(c, ids):
        runs = sum(1 for t in rec["transitions"] if t["status"] == "running")
        if rec["status"] == "succeeded" and rec["attempt"] == 1 and runs == 1:
            once += 1
        elif runs > 1 or rec["attempt"] > 1:
            more += 1
    return once, more


def step_times(c: Cluster, ids: list[str]) -> dict[str, float]:
    """Mean milliseconds between the lifecycle steps recorded for ``ids`` (the transitions' own timestamps)."""
    sums: dict[str, float] = {}
    recs = records(c, ids)
    for rec in recs:
        at = {t["status"]: t["at"] for t in rec["transitions"]}
        for name, a, b in (
            ("pending -> ready (queued until claimed)", "pending", "ready"),
            ("ready -> running (claimed until started)", "ready", "running"),
            ("running -> succeeded (environment round trip)", "running", "succeeded"),
        ):
            if a in at and b in at:
                sums[name] = sums.get(name, 0.0) + (at[b] - at[a]) * 1e3
    return {k: v / max(1, len(recs)) for k, v in sums.items()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and all its descendants (the fork server and environments)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        p = pending.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                pending += [int(x) for x in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def cpu_by_thread(pid: int) -> dict[str, float]:
    """``pid``'s own CPU seconds split into user and system (kernel) time, the CPU seconds of all its descendants
    (the fork server and the environments), and the context switches of its threads (a count, not seconds).
    Python does not name its threads for the OS, so the threads are not told apart."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"own threads, user": 0.0, "own threads, system (kernel)": 0.0}
    switches = 0
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            status = (task / "status").read_text()
            children += [int(x) for x in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        out["own threads, user"] += int(fields[11]) / tick
        out["own threads, system (kernel)"] += int(fields[12]) / tick
        for line in status.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                switches += int(line.split()[1])
    out["child processes (fork server, environments)"] = sum(cpu_seconds(c) for c in children)
    out["context switches of its threads (count)"] = switches
    return out


def versions(store: str, store_url: str) -> str:
    import sqlite3

    import boto3

    if store == "postgresql":
        with psycopg.connect(store_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        db = f"PostgreSQL {row[0] if row else '?'}"
    else:
        db = f"SQLite {sqlite3.sqlite_version}"
    return f"lambdahost {lambdahost.__version__}, {db}, boto3 {boto3.__version__}"


def _cpu_since(c: Cluster, before: dict[str, float], n: int, out: dict[str, float]) -> None:
    out.update({name: (cpu_seconds(pid) - before[name]) / n * 1e6 for name, pid in c.pids.items()})


STORE_TABLE = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _client_label(client: str) -> str:
    if client in BATCH_CLIENTS:
        return f"one thread, `Client.invoke_async_batch()` in requests of {BATCH_SIZE} (batch API)"
    return f"{client}, {ENQUEUE_THREADS} threads"


def measure(store: str, topology: Topology, n: int, latency_n: int, warmup: int, clients: list[str]) -> list[Row]:
    rows = []
    with cluster(store, topology) as c:
        latency_run(CLIENTS["raw HTTP"](c.url, c.port), lambda rid: True, 1)
        throughput(c, "raw HTTP", max(warmup, 50))  # every process has a warm environment
        for client in clients:
            batch = client in BATCH_CLIENTS  # no latency row: one invocation is not what a batch is for
            lat = None if batch else latency(c, client, latency_n)
            before = {name: cpu_seconds(pid) for name, pid in c.pids.items()}
            cpu: dict[str, float] = {}
            read_cpu = partial(_cpu_since, c, before, n, cpu)
            result, ids = throughput(c, client, n, threads=1 if batch else ENQUEUE_THREADS, timed_part_done=read_cpu)
            steps = step_times(c, ids)
            print(
                f"lambdahost {store} {topology.key} {client}: {result.per_s:.0f}/s"
                f" (enqueue {result.enqueue_per_s:.0f}/s)"
                + (f", latency p50 {lat.p50_ms:.2f} ms p99 {lat.p99_ms:.2f} ms" if lat else "")
                + f", lost {result.lost}, CPU us/invocation {cpu}",
                file=sys.stderr,
            )
            extra: dict[str, Any] = {"topology": topology.key, "cpu_us_per_invocation": cpu, "steps_ms": steps}
            if batch:
                extra["batch_size"] = BATCH_SIZE
            rows.append(
                Row(
                    system="lambdahost",
                    store=STORE_TABLE[store],
                    setup=topology.label,
                    client=_client_label(client),
                    versions=versions(store, c.store_url),
                    throughput=result,
                    latency=lat,
                    extra=extra,
                )
            )
    return rows
