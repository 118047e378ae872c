-- TRUNCATE fires no row triggers, so audit_log_no_change (0003) let it empty the audit log.
-- A statement trigger refuses it too. Keep migrations/sqlite/0006_audit_log_no_truncate.sql in
-- step.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
