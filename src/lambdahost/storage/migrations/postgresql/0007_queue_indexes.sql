-- 0007: two queue indexes for a large backlog (20,000 pending invocations of one lane).
-- invocations_pending gets `id`, the tie-break of the claim order (available_at, id): without it, with a backlog
-- sharing one available_at (a recovery, a batch of retries), a claim read and sorted every pending invocation of
-- the lane to pick the first few (5 ms a claim in SQLite, more in PostgreSQL).
-- invocations_leased holds the ready and running invocations of each lane, for the lane occupancy a claim reads
-- (SQLite reads a partial index only when the query states its condition exactly; through invocations_unfinished,
-- which also holds the pending ones, the read scanned the whole backlog: 1 ms a claim).

DROP INDEX invocations_pending;
CREATE INDEX invocations_pending ON invocations (function_name, lane, available_at, id) WHERE status = 'pending';
CREATE INDEX invocations_leased ON invocations (function_name, lane) WHERE status IN ('ready', 'running');
