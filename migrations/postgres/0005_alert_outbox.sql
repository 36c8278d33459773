-- Red-report alerts for the health centre's webhook (issue 6): an outbox, so an alert survives
-- a restart, and one row per delivery attempt. A report is enqueued at most once, when it
-- turns red. Keep in step with migrations/sqlite/0005_alert_outbox.sql.
CREATE TABLE alert_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id       BIGINT NOT NULL UNIQUE REFERENCES reports (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_error      TEXT,
    delivered_at    BIGINT,
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt_at);

-- Every POST to the webhook: when, the HTTP status if one came back, and the error if it failed.
CREATE TABLE alert_deliveries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id    BIGINT NOT NULL REFERENCES alert_outbox (id) ON DELETE CASCADE,
    attempt     BIGINT NOT NULL CHECK (attempt >= 1),
    at          BIGINT NOT NULL,
    http_status BIGINT,
    error       TEXT,
    UNIQUE (alert_id, attempt)
);
