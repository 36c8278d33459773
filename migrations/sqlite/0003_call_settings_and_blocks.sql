-- Call periods (SPEC §4: calls only inside the call period and the observation period), numbers
-- blocked by the wrong-number key (SPEC §5a), and calls staff asked for now (`calls now`).
ALTER TABLE patients ADD COLUMN call_start DATE;
ALTER TABLE patients ADD COLUMN call_end DATE;

-- A number whose answerer pressed the wrong-number key: never dialled again by automatic calls
-- until staff register another number or clear the block. Flagged for staff.
CREATE TABLE blocked_numbers (
    phone       TEXT PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients (id),
    blocked_at  BIGINT NOT NULL,
    call_id     TEXT
);

-- A call staff asked for now: one attempt, no retries, outside the slot plan.
ALTER TABLE call_attempts ADD COLUMN manual BOOLEAN NOT NULL DEFAULT FALSE;
-- The slot instant (UTC ms): a report at or after it cancels the slot's remaining attempts.
ALTER TABLE call_attempts ADD COLUMN slot_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX call_attempts_patient ON call_attempts (patient_id, state);

-- One row per planned slot: the node that inserts it plans the slot (in the same transaction),
-- so nodes sharing a store plan each slot once; re-planning (patients changed) is leased too.
CREATE TABLE slot_plans (
    slot_date    DATE NOT NULL,
    slot_time    TEXT NOT NULL,
    planned_at   BIGINT NOT NULL,
    planned_by   TEXT NOT NULL,
    calls        BIGINT NOT NULL,
    PRIMARY KEY (slot_date, slot_time)
);
