"""Fault tests with real processes (issue 3): `kill -9` a `lambdahost worker` in the middle of 1,000 asynchronous
invocations, `kill -9` a `lambdahost serve` during a burst of Event invokes, and freeze a worker (SIGSTOP) past its
lease, on PostgreSQL and on a SQLite file shared by several processes.

What must hold afterwards: every acknowledged invocation (202) ends succeeded, or failed after all its attempts for
the few that always fail (``n % 50 == 7``), which then are in the function's dead-letter queue; the store holds
exactly the acknowledged ones (plus, after a server kill, only finished ones among the requests that got no answer);
no invocation ends twice in its transitions (no double success); the invocations the killed process was running went
``running -> orphaned -> pending`` (taken back by another worker once the lease expired) and ran again there; the
killed process's fork server and execution environments die with it.

Leases are short here (``--lease-seconds 1.5 --heartbeat-seconds 0.25``), so recovery takes about two seconds.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from lambdahost.client import Client
from lambdahost.core.lifecycle import can_transition
from lambdahost.core.model import Invocation, InvocationStatus
from lambdahost.storage.base import WORKER_LOST, Store, open_store
from tests.acceptance.conftest import ServerProcess, clean_env, start_server
from tests.acceptance.processes import Proc, WorkerProcess, process_tree, start_worker
from tests.waiting import eventually

S = InvocationStatus

APP = """\
import time


def handler(event, context):
    time.sleep(event.get("sleep", 0.05))
    if event["n"] % FAIL_EVERY == 7:
        raise RuntimeError(f"planned failure of {context.aws_request_id}")
    return {"id": context.aws_request_id, "n": event["n"]}
"""
FAIL_EVERY = 50  # the invocations with n % 50 == 7 always fail: retried twice, then failed
MAX_ATTEMPTS = 3  # AWS's default: the first attempt and two retries

LEASE_S = 1.5
LEASE = ("--lease-seconds", str(LEASE_S), "--heartbeat-seconds", "0.25")
RETRIES = ("--retry-delays", "0.2,0.4")
DRAIN_TIMEOUT_S = 60.0  # generous: two cores shared with other work


def app_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP.replace("FAIL_EVERY", str(FAIL_EVERY)))
    return buf.getvalue()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One store shared by every process of a test: a SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """The test's own view of the shared store (read only, apart from the migration the first opener runs)."""
    opened = open_store(store_url)
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def processes() -> Iterator[list[ServerProcess | WorkerProcess]]:
    """Servers and workers a test started; stopped (SIGTERM, then SIGKILL) at teardown."""
    started: list[ServerProcess | WorkerProcess] = []
    yield started
    for process in reversed(started):
        process.stop()


# -- firing Event invokes ------------------------------------------------------------------------------------------


class Burst:
    """``threads`` clients that fire Event invokes of ``function`` at ``url`` (payload ``{"n": N}``) until ``total``
    were sent or the server stops answering. ``acked``: the request ids answered 202; ``unanswered``: requests
    that got no answer (connection refused or lost), after which a thread stops; ``unexpected``: any other error."""

    def __init__(self, url: str, function: str, threads: int, total: int | None = None) -> None:
        self.url = url
        self.function = function
        self.total = total
        self.acked: list[str] = []
        self.unanswered: list[str] = []
        self.unexpected: list[str] = []
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._fire, name=f"burst-{n}", daemon=True) for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def _fire(self) -> None:
        with Client(self.url, timeout=30.0) as client:
            while True:
                with self._lock:
                    n = next(self._numbers)
                if self.total is not None and n >= self.total:
                    return
                try:
                    request_id = client.invoke_async(self.function, {"n": n})
                except (ConnectionError, TimeoutError) as exc:  # ServerUnreachable is a ConnectionError
                    with self._lock:
                        self.unanswered.append(f"#{n}: {exc!r}")
                    return
                except Exception as exc:
                    with self._lock:
                        self.unexpected.append(f"#{n}: {exc!r}")
                    return
                with self._lock:
                    self.acked.append(request_id)

    def join(self, timeout: float = 60.0) -> None:
        for thread in self._threads:
            thread.join(timeout)
        assert not any(t.is_alive() for t in self._threads), "a client thread is still sending"


