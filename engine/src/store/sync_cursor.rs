//! The `afterUpdatedAt` watermark of each organization's Cal.com account
//! (`calcom_sync_cursor`): the 6-hour cycle asks Cal.com only "what changed
//! since", which is one request when little or nothing did.

use chrono::{DateTime, Utc};

use super::row::get;
use super::time::{opt_from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::OrgId;

/// Where the last complete pass over Cal.com's changes ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCursor {
    /// Changes at or before this instant (Cal.com's clock) have been seen.
    pub updated_after: Option<DateTime<Utc>>,
    /// When the whole window was last listed for the watermark.
    pub last_full_listing_at: Option<DateTime<Utc>>,
}

impl Store {
    /// The organization's cursor; `None` before its first complete pass.
    pub async fn sync_cursor(&self, org: OrgId) -> Result<Option<SyncCursor>, StoreError> {
        let row = sqlx::query(
            "SELECT updated_after, last_full_listing_at \
             FROM calcom_sync_cursor WHERE org_id = $1",
        )
        .bind(org.get())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SyncCursor {
            updated_after: opt_from_ms(get(&row, "updated_after")?),
            last_full_listing_at: opt_from_ms(get(&row, "last_full_listing_at")?),
        }))
    }

    /// Stores the cursor after a complete, successful pass (and only then:
    /// the caller must not save after a partial listing).
    pub async fn save_sync_cursor(
        &self,
        org: OrgId,
        cursor: &SyncCursor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO calcom_sync_cursor \
               (org_id, updated_after, last_full_listing_at, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id) DO UPDATE SET updated_after = excluded.updated_after, \
               last_full_listing_at = excluded.last_full_listing_at, updated_at = excluded.updated_at",
        )
        .bind(org.get())
        .bind(cursor.updated_after.map(to_ms))
        .bind(cursor.last_full_listing_at.map(to_ms))
        .bind(to_ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
