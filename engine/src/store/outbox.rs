//! The email outbox. Emails are written here in the same breath as their
//! notification and sent by a worker, so a mail server that is down delays
//! mail but loses none; a unique (notification, user) pair means an email is
//! queued once, and a claim lease means one worker sends it.

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;

use super::row::{get, parse};
use super::sql::Sql;
use super::time::to_ms;
use super::{Backend, Store, StoreError};
use crate::domain::{EmailPreference, NotificationId, OrgId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    pub notification_id: Option<NotificationId>,
    pub user_id: Option<UserId>,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEmail {
    pub id: i64,
    pub org_id: OrgId,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: i64,
}

/// Someone to email, with what they asked to receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: UserId,
    pub email: String,
    pub preference: EmailPreference,
}

/// A claimed email without its bodies (`claim_emails` adds them).
fn from_row(row: &AnyRow) -> Result<QueuedEmail, StoreError> {
    Ok(QueuedEmail {
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        to: get(row, "to_addr")?,
        subject: get(row, "subject")?,
        text_body: String::new(),
        html_body: String::new(),
        attempts: get(row, "attempts")?,
    })
}

impl Store {
    /// Active users of the organization and their email preference.
    pub async fn email_recipients(&self, org: OrgId) -> Result<Vec<Recipient>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, email, email_pref FROM users WHERE org_id = $1 AND disabled_at IS NULL ORDER BY id",
        )
        .bind(org.get())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Recipient {
                    user_id: UserId(get(r, "id")?),
                    email: get(r, "email")?,
                    preference: parse(r, "email_pref")?,
                })
            })
            .collect()
    }

    /// Queues an email; false if this notification was already queued for this user.
    pub async fn enqueue_email(&self, org: OrgId, email: &NewEmail, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let queued = insert_email(&mut tx, org, email, now).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Claims emails due for sending (all organizations: delivery is one worker's job).
    pub async fn claim_emails(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<QueuedEmail>, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE email_outbox SET claimed_until = $1 WHERE id IN (\
               SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
               AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY next_attempt_at, id LIMIT $3{lock}) \
             RETURNING id, org_id, to_addr, subject, attempts"
        );
        let rows = sqlx::query(&sql)
            .bind(to_ms(now + lease))
            .bind(to_ms(now))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut emails = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        emails.sort_by_key(|e| e.id);
        self.add_bodies(&mut emails).await?;
        Ok(emails)
    }

    async fn add_bodies(&self, emails: &mut [QueuedEmail]) -> Result<(), StoreError> {
        if emails.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new("SELECT email_id, text_body, html_body FROM email_bodies WHERE email_id IN (");
        sql.list(emails.iter().map(|e| e.id)).push(")");
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        for row in &rows {
            let id: i64 = get(row, "email_id")?;
            if let Some(email) = emails.iter_mut().find(|e| e.id == id) {
                email.text_body = get(row, "text_body")?;
                email.html_body = get(row, "html_body")?;
            }
        }
        Ok(())
    }

    /// Records the email as sent. Its bodies go: nobody reads them again
    /// (the row stays, with recipient, subject and time, until
    /// `CALSYNC_KEEP_EMAILS` prunes it).
    pub async fn mark_email_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE email_outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, claimed_until = NULL, \
             last_error = NULL WHERE id = $2",
        )
        .bind(to_ms(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM email_bodies WHERE email_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt; `retry_at: None` gives up for good.
    pub async fn mark_email_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let status = if retry_at.is_some() { "pending" } else { "failed" };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE email_outbox SET status = $1, attempts = attempts + 1, last_error = $2, claimed_until = NULL, \
             next_attempt_at = COALESCE($3, next_attempt_at) WHERE id = $4",
        )
        .bind(status)
        .bind(error)
        .bind(retry_at.map(to_ms))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if retry_at.is_none() {
            // Given up for good: never sent, so never needed again.
            sqlx::query("DELETE FROM email_bodies WHERE email_id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Emails by status, for tests and the admin UI: (pending, sent, failed).
    pub async fn outbox_counts(&self, org: OrgId) -> Result<(i64, i64, i64), StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM email_outbox WHERE org_id = $1 GROUP BY status")
            .bind(org.get())
            .fetch_all(&self.pool)
            .await?;
        let mut counts = (0, 0, 0);
        for row in &rows {
            let status: String = get(row, "status")?;
            let n: i64 = get(row, "n")?;
            match status.as_str() {
                "pending" => counts.0 = n,
                "sent" => counts.1 = n,
                _ => counts.2 += n,
            }
        }
        Ok(counts)
    }
}

/// Queues one email and its bodies on `conn` (the caller's transaction);
/// false if this notification was already queued for this user.
pub(super) async fn insert_email(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    email: &NewEmail,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "INSERT INTO email_outbox (org_id, notification_id, user_id, to_addr, subject, \
         status, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(org.get())
    .bind(email.notification_id.map(NotificationId::get))
    .bind(email.user_id.map(UserId::get))
    .bind(&email.to)
    .bind(&email.subject)
    .bind(to_ms(now))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    sqlx::query("INSERT INTO email_bodies (email_id, text_body, html_body) VALUES ($1, $2, $3)")
        .bind(get::<i64>(&row, "id")?)
        .bind(&email.text_body)
        .bind(&email.html_body)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}
