//! The in-app notification feed: notifications per organization, read
//! state per user. A dedupe key makes "never the same notification twice"
//! a database constraint rather than a hope.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::row::{get, parse};
use super::time::{from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::{string_enum, AppointmentId, IssueId, NotificationId, OrgId, UserId};

string_enum! {
    pub enum NotificationKind : "notification kind" {
        /// An appointment or booking needs manual review.
        SyncIssue = "sync_issue",
        /// Verification kept failing (network/API) after its retries.
        VerificationFailed = "verification_failed",
        /// Problems that fixed themselves, batched per run.
        SyncRestored = "sync_restored",
        /// The organization's Cal.com key or connection is broken.
        CalcomConnection = "calcom_connection",
        /// An acknowledged issue is still open after the organization's reminder time.
        Reminder = "reminder",
        /// An alert rule fired (a first failure, too many open issues) or
        /// its digest of what the throttle held back.
        Alert = "alert",
        /// An alert rule's condition cleared.
        AlertRecovered = "alert_recovered",
    }
}

string_enum! {
    pub enum Severity : "severity" {
        Info = "info",
        Warning = "warning",
        Error = "error",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub kind: NotificationKind,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub appointment_id: Option<AppointmentId>,
    pub issue_id: Option<IssueId>,
    /// Two notifications with the same key are one: e.g. `issue:17`.
    pub dedupe_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub appointment_id: Option<AppointmentId>,
    pub issue_id: Option<IssueId>,
    pub created_at: DateTime<Utc>,
    /// For the user the feed was read for.
    pub read: bool,
}

fn from_row(row: &AnyRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: NotificationId(get(row, "id")?),
        kind: parse(row, "kind")?,
        severity: parse(row, "severity")?,
        title: get(row, "title")?,
        body: get(row, "body")?,
        appointment_id: get::<Option<i64>>(row, "appointment_id")?.map(AppointmentId),
        issue_id: get::<Option<i64>>(row, "issue_id")?.map(IssueId),
        created_at: from_ms(get(row, "created_at")?),
        read: get::<Option<i64>>(row, "read_at")?.is_some(),
    })
}

/// Adds a notification within the caller's transaction; `None` if one with
/// the same dedupe key exists.
pub(crate) async fn insert(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    new: &NewNotification,
    now: DateTime<Utc>,
) -> Result<Option<NotificationId>, StoreError> {
    let row = sqlx::query(
        "INSERT INTO notifications (org_id, kind, severity, title, body, appointment_id, issue_id, dedupe_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(org.get())
    .bind(new.kind.as_str())
    .bind(new.severity.as_str())
    .bind(&new.title)
    .bind(&new.body)
    .bind(new.appointment_id.map(AppointmentId::get))
    .bind(new.issue_id.map(IssueId::get))
    .bind(new.dedupe_key.as_deref())
    .bind(to_ms(now))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| get(&row, "id").map(NotificationId)).transpose()
}

/// The notification and its emails, within the caller's transaction.
async fn record(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    new: &NewNotification,
    emails: Vec<super::NewEmail>,
    now: DateTime<Utc>,
) -> Result<Option<NotificationId>, StoreError> {
    let Some(id) = insert(&mut *conn, org, new, now).await? else {
        return Ok(None);
    };
    for mut email in emails {
        email.notification_id = Some(id);
        super::outbox::insert_email(&mut *conn, org, &email, now).await?;
    }
    Ok(Some(id))
}

impl Store {
    /// Adds a notification; `None` if one with the same dedupe key exists.
    pub async fn notify(
        &self,
        org: OrgId,
        new: &NewNotification,
        now: DateTime<Utc>,
    ) -> Result<Option<NotificationId>, StoreError> {
        self.notify_with_emails(org, new, Vec::new(), now).await
    }

