"""Named message queues on SQL: ``MessageQueueSqlStore``, mixed into ``SqlStore`` (SQLite and PostgreSQL), with its
queries (``:name`` placeholders, valid in both dialects, as in ``queries``) and row mapping.

A receive runs in one write transaction: expired messages are deleted, messages past their ``maxReceiveCount``
move to the dead-letter queue, and the rest of the chosen messages are leased. SQLite's ``BEGIN IMMEDIATE``
serializes receivers; PostgreSQL chooses with ``FOR UPDATE SKIP LOCKED`` (``lock_rows_sql``), and for a FIFO queue
first takes a transaction-scoped lock on the queue (``_serialize``), since two receivers skipping each other's
locked rows could otherwise take two messages of one group.
"""

from __future__ import annotations

import abc
import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.messages import (
    DEDUPLICATION_WINDOW_S,
    LeaseOutcome,
    Message,
    MessageAttribute,
    MessageCounts,
    OutgoingMessage,
    Queue,
    RedrivePolicy,
)
from lambdahost.storage.message_queues import MessageQueueStore
from lambdahost.storage.rows import Row

if TYPE_CHECKING:
    from lambdahost.storage.sql import Tx

QUEUE_COLUMNS = (
    "name",
    "fifo",
    "content_based_deduplication",
    "visibility_timeout_s",
    "delay_s",
    "retention_s",
    "maximum_message_size",
    "receive_wait_s",
    "redrive_policy",
    "extra_attributes",
    "tags",
    "created_at",
    "modified_at",
)
MESSAGE_COLUMNS = (
    "id",
    "queue_name",
    "sequence",
    "body",
    "attributes",
    "system_attributes",
    "sent_at",
    "visible_at",
    "receive_count",
    "first_received_at",
    "receipt_token",
    "group_id",
    "dedup_id",
    "source_arn",
)

# How many rounds a receive makes when messages it chose moved to a dead-letter queue instead.
_RECEIVE_ROUNDS = 5


def _cols(columns: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + c for c in columns)


# -- queries -------------------------------------------------------------------------------------------------------
INSERT_QUEUE = (
    f"INSERT INTO message_queues ({_cols(QUEUE_COLUMNS)}, next_sequence) "
    f"VALUES ({_cols(QUEUE_COLUMNS, ':')}, 0) ON CONFLICT (name) DO NOTHING"
)
GET_QUEUE = f"SELECT {_cols(QUEUE_COLUMNS)} FROM message_queues WHERE name = :name"
LIST_QUEUES = (
    f"SELECT {_cols(QUEUE_COLUMNS)} FROM message_queues "
    "WHERE name > :after AND substr(name, 1, CAST(:prefix_length AS INTEGER)) = :prefix ORDER BY name LIMIT :limit"
)
UPDATE_QUEUE = "UPDATE message_queues SET " + ", ".join(
    f"{c} = :{c}" for c in QUEUE_COLUMNS if c not in ("name", "fifo", "created_at")
)
UPDATE_QUEUE += " WHERE name = :name"
DELETE_QUEUE = "DELETE FROM message_queues WHERE name = :name"
DELETE_DEDUPLICATION = "DELETE FROM message_deduplication WHERE queue_name = :name"
PURGE = "DELETE FROM messages WHERE queue_name = :name"
# The first of ``:n`` new sequence numbers is ``next_sequence - :n + 1``; the row lock serializes senders.
ALLOCATE = "UPDATE message_queues SET next_sequence = next_sequence + :n WHERE name = :name RETURNING next_sequence"
FORGET_DEDUPLICATION = "DELETE FROM message_deduplication WHERE queue_name = :name AND expires_at <= :now"
FIND_DEDUPLICATION = (
    "SELECT message_id, sequence FROM message_deduplication WHERE queue_name = :name AND dedup_id = :dedup_id"
)
REMEMBER_DEDUPLICATION = (
    "INSERT INTO message_deduplication (queue_name, dedup_id, message_id, sequence, expires_at) "
    "VALUES (:name, :dedup_id, :message_id, :sequence, :expires_at) ON CONFLICT (queue_name, dedup_id) DO NOTHING"
)
INSERT_MESSAGE = f"INSERT INTO messages ({_cols(MESSAGE_COLUMNS)}) VALUES ({_cols(MESSAGE_COLUMNS, ':')})"
EXPIRE = "DELETE FROM messages WHERE queue_name = :name AND sent_at <= :expired_before"
# ``sent_at + 0``: the retention condition must not choose the index (SQLite would then read and sort every message
# of the queue on each receive); messages_queue_sequence gives them in order and the LIMIT stops the scan.
_RECEIVABLE = (
    "SELECT m.id, m.receive_count FROM messages m WHERE m.queue_name = :name AND m.visible_at <= :now "
    "AND m.sent_at + 0 > :expired_before"
)
_GROUP_IN_FLIGHT = (
    " AND NOT EXISTS (SELECT 1 FROM messages f WHERE f.queue_name = m.queue_name AND f.group_id = m.group_id "
    "AND f.receipt_token IS NOT NULL AND f.visible_at > :now)"
)


