"""The queue poller: feeds functions from named queues through their event source mappings.

Every Platform that runs queued work runs one ``QueuePoller``. A supervisor thread reads the mappings from the store
every ``recheck_s`` (at once after a change made through this process: ``refresh``) and keeps one ``_Feed`` per
enabled queue mapping; a disabled, deleted or changed-to-disabled mapping's feed stops after the batch it is on.

A feed runs consumer threads, each one batch at a time: receive up to ``BatchSize`` messages (a receive is a lease:
the messages stay hidden for the queue's visibility timeout, so several consumers and several nodes can poll one
queue), keep receiving until the batch is full, the batching window has passed (from the first message), or the
records would pass the 6 MB payload limit (the message that would pass it is made visible again at once); build
AWS's SQS event; drop and delete the messages no filter matches; invoke the function synchronously through the
``Invoker`` (admission, warm pool, the invocation record, as any synchronous call); then delete what succeeded.
A function error, timeout, crash or throttle leaves the whole batch in flight, to be received again after the
visibility timeout (so the queue's ``maxReceiveCount`` moves a poison message to its dead-letter queue). With
``ReportBatchItemFailures`` only the listed messages stay (``core.queue_events``; FIFO: everything from the first
failure on). Consumers scale with the backlog: one per feed when the queue is idle, another added after each full
batch, up to ``ScalingConfig.MaximumConcurrency`` (default ``default_concurrency``, 5), and one that finds the
queue empty leaves while others run. Concurrent batches really run at once: each consumer blocks in its own
environment.

``LastProcessingResult`` is written only when it changes (``OK``, ``PROBLEM: Function call failed``, ...).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from lambdahost.core.errors import LambdaHostError, ResourceNotFound, TooManyRequests
from lambdahost.core.event_filters import Pattern, any_matches, compile_patterns, record_view
from lambdahost.core.event_source_mappings import EventSourceMapping, SourceKind
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.messages import MAX_RECEIVE_BATCH, Message
from lambdahost.core.model import LATEST
from lambdahost.core.queue_errors import QueueDoesNotExist, QueueError
from lambdahost.core.queue_events import (
    EMPTY_EVENT_BYTES,
    MAX_EVENT_BYTES,
    WholeBatchFailed,
    event_json,
    failed_items,
    kept_ids,
    record_size,
    sqs_record,
)
from lambdahost.engine.event_source_mappings import EventSourceMappings
from lambdahost.engine.invoker import Invoker
from lambdahost.engine.message_queues import MessageQueues

log = logging.getLogger(__name__)

OK = "OK"
FUNCTION_FAILED = "PROBLEM: Function call failed"
FUNCTION_THROTTLED = "PROBLEM: Function call throttled"
FUNCTION_NOT_FOUND = "PROBLEM: Function not found"
INVALID_RESPONSE = "PROBLEM: Invalid batch item failures response"
QUEUE_NOT_FOUND = "PROBLEM: Queue not found"


@dataclass(frozen=True)
class PollerOptions:
    recheck_s: float = 1.0  # how often the mappings are re-read from the store
    default_concurrency: int = 5  # concurrent batches of a mapping per node without ScalingConfig
    wait_s: int = 1  # long-poll wait of an idle consumer (bounds how soon it sees a stop)
    backoff_s: float = 1.0  # pause of a consumer after a throttle or a missing function or queue
    slot_lease_s: float = 30.0  # a consumer's slot of a ScalingConfig.MaximumConcurrency (renewed every recheck_s)


@dataclass
class _Batch:
    messages: list[Message]
    records: list[dict[str, object]]
    size: int
    positions: dict[str, int] = field(default_factory=dict)  # message id -> index


class QueuePoller:
    def __init__(
        self,
        mappings: EventSourceMappings,
        queues: MessageQueues,
        invoker: Invoker,
        options: PollerOptions = PollerOptions(),
        clock: Clock = wall_clock,
    ) -> None:
        self.mappings = mappings
        self.queues = queues
        self.invoker = invoker
        self.options = options
        self.clock = clock
        self._feeds: dict[str, _Feed] = {}
        self._retired: list[_Feed] = []  # stopped, possibly still finishing a batch
        self._wake = threading.Event()
        self._sync_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="queue-poller", daemon=True)
            self._thread.start()

    def refresh(self) -> None:
        """Re-read the mappings now, in the caller's thread (a change was made through this process): a mapping
        disabled or deleted here stops taking batches before the caller's request is answered."""
        if self._thread is None or self._stop.is_set():
            return
        try:
            self._sync()
        except Exception:
            log.exception("cannot read the event source mappings", extra={"action": "mappings_read_failed"})

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._sync_lock:
            feeds = [*self._feeds.values(), *self._retired]
            self._feeds.clear()
            self._retired.clear()
        for feed in feeds:
            feed.stop()
        deadline = time.monotonic() + 10
        for feed in feeds:
            feed.join(timeout=max(0.0, deadline - time.monotonic()))

    def feeding(self) -> list[str]:
        """The uuids of the mappings this node polls."""
        return sorted(self._feeds)

    @property
    def owner(self) -> str:
        """Who holds this node's slots of mappings with a MaximumConcurrency."""
        return self.invoker.worker_id

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._sync()
                held = self.mappings.store.renew_mapping_slots(self.owner, self.clock(), self.options.slot_lease_s)
                for feed in list(self._feeds.values()):
                    feed.keep_slots(held)
            except Exception:
                log.exception("cannot read the event source mappings", extra={"action": "mappings_read_failed"})
            self._wake.wait(self.options.recheck_s)
            self._wake.clear()

    def _sync(self) -> None:
        with self._sync_lock:
            self._sync_locked()

    def _sync_locked(self) -> None:
        if self._stop.is_set():  # closed meanwhile: start nothing
            return
        wanted = {m.uuid: m for m in self.mappings.all() if m.source_kind is SourceKind.QUEUE and m.enabled}
        self._retired = [feed for feed in self._retired if feed.running()]
        for uuid in [u for u in self._feeds if u not in wanted]:
            retired = self._feeds.pop(uuid)
            retired.stop()
            self._retired.append(retired)
        for uuid, mapping in wanted.items():
            feed = self._feeds.get(uuid)
            if feed is None:
                feed = self._feeds[uuid] = _Feed(self, mapping)
                feed.start()
            else:
                feed.update(mapping)
                feed.start()  # a feed whose consumers found no free slot tries again


