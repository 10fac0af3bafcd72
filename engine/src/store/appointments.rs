//! Appointments and their sync state.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::any::AnyRow;

use super::events::{self, EventKind, NewSyncEvent};
use super::order::{AppointmentOrder, PageCursor, SortValue};
use super::row::{flag, get, members, members_columns, parse, parse_opt};
use super::sql::{contains_pattern, Sql};
use super::time::{from_ms, opt_from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::{
    AppointmentId, AppointmentSource, AppointmentStatus, ErrorCode, Members, OrgId, SyncCounts, SyncStatus,
};

/// An appointment to be recorded. Construct it from validated input: the
/// types already rule out unknown states, sources and time zones.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAppointment {
    pub external_id: Option<String>,
    pub customer_name: String,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub service: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: Tz,
    pub status: AppointmentStatus,
    pub source: AppointmentSource,
    pub calcom_booking_uid: Option<String>,
    pub calcom_event_type_id: Option<i64>,
}

/// What verification last concluded about an appointment.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncState {
    pub status: SyncStatus,
    pub error_code: Option<ErrorCode>,
    pub error_detail: Option<String>,
    pub attempts: i64,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub next_verification_at: Option<DateTime<Utc>>,
    pub requires_manual_review: bool,
}

impl SyncState {
    /// This state queued for verification at `now` with a fresh retry
    /// ladder: an admin's "retry now", a change through the API, a
    /// requested verification. What is known (error code, review flag)
    /// stays until the verification concludes otherwise.
    pub fn queued(&self, now: DateTime<Utc>) -> SyncState {
        SyncState {
            status: SyncStatus::VerificationPending,
            attempts: 0,
            next_verification_at: Some(now),
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Appointment {
    pub id: AppointmentId,
    pub org_id: OrgId,
    pub external_id: Option<String>,
    pub customer_name: String,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub service: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: Tz,
    pub status: AppointmentStatus,
    pub source: AppointmentSource,
    pub calcom_booking_uid: Option<String>,
    pub calcom_event_type_id: Option<i64>,
    pub sync: SyncState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which appointments to list. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppointmentFilter {
    pub sync_status: Option<SyncStatus>,
    pub error_code: Option<ErrorCode>,
    pub requires_review: Option<bool>,
    pub starts_from: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
    /// Case-insensitive substring of customer name, email, phone or service.
    pub search: Option<String>,
}

pub(crate) const COLUMNS: &str = "id, org_id, external_id, customer_name, customer_email, customer_phone, service, \
    starts_at, ends_at, time_zone, status, source, calcom_booking_uid, calcom_event_type_id, \
    sync_status, sync_error_code, sync_error_detail, sync_attempts, last_verified_at, \
    next_verification_at, requires_manual_review, created_at, updated_at";

pub(crate) fn from_row(row: &AnyRow) -> Result<Appointment, StoreError> {
    Ok(Appointment {
        id: AppointmentId(get(row, "id")?),
        org_id: OrgId(get(row, "org_id")?),
        external_id: get(row, "external_id")?,
        customer_name: get(row, "customer_name")?,
        customer_email: get(row, "customer_email")?,
        customer_phone: get(row, "customer_phone")?,
        service: get(row, "service")?,
        starts_at: from_ms(get(row, "starts_at")?),
        ends_at: from_ms(get(row, "ends_at")?),
        time_zone: parse(row, "time_zone")?,
        status: parse(row, "status")?,
        source: parse(row, "source")?,
        calcom_booking_uid: get(row, "calcom_booking_uid")?,
        calcom_event_type_id: get(row, "calcom_event_type_id")?,
        sync: SyncState {
            status: parse(row, "sync_status")?,
            error_code: parse_opt(row, "sync_error_code")?,
            error_detail: get(row, "sync_error_detail")?,
            attempts: get(row, "sync_attempts")?,
            last_verified_at: opt_from_ms(get(row, "last_verified_at")?),
            next_verification_at: opt_from_ms(get(row, "next_verification_at")?),
            requires_manual_review: flag(row, "requires_manual_review")?,
        },
        created_at: from_ms(get(row, "created_at")?),
        updated_at: from_ms(get(row, "updated_at")?),
    })
}

impl AppointmentFilter {
    pub(super) fn push_where(&self, org: OrgId, sql: &mut Sql) {
        sql.push(" WHERE org_id = ").bind(org.get());
        if let Some(status) = self.sync_status {
            sql.push(" AND sync_status = ").bind(status.as_str());
        }
        if let Some(code) = self.error_code {
            sql.push(" AND sync_error_code = ").bind(code.as_str());
        }
        if let Some(review) = self.requires_review {
            sql.push(" AND requires_manual_review = ").bind(i64::from(review));
        }
        if let Some(from) = self.starts_from {
            sql.push(" AND starts_at >= ").bind(to_ms(from));
        }
        if let Some(before) = self.starts_before {
            sql.push(" AND starts_at < ").bind(to_ms(before));
        }
        if let Some(search) = self.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let pattern = contains_pattern(search);
            sql.push(" AND (");
            for (i, column) in ["customer_name", "customer_email", "customer_phone", "service"].iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                sql.push(&format!("LOWER({column}) LIKE ")).bind(pattern.as_str()).push(" ESCAPE '\\'");
            }
            sql.push(")");
        }
    }
}

/// How a new appointment starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FirstState {
    /// Due for its first verification at once.
    Pending,
    /// Made from Cal.com's own booking, so in sync as it is written.
    Synced,
}

/// Inserts the appointment's row in `tx` (nothing else); a taken
/// `external_id` is a conflict.
pub(super) async fn insert_row(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    org: OrgId,
    new: &NewAppointment,
    first: FirstState,
    now: DateTime<Utc>,
) -> Result<AppointmentId, StoreError> {
    let (status, last_verified, next_verification) = match first {
        FirstState::Pending => (SyncStatus::Pending, None, Some(to_ms(now))),
        FirstState::Synced => (SyncStatus::Synced, Some(to_ms(now)), None),
    };
    let inserted = sqlx::query(
        "INSERT INTO appointments (org_id, external_id, customer_name, customer_email, customer_phone, \
             service, starts_at, ends_at, time_zone, status, source, calcom_booking_uid, calcom_event_type_id, \
             sync_status, last_verified_at, next_verification_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id",
    )
    .bind(org.get())
    .bind(new.external_id.as_deref())
    .bind(&new.customer_name)
    .bind(new.customer_email.as_deref())
    .bind(new.customer_phone.as_deref())
    .bind(&new.service)
    .bind(to_ms(new.starts_at))
    .bind(to_ms(new.ends_at))
    .bind(new.time_zone.name())
    .bind(new.status.as_str())
    .bind(new.source.as_str())
    .bind(new.calcom_booking_uid.as_deref())
    .bind(new.calcom_event_type_id)
    .bind(status.as_str())
    .bind(last_verified)
    .bind(next_verification)
    .bind(to_ms(now))
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::from);
    match inserted {
        Ok(row) => Ok(AppointmentId(get(&row, "id")?)),
        Err(e) if e.is_unique_violation() => {
            Err(StoreError::Conflict("an appointment with this external_id exists".into()))
        }
        Err(e) => Err(e),
    }
}