def lease(count: int) -> str:
    """Lease ``count`` chosen messages (``:id0`` ...) in one statement; the rows come back in no particular order."""
    ids = ", ".join(f":id{n}" for n in range(count))
    return (
        "UPDATE messages SET receipt_token = :token, visible_at = :visible_at, receive_count = receive_count + 1, "
        f"first_received_at = COALESCE(first_received_at, :now) WHERE id IN ({ids}) "
        f"RETURNING {_cols(MESSAGE_COLUMNS)}"
    )


MOVE = (
    "UPDATE messages SET queue_name = :destination, sequence = :sequence, receive_count = 0, "
    "first_received_at = NULL, receipt_token = NULL, visible_at = :now, source_arn = :source_arn WHERE id = :id"
)
NOT_IN_FLIGHT = (
    "SELECT m.id FROM messages m WHERE m.queue_name = :name "
    "AND (m.receipt_token IS NULL OR m.visible_at <= :now) "
    "AND (CAST(:from_arn AS TEXT) IS NULL OR m.source_arn = :from_arn) ORDER BY m.sequence LIMIT :limit"
)
DELETE_LEASED = "DELETE FROM messages WHERE id = :id AND queue_name = :name AND receipt_token = :token"
RECEIPT_TOKEN = "SELECT receipt_token FROM messages WHERE id = :id AND queue_name = :name"
CHANGE_VISIBILITY = (
    "UPDATE messages SET visible_at = :visible_at "
    "WHERE id = :id AND queue_name = :name AND receipt_token = :token AND visible_at > :now"
)
COUNTS = (
    "SELECT COALESCE(SUM(CASE WHEN visible_at <= :now THEN 1 ELSE 0 END), 0) AS visible, "
    "COALESCE(SUM(CASE WHEN visible_at > :now AND receipt_token IS NOT NULL THEN 1 ELSE 0 END), 0) AS in_flight, "
    "COALESCE(SUM(CASE WHEN visible_at > :now AND receipt_token IS NULL THEN 1 ELSE 0 END), 0) AS delayed "
    "FROM messages WHERE queue_name = :name AND sent_at > :expired_before"
)
RETENTION = "SELECT retention_s FROM message_queues WHERE name = :name"


def receivable(fifo: bool, lock_rows: str) -> str:
    """The messages a receive may take, in sequence order (FIFO: not of a group with a message in flight)."""
    return _RECEIVABLE + (_GROUP_IN_FLIGHT if fifo else "") + f" ORDER BY m.sequence LIMIT :limit{lock_rows}"


# -- rows ----------------------------------------------------------------------------------------------------------
def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def attributes_json(attributes: Mapping[str, MessageAttribute]) -> str:
    """Message attributes in SQS's wire shape (binary values in base64)."""
    encoded: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        value: dict[str, str] = {"DataType": attribute.data_type}
        if attribute.binary_value is not None:
            value["BinaryValue"] = base64.b64encode(attribute.binary_value).decode()
        if attribute.string_value is not None:
            value["StringValue"] = attribute.string_value
        encoded[name] = value
    return _json(encoded)


