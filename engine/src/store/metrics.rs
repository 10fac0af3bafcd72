//! Figures for the dashboard's health tile and the metrics page, computed
//! from the verification figures (`verification_stats`, which count every
//! verification, routine ones too) and the issues table.

use chrono::{DateTime, Utc};

use super::row::get;
use super::time::{from_ms, opt_from_ms, to_ms};
use super::verification_stats::span_of;
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

impl Store {
    /// Verifications of `org` in `[from, to)`, to the five-minute span: the
    /// span holding `from` counts whole.
    pub async fn verification_tally(
        &self,
        org: OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<VerificationTally, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) AS total, CAST(COALESCE(SUM(synced), 0) AS BIGINT) AS synced, \
             CAST(COALESCE(SUM(errors), 0) AS BIGINT) AS errors, CAST(COALESCE(SUM(unauthorized), 0) AS BIGINT) AS unauthorized, \
             MAX(last_at) AS last_at, MAX(last_unauthorized_at) AS last_unauthorized_at, \
             MAX(last_answered_at) AS last_answered_at \
             FROM verification_stats WHERE org_id = $1 AND bucket >= $2 AND bucket < $3",
        )
        .bind(org.get())
        .bind(span_of(from))
        .bind(to_ms(to))
        .fetch_one(&self.pool)
        .await?;
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
        let row = sqlx::query("SELECT last_at FROM verification_stats WHERE org_id = $1 ORDER BY bucket DESC LIMIT 1")
            .bind(org.get())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "last_at").map(from_ms)).transpose()
    }

    /// How long single verifications took in `[from, to)` (to the span, as
    /// above). Only those that asked Cal.com count: an open circuit answers
    /// instantly and would flatter the figures.
    pub async fn verification_durations(
        &self,
        org: OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<DurationStats, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(timed), 0) AS BIGINT) AS n, CAST(COALESCE(SUM(duration_sum), 0) AS BIGINT) AS total_ms, \
             MIN(duration_min) AS min_ms, MAX(duration_max) AS max_ms \
             FROM verification_stats WHERE org_id = $1 AND bucket >= $2 AND bucket < $3",
        )
        .bind(org.get())
        .bind(span_of(from))
        .bind(to_ms(to))
        .fetch_one(&self.pool)
        .await?;
        let (count, total_ms): (i64, i64) = (get(&row, "n")?, get(&row, "total_ms")?);
        Ok(DurationStats {
            count,
            avg_ms: (count > 0).then(|| (total_ms as f64 / count as f64).round() as i64),
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