# -- reading the store ---------------------------------------------------------------------------------------------


def unfinished(store: Store, function: str) -> dict[str, int]:
    return {d.status.value: d.count for d in store.queue_depth() if d.function_name == function}


def running_leases(store: Store, function: str) -> Counter[str]:
    """How many running invocations each worker holds."""
    running = store.list_invocations(function, S.RUNNING, limit=1000)
    return Counter(inv.lease_owner for inv in running if inv.lease_owner is not None)


def stored_ids(store: Store, function: str) -> set[str]:
    return {inv.id for inv in store.list_invocations(function, limit=1_000_000)}


def load(store: Store, ids: Iterable[str]) -> dict[str, Invocation | None]:
    return {request_id: store.get_invocation(request_id) for request_id in ids}


def path(inv: Invocation, labels: dict[str, str]) -> str:
    """``created@server -> pending@server -> ready@w1 -> ...``, workers by their short labels."""
    steps = (f"{t.status.value}@{labels.get(t.worker or '', t.worker)}" for t in inv.transitions)
    return " -> ".join(steps)


def describe(records: dict[str, Invocation | None], labels: dict[str, str], bad: Iterable[str]) -> str:
    statuses = Counter("missing" if inv is None else inv.status.value for inv in records.values())
    lines = [f"{len(records)} invocations by status: {dict(statuses)}"]
    for request_id in list(bad)[:8]:
        inv = records.get(request_id)
        if inv is None:
            lines.append(f"  {request_id}: missing")
        else:
            lines.append(
                f"  {request_id}: {inv.status.value}, attempt {inv.attempt}, worker "
                f"{labels.get(inv.worker or '', inv.worker)}, error {inv.error_type}: {inv.error_message}, "
                f"lease {inv.lease_owner}, path {path(inv, labels)}"
            )
    return "\n".join(lines)


def audit(records: dict[str, Invocation | None]) -> dict[str, str]:
    """Each record's problem, if any, against what every acknowledged invocation must be once done: a legal path
    that ends once, ``attempt`` counting the attempts that ended (retries and recoveries), no lease left; then
    either succeeded once, with its own result, by the worker that ran it, or (the planned failures only) failed
    after every attempt, by the function's error or, when the last attempt was lost with its worker,
    ``Runtime.WorkerLost``."""
    problems: dict[str, str] = {}
    for request_id, inv in records.items():
        problem = _problem(request_id, inv)
        if problem:
            problems[request_id] = problem
    return problems


def _problem(request_id: str, inv: Invocation | None) -> str | None:
    if inv is None:
        return "vanished: acknowledged but not in the store"
    steps = [t.status for t in inv.transitions]
    planned_failure = json.loads(inv.payload)["n"] % FAIL_EVERY == 7
    expected = S.FAILED if planned_failure else S.SUCCEEDED
    if inv.status is not expected:
        return f"ended {inv.status.value}, not {expected.value}"
    finals = [s for s in steps if s in (S.SUCCEEDED, S.FAILED, S.TERMINATED)]
    if finals != [expected]:
        return f"final steps {[s.value for s in finals]} in its transitions"
    if steps[:2] != [S.CREATED, S.PENDING] or steps[-1] is not expected:
        return f"does not start created -> pending and end {expected.value}"
    illegal = [(a.value, b.value) for a, b in itertools.pairwise(steps) if not can_transition(a, b)]
    if illegal:
        return f"illegal steps {illegal}"
    ended = sum(1 for a, b in itertools.pairwise(steps) if b is S.PENDING and a in (S.RUNNING, S.ORPHANED))
    if inv.attempt != 1 + ended:
        return f"attempt {inv.attempt} after {ended} ended attempts"
    if inv.lease_owner is not None:
        return f"still leased to {inv.lease_owner}"
    if planned_failure:
        if inv.attempt != MAX_ATTEMPTS:
            return f"failed after {inv.attempt} attempts, not {MAX_ATTEMPTS}"
        if inv.error_type not in ("RuntimeError", WORKER_LOST):
            return f"failed with {inv.error_type}: {inv.error_message}"
        return None
    last_run, success = inv.transitions[-2], inv.transitions[-1]
    if last_run.status is not S.RUNNING or not (last_run.worker == success.worker == inv.worker):
        return "the success is not attributed to the worker that ran it"
    result = json.loads(inv.result or b"null")
    if not isinstance(result, dict) or result.get("id") != request_id:
        return f"result {result!r} is not its own"
    return None


