-- Staff accounts, their sessions and the audit log (issue 6). Keep in step with
-- migrations/sqlite/0004_staff_and_audit.sql.

-- A staff account belongs to one health centre; an admin may have none (then it sees every
-- centre). Passwords are Argon2id PHC strings; nothing else about a password is stored.
CREATE TABLE staff (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username         TEXT NOT NULL UNIQUE CHECK (username <> ''),
    password_hash    TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
    health_center_id BIGINT REFERENCES health_centers (id),
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       BIGINT NOT NULL,
    CHECK (role = 'admin' OR health_center_id IS NOT NULL)
);

-- A login: an API bearer token or a page session cookie. Only a hash of the token is stored.
CREATE TABLE staff_sessions (
    token_hash  TEXT PRIMARY KEY,
    staff_id    BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('token', 'cookie')),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- Every read or change of personal data through the staff API: who, what, which patient,
-- when. Append-only. `detail` never holds personal data (counts, filters, internal ids).
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    staff_id    BIGINT REFERENCES staff (id),
    username    TEXT NOT NULL,
    action      TEXT NOT NULL,
    patient_id  BIGINT REFERENCES patients (id),
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_patient ON audit_log (patient_id, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
