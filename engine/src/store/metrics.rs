//! Figures for the dashboard's health tile and the metrics page, computed
//! from the sync history (every verification is a `sync_events` row with its
//! outcome and duration) and the issues table.

use chrono::{DateTime, Utc};

use super::row::get;
use super::time::{from_ms, opt_from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::OrgId;

/// How verifications turned out over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerificationTally {
    pub total: i64,
    pub synced: i64,
    /// Timeouts, 5xx, 429, open circuit: Cal.com could not answer.
    pub errors: i64,
    /// Cal.com refused the API key.
    pub unauthorized: i64,
    pub last_at: Option<DateTime<Utc>>,
    pub last_unauthorized_at: Option<DateTime<Utc>>,
    /// The newest verification Cal.com answered with a definite result.
    pub last_answered_at: Option<DateTime<Utc>>,
}

/// Durations of single verifications, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DurationStats {
    pub count: i64,
    pub avg_ms: Option<i64>,
    pub min_ms: Option<i64>,
    pub max_ms: Option<i64>,
}

/// Issues over a period: those opened in it, and what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IssueTally {
    pub opened: i64,
    /// Of those opened, how many are closed (by a person or by themselves).
    pub resolved: i64,
    /// Open now, whenever they were opened.
    pub open_now: i64,
    /// Closed by a person in the period.
    pub resolved_by_people: i64,
}

/// Outcomes that are Cal.com's definite answer about a booking.
const ANSWERED: &str = "'synced', 'mismatch', 'not_found'";
const FAILED: &str = "'error', 'circuit_open'";

impl Store {
    /// Verifications of `org` in `[from, to)`.
    pub async fn verification_tally(
        &self,
        org: OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<VerificationTally, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) AS total, \
             COALESCE(SUM(CASE WHEN result = 'synced' THEN 1 ELSE 0 END), 0) AS synced, \
             COALESCE(SUM(CASE WHEN result IN ({FAILED}) THEN 1 ELSE 0 END), 0) AS errors, \
             COALESCE(SUM(CASE WHEN result = 'unauthorized' THEN 1 ELSE 0 END), 0) AS unauthorized, \
             MAX(at) AS last_at, \
             MAX(CASE WHEN result = 'unauthorized' THEN at END) AS last_unauthorized_at, \
             MAX(CASE WHEN result IN ({ANSWERED}) THEN at END) AS last_answered_at \
             FROM sync_events WHERE org_id = $1 AND kind = 'verification' AND at >= $2 AND at < $3"
        );
        let row = sqlx::query(&sql).bind(org.get()).bind(to_ms(from)).bind(to_ms(to)).fetch_one(&self.pool).await?;
        Ok(VerificationTally {
            total: get(&row, "total")?,
            synced: get(&row, "synced")?,
            errors: get(&row, "errors")?,
            unauthorized: get(&row, "unauthorized")?,
            last_at: opt_from_ms(get(&row, "last_at")?),
            last_unauthorized_at: opt_from_ms(get(&row, "last_unauthorized_at")?),
            last_answered_at: opt_from_ms(get(&row, "last_answered_at")?),
        })
    }

    /// When `org` last verified anything at all.
    pub async fn last_verification_at(&self, org: OrgId) -> Result<Option<DateTime<Utc>>, StoreError> {
        // Newest first along the (org_id, at) index, stopping at the first
        // verification: MAX() with the kind filter would read the
        // organization's whole history on SQLite.
        let row = sqlx::query(
            "SELECT at FROM sync_events WHERE org_id = $1 AND kind = 'verification' ORDER BY at DESC LIMIT 1",
        )
        .bind(org.get())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| get(&r, "at").map(from_ms)).transpose()
    }

    /// How long single verifications took in `[from, to)`. Only those that
    /// asked Cal.com count: an open circuit answers instantly and would
    /// flatter the figures.
    pub async fn verification_durations(
        &self,
        org: OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<DurationStats, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(duration_ms) AS n, CAST(AVG(duration_ms) AS DOUBLE PRECISION) AS avg_ms, MIN(duration_ms) AS min_ms, MAX(duration_ms) AS max_ms \
             FROM sync_events WHERE org_id = $1 AND kind = 'verification' AND result <> 'circuit_open' \
             AND duration_ms IS NOT NULL AND at >= $2 AND at < $3",
        )
        .bind(org.get())
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_one(&self.pool)
        .await?;
        // Cast above: PostgreSQL's AVG is NUMERIC, which the Any driver cannot read.
        let avg: Option<f64> = get(&row, "avg_ms")?;
        Ok(DurationStats {
            count: get(&row, "n")?,
            avg_ms: avg.map(|v| v.round() as i64),
            min_ms: get(&row, "min_ms")?,
            max_ms: get(&row, "max_ms")?,
        })
    }

    /// Issues of `org` opened in `[from, to)` and those still open.
    pub async fn issue_tally(
        &self,
        org: OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<IssueTally, StoreError> {
        let row = sqlx::query(
            "SELECT \
             COALESCE(SUM(CASE WHEN opened_at >= $2 AND opened_at < $3 THEN 1 ELSE 0 END), 0) AS opened, \
             COALESCE(SUM(CASE WHEN opened_at >= $2 AND opened_at < $3 AND resolved_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS resolved, \
             COALESCE(SUM(CASE WHEN resolved_at IS NULL THEN 1 ELSE 0 END), 0) AS open_now, \
             COALESCE(SUM(CASE WHEN resolved_by IS NOT NULL AND resolved_at >= $2 AND resolved_at < $3 THEN 1 ELSE 0 END), 0) AS by_people \
             FROM sync_issues WHERE org_id = $1",
        )
        .bind(org.get())
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_one(&self.pool)
        .await?;
        Ok(IssueTally {
            opened: get(&row, "opened")?,
            resolved: get(&row, "resolved")?,
            open_now: get(&row, "open_now")?,
            resolved_by_people: get(&row, "by_people")?,
        })
    }
}