def recovered_from(inv: Invocation, lost: str) -> str | None:
    """How ``inv`` was taken back from the lost worker ``lost``: "orphaned" (it was running there), "requeued"
    (claimed there, never started), or None (``lost`` did not hold it when it died). Raises AssertionError when the
    way back is not the lifecycle's."""
    steps = inv.transitions
    held = [n for n, t in enumerate(steps) if t.worker == lost and t.status in (S.READY, S.RUNNING)]
    if not held:
        return None
    last = held[-1]
    after = steps[last + 1 :]
    if after and after[0].worker == lost:  # it finished there (a final step by the lost worker)
        return None
    assert after, "a held invocation with no step after it"
    if steps[last].status is S.RUNNING:
        assert [t.status for t in after[:2]] == [S.ORPHANED, S.PENDING], "running -> orphaned -> pending"
        assert after[0].worker == after[1].worker != lost, "recovered by another worker"
        return "orphaned"
    assert after[0].status is S.PENDING and after[0].worker != lost, "ready -> pending by another worker"
    return "requeued"


def worker_id_of(process: subprocess.Popen[bytes]) -> str:
    """The worker id of a `lambdahost serve` (its invoker's: host and pid)."""
    return f"{socket.gethostname()}:{process.pid}"


def all_dead(tree: list[Proc]) -> bool:
    return not any(proc.alive() for proc in tree)


def tree_report(tree: list[Proc]) -> str:
    return "\n".join(f"  {p.pid} {'ALIVE' if p.alive() else 'gone'}: {p.command[:100]}" for p in tree)


def wait_drained(store: Store, function: str, diagnostics: Callable[[], str]) -> None:
    if not eventually(lambda: not unfinished(store, function), timeout=DRAIN_TIMEOUT_S, interval=0.1):
        pytest.fail(f"still unfinished after {DRAIN_TIMEOUT_S:.0f} s: {unfinished(store, function)}\n{diagnostics()}")


# -- the tests -----------------------------------------------------------------------------------------------------


