-- Pending attempts in start order: higher priority, earlier due time, lower patient id, lower
-- attempt id. This is the claim's ORDER BY (src/store/attempts.rs), which mirrors the one
-- pacing policy, schedule::claim_order; the patient id makes ties of priority and due time
-- (attempts given back until quiet hours end) start in the same order in both.
DROP INDEX call_attempts_pending;
CREATE INDEX call_attempts_start_order ON call_attempts (priority DESC, due_at, patient_id, id)
    WHERE state = 'pending';