def attributes_from_json(text: str) -> dict[str, MessageAttribute]:
    decoded: dict[str, dict[str, str]] = json.loads(text)
    return {
        name: MessageAttribute(
            value["DataType"],
            string_value=value.get("StringValue"),
            binary_value=base64.b64decode(value["BinaryValue"]) if "BinaryValue" in value else None,
        )
        for name, value in decoded.items()
    }


def queue_params(queue: Queue) -> dict[str, Any]:
    policy = queue.redrive_policy
    return {
        "name": queue.name,
        "fifo": queue.fifo,
        "content_based_deduplication": queue.content_based_deduplication,
        "visibility_timeout_s": queue.visibility_timeout_s,
        "delay_s": queue.delay_s,
        "retention_s": queue.retention_s,
        "maximum_message_size": queue.maximum_message_size,
        "receive_wait_s": queue.receive_wait_s,
        "redrive_policy": None
        if policy is None
        else _json({"deadLetterTargetArn": policy.dead_letter_target_arn, "maxReceiveCount": policy.max_receive_count}),
        "extra_attributes": _json(dict(queue.extra_attributes)),
        "tags": _json(dict(queue.tags)),
        "created_at": queue.created_at,
        "modified_at": queue.modified_at,
    }


def queue_from_row(row: Row) -> Queue:
    policy = json.loads(row["redrive_policy"]) if row["redrive_policy"] else None
    return Queue(
        name=row["name"],
        created_at=row["created_at"],
        modified_at=row["modified_at"],
        visibility_timeout_s=row["visibility_timeout_s"],
        delay_s=row["delay_s"],
        retention_s=row["retention_s"],
        maximum_message_size=row["maximum_message_size"],
        receive_wait_s=row["receive_wait_s"],
        redrive_policy=None
        if policy is None
        else RedrivePolicy(policy["deadLetterTargetArn"], int(policy["maxReceiveCount"])),
        fifo=bool(row["fifo"]),
        content_based_deduplication=bool(row["content_based_deduplication"]),
        extra_attributes=json.loads(row["extra_attributes"]),
        tags=json.loads(row["tags"]),
    )


def message_params(message: Message) -> dict[str, Any]:
    params = {name: getattr(message, name) for name in MESSAGE_COLUMNS}
    params["attributes"] = attributes_json(message.attributes)
    params["system_attributes"] = attributes_json(message.system_attributes)
    return params


def message_from_row(row: Row) -> Message:
    return Message(
        id=row["id"],
        queue_name=row["queue_name"],
        sequence=int(row["sequence"]),
        body=row["body"],
        sent_at=row["sent_at"],
        visible_at=row["visible_at"],
        attributes=attributes_from_json(row["attributes"]),
        system_attributes=attributes_from_json(row["system_attributes"]),
        receive_count=row["receive_count"],
        first_received_at=row["first_received_at"],
        receipt_token=row["receipt_token"],
        group_id=row["group_id"],
        dedup_id=row["dedup_id"],
        source_arn=row["source_arn"],
    )


def stored_message(queue_name: str, message: OutgoingMessage, sequence: int, now: float) -> Message:
    return Message(
        id=message.id,
        queue_name=queue_name,
        sequence=sequence,
        body=message.body,
        sent_at=now,
        visible_at=now + message.delay_s,
        attributes=message.attributes,
        system_attributes=message.system_attributes,
        group_id=message.group_id,
        dedup_id=message.dedup_id,
    )


def source_arn(policy: RedrivePolicy, source: str) -> str:
    """The ARN of ``source``, a queue with the dead-letter queue's region and account."""
    return policy.dead_letter_target_arn.rsplit(":", 1)[0] + ":" + source


