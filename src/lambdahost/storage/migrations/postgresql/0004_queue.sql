-- 0004: the durable queue of asynchronous invocations. A pending invocation is claimable from `available_at`
-- (retry backoff, delays; NULL for invocations that never were in the queue, such as synchronous ones). A claimed
-- one (ready or running) is leased: `lease_owner` is the worker holding it, `lease_expires` the time after which
-- recovery may take it away unless the worker's heartbeat extends it. `workers` has one row per worker process.
-- The partial indexes keep each queue query on the rows it concerns: the pending queue per lane in claim order,
-- exact unfinished counts (queue depth, lane occupancy), the leases of a worker, and the leases to expire.

ALTER TABLE invocations ADD COLUMN available_at DOUBLE PRECISION;
ALTER TABLE invocations ADD COLUMN lease_owner TEXT;
ALTER TABLE invocations ADD COLUMN lease_expires DOUBLE PRECISION;

CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   DOUBLE PRECISION NOT NULL,
    heartbeat_at DOUBLE PRECISION NOT NULL,
    stopped_at   DOUBLE PRECISION
);

CREATE INDEX invocations_pending ON invocations (function_name, lane, available_at) WHERE status = 'pending';
CREATE INDEX invocations_unfinished ON invocations (function_name, lane, status)
    WHERE status IN ('pending', 'ready', 'running', 'orphaned');
CREATE INDEX invocations_lease_owner ON invocations (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX invocations_lease_expires ON invocations (lease_expires) WHERE status IN ('ready', 'running');
