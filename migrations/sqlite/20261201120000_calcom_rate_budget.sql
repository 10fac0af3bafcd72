-- One Cal.com request budget per API key, shared by every process that uses
-- the key (instances, `calsync verify`, the resolution buttons): a GCRA
-- "theoretical arrival time" and a hold every process obeys after a 429 or
-- an exhausted window. Keyed by a hash, never the key itself.
CREATE TABLE calcom_rate_budget (
    bucket           TEXT PRIMARY KEY,
    tat_ms           INTEGER NOT NULL,
    held_until_ms    INTEGER,
    updated_at_ms    INTEGER NOT NULL
);
