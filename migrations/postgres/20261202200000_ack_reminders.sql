-- Reminders for acknowledged issues nobody resolved: after the
-- organization's number of hours (0: never) the feed says so, once per
-- issue; `reminded_at` records that it did.
ALTER TABLE organizations ADD COLUMN ack_reminder_hours BIGINT NOT NULL DEFAULT 24;
ALTER TABLE sync_issues ADD COLUMN reminded_at BIGINT;
CREATE INDEX sync_issues_to_remind ON sync_issues (acknowledged_at)
    WHERE acknowledged_at IS NOT NULL AND reminded_at IS NULL AND resolved_at IS NULL;
