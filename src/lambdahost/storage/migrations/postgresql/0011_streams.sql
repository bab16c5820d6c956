-- 0011: streams (the Kinesis subset) and the shard leases of stream mappings. A stream's shards split the 128-bit
-- hash key space (kept as decimal text: it does not fit a BIGINT); `last_sequence` is the counter a shard's records
-- take their sequences from (a put increments it in its write transaction, so a shard's records keep the order of
-- their puts). A record's `sequence` is that integer, `sequence_number` the Kinesis-like string shown to clients
-- (both sort alike). Records past the stream's retention are deleted by the next put and by a periodic sweep
-- (stream_records_arrival serves both).
-- `stream_shard_leases`: per mapping and shard, the checkpoint (sequence of the last record done with; NULL: not
-- started) and which node processes the shard until when.

CREATE TABLE streams (
    name            TEXT COLLATE "C" PRIMARY KEY,
    region          TEXT NOT NULL,
    account         TEXT NOT NULL,
    shard_count     INTEGER NOT NULL,
    retention_hours INTEGER NOT NULL,
    status          TEXT NOT NULL,
    created_at      DOUBLE PRECISION NOT NULL
);

CREATE TABLE stream_shards (
    stream_name       TEXT NOT NULL,
    shard_id          TEXT NOT NULL,
    starting_hash_key TEXT NOT NULL,
    ending_hash_key   TEXT NOT NULL,
    last_sequence     BIGINT NOT NULL,
    PRIMARY KEY (stream_name, shard_id)
);

CREATE TABLE stream_records (
    stream_name       TEXT NOT NULL,
    shard_id          TEXT NOT NULL,
    sequence          BIGINT NOT NULL,
    sequence_number   TEXT NOT NULL,
    partition_key     TEXT NOT NULL,
    data              BYTEA NOT NULL,
    explicit_hash_key TEXT,
    arrival           DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (stream_name, shard_id, sequence)
);

CREATE TABLE stream_shard_leases (
    mapping_uuid  TEXT NOT NULL,
    shard_id      TEXT NOT NULL,
    stream_name   TEXT NOT NULL,
    checkpoint    BIGINT,
    lease_owner   TEXT,
    lease_expires DOUBLE PRECISION NOT NULL,
    last_arrival  DOUBLE PRECISION,
    updated_at    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (mapping_uuid, shard_id)
);

CREATE INDEX stream_records_arrival ON stream_records (stream_name, arrival);
CREATE INDEX stream_shard_leases_stream ON stream_shard_leases (stream_name);
