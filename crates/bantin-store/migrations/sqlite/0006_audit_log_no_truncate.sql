-- Nothing to do on SQLite: it has no TRUNCATE, and its truncate optimisation of a DELETE
-- without WHERE is off for tables with triggers, so audit_log_no_delete (0003) already refuses
-- it. Kept so both folders number their migrations alike; see
-- migrations/postgres/0006_audit_log_no_truncate.sql.
SELECT 1;