class _Feed:
    """One enabled queue mapping on this node: its consumer threads and its processing result."""

    def __init__(self, poller: QueuePoller, mapping: EventSourceMapping) -> None:
        self.poller = poller
        self.mapping = mapping
        self.patterns: tuple[Pattern, ...] = compile_patterns(mapping.filter_patterns)
        self.last_result = mapping.last_processing_result
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._slots: dict[threading.Thread, int] = {}  # with a MaximumConcurrency: each consumer's slot
        self._lost: set[threading.Thread] = set()  # consumers whose slot lease ran out: they leave
        self._serial = 0

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> None:
        """A first consumer, unless there is one."""
        with self._lock:
            if self._threads:
                return
        self._add_consumer()

    def keep_slots(self, held: set[tuple[str, int]]) -> None:
        """After a renewal: a consumer whose slot is no longer this node's leaves after its batch."""
        with self._lock:
            self._lost |= {t for t, slot in self._slots.items() if (self.mapping.uuid, slot) not in held}

    def stop(self) -> None:
        self._stopped.set()

    def running(self) -> bool:
        with self._lock:
            return any(thread.is_alive() for thread in self._threads)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def update(self, mapping: EventSourceMapping) -> None:
        if mapping != self.mapping:
            with self._lock:
                if mapping.filter_patterns != self.mapping.filter_patterns:
                    self.patterns = compile_patterns(mapping.filter_patterns)
                self.mapping = mapping
                self.last_result = mapping.last_processing_result  # as stored, whichever node wrote it

    @property
    def concurrency(self) -> int:
        return self.mapping.maximum_concurrency or self.poller.options.default_concurrency

    def _add_consumer(self) -> None:
        """Start another consumer unless the feed is at its concurrency or stopped. With a MaximumConcurrency the
        consumer first takes one of the mapping's slots in the store, so the cap holds across nodes."""
        with self._lock:
            if self._stopped.is_set() or len(self._threads) >= self.concurrency:
                return
            limit = self.mapping.maximum_concurrency
            slot = None
            if limit is not None:
                poller = self.poller
                store = poller.mappings.store
                slot = store.acquire_mapping_slot(
                    self.mapping.uuid, poller.owner, limit, poller.clock(), poller.options.slot_lease_s
                )
                if slot is None:
                    return  # other nodes hold them all
            self._serial += 1
            thread = threading.Thread(
                target=self._consume, name=f"queue-feed-{self.mapping.uuid[:8]}-{self._serial}", daemon=True
            )
            self._threads.add(thread)
            if slot is not None:
                self._slots[thread] = slot
        thread.start()

    def _release_slot(self, thread: threading.Thread) -> None:
        """Called with the lock held, as a consumer leaves."""
        self._lost.discard(thread)
        slot = self._slots.pop(thread, None)
        if slot is not None:
            try:
                self.poller.mappings.store.release_mapping_slot(self.mapping.uuid, slot, self.poller.owner)
            except Exception:  # it expires on its own
                log.warning("could not release a mapping slot", extra={"action": "slot_release_failed"})

    def _leave_if_not_alone(self) -> bool:
        """An idle or surplus consumer leaves (True), unless it is the feed's last one."""
        with self._lock:
            if len(self._threads) > 1:
                self._threads.discard(threading.current_thread())
                self._release_slot(threading.current_thread())
                return True
            return False

    # -- consuming -----------------------------------------------------------------------------------------------
    def _consume(self) -> None:
        try:
            while not self._stopped.is_set():
                with self._lock:
                    over = len(self._threads) > self.concurrency
                    if threading.current_thread() in self._lost:  # another node has its slot now
                        return
                if over and self._leave_if_not_alone():
                    return
                try:
                    batch = self._receive()
                except QueueDoesNotExist:
                    self._record(QUEUE_NOT_FOUND)
                    self._stopped.wait(self.poller.options.backoff_s)
                    continue
                if batch is None:
                    if self._leave_if_not_alone():
                        return
                    continue
                if self._stopped.is_set():  # disabled or deleted while this batch was received: give it back
                    for message in batch.messages:
                        self._release(message)
                    return
                if len(batch.messages) >= self.mapping.batch_size:
                    self._add_consumer()
                self._process(batch)
        except Exception:
            log.exception(
                "queue consumer failed", extra={"action": "queue_consumer_failed", "mapping": self.mapping.uuid}
            )
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())
                self._release_slot(threading.current_thread())
                restart = not self._stopped.is_set() and not self._threads
            if restart:  # never leave an enabled mapping without a consumer
                self._stopped.wait(self.poller.options.backoff_s)
                self._add_consumer()

    def _receive(self) -> _Batch | None:
        """One batch: None when the queue had nothing within the long-poll wait."""
        mapping = self.mapping
        queues = self.poller.queues
        fifo = mapping.source_arn.endswith(".fifo")
        first = queues.receive(
            mapping.source_arn, min(MAX_RECEIVE_BATCH, mapping.batch_size), wait_s=self.poller.options.wait_s
        )
        if not first:
            return None
        batch = _Batch([], [], EMPTY_EVENT_BYTES - 1)  # the first record has no comma
        full = self._add(batch, first, fifo)
        deadline = time.monotonic() + mapping.maximum_batching_window_s
        while not full and len(batch.messages) < mapping.batch_size and not self._stopped.is_set():
            remaining = deadline - time.monotonic()
            want = min(MAX_RECEIVE_BATCH, mapping.batch_size - len(batch.messages))
            more = queues.receive(mapping.source_arn, want, wait_s=1 if remaining >= 1 else 0)
            if more:
                full = self._add(batch, more, fifo)
                if mapping.maximum_batching_window_s and time.monotonic() >= deadline:
                    break  # the window is over, even while messages keep coming
            elif remaining <= 0:
                break
            elif remaining < 1:
                self._stopped.wait(min(remaining, 0.05))
        return batch

    def _add(self, batch: _Batch, messages: list[Message], fifo: bool) -> bool:
        """Add received messages to the batch; True when the payload limit is reached (the messages that do not
        fit are made visible again)."""
        queues = self.poller.queues
        for index, message in enumerate(messages):
            handle = queues.receipt_handle(message)
            record = sqs_record(message, handle, self.mapping.source_arn, queues.region, queues.account, fifo)
            size = record_size(record)
            if message.id in batch.positions:  # received again within the window: its latest receive counts
                at = batch.positions[message.id]
                batch.size += size - record_size(batch.records[at])
                batch.messages[at], batch.records[at] = message, record
                continue
            if batch.size + size > MAX_EVENT_BYTES and batch.messages:
                for rest in messages[index:]:
                    self._release(rest)
                return True
            batch.positions[message.id] = len(batch.messages)
            batch.messages.append(message)
            batch.records.append(record)
            batch.size += size
        return False

    def _release(self, message: Message) -> None:
        try:
            self.poller.queues.change_visibility(self.mapping.source_arn, self.poller.queues.receipt_handle(message), 0)
        except QueueError:
            pass  # gone or received again: nothing to give back

    def _delete(self, messages: list[Message]) -> None:
        if not messages:
            return
        queues = self.poller.queues
        try:
            queue = queues.get(self.mapping.source_arn)  # once for the batch, not once per message
        except QueueError:
            return  # the queue is gone, and its messages with it
        # One transaction for the batch. A message received again since (its visibility timeout ran out) is the next
        # receiver's: its refusal is ignored, as is one already gone.
        queues.delete_messages(queue, [queues.receipt_handle(message) for message in messages])

    def _process(self, batch: _Batch) -> None:
        mapping = self.mapping
        patterns = self.patterns
        if patterns:
            passing = [any_matches(patterns, record_view(record)) for record in batch.records]
            self._delete([m for m, ok in zip(batch.messages, passing, strict=True) if not ok])
            messages = [m for m, ok in zip(batch.messages, passing, strict=True) if ok]
            records = [r for r, ok in zip(batch.records, passing, strict=True) if ok]
            if not messages:
                return
        else:
            messages, records = batch.messages, batch.records
        payload = event_json(records)
        try:
            qualifier = None if mapping.qualifier == LATEST else mapping.qualifier
            result = self.poller.invoker.invoke(mapping.function_name, payload, qualifier=qualifier)
        except TooManyRequests:
            self._record(FUNCTION_THROTTLED)
            self._stopped.wait(self.poller.options.backoff_s)
            return
        except ResourceNotFound:
            self._record(FUNCTION_NOT_FOUND)
            self._stopped.wait(self.poller.options.backoff_s)
            return
        except LambdaHostError as exc:
            log.warning(
                "cannot invoke the function of a queue mapping: %s",
                exc,
                extra={"action": "queue_invoke_refused", "mapping": mapping.uuid},
            )
            self._record(FUNCTION_FAILED)
            return
        if result.function_error is not None:
            self._record(FUNCTION_FAILED)
            return
        ids = [m.id for m in messages]
        kept: set[str] = set()
        if mapping.reports_item_failures:
            try:
                kept = set(kept_ids(failed_items(result.payload, ids), ids, mapping.source_arn.endswith(".fifo")))
            except WholeBatchFailed as exc:
                log.info(
                    "batch failed: %s", exc, extra={"action": "queue_batch_response_invalid", "mapping": mapping.uuid}
                )
                self._record(INVALID_RESPONSE)
                return
        self._delete([m for m in messages if m.id not in kept])
        self._record(OK)

    def _record(self, result: str) -> None:
        if result == self.last_result:
            return
        self.last_result = result
        try:
            self.poller.mappings.store.set_processing_result(self.mapping.uuid, result, self.poller.clock())
        except Exception:
            log.exception("cannot record a processing result", extra={"action": "mapping_result_failed"})
