"""The stream poller: feeds functions from streams through their enabled stream event source mappings.

Each node that runs work runs one ``StreamPoller``. Its coordinator thread, every ``heartbeat_s``, reads the
mappings and the shards of their streams and, for every (mapping, shard), takes or renews the shard lease in the
store (``Store.acquire_shard_lease``, ``lease_s`` long): so across any number of nodes one node processes a
shard's batches at a time, and the shard of a node that died is taken over once its lease expired, from the last
checkpoint. A node that fails to renew a lease stops that shard's work (its checkpoint can no longer move).

Each leased shard has a thread. It starts at the checkpoint, or at the mapping's ``StartingPosition`` the first
time (``TRIM_HORIZON``: the oldest record kept; ``LATEST``: records put after the mapping was created, i.e. since
its ``created_at``; ``AT_TIMESTAMP``), reads up to ``BatchSize`` x ``ParallelizationFactor``
records, waits up to ``MaximumBatchingWindowInSeconds`` (counted from the first record's arrival) for a full read,
leaves out the records no filter pattern matches, spreads the rest over ``ParallelizationFactor`` lanes by
partition key (one key, one lane: its order holds), runs the lanes at once (``stream_batches.LaneRunner``:
synchronous invocations with AWS's retry, bisect, item-failure and record-age rules; given-up batches go to the
on-failure destination as ``KinesisBatchInfo`` records), and checkpoints after the last record of the read once
every lane is done. A node killed mid-read leaves the checkpoint before it: the next owner runs that read again
(at least once, like Lambda).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lambdahost.core import event_filters
from lambdahost.core.errors import LambdaHostError
from lambdahost.core.event_source_mappings import EventSourceMapping, SourceKind, StartingPosition
from lambdahost.core.ids import Clock, new_request_id, wall_clock
from lambdahost.core.model import LATEST
from lambdahost.core.stream_events import failure_record, filter_view, kinesis_record, lane_of
from lambdahost.core.streams import ShardLease, StreamRecord
from lambdahost.engine.invoker import Invoker
from lambdahost.storage.base import Store
from lambdahost.triggers.stream_batches import Invoked, LaneRunner

log = logging.getLogger(__name__)

MAX_READ = 10_000
TRIM_EVERY_S = 60.0  # how often a node deletes every stream's records past the retention
OK = "OK"
PROBLEM = "PROBLEM: Function call failed"

SendToQueue = Callable[[str, str, Mapping[str, tuple[str, str]]], str]


@dataclass(frozen=True)
class StreamPollerOptions:
    lease_s: float = 30.0
    heartbeat_s: float = 2.0  # how often leases are renewed and the mappings re-read
    poll_s: float = 0.2  # how often an idle shard is read again
    region: str = "us-east-1"


@dataclass(frozen=True)
class ShardLag:
    """How far a mapping is behind on one shard: records put after its checkpoint, and the iterator age (now minus
    the arrival of the last record processed; 0 when nothing is behind; None when it never processed one)."""

    shard_id: str
    records_behind: int
    iterator_age_s: float | None
    owner: str | None


@dataclass
class _Held:
    mapping: EventSourceMapping
    stream_name: str
    shard_id: str
    retention_s: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False
    thread: threading.Thread | None = None


def stream_name_of(arn: str) -> str:
    return arn.rsplit(":", 1)[-1][len("stream/") :]


@functools.lru_cache(maxsize=256)
def _patterns(texts: tuple[str, ...]) -> tuple[event_filters.Pattern, ...]:
    return event_filters.compile_patterns(texts)


class StreamPoller:
    def __init__(
        self,
        store: Store,
        list_mappings: Callable[[], list[EventSourceMapping]],
        invoker: Invoker,
        send_to_queue: SendToQueue,
        function_arn: Callable[[EventSourceMapping], str],
        identity_arn: Callable[[EventSourceMapping], str],
        owner: str,
        options: StreamPollerOptions = StreamPollerOptions(),
        clock: Clock = wall_clock,
    ) -> None:
        self.store = store
        self.list_mappings = list_mappings
        self.invoker = invoker
        self.send_to_queue = send_to_queue
        self.function_arn = function_arn
        self.identity_arn = identity_arn
        self.owner = owner
        self.options = options
        self.clock = clock
        self._held: dict[tuple[str, str], _Held] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._results: dict[str, str] = {}
        self._trimmed_at = 0.0
        self._wake = threading.Event()  # set by ``refresh`` and ``close``

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._coordinate, name="stream-poller", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            held = list(self._held.values())
        for shard in held:
            shard.stop.set()
        for shard in held:
            if shard.thread is not None:
                shard.thread.join(timeout)

    def refresh(self) -> None:
        """A mapping changed in this process: look at the mappings now rather than at the next heartbeat."""
        self._wake.set()

    def held_shards(self) -> list[tuple[str, str]]:
        """(mapping uuid, shard id) of the shards this node processes now."""
        with self._lock:
            return sorted(self._held)

    # -- the lag view ----------------------------------------------------------------------------------------------
    def lag(self, mapping: EventSourceMapping) -> list[ShardLag]:
        """Per shard of the mapping's stream: records behind and the iterator age (read from the store: any node's
        progress)."""
        now = self.clock()
        leases = {lease.shard_id: lease for lease in self.store.list_shard_leases(mapping.uuid)}
        found: list[ShardLag] = []
        for shard in self.store.list_shards(stream_name_of(mapping.source_arn)):
            lease = leases.get(shard.shard_id)
            checkpoint = lease.checkpoint if lease is not None and lease.checkpoint is not None else 0
            behind = max(shard.last_sequence - checkpoint, 0)
            age: float | None = None
            if behind == 0:
                age = 0.0
            elif lease is not None and lease.last_arrival is not None:
                age = max(now - lease.last_arrival, 0.0)
            owner = lease.lease_owner if lease is not None and lease.lease_expires > now else None
            found.append(ShardLag(shard.shard_id, behind, age, owner))
        return found

    # -- coordinating ----------------------------------------------------------------------------------------------
    def _coordinate(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("stream poller round failed", extra={"action": "stream_poll_failed"})
            self._wake.wait(self.options.heartbeat_s)
            self._wake.clear()

    def tick(self) -> None:
        """One round: renew held leases (stopping the shards whose lease was lost or whose mapping went away) and
        take the free ones; every ``TRIM_EVERY_S``, delete what every stream holds past its retention."""
        if self.clock() - self._trimmed_at >= TRIM_EVERY_S:
            self._trim()
        wanted: dict[tuple[str, str], tuple[EventSourceMapping, str]] = {}
        for mapping in self.list_mappings():
            if mapping.source_kind is not SourceKind.STREAM or not mapping.enabled:
                continue
            name = stream_name_of(mapping.source_arn)
            for found in self.store.list_shards(name):
                wanted[(mapping.uuid, found.shard_id)] = (mapping, name)
        with self._lock:
            held = dict(self._held)
        share = self._fair_share(len(wanted))
        kept = sorted(key for key, shard in held.items() if key in wanted and not shard.stop.is_set())
        handed = set(kept[share:])  # more than this node's share: finish the batch, checkpoint, let go
        for key, shard in held.items():
            if key not in wanted or key in handed:
                shard.stop.set()
                continue
            shard.mapping = wanted[key][0]
            if self._acquire(key, shard.stream_name) is None:
                log.warning("shard lease lost", extra={"action": "shard_lease_lost", "shard": key[1]})
                shard.lost = True
                shard.stop.set()
        room = share - (len(kept) - len(handed))
        for key, (mapping, name) in wanted.items():
            if room <= 0 or self._stop.is_set():
                break
            if key in held:
                continue
            lease = self._acquire(key, name)
            if lease is not None:
                self._start_shard(_Held(mapping, name, key[1]), lease)
                room -= 1

    def _fair_share(self, shards: int) -> int:
        """How many of the ``shards`` this node takes: an equal share among the live nodes (those whose worker
        heartbeat is younger than a lease), so a second node gets shards to process and not only the first one
        to start; every shard still has a node while any node lives."""
        now = self.clock()
        live = sum(
            1
            for worker in self.store.workers()
            if worker.stopped_at is None and now - worker.heartbeat_at <= self.options.lease_s
        )
        return max(1, math.ceil(shards / max(live, 1)))

    def _trim(self) -> None:
        self._trimmed_at = now = self.clock()
        after: str | None = None
        while True:
            page = self.store.list_streams(after, 100)
            for stream in page:
                self.store.trim_stream(stream.name, now)
            if len(page) < 100:
                return
            after = page[-1].name

    def _acquire(self, key: tuple[str, str], stream_name: str) -> ShardLease | None:
        return self.store.acquire_shard_lease(
            key[0], stream_name, key[1], self.owner, self.clock(), self.options.lease_s
        )

    def _start_shard(self, shard: _Held, lease: ShardLease) -> None:
        shard.thread = threading.Thread(
            target=self._run_shard, args=(shard, lease), name=f"stream-{shard.shard_id}", daemon=True
        )
        with self._lock:
            self._held[(shard.mapping.uuid, shard.shard_id)] = shard
        shard.thread.start()

    # -- one shard -------------------------------------------------------------------------------------------------
    def _run_shard(self, shard: _Held, lease: ShardLease) -> None:
        key = (shard.mapping.uuid, shard.shard_id)
        try:
            stream = self.store.get_stream(shard.stream_name)
            shard.retention_s = stream.retention_s if stream is not None else None
            checkpoint = lease.checkpoint
            if checkpoint is None:
                checkpoint = self._starting_point(shard)
                if not self.store.checkpoint_shard(*key, self.owner, checkpoint, None, self.clock()):
                    return
            while not shard.stop.is_set():
                done = self._round(shard, checkpoint)
                if done is None:
                    shard.stop.wait(self.options.poll_s)
                elif done is False:
                    return
                else:
                    checkpoint = done
        except Exception:
            log.exception("stream shard failed", extra={"action": "stream_shard_failed", "shard": shard.shard_id})
        finally:
            with self._lock:
                self._held.pop(key, None)
            if not shard.lost:
                try:
                    self.store.release_shard_lease(*key, self.owner)
                except LambdaHostError:
                    pass

    def _starting_point(self, shard: _Held) -> int:
        mapping = shard.mapping
        if mapping.starting_position is StartingPosition.LATEST:
            return self.store.sequence_before(shard.stream_name, shard.shard_id, mapping.created_at)
        if mapping.starting_position is StartingPosition.AT_TIMESTAMP:
            at = mapping.starting_position_timestamp or 0.0
            return self.store.sequence_before(shard.stream_name, shard.shard_id, at)
        return 0

    def _round(self, shard: _Held, checkpoint: int) -> int | bool | None:
        """Read after ``checkpoint`` and process: the new checkpoint; None when there is nothing (yet) to do;
        False when the shard must stop (stopped, or the lease is lost)."""
        mapping = shard.mapping
        lanes = max(1, mapping.parallelization_factor)
        window = min(MAX_READ, mapping.batch_size * lanes)
        now = self.clock()
        records = self.store.get_records(shard.stream_name, shard.shard_id, checkpoint, now, window)
        if not records:
            return None
        waited = now - records[0].arrival
        if len(records) < window and waited < mapping.maximum_batching_window_s:
            shard.stop.wait(min(mapping.maximum_batching_window_s - waited, 1.0))
            return None
        identity = self._identity(mapping)
        events = {r.sequence: self._event_record(mapping, r, identity) for r in records}
        patterns = _patterns(mapping.filter_patterns)
        selected = [r for r in records if event_filters.any_matches(patterns, filter_view(events[r.sequence], r.data))]
        runners = [self._runner(shard, events) for _ in range(lanes)]
        by_lane: list[list[StreamRecord]] = [[] for _ in range(lanes)]
        for record in selected:
            by_lane[lane_of(record, lanes)].append(record)
        if lanes == 1:
            finished = runners[0].run(by_lane[0])
        else:
            with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="stream-lane") as pool:
                finished = all(pool.map(lambda pair: pair[0].run(pair[1]), zip(runners, by_lane, strict=True)))
        if not finished:
            return False
        last = records[-1]
        if not self.store.checkpoint_shard(
            mapping.uuid, shard.shard_id, self.owner, last.sequence, last.arrival, self.clock()
        ):
            shard.lost = True
            return False
        problem = any(r.report.failures for r in runners)
        if selected:
            self._set_result(mapping, PROBLEM if problem else OK)
        return last.sequence

    def _event_record(self, mapping: EventSourceMapping, record: StreamRecord, identity: str) -> dict[str, object]:
        return kinesis_record(record, mapping.source_arn, self.options.region, identity)

    def _identity(self, mapping: EventSourceMapping) -> str:
        try:
            return self.identity_arn(mapping)
        except LambdaHostError:  # the function is gone: its invocation will say so
            return ""

    def _runner(self, shard: _Held, events: Mapping[int, dict[str, object]]) -> LaneRunner:
        mapping = shard.mapping

        def invoke(batch: Sequence[StreamRecord]) -> Invoked:
            payload = json.dumps({"Records": [events[r.sequence] for r in batch]}).encode()
            qualifier = None if mapping.qualifier == LATEST else mapping.qualifier
            try:
                result = self.invoker.invoke(mapping.function_name, payload, qualifier)
            except LambdaHostError as exc:
                log.warning(
                    "stream batch not invoked: %s", exc, extra={"action": "stream_invoke_refused", "uuid": mapping.uuid}
                )
                self._set_result(mapping, f"PROBLEM: {exc.code}")
                return Invoked(new_request_id(), system_error=exc.code)
            return Invoked(result.request_id, result.payload, result.function_error, result.executed_version)

        def give_up(batch: Sequence[StreamRecord], condition: str, count: int, last: Invoked | None) -> None:
            log.warning(
                "stream batch given up (%s)",
                condition,
                extra={"action": "stream_batch_given_up", "uuid": mapping.uuid, "shard": shard.shard_id},
            )
            destination = mapping.on_failure_destination
            if destination is None:
                return
            record = failure_record(
                batch,
                mapping.source_arn,
                self.function_arn(mapping),
                condition,
                count,
                last.request_id if last is not None else new_request_id(),
                last.response_context() if last is not None else {},
                self.clock(),
            )
            try:
                self.send_to_queue(destination, json.dumps(record), {})
            except LambdaHostError:
                log.exception("on-failure destination unreachable", extra={"action": "stream_destination_failed"})

        def wait(seconds: float) -> bool:
            return not shard.stop.wait(seconds)

        return LaneRunner(mapping, invoke, give_up, wait, self.clock, shard.retention_s)

    def _set_result(self, mapping: EventSourceMapping, result: str) -> None:
        if self._results.get(mapping.uuid) == result:
            return
        self._results[mapping.uuid] = result
        try:
            self.store.set_processing_result(mapping.uuid, result, self.clock())
        except LambdaHostError:
            log.warning("could not store a processing result", extra={"action": "stream_result_failed"})
