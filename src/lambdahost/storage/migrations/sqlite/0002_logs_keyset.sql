-- 0002: page a function's finished invocations by the key (finished_at, id), so that invocations sharing one
-- finished_at are neither skipped nor repeated at a page boundary (`lambdahost logs`). The index replaces
-- (function_name, finished_at): the query filters on function_name and ranges over (finished_at, id) in order.

DROP INDEX invocations_function_finished;
CREATE INDEX invocations_function_finished_id ON invocations (function_name, finished_at, id);
