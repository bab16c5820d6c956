-- 0015: function parameters. One row per function that declares parameters: the declaration as JSON text (a list
-- of {"Name", "Type", "Default"?, "Description", "Required"}, lambdahost.core.parameters.shape), never a resolved
-- secret (defaults keep {{secret.NAME}} as text). Deleted with the function.

CREATE TABLE function_parameters (
    function_name TEXT NOT NULL PRIMARY KEY,
    parameters    TEXT NOT NULL,
    updated_at    DOUBLE PRECISION NOT NULL
);