def test_kill_9_of_a_worker_loses_no_invocation_and_runs_none_to_success_twice(
    store_url: str, store: Store, tmp_path: Path, processes: list[ServerProcess | WorkerProcess]
) -> None:
    total, function = 1000, "fault-worker-kill"
    server = start_server(tmp_path / "server", "--store", store_url, "--worker-slots", "0", *LEASE, *RETRIES)
    processes.append(server)
    workers = [
        start_worker(tmp_path / f"worker{n}", store_url, server.url, "--slots", "8", *LEASE, *RETRIES) for n in (1, 2)
    ]
    processes.extend(workers)
    labels = {worker_id_of(server.process): "server", workers[0].id: "w1", workers[1].id: "w2"}
    with Client(server.url) as client:
        client.create_function(function, app_zip(), "app.handler")
        dlq = client.create_queue("fault-dlq")
        dlq_arn = client.queue_attributes(dlq, ["QueueArn"])["QueueArn"]
        client.update_function_configuration(function, DeadLetterConfig={"TargetArn": dlq_arn})

    burst = Burst(server.url, function, threads=4, total=total)

    def finished() -> int:
        return len(burst.acked) - sum(unfinished(store, function).values())

    holders: Counter[str] = Counter()

    def victim_chosen() -> bool:  # a good share finished, and a worker holds running invocations
        if finished() < 250:
            return False
        holders.update(running_leases(store, function))
        return bool(holders)

    assert eventually(victim_chosen, timeout=DRAIN_TIMEOUT_S, interval=0.05), (
        f"no running work to interrupt: {unfinished(store, function)}, {len(burst.acked)} acknowledged"
    )
    victim = next(w for w in workers if w.id == holders.most_common(1)[0][0])
    survivor = next(w for w in workers if w is not victim)
    tree = process_tree(victim.process.pid)
    victim.kill()
    killed_at = time.time()
    died = eventually(lambda: all_dead(tree), timeout=10, interval=0.005)
    died_in = time.time() - killed_at
    labels |= {victim.id: "victim", survivor.id: "survivor"}

    burst.join()
    assert not burst.unanswered and not burst.unexpected, f"{burst.unanswered[:5]} {burst.unexpected[:5]}"
    assert len(burst.acked) == total

    def diagnostics() -> str:
        records = load(store, burst.acked)
        bad = audit(records)
        return (
            f"{describe(records, labels, bad)}\nworkers: {store.workers()}\n"
            f"survivor's output:\n{survivor.output()[-3000:]}"
        )

    assert died, f"the victim's processes outlived it by 10 s:\n{tree_report(tree)}"
    wait_drained(store, function, diagnostics)

    records = load(store, burst.acked)
    problems = audit(records)
    assert not problems, f"{problems}\n{describe(records, labels, problems)}"
    assert stored_ids(store, function) == set(burst.acked), "the store holds exactly the acknowledged invocations"
    done = [inv for inv in records.values() if inv is not None]
    late = [inv.id for inv in done if any(t.worker == victim.id and t.at > killed_at for t in inv.transitions)]
    assert not late, f"steps by the victim after its death: {describe(records, labels, late)}"
    recovered = Counter(recovered_from(inv, victim.id) for inv in done)
    succeeded = [inv for inv in done if inv.status is S.SUCCEEDED]
    by_worker = Counter(labels[inv.worker or ""] for inv in succeeded)
    assert recovered["orphaned"] >= 1, f"the kill interrupted no running invocation: {recovered}"
    assert len(succeeded) == total - total // FAIL_EVERY, "every invocation but the planned failures succeeded"
    assert by_worker["victim"] + by_worker["survivor"] == len(succeeded), f"succeeded by worker: {by_worker}"
    assert by_worker["victim"] >= 1
    orphaned = [inv for inv in succeeded if recovered_from(inv, victim.id) == "orphaned"]
    assert all(inv.attempt == 2 and inv.worker == survivor.id for inv in orphaned), "re-run once, by the survivor"
    # every failure is also in the dead-letter queue (at least once: a worker lost between delivering and storing
    # the final status delivers again on the retry), with its request id
    failed = {inv.id for inv in done if inv.status is S.FAILED}
    assert all(records[i].routed_to == dlq_arn for i in failed), "each failed record says where it went"  # type: ignore[union-attr]
    dead: Counter[str] = Counter()
    with Client(server.url) as client:
        while batch := client.receive_messages(dlq, max_messages=10):
            for message in batch:
                dead[message["MessageAttributes"]["RequestID"]["StringValue"]] += 1
                client.delete_message(dlq, message["ReceiptHandle"])
    assert set(dead) == failed, f"dead-letter messages {dict(dead)} for the failures {sorted(failed)}"
    print(
        f"taken back from the victim: {dict(recovered)}; succeeded by worker: {dict(by_worker)}, "
        f"failed: {len(done) - len(succeeded)} (dead-letter messages: {sum(dead.values())}); "
        f"its {len(tree)} processes were gone {died_in:.3f} s after it"
    )


