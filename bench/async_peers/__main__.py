"""Asynchronous invocations, lambdahost against its peers, written into docs/benchmarks.md (its own section):

    python -m bench.async_peers [--quick] [--only NAME ...] [--no-write] [-n 10000] [--latency-n 200] [--render]

NAME: floors, celery, dramatiq, huey, procrastinate, lambdahost (both stores), lambdahost-sqlite,
lambdahost-postgresql, profile. Results are kept in bench/results/async_peers.json; a run with --only replaces
its rows there and the section is rendered from all of them (the section says so). Needs PostgreSQL at
127.0.0.1:5432 (user postgres, trust; creates the databases bench_lambdahost and bench_procrastinate) and Redis at
127.0.0.1:6379 (flushes its databases 11, 12 and 13). Not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.async_peers import venv
from bench.async_peers.common import Row, parse_emitted
from bench.async_peers.report import render, write_section

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results" / "async_peers.json"
ANALYSIS = Path(__file__).resolve().parent / "analysis.md"
PEERS = ["celery", "dramatiq", "huey", "procrastinate"]
NAMES = ["floors", *PEERS, "lambdahost", "lambdahost-sqlite", "lambdahost-postgresql", "profile"]

METHOD = """\
- *Machine*: the one named above, shared (2 CPUs): every client, worker, broker and database process of a row
  runs on it at the same time, so a row's figure includes the CPU its own client and store take. PostgreSQL 15 and
  Redis 7 run as services on the same machine with their packaged settings (PostgreSQL `synchronous_commit` on).
- *Work*: a no-op (lambdahost: a Python function `handler(event, context)` returning `None`, deployed with boto3
  `create_function`; peers: a task returning `None`), no arguments (payload `{}` for lambdahost).
- *Throughput*: one client process enqueues `n` (10,000) invocations; timed from just before the first enqueue
  until the client has seen every result recorded, checked every 20 ms after the last enqueue returned (so a
  figure can be up to 20 ms late). *enqueue alone* is `n` over the time until the last enqueue returned. Then
  every handle is checked again: *lost* counts those not recorded as succeeded; *ran twice* those the store shows
  ran more than once (n/a: the framework keeps no attempt count).
- *Latency*: `latency-n` (200) sequential single invocations after 20 warm-up ones: enqueue, then read the
  result every 0.2 ms (a `sleep(0.0002)` between reads) until it is visible; p50 and p99 of enqueue-to-visible.
- *Recorded* means, per system: **lambdahost** the invocation's status `succeeded` in the native API
  (`GET /lambdahost/v1/queues`, the exact count of unfinished invocations, reaching 0 ends the timing; then
  `GET /lambdahost/v1/invocations/{id}` for every id: status `succeeded`, attempt 1, exactly one `running`
  transition); **Celery** the task's meta in the Redis result backend with status `SUCCESS` (`MGET` of the
  backend's keys; latency: `AsyncResult.state`); **Dramatiq** the message's result stored by the `Results`
  middleware in Redis (`EXISTS` of the backend's key; latency: `backend.get_result(block=False)`); **Huey** the
  task's result in the Huey result store (`SqliteHuey(store_none=True)`, so a `None` result is stored;
  `storage.peek_data(task.id)`); **procrastinate** the job's status `succeeded` in `procrastinate_jobs` (a
  read-only `SELECT`; latency: `job_manager.get_job_status`; `attempts` gives *ran twice*).
- *lambdahost*: `lambdahost serve` with a fresh data dir (SQLite: its default store, WAL, `synchronous=NORMAL`) or
  `--store postgresql://.../bench_lambdahost` (a database created for each configuration); extra `lambdahost worker
  --store <the same store> --data-dir <its own>` processes; every worker with its default 16 slots. `serve
  --worker-slots 0` is an API-only node. A separate worker process is woken by the process that queued the work
  (SQLite: wake-up sockets beside the database; PostgreSQL: LISTEN/NOTIFY), the worker embedded in `serve`
  in-process by each enqueue. Clients: **boto3** `invoke(InvocationType='Event', Payload=b'{}')` (dummy credentials,
  region us-east-1, `endpoint_url` the server, retries off) — as a user would; **raw HTTP** the same POST with the
  same `X-Amz-Invocation-Type: Event` header on a bare keep-alive `http.client` connection, which leaves out
  botocore's client-side work (about 1 ms of client CPU per call on this machine). Both with 4 client threads (each
  its own client/connection) for throughput and one for latency. **batch** is lambdahost's bulk API: one thread
  calls `lambdahost.client.Client.invoke_async_batch()` with 500 payloads `{}` at a time, each call one `POST
  /lambdahost/v1/functions/noop/invocations` committed in one transaction (no latency column: a batch is not for
  single invocations). Its fair comparison is a peer's bulk API, not its per-task row: procrastinate's `batch_defer`
  (Celery, Dramatiq and Huey have none, see *Peers*). The batch rows are left out of the targets table. Each
  configuration gets 50 warm-up invocations first (every worker process then has a warm environment); the clients'
  runs follow each other on the same processes.
