//! Reminders for issues someone acknowledged and then left: which are due
//! (across organizations, in one statement, so a worker round over many
//! organizations with nothing due stays cheap) and sending one, marked on
//! the issue with its notification in one transaction.

use chrono::{DateTime, Utc};

use super::issues::{from_row, Issue, COLUMNS};
use super::notifications::NewNotification;
use super::row::get;
use super::time::to_ms;
use super::{Store, StoreError};
use crate::domain::{IssueId, OrgId};

const HOUR_MS: i64 = 3_600_000;

impl Store {
    /// Acknowledged issues, unresolved and not ignored, whose organization's
    /// `ack_reminder_hours` (if not 0) have passed since the acknowledgement
    /// and that were not reminded of yet; oldest acknowledgement first.
    pub async fn issues_to_remind(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<(OrgId, Issue)>, StoreError> {
        let sql = format!(
            "SELECT org_id, {COLUMNS} FROM sync_issues i WHERE acknowledged_at IS NOT NULL \
             AND reminded_at IS NULL AND resolved_at IS NULL AND ignored_at IS NULL \
             AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = i.org_id AND o.ack_reminder_hours > 0 \
             AND i.acknowledged_at + o.ack_reminder_hours * {HOUR_MS} <= $1) \
             ORDER BY acknowledged_at, id LIMIT $2"
        );
        let rows = sqlx::query(&sql).bind(to_ms(now)).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((OrgId(get(row, "org_id")?), from_row(row)?))).collect()
    }

    /// Marks the issue reminded and adds `note`, together. False (and
    /// nothing written) if it was reminded already or has been resolved or
    /// ignored meanwhile, so two workers never remind twice.
    pub async fn remind(
        &self,
        org: OrgId,
        issue: IssueId,
        note: &NewNotification,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE sync_issues SET reminded_at = $1 WHERE org_id = $2 AND id = $3 AND reminded_at IS NULL \
             AND resolved_at IS NULL AND ignored_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(org.get())
        .bind(issue.get())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        super::notifications::insert(&mut tx, org, note, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