def test_kill_9_of_a_server_during_a_burst_loses_no_acknowledged_invocation(
    store_url: str, store: Store, tmp_path: Path, processes: list[ServerProcess | WorkerProcess]
) -> None:
    function = "fault-server-kill"
    args = ("--store", store_url, "--worker-slots", "8", *LEASE, *RETRIES)
    first = start_server(tmp_path / "server", *args)
    processes.append(first)
    first_id = worker_id_of(first.process)
    with Client(first.url) as client:
        client.create_function(function, app_zip(), "app.handler")

    burst = Burst(first.url, function, threads=4)

    def loaded() -> bool:  # hundreds acknowledged, some of them running in the server's environments
        return len(burst.acked) >= 300 and running_leases(store, function)[first_id] >= 1

    assert eventually(loaded, timeout=DRAIN_TIMEOUT_S, interval=0.02), (
        f"{len(burst.acked)} acknowledged, {unfinished(store, function)}, {burst.unanswered[:3]}"
    )
    tree = process_tree(first.process.pid)
    first.stop(signal.SIGKILL)
    killed_at = time.time()
    died = eventually(lambda: all_dead(tree), timeout=10, interval=0.005)
    died_in = time.time() - killed_at
    assert died, f"the killed server's fork server or environments outlived it by 10 s:\n{tree_report(tree)}"
    burst.join()
    assert not burst.unexpected, burst.unexpected[:5]
    first_output = first.output()
    acked = set(burst.acked)
    in_store_at_kill = stored_ids(store, function)
    assert acked <= in_store_at_kill, f"acknowledged but not committed: {sorted(acked - in_store_at_kill)[:5]}"

    second = start_server(tmp_path / "server", *args)  # same store, same data dir
    processes.append(second)
    second_id = worker_id_of(second.process)
    labels = {first_id: "killed", second_id: "restarted"}

    def diagnostics() -> str:
        records = load(store, stored_ids(store, function))
        bad = audit(records)
        return (
            f"{describe(records, labels, bad)}\nworkers: {store.workers()}\n"
            f"killed server's output:\n{first_output[-2000:]}\nrestarted server's output:\n{second.output()[-3000:]}"
        )

    wait_drained(store, function, diagnostics)
    records = load(store, burst.acked)
    problems = audit(records)
    assert not problems, f"{problems}\n{describe(records, labels, problems)}"

    # Requests that got no answer may have been committed: then they ran like the others, never stuck.
    extra = stored_ids(store, function) - acked
    assert len(extra) <= len(burst.unanswered), f"{len(extra)} unacknowledged in the store, {burst.unanswered}"
    extra_records = load(store, extra)
    extra_problems = audit(extra_records)
    assert not extra_problems, f"{extra_problems}\n{describe(extra_records, labels, extra_problems)}"

    done = [inv for inv in (*records.values(), *extra_records.values()) if inv is not None]
    late = [inv.id for inv in done if any(t.worker == first_id and t.at > killed_at for t in inv.transitions)]
    assert not late, f"steps by the killed server after its death: {describe(records | extra_records, labels, late)}"
    recovered = Counter(recovered_from(inv, first_id) for inv in done)
    assert recovered["orphaned"] >= 1, f"the kill interrupted no running invocation: {recovered}"
    for inv in done:
        if recovered_from(inv, first_id) is not None:
            assert inv.worker == second_id
            # taken back only once the lease had expired: a claim leases for LEASE_S, heartbeats only extend it
            claimed_at = max(t.at for t in inv.transitions if t.worker == first_id and t.status is S.READY)
            taken_back = next(t.at for t in inv.transitions if t.at > claimed_at and t.worker == second_id)
            assert taken_back - claimed_at >= LEASE_S - 0.01, path(inv, labels)
    print(
        f"{len(acked)} acknowledged, {len(burst.unanswered)} unanswered ({len(extra)} of them committed); "
        f"taken back from the killed server: {dict(recovered)}; its {len(tree)} processes were gone {died_in:.3f} s "
        "after it"
    )


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_lease_must_outlast_its_heartbeat(command: str) -> None:
    argv = [sys.executable, "-m", "lambdahost", command, "--lease-seconds", "1", "--heartbeat-seconds", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, env=clean_env(), timeout=30, check=False)
    assert done.returncode == 2
    assert "must be longer than the heartbeat interval" in done.stderr


