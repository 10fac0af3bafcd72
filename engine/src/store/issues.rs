//! The review queue. An issue is opened once per problem (a partial unique
//! index guarantees it even with several workers) and closed either by a
//! person's resolution or automatically when a later verification finds the
//! problem gone.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::row::{get, parse, parse_opt};
use super::sql::Sql;
use super::time::{from_ms, opt_from_ms, to_ms};
use super::{Backend, Store, StoreError};
use crate::domain::{string_enum, AppointmentId, ErrorCode, IssueId, OrgId, OutageId, UserId};

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
        /// An ignored issue whose rule ran out when the problem came back; the
        /// issue that came back is its regression.
        IgnoreLapsed = "ignore_lapsed",
        /// A Cal.com-only booking was linked to the appointment it belongs to.
        Linked = "linked",
    }
}

/// Who did something to an issue, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// How long an admin's "ignore" holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreUntil {
    /// Until someone stops ignoring it, or the problem goes away and comes back
    /// is still ignored.
    FurtherNotice,
    /// Until this instant; an occurrence after it is a regression.
    Date(DateTime<Utc>),
    /// For this many more occurrences (verifications that find the problem);
    /// the next one after them is a regression.
    Occurrences(u32),
}

impl IgnoreUntil {
    /// The rule as its two columns, `(ignored_until, ignore_left)`: at most
    /// one is set, and neither means "until further notice".
    pub(super) fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            IgnoreUntil::Date(at) => (Some(to_ms(at)), None),
            IgnoreUntil::Occurrences(left) => (None, Some(i64::from(left))),
            IgnoreUntil::FurtherNotice => (None, None),
        }
    }

    /// Whether one more occurrence at `now` is still covered, and what is
    /// left of the rule after it.
    pub fn after_occurrence(self, now: DateTime<Utc>) -> Option<IgnoreUntil> {
        match self {
            IgnoreUntil::FurtherNotice => Some(self),
            IgnoreUntil::Date(until) => (now < until).then_some(self),
            IgnoreUntil::Occurrences(left) => left.checked_sub(1).map(IgnoreUntil::Occurrences),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub stamp: Stamp,
    pub reason: String,
    pub until: IgnoreUntil,
}

/// The issue is the return of an earlier, closed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regression {
    pub of: IssueId,
    /// How many times the problem has come back, this time included.
    pub count: u32,
}

/// Where an issue stands in the review workflow, derived from its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueState {
    Open,
    Acknowledged,
    Ignored,
    Resolved,
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
    pub acknowledged: Option<Stamp>,
    pub assigned_to: Option<UserId>,
    pub ignored: Option<Ignored>,
    pub regression: Option<Regression>,
}

impl Issue {
    /// Cal.com's booking as the check that opened the issue saw it (stored
    /// as JSON; `None` when there was none or it no longer reads).
    pub fn snapshot(&self) -> Option<crate::verify::compare::RemoteBooking> {
        serde_json::from_str(self.calcom_snapshot.as_deref()?).ok()
    }

    /// The fields the check found different (a data mismatch's).
    pub fn stored_differences(&self) -> Vec<crate::verify::compare::Difference> {
        self.differences.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default()
    }

    pub fn state(&self) -> IssueState {
        match (self.resolved_at, &self.ignored, self.acknowledged) {
            (Some(_), _, _) => IssueState::Resolved,
            (None, Some(_), _) => IssueState::Ignored,
            (None, None, Some(_)) => IssueState::Acknowledged,
            (None, None, None) => IssueState::Open,
        }
    }
}

/// What `open_issue` did with a problem a verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// A problem never seen before: tell the admins.
    New(IssueId),
    /// A problem that was resolved (or ignored until a limit now passed) is
    /// back, as a new issue linked to the old one: tell the admins.
    Regressed(IssueId),
    /// The problem's issue is already open and admins were told: nothing to tell.
    AlreadyOpen(IssueId),
    /// The problem's issue is open but admins were never told: the process
    /// that opened it stopped before telling them. Tell them now.
    Untold(IssueId),
    /// An admin is ignoring this problem and the rule still covers it.
    Ignored(IssueId),
}

