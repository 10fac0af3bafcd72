-- The dashboard's tiles count appointments per sync state. Counting a
-- million-row table on every dashboard load costs hundreds of milliseconds
-- on SQLite, so the counts are kept up to date by triggers instead and the
-- dashboard reads a handful of rows. (PostgreSQL has a view of the same name
-- and shape: a counter row there would be a hot row every writer locks.)
CREATE TABLE appointment_state_counts (
    org_id                  INTEGER NOT NULL,
    sync_status             TEXT    NOT NULL,
    requires_manual_review  INTEGER NOT NULL,
    n                       INTEGER NOT NULL,
    PRIMARY KEY (org_id, sync_status, requires_manual_review)
) WITHOUT ROWID;

INSERT INTO appointment_state_counts (org_id, sync_status, requires_manual_review, n)
SELECT org_id, sync_status, requires_manual_review, COUNT(*) FROM appointments
GROUP BY org_id, sync_status, requires_manual_review;

CREATE TRIGGER appointment_state_counts_insert AFTER INSERT ON appointments
BEGIN
    INSERT INTO appointment_state_counts (org_id, sync_status, requires_manual_review, n)
    VALUES (NEW.org_id, NEW.sync_status, NEW.requires_manual_review, 1)
    ON CONFLICT (org_id, sync_status, requires_manual_review) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER appointment_state_counts_delete AFTER DELETE ON appointments
BEGIN
    UPDATE appointment_state_counts SET n = n - 1
    WHERE org_id = OLD.org_id AND sync_status = OLD.sync_status
      AND requires_manual_review = OLD.requires_manual_review;
END;

CREATE TRIGGER appointment_state_counts_update AFTER UPDATE OF org_id, sync_status, requires_manual_review ON appointments
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.sync_status IS NOT NEW.sync_status
  OR OLD.requires_manual_review IS NOT NEW.requires_manual_review
BEGIN
    UPDATE appointment_state_counts SET n = n - 1
    WHERE org_id = OLD.org_id AND sync_status = OLD.sync_status
      AND requires_manual_review = OLD.requires_manual_review;
    INSERT INTO appointment_state_counts (org_id, sync_status, requires_manual_review, n)
    VALUES (NEW.org_id, NEW.sync_status, NEW.requires_manual_review, 1)
    ON CONFLICT (org_id, sync_status, requires_manual_review) DO UPDATE SET n = n + 1;
END;
