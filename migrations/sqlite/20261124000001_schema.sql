-- calsync schema, SQLite dialect. Keep in step with ../postgres/.
-- Instants are UTC milliseconds since the Unix epoch (INTEGER), so both
-- databases compare and index them the same way. Flags are 0/1 integers.

CREATE TABLE organizations (
    id                     INTEGER PRIMARY KEY,
    slug                   TEXT    NOT NULL UNIQUE,
    name                   TEXT    NOT NULL,
    time_zone              TEXT    NOT NULL DEFAULT 'Europe/Berlin',
    locale                 TEXT    NOT NULL DEFAULT 'de-DE',
    calcom_base_url        TEXT    NOT NULL DEFAULT 'https://api.cal.com',
    -- Encrypted with CALSYNC_SECRET_KEY; never leaves the server in clear.
    calcom_api_key_enc     TEXT,
    calcom_webhook_secret_enc TEXT,
    calcom_event_type_id   INTEGER,
    cycle_cron             TEXT    NOT NULL DEFAULT '0 0,6,12,18 * * *',
    comprehensive_cron     TEXT    NOT NULL DEFAULT '0 0 * * *',
    window_days_back       INTEGER NOT NULL DEFAULT 30,
    window_days_ahead      INTEGER NOT NULL DEFAULT 180,
    calcom_health          TEXT    NOT NULL DEFAULT 'unknown',
    calcom_health_detail   TEXT,
    calcom_health_at       INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES organizations(id),
    email          TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    password_hash  TEXT    NOT NULL,
    email_pref     TEXT    NOT NULL DEFAULT 'all' CHECK (email_pref IN ('all', 'issues', 'none')),
    disabled_at    INTEGER,
    last_login_at  INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE sessions (
    id          TEXT    PRIMARY KEY,
    data        TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed logins, kept just long enough to throttle by account and by address.
CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY,
    subject   TEXT    NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject, at);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organizations(id),
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    token_prefix  TEXT    NOT NULL,
    created_by    INTEGER REFERENCES users(id),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_tokens_org ON api_tokens (org_id);

CREATE TABLE appointments (
    id                      INTEGER PRIMARY KEY,
    org_id                  INTEGER NOT NULL REFERENCES organizations(id),
    external_id             TEXT,
    customer_name           TEXT    NOT NULL,
    customer_email          TEXT,
    customer_phone          TEXT,
    service                 TEXT    NOT NULL,
    starts_at               INTEGER NOT NULL,
    ends_at                 INTEGER NOT NULL,
    time_zone               TEXT    NOT NULL,
    status                  TEXT    NOT NULL,
    source                  TEXT    NOT NULL,
    calcom_booking_uid      TEXT,
    calcom_event_type_id    INTEGER,
    sync_status             TEXT    NOT NULL DEFAULT 'pending',
    sync_error_code         TEXT,
    sync_error_detail       TEXT,
    sync_attempts           INTEGER NOT NULL DEFAULT 0,
    last_verified_at        INTEGER,
    next_verification_at    INTEGER,
    requires_manual_review  INTEGER NOT NULL DEFAULT 0,
    -- Work claiming: a worker owns the row until claim_expires_at.
    claimed_by              TEXT,
    claim_expires_at        INTEGER,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE UNIQUE INDEX appointments_external ON appointments (org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX appointments_uid ON appointments (org_id, calcom_booking_uid);
CREATE INDEX appointments_status ON appointments (org_id, sync_status, starts_at);
CREATE INDEX appointments_review ON appointments (org_id, requires_manual_review, starts_at);
CREATE INDEX appointments_starts ON appointments (org_id, starts_at);
CREATE INDEX appointments_due ON appointments (next_verification_at) WHERE next_verification_at IS NOT NULL;
CREATE INDEX appointments_updated ON appointments (org_id, updated_at);

-- The review queue. At most one open issue per appointment and code, and per
-- Cal.com-only booking and code (partial unique indexes below).
CREATE TABLE sync_issues (
    id                  INTEGER PRIMARY KEY,
    org_id              INTEGER NOT NULL REFERENCES organizations(id),
    code                TEXT    NOT NULL,
    appointment_id      INTEGER REFERENCES appointments(id),
    calcom_booking_uid  TEXT,
    -- JSON: the Cal.com booking as last seen, and for mismatches the fields that differ.
    calcom_snapshot     TEXT,
    differences         TEXT,
    detail              TEXT,
    opened_at           INTEGER NOT NULL,
    notified_at         INTEGER,
    resolved_at         INTEGER,
    resolution          TEXT,
    resolved_by         INTEGER REFERENCES users(id),
    resolution_note     TEXT
);
CREATE UNIQUE INDEX sync_issues_open_appointment ON sync_issues (org_id, appointment_id, code)
    WHERE resolved_at IS NULL AND appointment_id IS NOT NULL;
CREATE UNIQUE INDEX sync_issues_open_booking ON sync_issues (org_id, calcom_booking_uid, code)
    WHERE resolved_at IS NULL AND appointment_id IS NULL;
CREATE INDEX sync_issues_org_open ON sync_issues (org_id, resolved_at, opened_at);

-- History of everything that happened to an appointment or issue.
CREATE TABLE sync_events (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    appointment_id  INTEGER REFERENCES appointments(id),
    issue_id        INTEGER REFERENCES sync_issues(id),
    kind            TEXT    NOT NULL,
    result          TEXT,
    attempt         INTEGER,
    duration_ms     INTEGER,
    detail          TEXT,
    actor           TEXT    NOT NULL,
    actor_user_id   INTEGER REFERENCES users(id),
    at              INTEGER NOT NULL
);
CREATE INDEX sync_events_appointment ON sync_events (org_id, appointment_id, at);
CREATE INDEX sync_events_org_at ON sync_events (org_id, at);

-- Admin actions that are not about one appointment (settings, users, tokens).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organizations(id),
    user_id    INTEGER REFERENCES users(id),
    action     TEXT    NOT NULL,
    target     TEXT,
    detail     TEXT,
    at         INTEGER NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    kind            TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    appointment_id  INTEGER REFERENCES appointments(id),
    issue_id        INTEGER REFERENCES sync_issues(id),
    -- Same key, same notification: makes "never twice for one issue" a constraint.
    dedupe_key      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX notifications_dedupe ON notifications (org_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX notifications_org_created ON notifications (org_id, created_at);

CREATE TABLE notification_reads (
    notification_id  INTEGER NOT NULL REFERENCES notifications(id),
    user_id          INTEGER NOT NULL REFERENCES users(id),
    read_at          INTEGER NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);

CREATE TABLE email_outbox (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES organizations(id),
    notification_id  INTEGER REFERENCES notifications(id),
    user_id          INTEGER REFERENCES users(id),
    to_addr          TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    text_body        TEXT    NOT NULL,
    html_body        TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    claimed_until    INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE UNIQUE INDEX email_outbox_once ON email_outbox (notification_id, user_id) WHERE notification_id IS NOT NULL;
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at);

CREATE TABLE job_runs (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organizations(id),
    kind          TEXT    NOT NULL,
    trigger_kind  TEXT    NOT NULL,
    -- The scheduled slot this run fills; unique so a slot runs once across instances.
    slot_at       INTEGER,
    status        TEXT    NOT NULL,
    worker_id     TEXT,
    requested_by  INTEGER REFERENCES users(id),
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    finished_at   INTEGER,
    total         INTEGER NOT NULL DEFAULT 0,
    processed     INTEGER NOT NULL DEFAULT 0,
    synced        INTEGER NOT NULL DEFAULT 0,
    flagged       INTEGER NOT NULL DEFAULT 0,
    errors        INTEGER NOT NULL DEFAULT 0,
    api_calls     INTEGER NOT NULL DEFAULT 0,
    error_detail  TEXT
);
CREATE UNIQUE INDEX job_runs_slot ON job_runs (org_id, kind, slot_at) WHERE slot_at IS NOT NULL;
CREATE INDEX job_runs_org_started ON job_runs (org_id, started_at);
CREATE INDEX job_runs_status ON job_runs (status);

-- Watermarks for incremental Cal.com listings, one row per organization.
CREATE TABLE calcom_sync_cursor (
    org_id                  INTEGER PRIMARY KEY REFERENCES organizations(id),
    updated_after           INTEGER,
    fingerprint_total       INTEGER,
    fingerprint_updated_at  INTEGER,
    last_full_listing_at    INTEGER,
    updated_at              INTEGER NOT NULL
);

-- Webhook deliveries already handled, so replays are ignored.
CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations(id),
    body_sha256  TEXT    NOT NULL,
    trigger      TEXT    NOT NULL,
    booking_uid  TEXT,
    received_at  INTEGER NOT NULL,
    UNIQUE (org_id, body_sha256)
);
