//! The review queue. An issue is opened once per problem (a partial unique
//! index guarantees it even with several workers) and closed either by a
//! person's resolution or automatically when a later verification finds the
//! problem gone.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::row::{get, parse, parse_opt};
use super::sql::Sql;
use super::time::{from_ms, opt_from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::{string_enum, AppointmentId, ErrorCode, IssueId, OrgId, UserId};

string_enum! {
    /// How an issue was closed.
    pub enum Resolution : "resolution" {
        /// A later verification found everything in order.
        AutoResolved = "auto_resolved",
        CreatedInCalcom = "created_in_calcom",
        ImportedFromCalcom = "imported_from_calcom",
        AcceptedCalcom = "accepted_calcom",
        PushedLocal = "pushed_local",
        Cancelled = "cancelled",
        MarkedResolved = "marked_resolved",
    }
}

/// What an issue is about: one of our appointments, or a Cal.com booking we
/// have no appointment for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueSubject {
    Appointment(AppointmentId),
    CalcomBooking { uid: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewIssue {
    pub code: ErrorCode,
    pub subject: IssueSubject,
    /// The Cal.com booking as last seen (JSON), if any.
    pub calcom_snapshot: Option<String>,
    /// For DATA_MISMATCH: the differing fields with both values (JSON).
    pub differences: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub id: IssueId,
    pub code: ErrorCode,
    pub appointment_id: Option<AppointmentId>,
    pub calcom_booking_uid: Option<String>,
    pub calcom_snapshot: Option<String>,
    pub differences: Option<String>,
    pub detail: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub notified_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<Resolution>,
    pub resolved_by: Option<UserId>,
    pub resolution_note: Option<String>,
}

/// Whether `open_issue` created the issue or found it already open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    New(IssueId),
    AlreadyOpen(IssueId),
}

impl Opened {
    pub fn id(self) -> IssueId {
        match self {
            Opened::New(id) | Opened::AlreadyOpen(id) => id,
        }
    }
}

const COLUMNS: &str = "id, code, appointment_id, calcom_booking_uid, calcom_snapshot, differences, detail, \
    opened_at, notified_at, resolved_at, resolution, resolved_by, resolution_note";

fn from_row(row: &AnyRow) -> Result<Issue, StoreError> {
    Ok(Issue {
        id: IssueId(get(row, "id")?),
        code: parse(row, "code")?,
        appointment_id: get::<Option<i64>>(row, "appointment_id")?.map(AppointmentId),
        calcom_booking_uid: get(row, "calcom_booking_uid")?,
        calcom_snapshot: get(row, "calcom_snapshot")?,
        differences: get(row, "differences")?,
        detail: get(row, "detail")?,
        opened_at: from_ms(get(row, "opened_at")?),
        notified_at: opt_from_ms(get(row, "notified_at")?),
        resolved_at: opt_from_ms(get(row, "resolved_at")?),
        resolution: parse_opt(row, "resolution")?,
        resolved_by: get::<Option<i64>>(row, "resolved_by")?.map(UserId),
        resolution_note: get(row, "resolution_note")?,
    })
}

impl IssueSubject {
    fn push_match(&self, sql: &mut Sql) {
        match self {
            IssueSubject::Appointment(id) => {
                sql.push(" AND appointment_id = ").bind(id.get());
            }
            IssueSubject::CalcomBooking { uid } => {
                sql.push(" AND appointment_id IS NULL AND calcom_booking_uid = ").bind(uid.as_str());
            }
        }
    }
}

impl Store {
    /// Opens the issue unless the same problem is already open. Safe against
    /// concurrent workers: the unique index decides, not a prior read.
    pub async fn open_issue(&self, org: OrgId, new: &NewIssue, now: DateTime<Utc>) -> Result<Opened, StoreError> {
        let (appointment_id, uid) = match &new.subject {
            IssueSubject::Appointment(id) => (Some(id.get()), None),
            IssueSubject::CalcomBooking { uid } => (None, Some(uid.as_str())),
        };
        let inserted = sqlx::query(
            "INSERT INTO sync_issues (org_id, code, appointment_id, calcom_booking_uid, calcom_snapshot, differences, detail, opened_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(org.get())
        .bind(new.code.as_str())
        .bind(appointment_id)
        .bind(uid)
        .bind(new.calcom_snapshot.as_deref())
        .bind(new.differences.as_deref())
        .bind(new.detail.as_deref())
        .bind(to_ms(now))
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = inserted {
            return Ok(Opened::New(IssueId(get(&row, "id")?)));
        }
        let open = self.open_issues_for(org, &new.subject).await?;
        open.into_iter()
            .find(|i| i.code == new.code)
            .map(|i| Opened::AlreadyOpen(i.id))
            .ok_or(StoreError::Conflict("issue vanished while opening".into()))
    }

    pub async fn issue(&self, org: OrgId, id: IssueId) -> Result<Issue, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM sync_issues WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.get()).bind(id.get()).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound("issue"))
    }

    pub async fn open_issues_for(&self, org: OrgId, subject: &IssueSubject) -> Result<Vec<Issue>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM sync_issues WHERE org_id = "));
        sql.bind(org.get()).push(" AND resolved_at IS NULL");
        subject.push_match(&mut sql);
        sql.push(" ORDER BY id");
        let rows = sqlx::query_with(sql.text(), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Open issues, oldest first, optionally of one code.
    pub async fn open_issues(&self, org: OrgId, code: Option<ErrorCode>, limit: u32) -> Result<Vec<Issue>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM sync_issues WHERE org_id = "));
        sql.bind(org.get()).push(" AND resolved_at IS NULL");
        if let Some(code) = code {
            sql.push(" AND code = ").bind(code.as_str());
        }
        sql.push(" ORDER BY opened_at, id LIMIT ").bind(i64::from(limit));
        let rows = sqlx::query_with(sql.text(), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Closes every open issue about `subject`; returns how many closed.
    pub async fn resolve_issues_for(
        &self,
        org: OrgId,
        subject: &IssueSubject,
        resolution: Resolution,
        by: Option<UserId>,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut sql = Sql::new("UPDATE sync_issues SET resolved_at = ");
        sql.bind(to_ms(now))
            .push(", resolution = ")
            .bind(resolution.as_str())
            .push(", resolved_by = ")
            .bind(by.map(UserId::get))
            .push(", resolution_note = ")
            .bind(note.map(str::to_owned))
            .push(" WHERE org_id = ")
            .bind(org.get())
            .push(" AND resolved_at IS NULL");
        subject.push_match(&mut sql);
        let done = sqlx::query_with(sql.text(), sql.arguments()?).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// Records that admins were told about the issue. Returns false if it
    /// was already marked, so exactly one caller sends the notification.
    pub async fn mark_issue_notified(&self, org: OrgId, id: IssueId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sync_issues SET notified_at = $1 WHERE org_id = $2 AND id = $3 AND notified_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(org.get())
        .bind(id.get())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn count_open_issues_by_code(&self, org: OrgId) -> Result<Vec<(ErrorCode, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, COUNT(*) AS n FROM sync_issues WHERE org_id = $1 AND resolved_at IS NULL GROUP BY code ORDER BY code",
        )
        .bind(org.get())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((parse(row, "code")?, get(row, "n")?))).collect()
    }
}
