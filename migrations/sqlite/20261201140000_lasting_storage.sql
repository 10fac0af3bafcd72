-- Verification figures by five-minute span. A routine confirmation that an
-- appointment is still in sync no longer adds a history row (a year of
-- 6-hourly checks would be 1,460 rows per appointment); the dashboard and
-- the metrics page count from here instead, for every verification.
CREATE TABLE verification_stats (
    org_id                INTEGER NOT NULL REFERENCES organizations(id),
    -- Start of the span, in ms since the epoch (a multiple of 300,000).
    bucket                INTEGER NOT NULL,
    total                 INTEGER NOT NULL,
    synced                INTEGER NOT NULL,
    -- Timeouts, 5xx, 429, open circuit: Cal.com could not answer.
    errors                INTEGER NOT NULL,
    unauthorized          INTEGER NOT NULL,
    -- Verifications that asked Cal.com and were timed (not an open circuit).
    timed                 INTEGER NOT NULL,
    duration_sum          INTEGER NOT NULL,
    duration_min          INTEGER,
    duration_max          INTEGER,
    last_at               INTEGER NOT NULL,
    last_unauthorized_at  INTEGER,
    last_answered_at      INTEGER,
    PRIMARY KEY (org_id, bucket)
);

INSERT INTO verification_stats
SELECT org_id, (at / 300000) * 300000,
       COUNT(*),
       SUM(CASE WHEN result = 'synced' THEN 1 ELSE 0 END),
       SUM(CASE WHEN result IN ('error', 'circuit_open') THEN 1 ELSE 0 END),
       SUM(CASE WHEN result = 'unauthorized' THEN 1 ELSE 0 END),
       SUM(CASE WHEN result <> 'circuit_open' AND duration_ms IS NOT NULL THEN 1 ELSE 0 END),
       COALESCE(SUM(CASE WHEN result <> 'circuit_open' THEN duration_ms END), 0),
       MIN(CASE WHEN result <> 'circuit_open' THEN duration_ms END),
       MAX(CASE WHEN result <> 'circuit_open' THEN duration_ms END),
       MAX(at),
       MAX(CASE WHEN result = 'unauthorized' THEN at END),
       MAX(CASE WHEN result IN ('synced', 'mismatch', 'not_found') THEN at END)
FROM sync_events WHERE kind = 'verification'
GROUP BY org_id, at / 300000;

-- The history is only ever read per appointment; the organization-wide
-- index served the metrics, which now read verification_stats.
DROP INDEX sync_events_org_at;

-- Pruning by age (CALSYNC_KEEP_*): finished runs and sent emails by time.
CREATE INDEX job_runs_started ON job_runs (started_at);
CREATE INDEX email_outbox_created ON email_outbox (created_at);

-- An email's bodies live apart from its outbox row and go once it is sent
-- (or given up on): they are most of its bytes, and dropping them from a
-- row that stays would leave its pages mostly empty.
CREATE TABLE email_bodies (
    email_id   INTEGER PRIMARY KEY REFERENCES email_outbox(id),
    text_body  TEXT NOT NULL,
    html_body  TEXT NOT NULL
);
INSERT INTO email_bodies (email_id, text_body, html_body)
SELECT id, text_body, html_body FROM email_outbox WHERE status = 'pending';
ALTER TABLE email_outbox DROP COLUMN text_body;
ALTER TABLE email_outbox DROP COLUMN html_body;
