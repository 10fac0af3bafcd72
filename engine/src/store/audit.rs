//! The audit log: admin actions that are not about one appointment
//! (settings, users, API tokens, logins). Appointment changes go to the
//! sync history instead (`events`).

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::row::{get, parse};
use super::time::{from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::{AuditAction, OrgId, UserId};

#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub user_id: Option<UserId>,
    pub action: AuditAction,
    pub target: Option<String>,
    /// Never a secret: callers describe what changed, not the new value.
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub user_id: Option<UserId>,
    pub action: AuditAction,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

fn from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: get(row, "id")?,
        user_id: get::<Option<i64>>(row, "user_id")?.map(UserId),
        action: parse(row, "action")?,
        target: get(row, "target")?,
        detail: get(row, "detail")?,
        at: from_ms(get(row, "at")?),
    })
}

/// Inserts within any executor, so the entry commits with the change it records.
pub(crate) async fn insert<'e, E>(exec: E, org: OrgId, entry: &NewAuditEntry) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("INSERT INTO audit_log (org_id, user_id, action, target, detail, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(org.get())
        .bind(entry.user_id.map(UserId::get))
        .bind(entry.action.as_str())
        .bind(entry.target.as_deref())
        .bind(entry.detail.as_deref())
        .bind(to_ms(entry.at))
        .execute(exec)
        .await?;
    Ok(())
}

impl Store {
    pub async fn audit(&self, org: OrgId, entry: &NewAuditEntry) -> Result<(), StoreError> {
        insert(&self.pool, org, entry).await
    }

    /// The newest entries first.
    pub async fn audit_log(&self, org: OrgId, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, action, target, detail, at FROM audit_log WHERE org_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(org.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