    /// Records a notification and queues its emails (their
    /// `notification_id` is set here) in one transaction: a crash leaves
    /// both or neither, never a notification whose email is lost. `None`
    /// (and nothing queued) when the notification's dedupe key was taken.
    pub async fn notify_with_emails(
        &self,
        org: OrgId,
        new: &NewNotification,
        emails: Vec<super::NewEmail>,
        now: DateTime<Utc>,
    ) -> Result<Option<NotificationId>, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = record(&mut tx, org, new, emails, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Tells admins about an issue: its notified mark, the notification and
    /// its emails in one transaction. A crash therefore leaves the issue
    /// either told or untold (and the next verification tells it, see
    /// `Opened::Untold`), never marked without the notice. `None` when the
    /// issue was already told.
    pub async fn notify_issue(
        &self,
        org: OrgId,
        issue: IssueId,
        new: &NewNotification,
        emails: Vec<super::NewEmail>,
        now: DateTime<Utc>,
    ) -> Result<Option<NotificationId>, StoreError> {
        let mut tx = self.begin_write().await?;
        if !super::issues::mark_notified(&mut tx, org, issue, now).await? {
            return Ok(None);
        }
        let id = record(&mut tx, org, new, emails, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The user's feed, newest first.
    pub async fn notifications_for(
        &self,
        org: OrgId,
        user: UserId,
        unread_only: bool,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let unread = if unread_only { " AND r.read_at IS NULL" } else { "" };
        let sql = format!(
            "SELECT n.id, n.kind, n.severity, n.title, n.body, n.appointment_id, n.issue_id, n.created_at, r.read_at \
             FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.user_id = $2 \
             WHERE n.org_id = $1{unread} ORDER BY n.created_at DESC, n.id DESC LIMIT $3"
        );
        let rows =
            sqlx::query(&sql).bind(org.get()).bind(user.get()).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn unread_count(&self, org: OrgId, user: UserId) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM notifications n WHERE n.org_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id AND r.user_id = $2)",
        )
        .bind(org.get())
        .bind(user.get())
        .fetch_one(&self.pool)
        .await?;
        get(&row, "n")
    }

    /// Marks one notification read for the user; false if it is not the
    /// organization's (or does not exist).
    pub async fn mark_read(
        &self,
        org: OrgId,
        user: UserId,
        id: NotificationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO notification_reads (notification_id, user_id, read_at) \
             SELECT id, $1, $2 FROM notifications WHERE org_id = $3 AND id = $4 ON CONFLICT DO NOTHING",
        )
        .bind(user.get())
        .bind(to_ms(now))
        .bind(org.get())
        .bind(id.get())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        let exists = sqlx::query("SELECT 1 AS one FROM notifications WHERE org_id = $1 AND id = $2")
            .bind(org.get())
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await?;
        Ok(exists.is_some())
    }

    /// Marks everything in the organization's feed read for the user;
    /// returns how many were unread.
    pub async fn mark_all_read(&self, org: OrgId, user: UserId, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "INSERT INTO notification_reads (notification_id, user_id, read_at) \
             SELECT n.id, $1, $2 FROM notifications n WHERE n.org_id = $3 AND NOT EXISTS \
             (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id AND r.user_id = $1)",
        )
        .bind(user.get())
        .bind(to_ms(now))
        .bind(org.get())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// A cheap fingerprint of the organization's feed for live updates: it
    /// changes when a notification is added or anyone marks one read, so a
    /// watcher only recounts per-user unread numbers when it moves.
    pub async fn feed_version(&self, org: OrgId) -> Result<FeedVersion, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT MAX(id) FROM notifications WHERE org_id = $1) AS latest, \
             (SELECT MAX(r.read_at) FROM notification_reads r JOIN notifications n ON n.id = r.notification_id \
              WHERE n.org_id = $1) AS last_read",
        )
        .bind(org.get())
        .fetch_one(&self.pool)
        .await?;
        Ok(FeedVersion {
            latest: get::<Option<i64>>(&row, "latest")?.unwrap_or(0),
            last_read: get::<Option<i64>>(&row, "last_read")?.unwrap_or(0),
        })
    }
}

/// See `Store::feed_version`. `latest` is the newest notification's id (0
/// for none), `last_read` the newest read mark (epoch ms, 0 for none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedVersion {
    pub latest: i64,
    pub last_read: i64,
}
