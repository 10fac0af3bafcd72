-- Triage of the review queue: who acknowledged an issue, who owns it, why it
-- is ignored and until when, and which earlier issue it is a regression of.
-- An ignored issue stays unresolved (the unique "one open issue per problem"
-- indexes keep holding); it is only hidden from the queue's default view.
ALTER TABLE sync_issues ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE sync_issues ADD COLUMN acknowledged_by BIGINT REFERENCES users(id);
ALTER TABLE sync_issues ADD COLUMN assigned_to BIGINT REFERENCES users(id);
ALTER TABLE sync_issues ADD COLUMN ignored_at BIGINT;
ALTER TABLE sync_issues ADD COLUMN ignored_by BIGINT REFERENCES users(id);
ALTER TABLE sync_issues ADD COLUMN ignore_reason TEXT;
-- At most one of the two: ignored until this instant, or for this many more
-- occurrences; neither means "until further notice".
ALTER TABLE sync_issues ADD COLUMN ignored_until BIGINT;
ALTER TABLE sync_issues ADD COLUMN ignore_left BIGINT;
-- The closed issue this one is the return of (no foreign key: retention may
-- purge the predecessor), and how many times the problem has come back.
ALTER TABLE sync_issues ADD COLUMN regressed_from BIGINT;
ALTER TABLE sync_issues ADD COLUMN regressions BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sync_issues_assigned ON sync_issues (org_id, assigned_to) WHERE resolved_at IS NULL;
-- A problem's last issue, open or closed, is looked up each time it is found.
CREATE INDEX sync_issues_appointment_code ON sync_issues (org_id, appointment_id, code, id);
CREATE INDEX sync_issues_booking_code ON sync_issues (org_id, calcom_booking_uid, code, id);