# -- the store -----------------------------------------------------------------------------------------------------
class MessageQueueSqlStore(MessageQueueStore):
    """``MessageQueueStore`` for ``SqlStore``, which provides the transactions and the dialect's row locking."""

    lock_rows_sql: ClassVar[str]

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]: ...

    def _serialize(self, tx: Tx, name: str, number: int) -> None:
        """Provided by ``SqlStore`` (PostgreSQL: an advisory lock; SQLite: nothing)."""

    # -- queues ----------------------------------------------------------------------------------------------------
    def insert_message_queue(self, queue: Queue) -> bool:
        with self._transaction(write=True) as tx:
            return tx.execute(INSERT_QUEUE, queue_params(queue)) == 1

    def get_message_queue(self, name: str) -> Queue | None:
        with self._transaction(write=False) as tx:
            row = tx.one(GET_QUEUE, {"name": name})
        return queue_from_row(row) if row is not None else None

    def list_message_queues(self, prefix: str | None, after: str | None, limit: int) -> list[Queue]:
        if limit < 1:
            raise InvalidParameterValue(f"limit must be at least 1, not {limit}.")
        prefix = prefix or ""
        params = {"after": after or "", "prefix": prefix, "prefix_length": len(prefix), "limit": limit}
        with self._transaction(write=False) as tx:
            return [queue_from_row(row) for row in tx.all(LIST_QUEUES, params)]

    def update_message_queue(self, queue: Queue) -> bool:
        params = queue_params(queue)
        for fixed in ("fifo", "created_at"):
            del params[fixed]
        with self._transaction(write=True) as tx:
            return tx.execute(UPDATE_QUEUE, params) == 1

    def delete_message_queue(self, name: str) -> bool:
        with self._transaction(write=True) as tx:
            tx.execute(PURGE, {"name": name})
            tx.execute(DELETE_DEDUPLICATION, {"name": name})
            return tx.execute(DELETE_QUEUE, {"name": name}) == 1

    def purge_message_queue(self, name: str) -> int:
        with self._transaction(write=True) as tx:
            return tx.execute(PURGE, {"name": name})

    # -- messages --------------------------------------------------------------------------------------------------
    def _allocate(self, tx: Tx, name: str, n: int) -> Iterator[int] | None:
        """``n`` new sequence numbers of queue ``name`` (None when it does not exist)."""
        row = tx.one(ALLOCATE, {"name": name, "n": n})
        if row is None:
            return None
        last = int(row["next_sequence"])
        return iter(range(last - n + 1, last + 1))

    def send_messages(self, queue_name: str, messages: Sequence[OutgoingMessage], now: float) -> list[Message] | None:
        sent: list[Message] = []
        with self._transaction(write=True) as tx:
            sequences = self._allocate(tx, queue_name, len(messages))
            if sequences is None:
                return None
            if any(m.dedup_id is not None for m in messages):
                tx.execute(FORGET_DEDUPLICATION, {"name": queue_name, "now": now})
            for outgoing, sequence in zip(messages, sequences, strict=True):
                message = stored_message(queue_name, outgoing, sequence, now)
                if outgoing.dedup_id is not None:
                    key = {"name": queue_name, "dedup_id": outgoing.dedup_id}
                    original = tx.one(FIND_DEDUPLICATION, key)
                    if original is not None:
                        sent.append(message.replace(id=original["message_id"], sequence=int(original["sequence"])))
                        continue
                    expires_at = now + DEDUPLICATION_WINDOW_S
                    tx.execute(
                        REMEMBER_DEDUPLICATION,
                        {**key, "message_id": message.id, "sequence": sequence, "expires_at": expires_at},
                    )
                tx.execute(INSERT_MESSAGE, message_params(message))
                sent.append(message)
        return sent

    def receive_messages(
        self, queue_name: str, now: float, limit: int, visibility_timeout_s: float, receipt_token: str
    ) -> list[Message] | None:
        received: list[Message] = []
        with self._transaction(write=True) as tx:
            row = tx.one(GET_QUEUE, {"name": queue_name})
            if row is None:
                return None
            queue = queue_from_row(row)
            if queue.fifo:
                self._serialize(tx, "lambdahost.message_queue:" + queue_name, 0)
            expired_before = now - queue.retention_s
            tx.execute(EXPIRE, {"name": queue_name, "expired_before": expired_before})
            policy = queue.redrive_policy
            if policy is not None and tx.one(GET_QUEUE, {"name": policy.dead_letter_queue}) is None:
                policy = None  # no dead-letter queue (yet): messages stay where they are
            choose = receivable(queue.fifo, self.lock_rows_sql)
            leasing = {"token": receipt_token, "visible_at": now + visibility_timeout_s, "now": now}
            for _ in range(_RECEIVE_ROUNDS):
                want = limit - len(received)
                params = {"name": queue_name, "now": now, "expired_before": expired_before, "limit": want}
                chosen = tx.all(choose, params)
                moving = [r["id"] for r in chosen if policy and r["receive_count"] >= policy.max_receive_count]
                taking = [r["id"] for r in chosen if r["id"] not in moving]
                if taking:
                    numbered = {f"id{n}": message_id for n, message_id in enumerate(taking)}
                    leased = [message_from_row(row) for row in tx.all(lease(len(taking)), {**leasing, **numbered})]
                    received.extend(sorted(leased, key=lambda m: m.sequence))
                if moving and policy is not None:
                    self._move(tx, moving, policy.dead_letter_queue, now, source_arn(policy, queue_name))
                if not moving or len(received) >= limit:
                    break
        return received

    def _move(self, tx: Tx, ids: Sequence[str], destination: str, now: float, source: str | None) -> int:
        sequences = self._allocate(tx, destination, len(ids))
        if sequences is None:
            return 0
        for message_id, sequence in zip(ids, sequences, strict=True):
            params = {"id": message_id, "destination": destination, "sequence": sequence, "now": now}
            tx.execute(MOVE, {**params, "source_arn": source})
        return len(ids)

    def delete_messages(self, queue_name: str, leases: Sequence[tuple[str, str]]) -> list[LeaseOutcome]:
        outcomes: list[LeaseOutcome] = []
        with self._transaction(write=True) as tx:
            for message_id, token in leases:
                key = {"id": message_id, "name": queue_name}
                if tx.execute(DELETE_LEASED, {**key, "token": token}) == 1:
                    outcomes.append(LeaseOutcome.DONE)
                else:
                    gone = tx.one(RECEIPT_TOKEN, key) is None
                    outcomes.append(LeaseOutcome.GONE if gone else LeaseOutcome.STALE)
        return outcomes

    def change_message_visibility(
        self, queue_name: str, message_id: str, receipt_token: str, now: float, timeout_s: float
    ) -> LeaseOutcome:
        key = {"id": message_id, "name": queue_name}
        params = {**key, "token": receipt_token, "now": now, "visible_at": now + timeout_s}
        with self._transaction(write=True) as tx:
            if tx.execute(CHANGE_VISIBILITY, params) == 1:
                return LeaseOutcome.DONE
            row = tx.one(RECEIPT_TOKEN, key)
        if row is None:
            return LeaseOutcome.GONE
        return LeaseOutcome.NOT_IN_FLIGHT if row["receipt_token"] == receipt_token else LeaseOutcome.STALE

    def message_counts(self, queue_name: str, now: float) -> MessageCounts:
        with self._transaction(write=False) as tx:
            row = tx.one(RETENTION, {"name": queue_name})
            if row is None:
                return MessageCounts()
            counts = tx.one(COUNTS, {"name": queue_name, "now": now, "expired_before": now - row["retention_s"]})
        assert counts is not None
        return MessageCounts(int(counts["visible"]), int(counts["in_flight"]), int(counts["delayed"]))

    def move_messages(self, source: str, destination: str, now: float, limit: int, from_arn: str | None = None) -> int:
        with self._transaction(write=True) as tx:
            if tx.one(GET_QUEUE, {"name": source}) is None or tx.one(GET_QUEUE, {"name": destination}) is None:
                return 0
            params = {"name": source, "now": now, "limit": limit, "from_arn": from_arn}
            chosen = tx.all(NOT_IN_FLIGHT + self.lock_rows_sql, params)
            return self._move(tx, [row["id"] for row in chosen], destination, now, None)
