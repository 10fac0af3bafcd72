//! Each user's choice of which notifications also arrive by email. The
//! outbox reads it through `email_recipients`; people change it on their
//! account page, and every change lands in the audit log with the change.

use chrono::{DateTime, Utc};

use super::audit::{self, NewAuditEntry};
use super::row::parse;
use super::{Store, StoreError};
use crate::domain::{AuditAction, EmailPreference, OrgId, UserId};

impl Store {
    /// The user's preference; another organization's user is `NotFound`.
    pub async fn email_preference(&self, org: OrgId, user: UserId) -> Result<EmailPreference, StoreError> {
        let row = sqlx::query("SELECT email_pref FROM users WHERE org_id = $1 AND id = $2")
            .bind(org.get())
            .bind(user.get())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| parse(r, "email_pref")).transpose()?.ok_or(StoreError::NotFound("user"))
    }

    /// Sets the user's preference (users set their own, so the user is also
    /// the actor). Returns whether it changed; an unchanged save is not
    /// audited, so the log only shows real changes.
    pub async fn set_email_preference(
        &self,
        org: OrgId,
        user: UserId,
        preference: EmailPreference,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let before = self.email_preference(org, user).await?;
        if before == preference {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET email_pref = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.get())
            .bind(user.get())
            .bind(preference.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        let entry = NewAuditEntry {
            user_id: Some(user),
            action: AuditAction::UserEmailPreference,
            target: Some(format!("user:{user}")),
            detail: Some(format!("email notifications: {before} → {preference}")),
            at: now,
        };
        audit::insert(&mut *tx, org, &entry).await?;
        tx.commit().await?;
        Ok(true)
    }
}
