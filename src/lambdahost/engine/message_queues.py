"""``MessageQueues``: named queues (the SQS subset) over the store, for the SQS API, the CLI and the engine.

A queue is addressed by name, URL (``{base_url}/{account}/{name}``) or ARN (``arn:aws:sqs:{region}:{account}:
{name}``). A receipt handle carries the queue, the message id and the lease token of one receive. Long polling
waits on in-process wake-ups (a send or a visibility change in this process wakes its receivers at once) and
looks at the store every ``poll_s`` for what other processes sharing it did; there is no busy loop.

The asynchronous-invocation engine delivers dead-letter and destination records with ``send(arn, ...)``, which
raises ``QueueDoesNotExist`` (a ``LambdaHostError``) when the queue is missing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from lambdahost.core import queue_rules as rules
from lambdahost.core.ids import Clock, new_request_id, wall_clock
from lambdahost.core.messages import (
    FIFO_SUFFIX,
    MAX_RECEIVE_BATCH,
    LeaseOutcome,
    Message,
    MessageAttribute,
    MessageCounts,
    OutgoingMessage,
    Queue,
    md5_of_attributes,
)
from lambdahost.core.queue_errors import (
    InvalidAttributeName,
    InvalidParameterValue,
    MessageNotInflight,
    MissingParameter,
    QueueDoesNotExist,
    QueueError,
    QueueNameExists,
    ReceiptHandleIsInvalid,
)
from lambdahost.core.settings import Settings
from lambdahost.storage.base import Store

DEFAULT_POLL_S = 0.5
LIST_LIMIT = 1000


@dataclass(frozen=True)
class SendEntry:
    """One message to send (``SendMessage`` or an entry of ``SendMessageBatch``)."""

    body: str
    attributes: Mapping[str, MessageAttribute] | None = None
    system_attributes: Mapping[str, MessageAttribute] | None = None
    delay_s: int | None = None
    group_id: str | None = None
    dedup_id: str | None = None


class _Wakeups:
    """Callbacks per queue name, called when the queue may have a message to receive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Callable[[], None]]] = {}

    def add(self, name: str, wake: Callable[[], None]) -> Callable[[], None]:
        with self._lock:
            self._waiters.setdefault(name, set()).add(wake)

        def remove() -> None:
            with self._lock:
                waiting = self._waiters.get(name)
                if waiting is not None:
                    waiting.discard(wake)
                    if not waiting:
                        del self._waiters[name]

        return remove

    def notify(self, name: str) -> None:
        with self._lock:
            waiting = list(self._waiters.get(name, ()))
        for wake in waiting:
            wake()


