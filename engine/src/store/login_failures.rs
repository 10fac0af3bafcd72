//! Failed logins, counted per subject ("email:…" or "ip:…") to throttle
//! password guessing. Rows older than the window are useless and pruned.

use chrono::{DateTime, Utc};

use super::row::get;
use super::time::{opt_from_ms, to_ms};
use super::{Store, StoreError};

/// Failures of one subject since some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    pub count: i64,
    /// The oldest failure counted: throttling lifts a window after it.
    pub oldest: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn login_failures_since(&self, subject: &str, since: DateTime<Utc>) -> Result<FailureCount, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_failures WHERE subject = $1 AND at > $2")
                .bind(subject)
                .bind(to_ms(since))
                .fetch_one(&self.pool)
                .await?;
        Ok(FailureCount { count: get(&row, "n")?, oldest: opt_from_ms(get(&row, "oldest")?) })
    }

    /// Records one failure for each subject, and prunes rows older than
    /// `prune_before` so the table stays small.
    pub async fn record_login_failure(
        &self,
        subjects: &[&str],
        at: DateTime<Utc>,
        prune_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for subject in subjects {
            sqlx::query("INSERT INTO login_failures (subject, at) VALUES ($1, $2)")
                .bind(*subject)
                .bind(to_ms(at))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM login_failures WHERE at <= $1").bind(to_ms(prune_before)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn clear_login_failures(&self, subject: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE subject = $1").bind(subject).execute(&self.pool).await?;
        Ok(())
    }
}
