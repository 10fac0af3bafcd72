//! The sync history: every verification attempt, change and admin action on
//! an appointment, in order.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::row::{get, parse};
use super::time::{from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::{string_enum, AppointmentId, OrgId, UserId};

string_enum! {
    pub enum EventKind : "event kind" {
        Created = "created",
        Updated = "updated",
        VerificationQueued = "verification_queued",
        Verification = "verification",
        Webhook = "webhook",
        Resolution = "resolution",
    }
}

#[derive(Debug, Clone)]
pub struct NewSyncEvent {
    pub appointment_id: Option<AppointmentId>,
    pub kind: EventKind,
    pub result: Option<String>,
    pub attempt: Option<i64>,
    pub duration_ms: Option<i64>,
    pub detail: Option<String>,
    /// The raw detail behind `detail` (request, status, body excerpt).
    pub technical: Option<String>,
    /// Who did it, in words: "system", "api token crm", "Jane Admin".
    pub actor: String,
    pub actor_user_id: Option<UserId>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncEvent {
    pub id: i64,
    pub appointment_id: Option<AppointmentId>,
    pub kind: EventKind,
    pub result: Option<String>,
    pub attempt: Option<i64>,
    pub duration_ms: Option<i64>,
    pub detail: Option<String>,
    pub technical: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

fn from_row(row: &AnyRow) -> Result<SyncEvent, StoreError> {
    Ok(SyncEvent {
        id: get(row, "id")?,
        appointment_id: get::<Option<i64>>(row, "appointment_id")?.map(AppointmentId),
        kind: parse(row, "kind")?,
        result: get(row, "result")?,
        attempt: get(row, "attempt")?,
        duration_ms: get(row, "duration_ms")?,
        detail: get(row, "detail")?,
        technical: get(row, "technical")?,
        actor: get(row, "actor")?,
        at: from_ms(get(row, "at")?),
    })
}

/// Inserts one event (and counts it, if a verification) within the
/// caller's transaction, so it is part of the change it records.
pub(crate) async fn insert(conn: &mut AnyConnection, org: OrgId, event: &NewSyncEvent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_events \
         (org_id, appointment_id, kind, result, attempt, duration_ms, detail, technical, actor, actor_user_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(org.get())
    .bind(event.appointment_id.map(AppointmentId::get))
    .bind(event.kind.as_str())
    .bind(event.result.as_deref())
    .bind(event.attempt)
    .bind(event.duration_ms)
    .bind(event.detail.as_deref())
    .bind(event.technical.as_deref())
    .bind(&event.actor)
    .bind(event.actor_user_id.map(UserId::get))
    .bind(to_ms(event.at))
    .execute(&mut *conn)
    .await?;
    super::verification_stats::count(conn, org, [event]).await
}

impl Store {
    pub async fn record_event(&self, org: OrgId, event: &NewSyncEvent) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert(&mut tx, org, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An appointment's history, newest first.
    pub async fn appointment_events(
        &self,
        org: OrgId,
        appointment: AppointmentId,
    ) -> Result<Vec<SyncEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, appointment_id, kind, result, attempt, duration_ms, detail, technical, actor, at \
             FROM sync_events WHERE org_id = $1 AND appointment_id = $2 ORDER BY at DESC, id DESC",
        )
        .bind(org.get())
        .bind(appointment.get())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
