-- Cal.com outages as the circuit breaker saw them: from the breaker opening
-- until Cal.com answers again. At most one open outage per organization
-- (instances that open their breakers during the same outage share it).
-- Issues a failure opened during an outage name it, so the review queue
-- shows one group per outage ("Cal.com outage 14:02 – 14:31: 37 issues").
CREATE TABLE calcom_outages (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER
);
CREATE UNIQUE INDEX calcom_outages_one_open ON calcom_outages (org_id) WHERE ended_at IS NULL;
ALTER TABLE sync_issues ADD COLUMN outage_id INTEGER REFERENCES calcom_outages(id);
