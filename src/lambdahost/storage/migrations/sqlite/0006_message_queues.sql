-- 0006: named message queues (the SQS subset). `message_queues` holds a queue's attributes (RedrivePolicy as JSON
-- {"deadLetterTargetArn": ..., "maxReceiveCount": n}; attributes kept as given in `extra_attributes`, tags, both
-- JSON objects) and the counter its messages take their sequence numbers from. A message is one row of `messages`:
-- it may be received when `visible_at <= now`; a receive leases it (a new `receipt_token`, `visible_at` = now +
-- visibility timeout, `receive_count` + 1), never deletes it. `source_arn`: the queue a redrive moved it from.
-- `message_deduplication` remembers a FIFO queue's deduplication ids for 5 minutes, also after a delete.

CREATE TABLE message_queues (
    name                        TEXT NOT NULL PRIMARY KEY,
    fifo                        INTEGER NOT NULL,
    content_based_deduplication INTEGER NOT NULL,
    visibility_timeout_s        INTEGER NOT NULL,
    delay_s                     INTEGER NOT NULL,
    retention_s                 INTEGER NOT NULL,
    maximum_message_size        INTEGER NOT NULL,
    receive_wait_s              INTEGER NOT NULL,
    redrive_policy              TEXT,
    extra_attributes            TEXT NOT NULL,
    tags                        TEXT NOT NULL,
    created_at                  REAL NOT NULL,
    modified_at                 REAL NOT NULL,
    next_sequence               BIGINT NOT NULL
);

CREATE TABLE messages (
    id                TEXT NOT NULL PRIMARY KEY,
    queue_name        TEXT NOT NULL,
    sequence          BIGINT NOT NULL,
    body              TEXT NOT NULL,
    attributes        TEXT NOT NULL,
    system_attributes TEXT NOT NULL,
    sent_at           REAL NOT NULL,
    visible_at        REAL NOT NULL,
    receive_count     INTEGER NOT NULL,
    first_received_at REAL,
    receipt_token     TEXT,
    group_id          TEXT,
    dedup_id          TEXT,
    source_arn        TEXT
);

CREATE TABLE message_deduplication (
    queue_name TEXT NOT NULL,
    dedup_id   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence   BIGINT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (queue_name, dedup_id)
);

CREATE INDEX messages_queue_sequence ON messages (queue_name, sequence);
CREATE INDEX messages_queue_group ON messages (queue_name, group_id, visible_at) WHERE receipt_token IS NOT NULL;
CREATE INDEX messages_queue_sent ON messages (queue_name, sent_at);
CREATE INDEX message_deduplication_expires ON message_deduplication (queue_name, expires_at);
