-- A report started by a call carries a random key (SPEC §11), so that a start that timed out
-- and one replayed from the node's local journal find the same report instead of making two.
-- NULL for reports from elsewhere (staff, web); distinct NULLs do not conflict.
-- Keep in step with migrations/sqlite/0007_report_journal_key.sql.
ALTER TABLE reports ADD COLUMN journal_key TEXT;
CREATE UNIQUE INDEX reports_journal_key ON reports (journal_key);
