-- Alert rules per organization (engine::alerting). A missing row means the
-- rule's documented default; a row exists once an admin saved the rules or
-- the rule first fired. `last_pushed_at` is the throttle: at most one email
-- and webhook per rule per `throttle_minutes`; what the throttle holds back
-- is counted in `held` (with up to 20 of its lines) for the digest.
-- `firing_since` is set while the rule's condition holds, so the recovery
-- notice goes out exactly once when it clears.
CREATE TABLE alert_rules (
    org_id           INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    rule             TEXT    NOT NULL,
    enabled          INTEGER NOT NULL,
    threshold        INTEGER NOT NULL,
    throttle_minutes INTEGER NOT NULL,
    by_email         INTEGER NOT NULL,
    by_webhook       INTEGER NOT NULL,
    firing_since     INTEGER,
    last_pushed_at   INTEGER,
    held             INTEGER NOT NULL DEFAULT 0,
    held_lines       TEXT    NOT NULL DEFAULT '',
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (org_id, rule)
);

-- Where alerts are posted (Slack, a CRM) and the sealed secret they are
-- signed with.
ALTER TABLE organizations ADD COLUMN alert_webhook_url TEXT;
ALTER TABLE organizations ADD COLUMN alert_webhook_secret_enc TEXT;

-- Outgoing alert webhooks, sent at least once with retries; the id is the
-- delivery id the receiver deduplicates on.
CREATE TABLE alert_webhooks (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX alert_webhooks_due ON alert_webhooks (status, next_attempt_at);