class OverlappingAttempts(AssertionError):
    """Two attempts of one invocation overlapped in one worker, and the stale one was taken for the current one."""


def test_a_frozen_worker_that_claims_back_its_own_invocations_records_only_the_attempts_that_hold_them(
    store_url: str, store: Store, tmp_path: Path, processes: list[ServerProcess | WorkerProcess]
) -> None:
    """A worker frozen (SIGSTOP) past its lease while its environments keep running its handlers: the other worker
    takes its invocations back (``running -> orphaned -> pending``, attempt 2) but has no free slot to run them; the
    frozen one resumes, claims them again and starts attempt 2 while attempt 1 still runs in its environments. Only
    the attempt that holds the lease may record an outcome: attempt 1's late result must be refused."""
    function, handler_s = "fault-frozen-worker", 4.0  # attempt 1 outlasts the freeze (about 1.5 s) by far
    lease = ("--lease-seconds", "1", "--heartbeat-seconds", "0.2")
    server = start_server(tmp_path / "server", "--store", store_url, "--worker-slots", "0", *lease, *RETRIES)
    processes.append(server)
    with Client(server.url) as client:
        client.create_function(function, app_zip(), "app.handler", timeout=30)
        busy = start_worker(tmp_path / "busy", store_url, server.url, "--slots", "1", *lease, *RETRIES)
        processes.append(busy)
        blocker = client.invoke_async(function, {"n": 0, "sleep": 20})  # fills the busy worker's only slot
        assert eventually(lambda: running_leases(store, function)[busy.id] == 1, timeout=20)
        frozen = start_worker(tmp_path / "frozen", store_url, server.url, "--slots", "8", *lease, *RETRIES)
        processes.append(frozen)
        ids = [client.invoke_async(function, {"n": n, "sleep": handler_s}) for n in range(1, 5)]
        labels = {busy.id: "busy", frozen.id: "frozen", worker_id_of(server.process): "server"}
        assert eventually(lambda: running_leases(store, function)[frozen.id] == 4, timeout=20)
        os.kill(frozen.process.pid, signal.SIGSTOP)
        try:
            taken_back = eventually(lambda: unfinished(store, function).get("pending") == 4, timeout=10)
        finally:
            os.kill(frozen.process.pid, signal.SIGCONT)
        assert taken_back, f"the frozen worker's invocations were not taken back: {unfinished(store, function)}"

        def diagnostics() -> str:
            return f"{describe(load(store, ids), labels, ids)}\nfrozen worker's output:\n{frozen.output()[-3000:]}"

        def done() -> bool:
            return all((inv := store.get_invocation(i)) is not None and inv.finished_at for i in ids)

        if not eventually(done, timeout=DRAIN_TIMEOUT_S, interval=0.1):
            pytest.fail(f"not finished after {DRAIN_TIMEOUT_S:.0f} s:\n{diagnostics()}")
        client.cancel_invocation(blocker)
    busy.kill()  # its environment still sleeps through the cancelled blocker
    records = load(store, ids)
    problems = audit(records)
    assert not problems, f"{problems}\n{describe(records, labels, problems)}"
    scenario = [
        ("ready", frozen.id),
        ("running", frozen.id),
        ("orphaned", busy.id),
        ("pending", busy.id),
        ("ready", frozen.id),  # claimed back by the worker that ran attempt 1
        ("running", frozen.id),
    ]
    for inv in records.values():
        assert inv is not None and [(t.status.value, t.worker) for t in inv.transitions[2:8]] == scenario, diagnostics()

    # The outcome recorded must be that of the attempt holding the lease, which started at the last "running" step
    # and could not end before the handler's sleep.
    def timing(inv: Invocation) -> str:
        end, first, second = inv.transitions[-1].at, inv.transitions[3].at, inv.transitions[-2].at
        return f"recorded {end - second:.3f} s after attempt 2 started, {end - first:.3f} s after attempt 1 started"

    early = {
        i: timing(inv)
        for i, inv in records.items()
        if inv and inv.transitions[-1].at - inv.transitions[-2].at < handler_s
    }
    if early:
        raise OverlappingAttempts(f"outcomes recorded before their attempt could end: {early}\n{diagnostics()}")
    if "Traceback" in frozen.output():
        raise OverlappingAttempts(f"the frozen worker failed:\n{frozen.output()[-3000:]}")


