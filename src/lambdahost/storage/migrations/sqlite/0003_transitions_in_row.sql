-- 0003: an invocation's lifecycle transitions live in its own row, so recording an invocation is one write and a
-- lifecycle step (compare-and-set of the status plus the append of its transition) is one UPDATE.
-- `transitions` is a JSON array in the order the steps happened, each step a compact array
-- [status, at, worker]: ["running",1700000000.123456,"host-1:4242"] (worker null when there is none).
-- The rows of invocation_transitions move into it in seq order: the window's ORDER BY fixes the order of
-- group_concat (a plain aggregate's order is unspecified before SQLite 3.44). Times are written with
-- printf('%!.17g'): 17 significant digits read back as the same double (json_array() writes only 15 in SQLite
-- 3.40, Debian 12's). json_quote escapes worker names; it turns NULL into null. Needs window functions (3.25) and
-- the JSON functions (built in since 3.38, compiled in by Debian and Ubuntu before); only this migration does.

ALTER TABLE invocations ADD COLUMN transitions TEXT NOT NULL DEFAULT '[]';

UPDATE invocations SET transitions = (
    SELECT '[' || group_concat(
        '[' || json_quote(t.status) || ',' || printf('%!.17g', t.at) || ',' || json_quote(t.worker) || ']', ','
    ) OVER (ORDER BY t.seq ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) || ']'
    FROM invocation_transitions AS t
    WHERE t.invocation_id = invocations.id
    LIMIT 1
)
WHERE id IN (SELECT invocation_id FROM invocation_transitions);

DROP TABLE invocation_transitions;
