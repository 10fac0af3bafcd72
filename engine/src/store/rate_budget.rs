//! The shared Cal.com request budget (`calcom_rate_budget`): one row per
//! API key, read and advanced in one statement, so every process that uses
//! the key (several instances on PostgreSQL, `calsync verify` beside a
//! server on SQLite) stays inside the key's limit together. Times are the
//! database's clock, not each process's, so instances on different
//! machines agree.

use std::time::Duration;

use super::row::get;
use super::{Backend, Store, StoreError};

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// The database's now, in epoch milliseconds, as an SQL expression.
    fn db_now(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)",
            Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        }
    }

    /// Takes one request from `bucket`'s budget, a GCRA with `interval`
    /// between requests on average and bursts up to `tolerance / interval + 1`:
    /// `None`, go now; `Some(wait)`, nothing was taken, ask again after `wait`.
    pub async fn reserve_calcom_call(
        &self,
        bucket: &str,
        interval: Duration,
        tolerance: Duration,
    ) -> Result<Option<Duration>, StoreError> {
        let now = self.db_now();
        sqlx::query(&format!(
            "INSERT INTO calcom_rate_budget (bucket, tat_ms, held_until_ms, updated_at_ms) \
             VALUES ($1, {now}, NULL, {now}) ON CONFLICT (bucket) DO NOTHING"
        ))
        .bind(bucket)
        .execute(&self.pool)
        .await?;
        // tat' = max(tat, now) + interval, if max(tat, now) - now <= tolerance and no hold.
        let taken = sqlx::query(&format!(
            "UPDATE calcom_rate_budget SET \
               tat_ms = (CASE WHEN tat_ms > {now} THEN tat_ms ELSE {now} END) + $2, updated_at_ms = {now} \
             WHERE bucket = $1 AND COALESCE(held_until_ms, 0) <= {now} \
               AND (CASE WHEN tat_ms > {now} THEN tat_ms ELSE {now} END) - {now} <= $3 \
             RETURNING tat_ms"
        ))
        .bind(bucket)
        .bind(millis(interval))
        .bind(millis(tolerance))
        .fetch_optional(&self.pool)
        .await?;
        if taken.is_some() {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "SELECT tat_ms, COALESCE(held_until_ms, 0) AS held, {now} AS now FROM calcom_rate_budget WHERE bucket = $1"
        ))
        .bind(bucket)
        .fetch_one(&self.pool)
        .await?;
        let (tat, held, now): (i64, i64, i64) = (get(&row, "tat_ms")?, get(&row, "held")?, get(&row, "now")?);
        let wait = (held - now).max(tat - now - millis(tolerance)).max(1);
        Ok(Some(Duration::from_millis(wait.unsigned_abs())))
    }

    /// No request of `bucket` goes out for `wait`, from any process.
    pub async fn hold_calcom_calls(&self, bucket: &str, wait: Duration) -> Result<(), StoreError> {
        let now = self.db_now();
        sqlx::query(&format!(
            "UPDATE calcom_rate_budget SET held_until_ms = CASE \
               WHEN COALESCE(held_until_ms, 0) > {now} + $2 THEN held_until_ms ELSE {now} + $2 END, \
               updated_at_ms = {now} WHERE bucket = $1"
        ))
        .bind(bucket)
        .bind(millis(wait))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
