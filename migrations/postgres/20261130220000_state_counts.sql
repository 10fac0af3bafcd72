-- The dashboard reads appointment counts per sync state from
-- `appointment_state_counts`. SQLite keeps that as a table maintained by
-- triggers, because counting a large table there is slow. PostgreSQL counts
-- its index quickly and a counter row would be a hot row every concurrent
-- writer had to lock (and could deadlock on), so here it is a view.
CREATE VIEW appointment_state_counts AS
SELECT org_id, sync_status, requires_manual_review, COUNT(*) AS n
FROM appointments
GROUP BY org_id, sync_status, requires_manual_review;
