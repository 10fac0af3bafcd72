//! Writing an admin's resolution: the appointment's new facts, its sync
//! state, the closed issues and the history entry in one transaction, so a
//! resolution is never half-recorded.

use chrono::{DateTime, Utc};

use super::appointments::FirstState;
use super::audit::{self, NewAuditEntry};
use super::events::{self, NewSyncEvent};
use super::issues::Resolution;
use super::row::get;
use super::time::to_ms;
use super::{Appointment, NewAppointment, Store, StoreError, SyncState};
use crate::domain::{AppointmentId, AppointmentStatus, AuditAction, IssueId, OrgId, UserId};

/// Facts about the appointment a resolution changes; `None` keeps the value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactsChange {
    pub calcom_booking_uid: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub status: Option<AppointmentStatus>,
}

#[derive(Debug, Clone)]
pub struct AppointmentResolution {
    pub appointment: AppointmentId,
    pub facts: FactsChange,
    pub state: SyncState,
    /// Closes the appointment's open issues with this resolution; `None`
    /// leaves them open (e.g. "retry now").
    pub resolution: Option<Resolution>,
    pub by: UserId,
    pub note: Option<String>,
    pub event: NewSyncEvent,
    /// A Cal.com-only booking's issue that this resolution also closes, as
    /// the booking becomes the appointment's (linking): it must still be
    /// open, or nothing is written.
    pub booking_issue: Option<IssueId>,
}

/// Closes `r.booking_issue` (if any) and files it under the appointment.
async fn close_booking_issue(
    tx: &mut sqlx::AnyConnection,
    org: OrgId,
    r: &AppointmentResolution,
) -> Result<u64, StoreError> {
    let (Some(issue), Some(resolution)) = (r.booking_issue, r.resolution) else { return Ok(0) };
    let done = sqlx::query(
        "UPDATE sync_issues SET resolved_at = $1, resolution = $2, resolved_by = $3, resolution_note = $4, \
         appointment_id = $5 WHERE org_id = $6 AND id = $7 AND resolved_at IS NULL AND appointment_id IS NULL",
    )
    .bind(to_ms(r.event.at))
    .bind(resolution.as_str())
    .bind(r.by.get())
    .bind(r.note.as_deref())
    .bind(r.appointment.get())
    .bind(org.get())
    .bind(issue.get())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("the Cal.com-only booking's issue is no longer open".into()));
    }
    Ok(1)
}

/// Writes one resolution within the caller's transaction; returns how many
/// issues it closed.
pub(super) async fn apply(
    tx: &mut sqlx::AnyConnection,
    org: OrgId,
    r: &AppointmentResolution,
) -> Result<u64, StoreError> {
    let at = to_ms(r.event.at);
    let done = sqlx::query(
        "UPDATE appointments SET calcom_booking_uid = COALESCE($1, calcom_booking_uid), \
             starts_at = COALESCE($2, starts_at), ends_at = COALESCE($3, ends_at), status = COALESCE($4, status), \
             sync_status = $5, sync_error_code = $6, sync_error_detail = $7, sync_attempts = $8, \
             last_verified_at = $9, next_verification_at = $10, requires_manual_review = $11, \
             claimed_by = NULL, claim_expires_at = NULL, updated_at = $12 WHERE org_id = $13 AND id = $14",
    )
    .bind(r.facts.calcom_booking_uid.as_deref())
    .bind(r.facts.starts_at.map(to_ms))
    .bind(r.facts.ends_at.map(to_ms))
    .bind(r.facts.status.map(AppointmentStatus::as_str))
    .bind(r.state.status.as_str())
    .bind(r.state.error_code.map(crate::domain::ErrorCode::as_str))
    .bind(r.state.error_detail.as_deref())
    .bind(r.state.attempts)
    .bind(r.state.last_verified_at.map(to_ms))
    .bind(r.state.next_verification_at.map(to_ms))
    .bind(i64::from(r.state.requires_manual_review))
    .bind(at)
    .bind(org.get())
    .bind(r.appointment.get())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("appointment"));
    }
    let closed = match r.resolution {
        Some(resolution) => sqlx::query(
            "UPDATE sync_issues SET resolved_at = $1, resolution = $2, resolved_by = $3, resolution_note = $4 \
                     WHERE org_id = $5 AND appointment_id = $6 AND resolved_at IS NULL",
        )
        .bind(at)
        .bind(resolution.as_str())
        .bind(r.by.get())
        .bind(r.note.as_deref())
        .bind(org.get())
        .bind(r.appointment.get())
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        None => 0,
    };
    let closed = closed + close_booking_issue(&mut *tx, org, r).await?;
    events::insert(&mut *tx, org, &r.event).await?;
    Ok(closed)
}