class MessageQueues:
    def __init__(
        self, store: Store, settings: Settings, clock: Clock = wall_clock, poll_s: float = DEFAULT_POLL_S
    ) -> None:
        self.store = store
        self.region = settings.region
        self.account = settings.account_id
        self.base_url = settings.endpoint_url
        self.clock = clock
        self.poll_s = poll_s
        self._wakeups = _Wakeups()

    # -- names ------------------------------------------------------------------------------------------------------
    def arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{name}"

    def url(self, name: str, base_url: str | None = None) -> str:
        return f"{(base_url or self.base_url).rstrip('/')}/{self.account}/{name}"

    def resolve(self, ref: str) -> str:
        """The queue name of a name, URL or ARN (the queue need not exist)."""
        if not ref:
            raise MissingParameter("The request must contain the parameter QueueUrl.")
        if ref.startswith("arn:"):
            parts = ref.split(":")
            if len(parts) != 6 or parts[2] != "sqs" or parts[4] != self.account:
                raise QueueDoesNotExist("The specified queue does not exist.")
            return parts[5]
        if "://" in ref:
            path = [part for part in urlsplit(ref).path.split("/") if part]
            if len(path) != 2 or path[0] != self.account:
                raise QueueDoesNotExist("The specified queue does not exist.")
            return path[1]
        return ref

    def get(self, ref: str) -> Queue:
        queue = self.store.get_message_queue(self.resolve(ref))
        if queue is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        return queue

    # -- queues -----------------------------------------------------------------------------------------------------
    def create(
        self, name: str, attributes: Mapping[str, str] | None = None, tags: Mapping[str, str] | None = None
    ) -> Queue:
        """CreateQueue: a new queue, or the existing one when every given attribute has the same value."""
        attributes = dict(attributes or {})
        fifo = str(attributes.get("FifoQueue", "false")).lower() == "true"
        if name.endswith(FIFO_SUFFIX) and "FifoQueue" not in attributes:
            raise InvalidParameterValue(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
            )
        rules.check_queue_name(name, fifo)
        changes, extra = rules.queue_changes(
            attributes, creating=True, fifo=fifo, find_queue=self.store.get_message_queue
        )
        now = self.clock()
        queue = Queue(
            name=name, created_at=now, modified_at=now, fifo=fifo, extra_attributes=extra, tags=dict(tags or {})
        )
        queue = queue.replace(**changes)
        if self.store.insert_message_queue(queue):
            return queue
        existing = self.get(name)
        differ = rules.same_attributes(attributes, self.attributes(existing))
        if existing.fifo != fifo:
            differ.append("FifoQueue")
        if differ:
            raise QueueNameExists(
                f"A queue already exists with the same name and a different value for attribute {differ[0]}"
            )
        return existing

    def list_queues(self, prefix: str | None = None, after: str | None = None, limit: int = LIST_LIMIT) -> list[Queue]:
        return self.store.list_message_queues(prefix, after, limit)

    def delete(self, ref: str) -> None:
        if not self.store.delete_message_queue(self.resolve(ref)):
            raise QueueDoesNotExist("The specified queue does not exist.")

    def purge(self, ref: str) -> int:
        queue = self.get(ref)
        return self.store.purge_message_queue(queue.name)

    def counts(self, ref: str | Queue) -> MessageCounts:
        queue = ref if isinstance(ref, Queue) else self.get(ref)
        return self.store.message_counts(queue.name, self.clock())

    def attributes(self, ref: str | Queue, names: Sequence[str] = ("All",)) -> dict[str, str]:
        """GetQueueAttributes: ``All`` or the named attributes (counts exact at this moment)."""
        queue = ref if isinstance(ref, Queue) else self.get(ref)
        for name in names:
            if name != "All" and name not in rules.INTEGER_ATTRIBUTES and name not in _KNOWN_ATTRIBUTES:
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
        wanted = set(names)
        counts = self.counts(queue) if "All" in wanted or wanted & set(rules.COUNT_ATTRIBUTES) else MessageCounts()
        values = rules.queue_attribute_values(queue, self.arn(queue.name), counts)
        if "All" in wanted:
            return values
        return {name: values[name] for name in names if name in values}

    def set_attributes(self, ref: str, attributes: Mapping[str, str]) -> Queue:
        queue = self.get(ref)
        changes, extra = rules.queue_changes(
            attributes, creating=False, fifo=queue.fifo, find_queue=self.store.get_message_queue
        )
        updated = queue.replace(
            **changes, extra_attributes={**queue.extra_attributes, **extra}, modified_at=self.clock()
        )
        if not self.store.update_message_queue(updated):
            raise QueueDoesNotExist("The specified queue does not exist.")
        return updated

    def tag(self, ref: str, add: Mapping[str, str], remove: Sequence[str]) -> Queue:
        """TagQueue / UntagQueue."""
        queue = self.get(ref)
        tags = {k: v for k, v in {**queue.tags, **add}.items() if k not in remove}
        updated = queue.replace(tags=tags)
        if not self.store.update_message_queue(updated):
            raise QueueDoesNotExist("The specified queue does not exist.")
        return updated

    # -- sending ----------------------------------------------------------------------------------------------------
    def send(
        self,
        queue: str,
        body: str,
        attributes: Mapping[str, MessageAttribute] | None = None,
        delay_s: int | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> str:
        """Send one message to a queue given by name, URL or ARN; returns its message id (for a FIFO duplicate,
        the original's). Raises ``QueueDoesNotExist`` or SQS's validation errors."""
        result = self.send_batch(queue, [SendEntry(body, attributes, None, delay_s, group_id, dedup_id)])[0]
        if isinstance(result, QueueError):
            raise result
        return result.id

    def send_record(self, queue_arn: str, body: str, attributes: Mapping[str, tuple[str, str]]) -> str:
        """``send`` for the asynchronous-invocation engine's records: attributes as ``{name: (data type, value)}``
        (``String``/``Number``)."""
        typed = {name: MessageAttribute(kind, string_value=value) for name, (kind, value) in attributes.items()}
        return self.send(queue_arn, body, typed)

    def exists(self, ref: str) -> bool:
        """Whether the queue named by a name, URL or ARN exists."""
        try:
            return self.store.get_message_queue(self.resolve(ref)) is not None
        except QueueError:
            return False

    def send_batch(self, ref: str, entries: Sequence[SendEntry]) -> list[Message | QueueError]:
        """Send valid entries (in order, one transaction); an invalid entry's place holds its error."""
        queue = self.get(ref)
        refused: list[QueueError | None] = []
        outgoing: list[OutgoingMessage] = []
        for entry in entries:
            try:
                outgoing.append(self._outgoing(queue, entry))
                refused.append(None)
            except QueueError as exc:
                refused.append(exc)
        stored: list[Message] = []
        if outgoing:
            found = self.store.send_messages(queue.name, outgoing, self.clock())
            if found is None:
                raise QueueDoesNotExist("The specified queue does not exist.")
            stored = found
            self._wakeups.notify(queue.name)
        sent = iter(stored)
        return [next(sent) if error is None else error for error in refused]

    def _outgoing(self, queue: Queue, entry: SendEntry) -> OutgoingMessage:
        size = rules.check_body(entry.body, queue.maximum_message_size)
        attributes = dict(entry.attributes or {})
        system = dict(entry.system_attributes or {})
        size += rules.check_message_attributes(attributes) + rules.check_message_attributes(system, system=True)
        if size > queue.maximum_message_size:
            raise InvalidParameterValue(
                "One or more parameters are invalid. Reason: Message must be shorter than "
                f"{queue.maximum_message_size} bytes."
            )
        delay_s = queue.delay_s if entry.delay_s is None else entry.delay_s
        rules.check_delay(delay_s)
        dedup_id = entry.dedup_id
        if entry.group_id is not None:
            rules.check_group_or_dedup_id("MessageGroupId", entry.group_id)
        if queue.fifo:
            if entry.delay_s is not None and entry.delay_s != 0:
                raise rules.not_for_this_queue_type("DelaySeconds", entry.delay_s)
            if entry.group_id is None:
                raise MissingParameter("The request must contain the parameter MessageGroupId.")
            if dedup_id is None:
                if not queue.content_based_deduplication:
                    raise InvalidParameterValue(
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                        "provided explicitly"
                    )
                dedup_id = rules.content_deduplication_id(entry.body)
            rules.check_group_or_dedup_id("MessageDeduplicationId", dedup_id)
        elif dedup_id is not None:
            raise rules.not_for_this_queue_type("MessageDeduplicationId", dedup_id)
        return OutgoingMessage(
            id=new_request_id(),
            body=entry.body,
            attributes=attributes,
            system_attributes=system,
            delay_s=delay_s,
            group_id=entry.group_id,
            dedup_id=dedup_id,
        )

    # -- receiving --------------------------------------------------------------------------------------------------
    def _receive_params(
        self, ref: str, max_messages: int, visibility_timeout_s: int | None, wait_s: int | None
    ) -> tuple[Queue, int, float]:
        rules.check_range("MaxNumberOfMessages", max_messages, 1, MAX_RECEIVE_BATCH)
        if visibility_timeout_s is not None:
            rules.check_range("VisibilityTimeout", visibility_timeout_s, 0, rules.MAX_VISIBILITY_TIMEOUT_S)
        if wait_s is not None:
            rules.check_range("WaitTimeSeconds", wait_s, 0, rules.MAX_WAIT_S, "Must be >= 0 and <= 20, if provided.")
        queue = self.get(ref)
        timeout = queue.visibility_timeout_s if visibility_timeout_s is None else visibility_timeout_s
        return queue, timeout, float(queue.receive_wait_s if wait_s is None else wait_s)

    def _receive_now(self, queue: Queue, max_messages: int, timeout: int) -> list[Message]:
        token = secrets.token_urlsafe(12)
        found = self.store.receive_messages(queue.name, self.clock(), max_messages, timeout, token)
        if found is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        return found

    def receive(
        self, ref: str, max_messages: int = 1, visibility_timeout_s: int | None = None, wait_s: int | None = None
    ) -> list[Message]:
        """ReceiveMessage, blocking up to ``wait_s`` (default: the queue's ReceiveMessageWaitTimeSeconds) until a
        message arrives."""
        queue, timeout, wait = self._receive_params(ref, max_messages, visibility_timeout_s, wait_s)
        deadline = time.monotonic() + wait
        while True:
            woken = threading.Event()
            remove = self._wakeups.add(queue.name, woken.set)
            try:
                found = self._receive_now(queue, max_messages, timeout)
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                woken.wait(min(self.poll_s, remaining))
            finally:
                remove()

    async def receive_async(
        self, ref: str, max_messages: int = 1, visibility_timeout_s: int | None = None, wait_s: int | None = None
    ) -> list[Message]:
        """``receive`` for an event loop: the store is called on a thread, the wait is on the loop."""
        queue, timeout, wait = await asyncio.to_thread(
            self._receive_params, ref, max_messages, visibility_timeout_s, wait_s
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            woken = asyncio.Event()
            remove = self._wakeups.add(queue.name, _threadsafe_setter(loop, woken))
            try:
                found = await asyncio.to_thread(self._receive_now, queue, max_messages, timeout)
                remaining = deadline - loop.time()
                if found or remaining <= 0:
                    return found
                try:
                    await asyncio.wait_for(woken.wait(), min(self.poll_s, remaining))
                except TimeoutError:
                    pass
            finally:
                remove()

    # -- receipt handles --------------------------------------------------------------------------------------------
    @staticmethod
    def receipt_handle(message: Message) -> str:
        raw = f"{message.queue_name}\n{message.id}\n{message.receipt_token}".encode()
        return base64.urlsafe_b64encode(raw).decode()

    @staticmethod
    def _parse_handle(queue: Queue, handle: str) -> tuple[str, str]:
        try:
            raw = base64.b64decode(handle.encode(), altchars=b"-_", validate=True)
            name, message_id, token = raw.decode().split("\n")
        except (ValueError, binascii.Error, UnicodeError):
            name = message_id = token = ""
        if name != queue.name or not message_id or not token:
            raise ReceiptHandleIsInvalid(f'The input receipt handle "{handle}" is not a valid receipt handle.')
        return message_id, token

    def delete_message(self, ref: str | Queue, handle: str) -> None:
        """DeleteMessage: deleting a message that is gone succeeds; a handle of an earlier receive (the message
        was received again since) is refused, so a slow consumer cannot delete a message another one holds."""
        error = self.delete_messages(ref, [handle])[0]
        if error is not None:
            raise error

    def delete_messages(self, ref: str | Queue, handles: Sequence[str]) -> list[QueueError | None]:
        """``delete_message`` of each handle, in one store transaction: None for each one deleted (or gone), the
        error of each one refused, in order."""
        queue = ref if isinstance(ref, Queue) else self.get(ref)
        outcomes: list[QueueError | None] = []
        leases: list[tuple[str, str]] = []
        for handle in handles:
            try:
                leases.append(self._parse_handle(queue, handle))
                outcomes.append(None)
            except ReceiptHandleIsInvalid as exc:
                outcomes.append(exc)
        stored = iter(self.store.delete_messages(queue.name, leases) if leases else [])
        for n, handle in enumerate(handles):
            if outcomes[n] is None and next(stored) is LeaseOutcome.STALE:
                outcomes[n] = ReceiptHandleIsInvalid(
                    f'The input receipt handle "{handle}" is not a valid receipt handle: the message was received '
                    "again since (the receipt handle has expired)."
                )
        return outcomes

    def change_visibility(self, ref: str | Queue, handle: str, timeout_s: int) -> None:
        queue = ref if isinstance(ref, Queue) else self.get(ref)
        rules.check_range("VisibilityTimeout", timeout_s, 0, rules.MAX_VISIBILITY_TIMEOUT_S)
        message_id, token = self._parse_handle(queue, handle)
        outcome = self.store.change_message_visibility(queue.name, message_id, token, self.clock(), timeout_s)
        if outcome is LeaseOutcome.GONE:
            raise InvalidParameterValue(
                f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not "
                "available for visibility timeout change."
            )
        if outcome is LeaseOutcome.STALE:
            raise ReceiptHandleIsInvalid(
                f'The input receipt handle "{handle}" is not a valid receipt handle: the message was received again '
                "since (the receipt handle has expired)."
            )
        if outcome is LeaseOutcome.NOT_IN_FLIGHT:
            raise MessageNotInflight("The message referred to isn't in flight.")
        if timeout_s == 0:
            self._wakeups.notify(queue.name)

    def dead_letter_sources(self, arn: str) -> list[str]:
        """The names of the queues whose RedrivePolicy names ``arn`` as their dead-letter queue."""
        return [
            q.name for q in self.list_queues() if q.redrive_policy and q.redrive_policy.dead_letter_target_arn == arn
        ]

    def redrive(self, ref: str, destination: str | None = None, limit: int = 1_000_000) -> int:
        """Move up to ``limit`` of a dead-letter queue's messages (not in flight) to ``destination``, or by default
        each back to the queue it was moved out of (of the queues whose RedrivePolicy names this one; a message
        from elsewhere stays); returns how many moved."""
        queue = self.get(ref)
        now = self.clock()
        if destination is not None:
            target = self.get(destination)
            moved = self.store.move_messages(queue.name, target.name, now, limit)
            if moved:
                self._wakeups.notify(target.name)
            return moved
        moved = 0
        for source in self.dead_letter_sources(self.arn(queue.name)):
            count = self.store.move_messages(queue.name, source, now, limit - moved, from_arn=self.arn(source))
            if count:
                self._wakeups.notify(source)
            moved += count
            if moved >= limit:
                break
        return moved


_KNOWN_ATTRIBUTES = frozenset(
    {
        *rules.READ_ONLY_ATTRIBUTES,
        *rules.PASSIVE_ATTRIBUTES,
        "RedrivePolicy",
        "FifoQueue",
        "ContentBasedDeduplication",
    }
)


def _threadsafe_setter(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> Callable[[], None]:
    def wake() -> None:
        loop.call_soon_threadsafe(event.set)

    return wake


def message_md5s(message: Message) -> tuple[str, str | None, str | None]:
    """(MD5OfBody, MD5OfMessageAttributes, MD5OfMessageSystemAttributes) of a message."""
    return message.md5_of_body, md5_of_attributes(message.attributes), md5_of_attributes(message.system_attributes)
