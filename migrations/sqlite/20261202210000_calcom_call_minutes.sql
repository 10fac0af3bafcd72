-- Calls each organization made to Cal.com, per minute, for the dashboard's
-- API budget (calls per minute against the key's limit over the last hour).
-- Counted when a call takes its place in the key's shared budget; the
-- housekeeping deletes minutes older than a day.
CREATE TABLE calcom_call_minutes (
    org_id    INTEGER NOT NULL REFERENCES organizations(id),
    minute_ms INTEGER NOT NULL,
    calls     INTEGER NOT NULL,
    PRIMARY KEY (org_id, minute_ms)
);
