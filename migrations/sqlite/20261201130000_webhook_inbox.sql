-- Webhook deliveries become a durable inbox: the receiver stores a signed
-- delivery in one insert and answers at once; a worker drains it (claims as
-- for appointments), coalescing bursts into one Cal.com listing.
ALTER TABLE webhook_deliveries ADD COLUMN previous_uid TEXT;
-- The payload's createdAt: Cal.com's clock when it sent the delivery.
ALTER TABLE webhook_deliveries ADD COLUMN sent_at INTEGER;
-- pending (not yet acted on), done.
ALTER TABLE webhook_deliveries ADD COLUMN status TEXT NOT NULL DEFAULT 'done';
-- verified, ignored, failed (with detail); NULL for deliveries from before the inbox.
ALTER TABLE webhook_deliveries ADD COLUMN outcome TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN detail TEXT;
-- The appointments the delivery made calsync look at, as a JSON array of ids.
ALTER TABLE webhook_deliveries ADD COLUMN appointment_ids TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_deliveries ADD COLUMN last_replay_at INTEGER;
ALTER TABLE webhook_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN claim_expires_at INTEGER;
ALTER TABLE webhook_deliveries ADD COLUMN processed_at INTEGER;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (status, org_id, received_at);
CREATE INDEX webhook_deliveries_org_received ON webhook_deliveries (org_id, received_at);
CREATE INDEX webhook_deliveries_org_uid ON webhook_deliveries (org_id, booking_uid, received_at);

-- Webhook health: per 6-hour cycle, how many changes Cal.com had that
-- calsync saw, and how many of them a webhook had announced.
CREATE TABLE webhook_coverage (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organizations(id),
    at         INTEGER NOT NULL,
    changes    INTEGER NOT NULL,
    announced  INTEGER NOT NULL
);
CREATE INDEX webhook_coverage_org_at ON webhook_coverage (org_id, at);

-- An open "webhooks look disabled" alert, per organization.
CREATE TABLE webhook_alerts (
    org_id       INTEGER PRIMARY KEY REFERENCES organizations(id),
    opened_at    INTEGER NOT NULL
);
