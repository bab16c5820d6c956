-- 0003: an invocation's lifecycle transitions live in its own row, so recording an invocation is one write and a
-- lifecycle step (compare-and-set of the status plus the append of its transition) is one UPDATE.
-- `transitions` is a JSONB array in the order the steps happened, each step a compact array
-- [status, at, worker]: ["running", 1700000000.123456, "host-1:4242"] (worker null when there is none).
-- The rows of invocation_transitions move into it in seq order. A double becomes a JSON number through its text
-- form: extra_float_digits > 0 makes that text exact (shortest round-trip from PostgreSQL 12, 17 digits before),
-- whatever the server's setting.

SET LOCAL extra_float_digits = 3;

ALTER TABLE invocations ADD COLUMN transitions JSONB NOT NULL DEFAULT '[]';

UPDATE invocations AS i SET transitions = packed.steps
FROM (
    SELECT invocation_id, jsonb_agg(jsonb_build_array(status, at, worker) ORDER BY seq) AS steps
    FROM invocation_transitions
    GROUP BY invocation_id
) AS packed
WHERE packed.invocation_id = i.id;

DROP TABLE invocation_transitions;
