"""The storage port of named message queues (the SQS subset), which ``Store`` inherits.

Implemented once for SQL (``message_queues_sql.MessageQueueSqlStore``, SQLite and PostgreSQL) and once for the
in-memory fake (``message_queues_memory``); one contract suite (``tests/integration/test_message_queues_store.py``)
covers both SQL backends. Times are the caller's clock (``now``). A receive is a lease, never a delete: the message
stays until deleted with the receipt token of its latest receive, purged, expired or moved by a redrive.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from lambdahost.core.messages import LeaseOutcome, Message, MessageCounts, OutgoingMessage, Queue


class MessageQueueStore(abc.ABC):
    """Durable named queues and their messages."""

    # -- queues ----------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def insert_message_queue(self, queue: Queue) -> bool:
        """Insert a queue; False (nothing changed) when one with its name exists."""

    @abc.abstractmethod
    def get_message_queue(self, name: str) -> Queue | None: ...

    @abc.abstractmethod
    def list_message_queues(self, prefix: str | None, after: str | None, limit: int) -> list[Queue]:
        """Queues ordered by name (byte-wise), whose names start with ``prefix`` and come after ``after``."""

    @abc.abstractmethod
    def update_message_queue(self, queue: Queue) -> bool:
        """Replace a queue's attributes and tags (not its name, type or creation time); False when absent."""

    @abc.abstractmethod
    def delete_message_queue(self, name: str) -> bool:
        """Delete a queue with its messages and deduplication ids; True when it existed."""

    @abc.abstractmethod
    def purge_message_queue(self, name: str) -> int:
        """Delete every message of a queue (in flight or not); return how many."""

    # -- messages --------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def send_messages(self, queue_name: str, messages: Sequence[OutgoingMessage], now: float) -> list[Message] | None:
        """Add messages in order, committed on return: ``sent_at = now``, ``visible_at = now + delay_s``, each the
        queue's next sequence number. A message whose ``dedup_id`` the queue saw in the last
        ``DEDUPLICATION_WINDOW_S`` (also in this batch) is not added: the original is returned in its place (its
        id and sequence number). None when the queue does not exist (nothing added)."""

    @abc.abstractmethod
    def receive_messages(
        self, queue_name: str, now: float, limit: int, visibility_timeout_s: float, receipt_token: str
    ) -> list[Message] | None:
        """Lease up to ``limit`` messages (one transaction): those visible at ``now`` and within the queue's
        retention, in sequence order; each gets ``receipt_token``, ``visible_at = now + visibility_timeout_s``,
        ``receive_count + 1`` and a ``first_received_at`` (kept from its first receive). Concurrent receivers never
        get one message within its visibility timeout (SQLite: the write lock; PostgreSQL: ``FOR UPDATE SKIP
        LOCKED``, and for FIFO queues a transaction-scoped lock per queue).

        FIFO queues: no message of a group while another message of the group is in flight.
        Redrive: a message that already had ``maxReceiveCount`` receives moves to the dead-letter queue instead
        (when that queue exists): ``receive_count`` 0, visible at once, a new sequence number there, ``source_arn``
        the source queue's ARN (the dead-letter queue's ARN with the source's name). Messages past the retention
        period are deleted. None when the queue does not exist."""

    def delete_message(self, queue_name: str, message_id: str, receipt_token: str) -> LeaseOutcome:
        """Delete a message by the token of its latest receive: ``DONE``; ``GONE`` when there is no such message;
        ``STALE`` (nothing deleted) when it was received again since."""
        return self.delete_messages(queue_name, [(message_id, receipt_token)])[0]

    @abc.abstractmethod
    def delete_messages(self, queue_name: str, leases: Sequence[tuple[str, str]]) -> list[LeaseOutcome]:
        """``delete_message`` for each ``(message id, receipt token)``, in one transaction; the outcomes in order."""

    @abc.abstractmethod
    def change_message_visibility(
        self, queue_name: str, message_id: str, receipt_token: str, now: float, timeout_s: float
    ) -> LeaseOutcome:
        """``visible_at = now + timeout_s`` for a message in flight under ``receipt_token``: ``DONE``; ``GONE``;
        ``STALE`` (received again since); ``NOT_IN_FLIGHT`` (its visibility timeout already ran out)."""

    @abc.abstractmethod
    def message_counts(self, queue_name: str, now: float) -> MessageCounts:
        """Exact counts at ``now`` of the queue's messages within retention: visible, in flight, delayed."""

    @abc.abstractmethod
    def move_messages(self, source: str, destination: str, now: float, limit: int, from_arn: str | None = None) -> int:
        """Move up to ``limit`` of ``source``'s messages that are not in flight to ``destination`` (a dead-letter
        queue's redrive back to its source), oldest first: visible at once, ``receive_count`` 0, new sequence
        numbers; return how many (0 when either queue does not exist). With ``from_arn``, only the messages a
        redrive moved there from that queue (their ``source_arn``)."""
