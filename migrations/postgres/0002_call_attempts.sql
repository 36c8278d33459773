-- Automatic-call attempts: one row per (patient, slot, attempt number), claimed by a node with
-- a lease so no attempt is dialled twice and a dead node's claims are taken over.
CREATE TABLE call_attempts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id   BIGINT NOT NULL REFERENCES patients (id),
    slot_date    DATE NOT NULL,
    slot_time    TEXT NOT NULL,
    attempt      BIGINT NOT NULL CHECK (attempt >= 1),
    due_at       BIGINT NOT NULL,
    window_end   BIGINT NOT NULL,
    priority     BIGINT NOT NULL DEFAULT 0,
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'claimed', 'done', 'cancelled')),
    claimed_by   TEXT,
    lease_until  BIGINT,
    outcome      TEXT,
    call_id      TEXT,
    finished_at  BIGINT,
    UNIQUE (patient_id, slot_date, slot_time, attempt)
);
CREATE INDEX call_attempts_due ON call_attempts (state, due_at);
