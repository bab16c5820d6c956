"""Named message queues in memory: the fake's ``MessageQueueStore`` (mixed into ``InMemoryStore``), with the same
semantics as the SQL stores (leases, FIFO groups, deduplication, redrive, retention), no durability."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.messages import (
    DEDUPLICATION_WINDOW_S,
    LeaseOutcome,
    Message,
    MessageCounts,
    OutgoingMessage,
    Queue,
)
from lambdahost.storage.message_queues import MessageQueueStore
from lambdahost.storage.message_queues_sql import source_arn, stored_message


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    queues: dict[str, Queue] = field(default_factory=dict)
    next_sequence: dict[str, int] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    dedup: dict[tuple[str, str], tuple[str, int, float]] = field(default_factory=dict)

    def allocate(self, name: str) -> int:
        self.next_sequence[name] += 1
        return self.next_sequence[name]

    def of(self, name: str) -> list[Message]:
        return sorted((m for m in self.messages.values() if m.queue_name == name), key=lambda m: m.sequence)


class MessageQueueMemoryStore(MessageQueueStore):
    _mq: _State

    def _init_message_queues(self) -> None:
        self._mq = _State()

    def insert_message_queue(self, queue: Queue) -> bool:
        with self._mq.lock:
            if queue.name in self._mq.queues:
                return False
            self._mq.queues[queue.name] = queue
            self._mq.next_sequence[queue.name] = 0
            return True

    def get_message_queue(self, name: str) -> Queue | None:
        return self._mq.queues.get(name)

    def list_message_queues(self, prefix: str | None, after: str | None, limit: int) -> list[Queue]:
        if limit < 1:
            raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")
        names = sorted(n for n in self._mq.queues if n.startswith(prefix or "") and n > (after or ""))
        return [self._mq.queues[n] for n in names[:limit]]

    def update_message_queue(self, queue: Queue) -> bool:
        with self._mq.lock:
            stored = self._mq.queues.get(queue.name)
            if stored is None:
                return False
            self._mq.queues[queue.name] = queue.replace(fifo=stored.fifo, created_at=stored.created_at)
            return True

    def delete_message_queue(self, name: str) -> bool:
        with self._mq.lock:
            self._purge(name)
            self._mq.dedup = {key: v for key, v in self._mq.dedup.items() if key[0] != name}
            self._mq.next_sequence.pop(name, None)
            return self._mq.queues.pop(name, None) is not None

    def purge_message_queue(self, name: str) -> int:
        with self._mq.lock:
            return self._purge(name)

    def _purge(self, name: str) -> int:
        doomed = [m.id for m in self._mq.messages.values() if m.queue_name == name]
        for message_id in doomed:
            del self._mq.messages[message_id]
        return len(doomed)

    def send_messages(self, queue_name: str, messages: Sequence[OutgoingMessage], now: float) -> list[Message] | None:
        state = self._mq
        sent: list[Message] = []
        with state.lock:
            if queue_name not in state.queues:
                return None
            state.dedup = {key: v for key, v in state.dedup.items() if v[2] > now}
            for outgoing in messages:
                message = stored_message(queue_name, outgoing, state.allocate(queue_name), now)
                if outgoing.dedup_id is not None:
                    original = state.dedup.get((queue_name, outgoing.dedup_id))
                    if original is not None:
                        sent.append(message.replace(id=original[0], sequence=original[1]))
                        continue
                    expires_at = now + DEDUPLICATION_WINDOW_S
                    state.dedup[(queue_name, outgoing.dedup_id)] = (message.id, message.sequence, expires_at)
                state.messages[message.id] = message
                sent.append(message)
        return sent

    def receive_messages(
        self, queue_name: str, now: float, limit: int, visibility_timeout_s: float, receipt_token: str
    ) -> list[Message] | None:
        state = self._mq
        received: list[Message] = []
        with state.lock:
            queue = state.queues.get(queue_name)
            if queue is None:
                return None
            expired_before = now - queue.retention_s
            for message in state.of(queue_name):
                if message.sent_at <= expired_before:
                    del state.messages[message.id]
            policy = queue.redrive_policy
            if policy is not None and policy.dead_letter_queue not in state.queues:
                policy = None
            busy = {m.group_id for m in state.of(queue_name) if m.receipt_token is not None and m.visible_at > now}
            for message in state.of(queue_name):
                if len(received) >= limit:
                    break
                if message.visible_at > now or (queue.fifo and message.group_id in busy):
                    continue
                if policy is not None and message.receive_count >= policy.max_receive_count:
                    state.messages[message.id] = message.replace(
                        queue_name=policy.dead_letter_queue,
                        sequence=state.allocate(policy.dead_letter_queue),
                        receive_count=0,
                        first_received_at=None,
                        receipt_token=None,
                        visible_at=now,
                        source_arn=source_arn(policy, queue_name),
                    )
                    continue
                leased = message.replace(
                    receipt_token=receipt_token,
                    visible_at=now + visibility_timeout_s,
                    receive_count=message.receive_count + 1,
                    first_received_at=message.first_received_at if message.first_received_at is not None else now,
                )
                state.messages[message.id] = leased
                received.append(leased)
        return received

    def delete_messages(self, queue_name: str, leases: Sequence[tuple[str, str]]) -> list[LeaseOutcome]:
        outcomes: list[LeaseOutcome] = []
        with self._mq.lock:
            for message_id, receipt_token in leases:
                message = self._mq.messages.get(message_id)
                if message is None or message.queue_name != queue_name:
                    outcomes.append(LeaseOutcome.GONE)
                elif message.receipt_token != receipt_token:
                    outcomes.append(LeaseOutcome.STALE)
                else:
                    del self._mq.messages[message_id]
                    outcomes.append(LeaseOutcome.DONE)
        return outcomes

    def change_message_visibility(
        self, queue_name: str, message_id: str, receipt_token: str, now: float, timeout_s: float
    ) -> LeaseOutcome:
        with self._mq.lock:
            message = self._mq.messages.get(message_id)
            if message is None or message.queue_name != queue_name:
                return LeaseOutcome.GONE
            if message.receipt_token != receipt_token:
                return LeaseOutcome.STALE
            if message.visible_at <= now:
                return LeaseOutcome.NOT_IN_FLIGHT
            self._mq.messages[message_id] = message.replace(visible_at=now + timeout_s)
            return LeaseOutcome.DONE

    def message_counts(self, queue_name: str, now: float) -> MessageCounts:
        with self._mq.lock:
            queue = self._mq.queues.get(queue_name)
            if queue is None:
                return MessageCounts()
            kept = [m for m in self._mq.of(queue_name) if m.sent_at > now - queue.retention_s]
        return MessageCounts(
            visible=sum(1 for m in kept if m.visible_at <= now),
            in_flight=sum(1 for m in kept if m.visible_at > now and m.receipt_token is not None),
            delayed=sum(1 for m in kept if m.visible_at > now and m.receipt_token is None),
        )

    def move_messages(self, source: str, destination: str, now: float, limit: int, from_arn: str | None = None) -> int:
        with self._mq.lock:
            if source not in self._mq.queues or destination not in self._mq.queues:
                return 0
            chosen = [
                m
                for m in self._mq.of(source)
                if (m.receipt_token is None or m.visible_at <= now) and from_arn in (None, m.source_arn)
            ][:limit]
            for message in chosen:
                self._mq.messages[message.id] = message.replace(
                    queue_name=destination,
                    sequence=self._mq.allocate(destination),
                    receive_count=0,
                    first_received_at=None,
                    receipt_token=None,
                    visible_at=now,
                    source_arn=None,
                )
            return len(chosen)
