-- carecall report store, PostgreSQL. Keep in step with migrations/sqlite/0001_report_store.sql:
-- the same tables, columns, constraints and indexes. Times are UTC epoch milliseconds
-- (BIGINT); dates are DATE columns holding 'YYYY-MM-DD'; slot times are local 'HH:MM'.

CREATE TABLE health_centers (
    id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (name <> '')
);

CREATE TABLE patients (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hersys_id         TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    birthday          DATE NOT NULL,
    phone             TEXT NOT NULL,
    language          TEXT NOT NULL
                      CHECK (language IN ('ja', 'en', 'zh-CN', 'yue', 'zh-TW', 'ko', 'es', 'pt')),
    call_times        TEXT NOT NULL,
    observation_start DATE NOT NULL,
    observation_end   DATE NOT NULL,
    auto_call         BOOLEAN NOT NULL,
    health_center_id  BIGINT NOT NULL REFERENCES health_centers (id),
    risk              TEXT NOT NULL,
    hc_locked_at      BIGINT,
    hc_unlocked_at    BIGINT,
    CHECK (observation_end >= observation_start)
);

-- SPEC §4: one phone number belongs to one patient for automatic calls.
CREATE UNIQUE INDEX patients_auto_call_phone ON patients (phone) WHERE auto_call;

CREATE TABLE reports (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id   BIGINT NOT NULL REFERENCES patients (id),
    channel      TEXT NOT NULL CHECK (channel IN ('outbound_call', 'health_call', 'web', 'staff')),
    started_at   BIGINT NOT NULL,
    completed_at BIGINT,
    slot_date    DATE,
    slot_time    TEXT,
    call_id      TEXT,
    complete     BOOLEAN NOT NULL DEFAULT FALSE,
    flag         TEXT NOT NULL DEFAULT 'none' CHECK (flag IN ('none', 'amber', 'red')),
    flag_reasons TEXT NOT NULL DEFAULT '',
    CHECK ((slot_date IS NULL) = (slot_time IS NULL)),
    CHECK (complete = (completed_at IS NOT NULL))
);

CREATE INDEX reports_started_at ON reports (started_at);
CREATE INDEX reports_patient_started_at ON reports (patient_id, started_at);

-- One row per question of a report; a re-confirmed answer replaces the row.
CREATE TABLE answers (
    report_id   BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    question    TEXT NOT NULL,
    value_kind  TEXT NOT NULL,
    value_num   BIGINT,
    value_text  TEXT,
    answered_at BIGINT NOT NULL,
    PRIMARY KEY (report_id, question),
    CHECK (
        (value_kind = 'temperature' AND value_num BETWEEN 0 AND 65535 AND value_text IS NULL)
        OR (value_kind = 'spo2' AND (value_num IS NULL OR value_num BETWEEN 0 AND 255)
            AND value_text IS NULL)
        OR (value_kind = 'symptom' AND value_num IS NULL
            AND value_text IN ('yes', 'no', 'unknown'))
        OR (value_kind = 'yes_no' AND value_num IN (0, 1) AND value_text IS NULL)
        OR (value_kind = 'unanswered' AND value_num IS NULL AND value_text IS NULL)
    )
);

-- SPEC §13: one append-only row per call leg, written at hang-up.
CREATE TABLE call_records (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id          TEXT NOT NULL,
    sip_call_id      TEXT NOT NULL,
    direction        TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    trunk            TEXT,
    caller           TEXT NOT NULL,
    called           TEXT NOT NULL,
    started_at       BIGINT NOT NULL,
    answered_at      BIGINT,
    ended_at         BIGINT NOT NULL,
    duration_ms      BIGINT NOT NULL CHECK (duration_ms >= 0),
    disposition      TEXT NOT NULL CHECK (disposition IN ('answered', 'no_answer', 'busy',
                     'rejected', 'unreachable', 'failed', 'answering_machine', 'cancelled')),
    sip_status       BIGINT,
    dialplan_id      TEXT,
    dialplan_version TEXT,
    last_step        TEXT,
    slot_date        DATE,
    slot_time        TEXT,
    attempt          BIGINT,
    CHECK ((slot_date IS NULL) = (slot_time IS NULL))
);

CREATE INDEX call_records_started_at ON call_records (started_at);

CREATE FUNCTION call_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'call_records is append-only';
END;
$$;

CREATE TRIGGER call_records_no_change BEFORE UPDATE OR DELETE ON call_records
FOR EACH ROW EXECUTE FUNCTION call_records_append_only();

-- Failed Health Call identifications (SPEC §5, §12): the ID tried and the caller number.
CREATE TABLE id_failures (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hersys_id TEXT NOT NULL,
    caller    TEXT NOT NULL,
    call_id   TEXT NOT NULL,
    at        BIGINT NOT NULL
);

CREATE INDEX id_failures_hersys_id_at ON id_failures (hersys_id, at);
CREATE INDEX id_failures_caller_at ON id_failures (caller, at);
