-- 0001: code packages, functions ($LATEST configurations), invocations and their lifecycle transitions.
-- Times are epoch seconds (REAL), as in lambdahost.core.model. Dicts and tuples are JSON text.
-- Text primary keys say NOT NULL: SQLite would otherwise accept NULL in them.

CREATE TABLE packages (
    sha256_hex    TEXT NOT NULL PRIMARY KEY,
    size          INTEGER NOT NULL,
    unzipped_size INTEGER NOT NULL,
    entries       INTEGER NOT NULL,
    created_at    REAL NOT NULL,
    data          BLOB NOT NULL
);

CREATE TABLE functions (
    name                 TEXT NOT NULL PRIMARY KEY,
    runtime              TEXT NOT NULL,
    handler              TEXT NOT NULL,
    role                 TEXT NOT NULL,
    code_sha256_hex      TEXT NOT NULL,
    code_size            INTEGER NOT NULL,
    revision_id          TEXT NOT NULL,
    last_modified        REAL NOT NULL,
    description          TEXT NOT NULL,
    timeout_s            INTEGER NOT NULL,
    memory_mb            INTEGER NOT NULL,
    ephemeral_storage_mb INTEGER NOT NULL,
    environment          TEXT NOT NULL,
    tags                 TEXT NOT NULL,
    architectures        TEXT NOT NULL,
    reserved_concurrency INTEGER,
    dead_letter_target   TEXT,
    log_format           TEXT NOT NULL,
    log_group            TEXT,
    state                TEXT NOT NULL,
    state_reason         TEXT,
    state_reason_code    TEXT,
    last_update_status   TEXT NOT NULL,
    version              TEXT NOT NULL
);

CREATE INDEX functions_code_sha256_hex ON functions (code_sha256_hex);

CREATE TABLE invocations (
    id                 TEXT NOT NULL PRIMARY KEY,
    function_name      TEXT NOT NULL,
    version            TEXT NOT NULL,
    type               TEXT NOT NULL,
    status             TEXT NOT NULL,
    created_at         REAL NOT NULL,
    lane               INTEGER NOT NULL,
    attempt            INTEGER NOT NULL,
    payload            BLOB NOT NULL,
    result             BLOB,
    function_error     TEXT,
    error_type         TEXT,
    error_message      TEXT,
    log                TEXT NOT NULL,
    log_truncated      INTEGER NOT NULL,
    duration_ms        REAL,
    billed_duration_ms INTEGER,
    init_duration_ms   REAL,
    max_memory_mb      INTEGER,
    memory_mb          INTEGER,
    worker             TEXT,
    finished_at        REAL
);

CREATE INDEX invocations_function_created ON invocations (function_name, created_at);
CREATE INDEX invocations_function_finished ON invocations (function_name, finished_at);
CREATE INDEX invocations_status ON invocations (status, created_at);
CREATE INDEX invocations_created ON invocations (created_at);

CREATE TABLE invocation_transitions (
    invocation_id TEXT NOT NULL REFERENCES invocations (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    status        TEXT NOT NULL,
    at            REAL NOT NULL,
    worker        TEXT,
    PRIMARY KEY (invocation_id, seq)
);
