//! Calls each organization made to Cal.com, counted per minute, for the
//! dashboard's API budget: calls per minute over the last hour against the
//! key's limit. One upsert per call, next to the key's shared budget.

use chrono::{DateTime, Utc};

use super::row::get;
use super::time::{from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::OrgId;

const MINUTE_MS: i64 = 60_000;

/// How many calls went out in one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallMinute {
    /// The minute's start.
    pub minute: DateTime<Utc>,
    pub calls: i64,
}

/// The start of the minute `at` falls in.
fn minute_of(at: DateTime<Utc>) -> i64 {
    to_ms(at).div_euclid(MINUTE_MS) * MINUTE_MS
}

impl Store {
    /// Counts one call to Cal.com by `org` at `at`.
    pub async fn count_calcom_call(&self, org: OrgId, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO calcom_call_minutes (org_id, minute_ms, calls) VALUES ($1, $2, 1) \
             ON CONFLICT (org_id, minute_ms) DO UPDATE SET calls = calcom_call_minutes.calls + 1",
        )
        .bind(org.get())
        .bind(minute_of(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The minutes from the one `since` falls in on that had calls, oldest first.
    pub async fn calcom_calls_since(&self, org: OrgId, since: DateTime<Utc>) -> Result<Vec<CallMinute>, StoreError> {
        let rows = sqlx::query(
            "SELECT minute_ms, calls FROM calcom_call_minutes WHERE org_id = $1 AND minute_ms >= $2 ORDER BY minute_ms",
        )
        .bind(org.get())
        .bind(minute_of(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(CallMinute { minute: from_ms(get(row, "minute_ms")?), calls: get(row, "calls")? }))
            .collect()
    }
}
