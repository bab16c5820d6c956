-- 0012: HTTP routes and function URLs.
-- http_routes: METHOD (or ANY) and a path pattern (/reports/{id}, /files/{proxy+}) invoking a function at a
-- qualifier with API Gateway's REST (1.0) or HTTP API (2.0) event. path_shape is the path up to parameter names
-- (/reports/{}, /files/{+}): two routes with one method and one shape would conflict, so the pair is unique.
-- function_url_configs: one function URL per function and qualifier ($LATEST: unqualified), found by its url_id
-- (the <url-id> of https://<url-id>.lambda-url.<region>.on.aws/); cors is AWS's Cors object as JSON text.
-- Both are deleted with their function.

CREATE TABLE http_routes (
    id             TEXT NOT NULL PRIMARY KEY,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    path_shape     TEXT NOT NULL,
    function_name  TEXT NOT NULL,
    qualifier      TEXT NOT NULL,
    payload_format TEXT NOT NULL,
    created_at     DOUBLE PRECISION NOT NULL
);

CREATE UNIQUE INDEX http_routes_key ON http_routes (method, path_shape);
CREATE INDEX http_routes_function ON http_routes (function_name);

CREATE TABLE function_url_configs (
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL,
    url_id        TEXT NOT NULL,
    auth_type     TEXT NOT NULL,
    cors          TEXT,
    invoke_mode   TEXT NOT NULL,
    created_at    DOUBLE PRECISION NOT NULL,
    last_modified DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (function_name, qualifier)
);

CREATE UNIQUE INDEX function_url_configs_url_id ON function_url_configs (url_id);