def test_sigterm_of_a_busy_worker_finishes_what_runs_and_hands_back_the_rest_at_once(
    store_url: str, store: Store, tmp_path: Path, processes: list[ServerProcess | WorkerProcess]
) -> None:
    """SIGTERM to a worker with a long lease (60 s) in the middle of 300 invocations of 50 ms: it exits within a few
    seconds, the invocations it was running finish there (succeeded by it, not orphaned), and nothing waits for its
    lease to expire: a second worker started afterwards finishes the rest well within the lease."""
    total, function = 300, "fault-sigterm"
    lease = ("--lease-seconds", "60", "--heartbeat-seconds", "1")
    server = start_server(tmp_path / "server", "--store", store_url, "--worker-slots", "0", *lease, *RETRIES)
    processes.append(server)
    first = start_worker(tmp_path / "first", store_url, server.url, "--slots", "8", *lease, *RETRIES)
    processes.append(first)
    with Client(server.url) as client:
        client.create_function(function, app_zip(), "app.handler")
        acked = client.invoke_async_batch(function, [{"n": n * FAIL_EVERY} for n in range(total)])  # none fails
    assert eventually(lambda: total - sum(unfinished(store, function).values()) >= 50, timeout=DRAIN_TIMEOUT_S)
    running_at_stop = {inv.id for inv in store.list_invocations(function, S.RUNNING, limit=100)}
    stopped_at = time.monotonic()
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(15) == 0, first.output()[-2000:]
    assert time.monotonic() - stopped_at < 10, "it stopped within its grace, not after every queued invocation"
    held = {inv.id: inv for inv in store.list_invocations(function, limit=1000) if inv.lease_owner == first.id}
    assert held == {}, f"it gave back everything it held: {sorted(held)[:5]}"
    second = start_worker(tmp_path / "second", store_url, server.url, "--slots", "8", *lease, *RETRIES)
    processes.append(second)
    handed_at = time.monotonic()
    wait_drained(store, function, lambda: describe(load(store, acked), {}, acked))
    assert time.monotonic() - handed_at < 50, "finished well before the 60 s lease could have expired"
    records = load(store, acked)
    problems = audit(records)
    assert not problems, f"{problems}"
    done = [inv for inv in records.values() if inv is not None]
    assert all(inv.status is S.SUCCEEDED and inv.attempt == 1 for inv in done), "no attempt lost to the stop"
    orphaned = [inv.id for inv in done if S.ORPHANED in [t.status for t in inv.transitions]]
    assert orphaned == [], "what ran at the stop finished there; nothing was orphaned"
    finished_by_first = {inv.id for inv in done if inv.worker == first.id}
    assert running_at_stop and running_at_stop <= finished_by_first, "what ran at the SIGTERM finished there"
    assert {inv.worker for inv in done} == {first.id, second.id}
