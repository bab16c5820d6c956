-- 0005: what a function says about its asynchronous invocations, and what an invocation carries for them.
-- event_invoke_configs: one row per function and qualifier (PutFunctionEventInvokeConfig); NULL columns take
-- AWS's defaults (2 retries, 21600 s). Destinations are ARNs (a function or a queue).
-- provisioned_concurrency: the warm environments a function keeps (PutProvisionedConcurrencyConfig).
-- functions.lanes: JSON list, the maximum concurrency of each lane (NULL: one lane, no limit of its own).
-- invocations.trace: the X-Amzn-Trace-Id the invocation runs under, its Lineage counting the chain of calls
-- (loop protection). invocations.routed_to / route_condition: where a finished asynchronous invocation's record
-- went (destination or dead-letter queue ARN) and why (Success, RetriesExhausted, EventAgeExceeded, ...).

CREATE TABLE event_invoke_configs (
    function_name          TEXT NOT NULL,
    qualifier              TEXT NOT NULL,
    maximum_retry_attempts INTEGER,
    maximum_event_age_s    INTEGER,
    on_success             TEXT,
    on_failure             TEXT,
    last_modified          REAL NOT NULL,
    PRIMARY KEY (function_name, qualifier)
);

CREATE TABLE provisioned_concurrency (
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL,
    requested     INTEGER NOT NULL,
    last_modified REAL NOT NULL,
    PRIMARY KEY (function_name, qualifier)
);

ALTER TABLE functions ADD COLUMN lanes TEXT;
ALTER TABLE invocations ADD COLUMN trace TEXT;
ALTER TABLE invocations ADD COLUMN routed_to TEXT;
ALTER TABLE invocations ADD COLUMN route_condition TEXT;
