-- 0014: artifacts. Output artifacts are the files an invocation left in its output directory, one row per file
-- (its path relative to that directory, size, SHA-256 and bytes); input artifacts are files handed to functions,
-- one row per content (keyed by its SHA-256). Both expire: the sweep deletes rows past expires_at.

CREATE TABLE artifacts (
    invocation_id TEXT NOT NULL,
    name          TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    content       BYTEA NOT NULL,
    created_at    DOUBLE PRECISION NOT NULL,
    expires_at    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (invocation_id, name)
);

CREATE INDEX artifacts_expires ON artifacts (expires_at);

CREATE TABLE input_artifacts (
    sha256     TEXT NOT NULL PRIMARY KEY,
    size       BIGINT NOT NULL,
    content    BYTEA NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);

CREATE INDEX input_artifacts_expires ON input_artifacts (expires_at);
