-- 0008: schedules (EventBridge Scheduler's subset): what a schedule says (expression, time zone, target function
-- and qualifier, input JSON, enabled, flexible window minutes with 0 = OFF, start and end dates) and the engine's
-- bookkeeping: next_fire_at (NULL: it never fires again) and last_fired_at (the due time it last fired for).
-- A firing node claims the due ones (enabled, next_fire_at <= now) and moves next_fire_at past now in the same
-- transaction, so a due time fires once across nodes; schedules_due serves that claim.

CREATE TABLE schedules (
    name                    TEXT NOT NULL PRIMARY KEY,
    expression              TEXT NOT NULL,
    timezone                TEXT NOT NULL,
    function_name           TEXT NOT NULL,
    qualifier               TEXT NOT NULL,
    input                   TEXT,
    enabled                 INTEGER NOT NULL,
    flexible_window_minutes INTEGER NOT NULL,
    start_date              REAL,
    end_date                REAL,
    created_at              REAL NOT NULL,
    last_modified           REAL NOT NULL,
    next_fire_at            REAL,
    last_fired_at           REAL
);

CREATE INDEX schedules_due ON schedules (next_fire_at, name) WHERE enabled = TRUE;
