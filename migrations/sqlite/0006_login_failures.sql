-- Failed staff logins (issue 6), shared by every node on one store so the rate limit holds
-- across a cluster: one row per failure for the username tried and one for the source address.
-- A successful login deletes its username's rows; rows older than the window are pruned.
-- Keep in step with migrations/postgres/0006_login_failures.sql.
CREATE TABLE login_failures (
    id   INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('username', 'address')),
    key  TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (kind, key, at);
CREATE INDEX login_failures_at ON login_failures (at);
