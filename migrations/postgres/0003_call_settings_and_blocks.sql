-- Call periods (SPEC §4: calls only inside the call period and the observation period), numbers
-- blocked by the wrong-number key (SPEC §5a), and calls staff asked for now (`calls now`).
ALTER TABLE patients ADD COLUMN call_start DATE;
ALTER TABLE patients ADD COLUMN call_end DATE;

-- A number whose answerer pressed the wrong-number key: never dialled again by automatic calls
-- until staff register another number or clear the block. Flagged for staff.
CREATE TABLE blocked_numbers (
    phone       TEXT PRIMARY KEY,
    patient_id  BIGINT NOT NULL REFERENCES patients (id),
    blocked_at  BIGINT NOT NULL,
    call_id     TEXT
);

-- A call staff asked for now: one attempt, no retries, outside the slot plan.
ALTER TABLE call_attempts ADD COLUMN manual BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX call_attempts_patient ON call_attempts (patient_id, state);