impl Opened {
    pub fn id(self) -> IssueId {
        match self {
            Opened::New(id)
            | Opened::Regressed(id)
            | Opened::AlreadyOpen(id)
            | Opened::Untold(id)
            | Opened::Ignored(id) => id,
        }
    }

    /// The issue admins must hear about, if this opening is news.
    pub fn news(self) -> Option<IssueId> {
        match self {
            Opened::New(id) | Opened::Regressed(id) | Opened::Untold(id) => Some(id),
            Opened::AlreadyOpen(_) | Opened::Ignored(_) => None,
        }
    }
}

pub(super) const COLUMNS: &str = "id, code, appointment_id, calcom_booking_uid, calcom_snapshot, differences, detail, \
    opened_at, notified_at, resolved_at, resolution, resolved_by, resolution_note, acknowledged_at, acknowledged_by, \
    assigned_to, ignored_at, ignored_by, ignore_reason, ignored_until, ignore_left, regressed_from, regressions";

fn stamp(row: &AnyRow, by: &'static str, at: &'static str) -> Result<Option<Stamp>, StoreError> {
    let by: Option<i64> = get(row, by)?;
    let at: Option<i64> = get(row, at)?;
    Ok(by.zip(at).map(|(by, at)| Stamp { by: UserId(by), at: from_ms(at) }))
}

fn ignored(row: &AnyRow) -> Result<Option<Ignored>, StoreError> {
    let Some(stamp) = stamp(row, "ignored_by", "ignored_at")? else { return Ok(None) };
    let until = match (get::<Option<i64>>(row, "ignored_until")?, get::<Option<i64>>(row, "ignore_left")?) {
        (Some(until), _) => IgnoreUntil::Date(from_ms(until)),
        (None, Some(left)) => IgnoreUntil::Occurrences(u32::try_from(left).unwrap_or(0)),
        (None, None) => IgnoreUntil::FurtherNotice,
    };
    Ok(Some(Ignored { stamp, reason: get::<Option<String>>(row, "ignore_reason")?.unwrap_or_default(), until }))
}

fn regression(row: &AnyRow) -> Result<Option<Regression>, StoreError> {
    let count: i64 = get(row, "regressions")?;
    let of: Option<i64> = get(row, "regressed_from")?;
    Ok(of.map(|of| Regression { of: IssueId(of), count: u32::try_from(count).unwrap_or(u32::MAX) }))
}

pub(super) fn from_row(row: &AnyRow) -> Result<Issue, StoreError> {
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
        acknowledged: stamp(row, "acknowledged_by", "acknowledged_at")?,
        assigned_to: get::<Option<i64>>(row, "assigned_to")?.map(UserId),
        ignored: ignored(row)?,
        regression: regression(row)?,
    })
}