- *Peers* (pinned in `bench/async_peers/requirements.txt`, installed into `.bench-venv` by the script), each with
  2 worker processes and otherwise its defaults: **Celery** one `celery worker --pool prefork --concurrency 2`
  (Redis broker and result backend, database 11), enqueue `noop.delay()`; **Dramatiq** `dramatiq --processes 2
  --threads 8` (its defaults on 2 CPUs; Redis broker, `Results` middleware on a Redis backend, database 12),
  enqueue `noop.send()`; **Huey** `huey_consumer -k process -w 2` on `SqliteHuey` (WAL, SQLite's default
  `synchronous=FULL`, its default polling: 0.1 s growing by 1.15x to 10 s while idle), enqueue `noop()`;
  **procrastinate** 2 `procrastinate worker --concurrency 1` processes (its default concurrency, LISTEN/NOTIFY),
  enqueue `noop.defer()` (sync API), and its documented bulk API `batch_defer` in chunks of 1,000 as a second
  row. Celery, Dramatiq and Huey have no bulk enqueue API (their groups enqueue one message per task), so they
  have one row. Every peer's client is one thread calling its per-task API in a loop. The Redis peers appear in
  both tables for reference.
- *Floors*: a 1-row `INSERT` + `COMMIT` in SQLite (WAL, each `synchronous` setting) and in PostgreSQL
  (autocommit, psycopg), a Redis `RPUSH` + `BLPOP` pair and a `PING`, each timed alone.
- *Profile*: a separate run (not the timed ones): py-spy 0.4 samples every lambdahost process and its children
  (`--gil --subprocesses`) during a throughput run with the raw HTTP client, and the CPU time of every thread is
  read from `/proc` before and after; each sample's stack is put in one step by the rules in
  `bench/async_peers/profile.py`.
"""


def load() -> dict[str, Any]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def save(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))


def key(row: dict[str, Any]) -> tuple[str, ...]:
    return (row["system"], row["store"], row["setup"], row["client"])


def merge(old: list[dict[str, Any]], new: list[Row]) -> list[dict[str, Any]]:
    fresh = [r.to_json() for r in new]
    keys = {key(r) for r in fresh}
    return [r for r in old if key(r) not in keys] + fresh


def run_peer(python: Path, name: str, n: int, latency_n: int) -> list[Row]:
    out = subprocess.run(
        [str(python), "-m", "bench.async_peers.peers", name, "-n", str(n), "--latency-n", str(latency_n)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return parse_emitted(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="n=1000, latency-n=50 (a smoke run)")
    parser.add_argument("--only", action="append", choices=NAMES, help="run only these (repeatable)")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing the doc")
    parser.add_argument("-n", type=int, help="invocations per throughput run [10000]")
    parser.add_argument("--latency-n", type=int, help="sequential invocations per latency run [200]")
    parser.add_argument("--profile-n", type=int, help="invocations per profiled run [10000]")
    parser.add_argument("--render", action="store_true", help="only rewrite the section from the saved results")
    args = parser.parse_args()
    if args.render:
        analysis = ANALYSIS.read_text().strip() if ANALYSIS.exists() else ""
        write_section(render(load(), analysis, METHOD), DOC)
        print(f"written to {DOC}", file=sys.stderr)
        return
    n = args.n or (1000 if args.quick else 10_000)
    latency_n = args.latency_n or (50 if args.quick else 200)
    profile_n = args.profile_n or (2000 if args.quick else 10_000)
    chosen = set(args.only or ["floors", *PEERS, "lambdahost", "profile"])
    if "lambdahost" in chosen:
        chosen |= {"lambdahost-sqlite", "lambdahost-postgresql"}

    python = venv.ensure()
    results = load() if args.only else {}
    rows: list[Row] = []
    if "floors" in chosen:
        results["floors"] = [r.to_json() for r in run_peer(python, "floors", n, max(latency_n, 1000))]
    for peer in PEERS:
        if peer in chosen:
            rows += run_peer(python, peer, n, latency_n)
    from bench.async_peers import lambdahost_side as lh

    for store in ("sqlite", "postgresql"):
        if f"lambdahost-{store}" in chosen:
            for topology in lh.TOPOLOGIES:
                rows += lh.measure(store, topology, n, latency_n, 50, ["boto3", "raw HTTP", "batch"])
    results["rows"] = merge(results.get("rows", []), rows)
    if "profile" in chosen:
        from bench.async_peers.profile import profile

        results["profiles"] = [
            profile("sqlite", lh.TOPOLOGIES[2], profile_n),
            profile("sqlite", lh.TOPOLOGIES[0], profile_n),
            profile("postgresql", lh.TOPOLOGIES[0], profile_n),
        ]
    results["run"] = {
        "machine": f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "note": (f" (quick run: n={n}, latency-n={latency_n})" if args.quick or n < 10_000 else "")
        + (f"; rows of earlier runs kept for what --only {' '.join(args.only)} did not run" if args.only else ""),
    }
    analysis = ANALYSIS.read_text().strip() if ANALYSIS.exists() else ""
    section = render(results, analysis, METHOD)
    if args.no_write:  # a trial run: neither the saved results nor the doc change
        print(section)
    else:
        save(results)
        write_section(section, DOC)
        print(section)
        print(f"written to {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()