/// Inserts one new appointment and its "created" history entry in `tx`.
async fn insert_new(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    org: OrgId,
    new: &NewAppointment,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<AppointmentId, StoreError> {
    let id = insert_row(tx, org, new, FirstState::Pending, now).await?;
    let event = NewSyncEvent {
        appointment_id: Some(id),
        kind: EventKind::Created,
        result: None,
        attempt: None,
        duration_ms: None,
        detail: Some(format!("Appointment created (via {})", new.source)),
        technical: None,
        actor: actor.to_owned(),
        actor_user_id: None,
        at: now,
    };
    events::insert(tx, org, &event).await?;
    Ok(id)
}

/// Tom Klein's 45-minute appointment on 13 October 2025 in Berlin, booked
/// in Cal.com as `abc` and not yet verified, for unit tests that need an
/// appointment but no database.
#[cfg(test)]
pub(crate) fn sample() -> Appointment {
    use crate::domain::AppointmentSource;
    use chrono::{Duration, TimeZone};
    let start = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
    Appointment {
        id: AppointmentId(1236),
        org_id: OrgId(1),
        external_id: None,
        customer_name: "Tom Klein".into(),
        customer_email: Some("tom.klein@example.com".into()),
        customer_phone: None,
        service: "Herrenschnitt".into(),
        starts_at: start,
        ends_at: start + Duration::minutes(45),
        time_zone: chrono_tz::Europe::Berlin,
        status: AppointmentStatus::Scheduled,
        source: AppointmentSource::Retell,
        calcom_booking_uid: Some("abc".into()),
        calcom_event_type_id: None,
        sync: SyncState {
            status: SyncStatus::Pending,
            error_code: None,
            error_detail: None,
            attempts: 0,
            last_verified_at: None,
            next_verification_at: None,
            requires_manual_review: false,
        },
        created_at: start,
        updated_at: start,
    }
}

impl Store {
    /// Records a new appointment as `pending`, due for its first verification
    /// at once, together with its "created" history entry (one transaction).
    pub async fn insert_appointment(
        &self,
        org: OrgId,
        new: &NewAppointment,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Appointment, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_new(&mut tx, org, new, actor, now).await?;
        tx.commit().await?;
        self.appointment(org, id).await
    }

    /// Records many new appointments as `insert_appointment` does, in one
    /// transaction; one whose `external_id` is already taken (stored, or
    /// earlier in `news`) is skipped. How many were inserted and skipped.
    pub async fn insert_appointments(
        &self,
        org: OrgId,
        news: &[NewAppointment],
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut taken = std::collections::HashSet::new();
        let (mut inserted, mut skipped) = (0, 0);
        for new in news {
            if let Some(external_id) = new.external_id.as_deref() {
                // Checked first: on PostgreSQL a failed insert would end the transaction.
                let exists = sqlx::query("SELECT 1 FROM appointments WHERE org_id = $1 AND external_id = $2")
                    .bind(org.get())
                    .bind(external_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
                if exists || !taken.insert(external_id) {
                    skipped += 1;
                    continue;
                }
            }
            insert_new(&mut tx, org, new, actor, now).await?;
            inserted += 1;
        }
        tx.commit().await?;
        Ok((inserted, skipped))
    }

    pub async fn appointment(&self, org: OrgId, id: AppointmentId) -> Result<Appointment, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.get()).bind(id.get()).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound("appointment"))
    }

    /// The organization's appointments among `ids`, in no particular order;
    /// ids it does not have are left out. One query for a page's worth.
    pub async fn appointments_by_ids(&self, org: OrgId, ids: &[AppointmentId]) -> Result<Vec<Appointment>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM appointments WHERE org_id = "));
        sql.bind(org.get()).push(" AND id IN (").list(ids.iter().map(|id| id.get())).push(")");
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn appointment_by_external_id(
        &self,
        org: OrgId,
        external_id: &str,
    ) -> Result<Option<Appointment>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND external_id = $2");
        let row = sqlx::query(&sql).bind(org.get()).bind(external_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    /// One page of appointments in start order, after the cursor `(starts_at, id)`.
    pub async fn list_appointments(
        &self,
        org: OrgId,
        filter: &AppointmentFilter,
        after: Option<(DateTime<Utc>, AppointmentId)>,
        limit: u32,
    ) -> Result<Vec<Appointment>, StoreError> {
        self.list_appointments_sorted(org, filter, false, after, limit).await
    }

    /// Like `list_appointments`, newest first when `descending`; the cursor
    /// then means "before" in start order.
    pub async fn list_appointments_sorted(
        &self,
        org: OrgId,
        filter: &AppointmentFilter,
        descending: bool,
        after: Option<(DateTime<Utc>, AppointmentId)>,
        limit: u32,
    ) -> Result<Vec<Appointment>, StoreError> {
        let (beyond, order) = if descending { ("<", "DESC") } else { (">", "ASC") };
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM appointments"));
        filter.push_where(org, &mut sql);
        if let Some((starts_at, id)) = after {
            let ms = to_ms(starts_at);
            sql.push(&format!(" AND (starts_at {beyond} ")).bind(ms);
            sql.push(" OR (starts_at = ").bind(ms).push(&format!(" AND id {beyond} ")).bind(id.get()).push("))");
        }
        sql.push(&format!(" ORDER BY starts_at {order}, id {order} LIMIT ")).bind(i64::from(limit));
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// One page in any `order`, after `cursor` (see `PageCursor::after`).
    pub async fn list_appointments_ordered(
        &self,
        org: OrgId,
        filter: &AppointmentFilter,
        order: AppointmentOrder,
        cursor: Option<&PageCursor>,
        limit: u32,
    ) -> Result<Vec<Appointment>, StoreError> {
        let (beyond, direction) = if order.descending { ("<", "DESC") } else { (">", "ASC") };
        let (column, _) = super::order::column(order.key);
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM appointments"));
        filter.push_where(org, &mut sql);
        if let Some(cursor) = cursor {
            let bind = |sql: &mut Sql| match &cursor.value {
                SortValue::Int(n) => {
                    sql.bind(*n);
                }
                SortValue::Text(t) => {
                    sql.bind(t.clone());
                }
            };
            sql.push(&format!(" AND ({column} {beyond} "));
            bind(&mut sql);
            sql.push(&format!(" OR ({column} = "));
            bind(&mut sql);
            sql.push(&format!(" AND id {beyond} ")).bind(cursor.id.get()).push("))");
        }
        sql.push(&format!(" ORDER BY {column} {direction}, id {direction} LIMIT ")).bind(i64::from(limit));
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// When each appointment `filter` matches starts, and whether it is
    /// linked to a Cal.com booking (at most `limit` of them): what planning
    /// the calls that verify them needs, without loading whole rows.
    pub async fn appointment_starts(
        &self,
        org: OrgId,
        filter: &AppointmentFilter,
        limit: i64,
    ) -> Result<Vec<(DateTime<Utc>, bool)>, StoreError> {
        let mut sql = Sql::new(
            "SELECT starts_at, CASE WHEN calcom_booking_uid IS NULL THEN 0 ELSE 1 END AS linked FROM appointments",
        );
        filter.push_where(org, &mut sql);
        sql.push(" LIMIT ").bind(limit);
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((from_ms(get(row, "starts_at")?), flag(row, "linked")?))).collect()
    }

    pub async fn count_appointments(&self, org: OrgId, filter: &AppointmentFilter) -> Result<i64, StoreError> {
        let mut sql = Sql::new("SELECT COUNT(*) AS n FROM appointments");
        filter.push_where(org, &mut sql);
        let row = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_one(&self.pool).await?;
        get(&row, "n")
    }

    /// Which appointments `filter` matches, as a fingerprint a bulk action
    /// compares before it acts (see `Members`).
    pub async fn appointment_members(&self, org: OrgId, filter: &AppointmentFilter) -> Result<Members, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {} FROM appointments", members_columns("id")));
        filter.push_where(org, &mut sql);
        let row = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_one(&self.pool).await?;
        members(&row)
    }

    /// Appointments per sync state, and how many need a person.
    pub async fn sync_counts(&self, org: OrgId) -> Result<SyncCounts, StoreError> {
        // A few rows per organization: see the migration that defines
        // appointment_state_counts (trigger-kept table on SQLite, view on
        // PostgreSQL).
        let rows = sqlx::query(
            "SELECT sync_status, requires_manual_review AS review, n FROM appointment_state_counts \
             WHERE org_id = $1 AND n > 0",
        )
        .bind(org.get())
        .fetch_all(&self.pool)
        .await?;
        let mut counts = SyncCounts::default();
        for row in &rows {
            let status: SyncStatus = parse(row, "sync_status")?;
            let n: i64 = get(row, "n")?;
            counts.add(status, n);
            if get::<i64>(row, "review")? != 0 {
                counts.requires_review += n;
            }
        }
        Ok(counts)
    }

    /// Stores the outcome of a verification (or of an admin's action) and its
    /// history entry in one transaction.
    pub async fn set_sync_state(
        &self,
        org: OrgId,
        id: AppointmentId,
        state: &SyncState,
        event: &NewSyncEvent,
    ) -> Result<(), StoreError> {
        let write =
            super::StateWrite { id, state: state.clone(), event: event.clone(), resolve_issues: false, routine: false };
        self.write_sync_state(org, &write).await
    }
}

impl Store {
    /// Points the appointment at a (new) Cal.com booking: after matching a
    /// uid-less appointment, or following a reschedule.
    pub async fn link_booking(
        &self,
        org: OrgId,
        id: AppointmentId,
        uid: &str,
        event: &NewSyncEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE appointments SET calcom_booking_uid = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(uid)
        .bind(to_ms(event.at))
        .bind(org.get())
        .bind(id.get())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("appointment"));
        }
        events::insert(&mut tx, org, event).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Appointments linked to a Cal.com booking uid (normally one).
    pub async fn appointments_by_booking_uid(&self, org: OrgId, uid: &str) -> Result<Vec<Appointment>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND calcom_booking_uid = $2 ORDER BY id");
        let rows = sqlx::query(&sql).bind(org.get()).bind(uid).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }
}
