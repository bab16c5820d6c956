-- 0013: secrets. One row per secret: the AES-GCM ciphertext of its value (with the 16-byte tag) and the 96-bit
-- nonce it was sealed with; the value itself is never stored. The platform's key (LAMBDAHOST_SECRET_KEY or the
-- data directory's secret.key) is not in the database either.

CREATE TABLE secrets (
    name       TEXT NOT NULL PRIMARY KEY,
    ciphertext BYTEA NOT NULL,
    nonce      BYTEA NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
