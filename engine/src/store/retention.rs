//! Pruning what is only useful for a while, so a year unattended does not
//! fill the disk: finished runs, handled webhook deliveries and their
//! coverage figures, sent (or given-up) emails, read notifications, old
//! verification figures. (Expired logins go on their own, see
//! `delete_expired_sessions`.) What an admin needs later stays
//! for good: the sync history, issues and their resolutions, the audit log.

use chrono::{DateTime, Duration, Utc};

use super::time::to_ms;
use super::{Store, StoreError};

/// Rows deleted per statement: short write locks on SQLite, small
/// transactions on PostgreSQL, however much has piled up.
const CHUNK: i64 = 5_000;

/// How long each kind of record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Finished verification runs (the Runs page). `CALSYNC_KEEP_RUNS`.
    pub runs: Duration,
    /// Webhook deliveries once handled, and the webhook coverage figures.
    /// `CALSYNC_KEEP_DELIVERIES`.
    pub deliveries: Duration,
    /// Emails and alert webhooks sent or given up on. `CALSYNC_KEEP_EMAILS`.
    pub emails: Duration,
    /// Notifications someone has read (unread ones stay).
    /// `CALSYNC_KEEP_NOTIFICATIONS`.
    pub notifications: Duration,
    /// Verification figures (the metrics page shows 30 days; a year and a
    /// month allows comparing with last year).
    pub figures: Duration,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            runs: Duration::days(90),
            deliveries: Duration::days(30),
            emails: Duration::days(30),
            notifications: Duration::days(90),
            figures: Duration::days(400),
        }
    }
}

/// What one pruning deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub runs: u64,
    pub deliveries: u64,
    pub coverage: u64,
    pub emails: u64,
    pub notifications: u64,
    pub figures: u64,
    /// Per-minute counts of calls to Cal.com, kept a day.
    pub call_minutes: u64,
    /// Alert webhooks sent or given up on (kept as long as emails).
    pub alert_webhooks: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.runs
            + self.deliveries
            + self.coverage
            + self.emails
            + self.notifications
            + self.figures
            + self.call_minutes
            + self.alert_webhooks
    }
}

impl Store {
    /// Deletes what `retention` no longer keeps, as of `now`. Safe to run on
    /// several instances at once: each statement deletes whatever is still
    /// there.
    pub async fn prune(&self, retention: &Retention, now: DateTime<Utc>) -> Result<Pruned, StoreError> {
        let before = |keep: Duration| to_ms(now - keep);
        let runs = self
            .delete_in_chunks(
                "DELETE FROM job_runs WHERE id IN (SELECT id FROM job_runs WHERE started_at < $1 \
                 AND status NOT IN ('queued', 'running') LIMIT $2)",
                before(retention.runs),
            )
            .await?;
        let deliveries = self
            .delete_in_chunks(
                "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries \
                 WHERE status = 'done' AND received_at < $1 LIMIT $2)",
                before(retention.deliveries),
            )
            .await?;
        let coverage = self
            .delete_in_chunks(
                "DELETE FROM webhook_coverage WHERE id IN (SELECT id FROM webhook_coverage WHERE at < $1 LIMIT $2)",
                before(retention.deliveries),
            )
            .await?;
        // Sent and given-up emails have no bodies left (see `mark_email_sent`).
        let emails = self
            .delete_in_chunks(
                "DELETE FROM email_outbox WHERE id IN (SELECT id FROM email_outbox \
                 WHERE status IN ('sent', 'failed') AND created_at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM email_bodies b WHERE b.email_id = email_outbox.id) LIMIT $2)",
                before(retention.emails),
            )
            .await?;
        let notifications = self.prune_read_notifications(before(retention.notifications)).await?;
        let figures = self
            .delete_in_chunks(
                "DELETE FROM verification_stats WHERE (org_id, bucket) IN (SELECT org_id, bucket \
                 FROM verification_stats WHERE bucket < $1 LIMIT $2)",
                before(retention.figures),
            )
            .await?;
        let call_minutes = self
            .delete_in_chunks(
                "DELETE FROM calcom_call_minutes WHERE (org_id, minute_ms) IN (SELECT org_id, minute_ms \
                 FROM calcom_call_minutes WHERE minute_ms < $1 LIMIT $2)",
                before(Duration::days(1)),
            )
            .await?;
        let alert_webhooks = self
            .delete_in_chunks(
                "DELETE FROM alert_webhooks WHERE id IN (SELECT id FROM alert_webhooks \
                 WHERE status IN ('sent', 'failed') AND created_at < $1 LIMIT $2)",
                before(retention.emails),
            )
            .await?;
        Ok(Pruned { runs, deliveries, coverage, emails, notifications, figures, call_minutes, alert_webhooks })
    }

    /// Read notifications older than `before`, with their read marks; one
    /// whose email is still in the outbox waits for that email to go.
    async fn prune_read_notifications(&self, before: i64) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT n.id FROM notifications n WHERE n.created_at < $1 \
                 AND EXISTS (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id) \
                 AND NOT EXISTS (SELECT 1 FROM email_outbox e WHERE e.notification_id = n.id) LIMIT $2",
            )
            .bind(before)
            .bind(CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            if ids.is_empty() {
                return Ok(deleted);
            }
            let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            sqlx::query(&format!("DELETE FROM notification_reads WHERE notification_id IN ({list})"))
                .execute(&mut *tx)
                .await?;
            let done =
                sqlx::query(&format!("DELETE FROM notifications WHERE id IN ({list})")).execute(&mut *tx).await?;
            tx.commit().await?;
            deleted += done.rows_affected();
            if (ids.len() as i64) < CHUNK {
                return Ok(deleted);
            }
        }
    }

    /// Runs `statement` (binding the cutoff and the chunk size) until it
    /// deletes less than a chunk.
    async fn delete_in_chunks(&self, statement: &str, cutoff: i64) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let done = sqlx::query(statement).bind(cutoff).bind(CHUNK).execute(&self.pool).await?;
            deleted += done.rows_affected();
            if done.rows_affected() < CHUNK as u64 {
                return Ok(deleted);
            }
        }
    }
}