/// Inserts the issue for `new`, as the return of `previous` if there was
/// one; `None` if the problem's issue is already open (the unique index
/// refused the row). An ignore rule of `previous` that still covers this
/// occurrence carries over, so a problem that flaps stays ignored.
async fn insert(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    new: &NewIssue,
    previous: Option<&Issue>,
    now: DateTime<Utc>,
) -> Result<Option<Opened>, StoreError> {
    let (appointment_id, uid) = match &new.subject {
        IssueSubject::Appointment(id) => (Some(id.get()), None),
        IssueSubject::CalcomBooking { uid } => (None, Some(uid.as_str())),
    };
    let carried = previous
        .and_then(|p| p.ignored.as_ref())
        .and_then(|ignored| ignored.until.after_occurrence(now).map(|until| Ignored { until, ..ignored.clone() }));
    let (until, left) = carried.as_ref().map_or((None, None), |i| i.until.columns());
    let regressions = previous.map_or(0, |p| i64::from(p.regression.map_or(0, |r| r.count)) + 1);
    // A failure during a Cal.com outage belongs to it (its group in the queue).
    let outage = if new.code.reason_is_shared() { super::outages::current(&mut *conn, org).await? } else { None };
    let inserted = sqlx::query(
        "INSERT INTO sync_issues (org_id, code, appointment_id, calcom_booking_uid, calcom_snapshot, differences, detail, \
         opened_at, assigned_to, ignored_at, ignored_by, ignore_reason, ignored_until, ignore_left, regressed_from, regressions, \
         outage_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(org.get())
    .bind(new.code.as_str())
    .bind(appointment_id)
    .bind(uid)
    .bind(new.calcom_snapshot.as_deref())
    .bind(new.differences.as_deref())
    .bind(new.detail.as_deref())
    .bind(to_ms(now))
    .bind(previous.and_then(|p| p.assigned_to).map(UserId::get))
    .bind(carried.as_ref().map(|i| to_ms(i.stamp.at)))
    .bind(carried.as_ref().map(|i| i.stamp.by.get()))
    .bind(carried.as_ref().map(|i| i.reason.clone()))
    .bind(until)
    .bind(left)
    .bind(previous.map(|p| p.id.get()))
    .bind(regressions)
    .bind(outage.map(OutageId::get))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = inserted else { return Ok(None) };
    let id = IssueId(get(&row, "id")?);
    Ok(Some(match (previous, carried) {
        (_, Some(_)) => Opened::Ignored(id),
        (Some(_), None) => Opened::Regressed(id),
        (None, None) => Opened::New(id),
    }))
}

/// Records that admins were told about the issue, within the caller's
/// transaction. False if it was already marked, so exactly one caller
/// sends the notification.
pub(super) async fn mark_notified(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    id: IssueId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE sync_issues SET notified_at = $1 WHERE org_id = $2 AND id = $3 AND notified_at IS NULL")
            .bind(to_ms(now))
            .bind(org.get())
            .bind(id.get())
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
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
    /// Records that a verification found `new`'s problem. It opens the
    /// issue unless the problem's issue is already open; a problem whose
    /// last issue was closed comes back as a regression of it, and one an
    /// admin is ignoring counts as an occurrence under the ignore rule. Safe
    /// against concurrent workers: the unique index decides, not a prior read.
    pub async fn open_issue(&self, org: OrgId, new: &NewIssue, now: DateTime<Utc>) -> Result<Opened, StoreError> {
        match self.latest_issue_for(org, &new.subject, new.code).await? {
            Some(current) if current.resolved_at.is_none() => self.recur(org, new, &current, now).await,
            previous => self.insert_issue(org, new, previous.as_ref(), now).await,
        }
    }

    /// The newest issue, open or closed, about this subject and code.
    async fn latest_issue_for(
        &self,
        org: OrgId,
        subject: &IssueSubject,
        code: ErrorCode,
    ) -> Result<Option<Issue>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM sync_issues WHERE org_id = "));
        sql.bind(org.get()).push(" AND code = ").bind(code.as_str());
        subject.push_match(&mut sql);
        sql.push(" ORDER BY id DESC LIMIT 1");
        let row = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The problem was found again while its issue is open.
    async fn recur(
        &self,
        org: OrgId,
        new: &NewIssue,
        current: &Issue,
        now: DateTime<Utc>,
    ) -> Result<Opened, StoreError> {
        let Some(ignored) = &current.ignored else {
            return Ok(match current.notified_at {
                Some(_) => Opened::AlreadyOpen(current.id),
                None => Opened::Untold(current.id),
            });
        };
        let covered = match ignored.until.after_occurrence(now) {
            None => false,
            Some(IgnoreUntil::Occurrences(_)) => {
                // Counted down in the database, so two workers cannot both use the last one.
                let done = sqlx::query(
                    "UPDATE sync_issues SET ignore_left = ignore_left - 1 \
                     WHERE org_id = $1 AND id = $2 AND resolved_at IS NULL AND ignore_left > 0",
                )
                .bind(org.get())
                .bind(current.id.get())
                .execute(&self.pool)
                .await?;
                done.rows_affected() == 1
            }
            Some(_) => true,
        };
        if covered {
            return Ok(Opened::Ignored(current.id));
        }
        // The rule ran out: the ignored issue closes and the problem comes back as a regression.
        let mut tx = self.begin_write().await?;
        let closed = sqlx::query(
            "UPDATE sync_issues SET resolved_at = $1, resolution = $2 WHERE org_id = $3 AND id = $4 AND resolved_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(Resolution::IgnoreLapsed.as_str())
        .bind(org.get())
        .bind(current.id.get())
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() == 0 {
            // Another worker closed it first and opened the regression.
            drop(tx);
            return self.already_open(org, new).await;
        }
        let lapsed = Issue { ignored: None, ..current.clone() };
        let opened = insert(&mut tx, org, new, Some(&lapsed), now).await?;
        tx.commit().await?;
        match opened {
            Some(opened) => Ok(opened),
            None => self.already_open(org, new).await,
        }
    }

    async fn insert_issue(
        &self,
        org: OrgId,
        new: &NewIssue,
        previous: Option<&Issue>,
        now: DateTime<Utc>,
    ) -> Result<Opened, StoreError> {
        let mut conn = self.pool.acquire().await?;
        match insert(&mut conn, org, new, previous, now).await? {
            Some(opened) => Ok(opened),
            None => self.already_open(org, new).await,
        }
    }

    /// The issue a concurrent worker opened for the same problem.
    async fn already_open(&self, org: OrgId, new: &NewIssue) -> Result<Opened, StoreError> {
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
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// The appointment's closed issues, most recently closed first.
    pub async fn closed_issues_for(
        &self,
        org: OrgId,
        appointment: AppointmentId,
        limit: u32,
    ) -> Result<Vec<Issue>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sync_issues WHERE org_id = $1 AND appointment_id = $2 AND resolved_at IS NOT NULL \
             ORDER BY resolved_at DESC, id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(org.get())
            .bind(appointment.get())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
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
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
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
        let mut conn = self.pool.acquire().await?;
        close_issues_of(&mut conn, org, subject, (resolution, by, note), now).await
    }

    /// Closes the open issues of each Cal.com-only booking `(uid, note)`
    /// as resolved by itself, each with its own note, in one transaction;
    /// returns how many closed.
    pub async fn resolve_bookings_themselves(
        &self,
        org: OrgId,
        settled: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut closed = 0;
        for (uid, note) in settled {
            let subject = IssueSubject::CalcomBooking { uid: uid.clone() };
            let how = (Resolution::AutoResolved, None, Some(note.as_str()));
            closed += close_issues_of(&mut tx, org, &subject, how, now).await?;
        }
        tx.commit().await?;
        Ok(closed)
    }

    /// Unresolved issues that came back after being closed (regressions),
    /// leaving out those an admin is ignoring: of the open issues
    /// `count_open_issues_by_code` counts.
    pub async fn count_open_regressions(&self, org: OrgId) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM sync_issues WHERE org_id = $1 AND resolved_at IS NULL AND ignored_at IS NULL \
             AND regressed_from IS NOT NULL",
        )
        .bind(org.get())
        .fetch_one(&self.pool)
        .await?;
        get(&row, "n")
    }

    /// Unresolved issues by code, leaving out those an admin is ignoring.
    pub async fn count_open_issues_by_code(&self, org: OrgId) -> Result<Vec<(ErrorCode, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, COUNT(*) AS n FROM sync_issues WHERE org_id = $1 AND resolved_at IS NULL AND ignored_at IS NULL \
             GROUP BY code ORDER BY code",
        )
        .bind(org.get())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((parse(row, "code")?, get(row, "n")?))).collect()
    }
}

/// Closes every open issue about `subject` as `resolution`, by whom and
/// with which note; returns how many closed.
async fn close_issues_of(
    conn: &mut AnyConnection,
    org: OrgId,
    subject: &IssueSubject,
    (resolution, by, note): (Resolution, Option<UserId>, Option<&str>),
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
    let done = sqlx::query_with(sql.text(Backend::of(conn)), sql.arguments()?).execute(&mut *conn).await?;
    Ok(done.rows_affected())
}
