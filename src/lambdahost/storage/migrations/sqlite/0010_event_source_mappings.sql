-- 0010: event source mappings (CreateEventSourceMapping): what feeds a function from a queue or a stream. One row per
-- mapping, both kinds' settings in it (those that do not apply to its kind keep their defaults). filter_patterns and
-- function_response_types are JSON arrays of strings (each pattern the JSON text the user gave). One mapping per
-- (source, function, qualifier): event_source_mappings_source serves that check and the listing by source;
-- event_source_mappings_function the listing by function. Listings page in uuid order.

CREATE TABLE event_source_mappings (
    uuid                           TEXT NOT NULL PRIMARY KEY,
    function_name                  TEXT NOT NULL,
    qualifier                      TEXT NOT NULL,
    source_arn                     TEXT NOT NULL,
    source_kind                    TEXT NOT NULL,
    enabled                        INTEGER NOT NULL,
    state                          TEXT NOT NULL,
    state_transition_reason        TEXT NOT NULL,
    last_processing_result         TEXT NOT NULL,
    last_processing_at             REAL,
    created_at                     REAL NOT NULL,
    last_modified                  REAL NOT NULL,
    batch_size                     INTEGER NOT NULL,
    maximum_batching_window_s      INTEGER NOT NULL,
    filter_patterns                TEXT NOT NULL,
    function_response_types        TEXT NOT NULL,
    maximum_concurrency            INTEGER,
    starting_position              TEXT,
    starting_position_timestamp    REAL,
    parallelization_factor         INTEGER NOT NULL,
    maximum_retry_attempts         INTEGER NOT NULL,
    maximum_record_age_s           INTEGER NOT NULL,
    bisect_batch_on_function_error INTEGER NOT NULL,
    on_failure_destination         TEXT
);

CREATE UNIQUE INDEX event_source_mappings_source ON event_source_mappings (source_arn, function_name, qualifier);
CREATE INDEX event_source_mappings_function ON event_source_mappings (function_name, uuid);

-- ScalingConfig.MaximumConcurrency across nodes: a queue mapping's consumer holds one of its slots (0 .. maximum - 1)
-- as a lease its node renews; a slot whose lease ran out (its node died) is free for any node.
CREATE TABLE mapping_slots (
    mapping_uuid TEXT NOT NULL,
    slot         INTEGER NOT NULL,
    owner        TEXT NOT NULL,
    expires      REAL NOT NULL,
    PRIMARY KEY (mapping_uuid, slot)
);