impl Store {
    /// Returns how many issues were closed.
    pub async fn record_resolution(&self, org: OrgId, r: &AppointmentResolution) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let closed = apply(&mut tx, org, r).await?;
        tx.commit().await?;
        Ok(closed)
    }

    /// Several resolutions (a bulk action's page) in one transaction: all
    /// are written or none. Returns how many issues they closed.
    pub async fn record_resolutions(&self, org: OrgId, batch: &[AppointmentResolution]) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut closed = 0;
        for r in batch {
            closed += apply(&mut tx, org, r).await?;
        }
        tx.commit().await?;
        Ok(closed)
    }

    /// Creates the appointment for a Cal.com-only booking, already synced,
    /// and closes the issue, in one transaction.
    pub async fn import_for_issue(
        &self,
        org: OrgId,
        issue: IssueId,
        new: &NewAppointment,
        by: UserId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Appointment, StoreError> {
        let mut tx = self.begin_write().await?;
        let closed = sqlx::query(
            "UPDATE sync_issues SET resolved_at = $1, resolution = $2, resolved_by = $3 \
             WHERE org_id = $4 AND id = $5 AND resolved_at IS NULL AND appointment_id IS NULL",
        )
        .bind(to_ms(now))
        .bind(Resolution::ImportedFromCalcom.as_str())
        .bind(by.get())
        .bind(org.get())
        .bind(issue.get())
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() == 0 {
            return Err(StoreError::Conflict("the issue is not an open Cal.com-only booking".into()));
        }
        let id = super::appointments::insert_row(&mut tx, org, new, FirstState::Synced, now).await?;
        sqlx::query("UPDATE sync_issues SET appointment_id = $1 WHERE org_id = $2 AND id = $3")
            .bind(id.get())
            .bind(org.get())
            .bind(issue.get())
            .execute(&mut *tx)
            .await?;
        let event = NewSyncEvent {
            appointment_id: Some(id),
            kind: events::EventKind::Resolution,
            result: Some(Resolution::ImportedFromCalcom.as_str().into()),
            attempt: None,
            duration_ms: None,
            detail: Some("Created in the database from the Cal.com booking".into()),
            technical: None,
            actor: actor.to_owned(),
            actor_user_id: Some(by),
            at: now,
        };
        events::insert(&mut tx, org, &event).await?;
        tx.commit().await?;
        self.appointment(org, id).await
    }

    /// Closes a Cal.com-only booking's open issue by hand, with the history
    /// entry (which names the booking: there is no appointment to hang it
    /// on) and the audit entry, in one transaction.
    pub async fn mark_booking_resolved(
        &self,
        org: OrgId,
        issue: IssueId,
        by: UserId,
        actor: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE sync_issues SET resolved_at = $1, resolution = $2, resolved_by = $3, resolution_note = $4 \
             WHERE org_id = $5 AND id = $6 AND resolved_at IS NULL AND appointment_id IS NULL \
             AND calcom_booking_uid IS NOT NULL RETURNING calcom_booking_uid",
        )
        .bind(to_ms(now))
        .bind(Resolution::MarkedResolved.as_str())
        .bind(by.get())
        .bind(note)
        .bind(org.get())
        .bind(issue.get())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Conflict("the issue is not an open Cal.com-only booking".into()))?;
        let uid: String = get(&row, "calcom_booking_uid")?;
        let event = NewSyncEvent {
            appointment_id: None,
            kind: events::EventKind::Resolution,
            result: Some(Resolution::MarkedResolved.as_str().into()),
            attempt: None,
            duration_ms: None,
            detail: Some(format!("Cal.com booking {uid} marked as resolved: {note}")),
            technical: None,
            actor: actor.to_owned(),
            actor_user_id: Some(by),
            at: now,
        };
        events::insert(&mut tx, org, &event).await?;
        let entry = NewAuditEntry {
            user_id: Some(by),
            action: AuditAction::BookingMarkResolved,
            target: Some(uid.clone()),
            detail: Some(note.to_owned()),
            at: now,
        };
        audit::insert(&mut *tx, org, &entry).await?;
        tx.commit().await?;
        Ok(uid)
    }
}
