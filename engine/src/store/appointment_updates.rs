//! Changes to an existing appointment from outside (REST API): new facts,
//! or a request to verify it again. Each change and its history entry are
//! one transaction, and each makes the appointment due for verification,
//! because what Cal.com was last compared with is no longer what we hold.

use super::events::{self, NewSyncEvent};
use super::time::to_ms;
use super::{Appointment, NewAppointment, Store, StoreError, SyncState};
use crate::domain::{AppointmentId, ErrorCode, OrgId};

impl Store {
    /// Replaces the appointment's facts with `facts` (everything but
    /// `external_id` and `source`, which are its identity and origin) and
    /// queues it for verification.
    pub async fn update_appointment_facts(
        &self,
        org: OrgId,
        id: AppointmentId,
        facts: &NewAppointment,
        state: &SyncState,
        event: &NewSyncEvent,
    ) -> Result<Appointment, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE appointments SET customer_name = $1, customer_email = $2, customer_phone = $3, service = $4, \
             starts_at = $5, ends_at = $6, time_zone = $7, status = $8, calcom_booking_uid = $9, \
             calcom_event_type_id = $10, sync_status = $11, sync_error_code = $12, sync_error_detail = $13, \
             sync_attempts = $14, next_verification_at = $15, requires_manual_review = $16, updated_at = $17 \
             WHERE org_id = $18 AND id = $19",
        )
        .bind(&facts.customer_name)
        .bind(facts.customer_email.as_deref())
        .bind(facts.customer_phone.as_deref())
        .bind(&facts.service)
        .bind(to_ms(facts.starts_at))
        .bind(to_ms(facts.ends_at))
        .bind(facts.time_zone.name())
        .bind(facts.status.as_str())
        .bind(facts.calcom_booking_uid.as_deref())
        .bind(facts.calcom_event_type_id)
        .bind(state.status.as_str())
        .bind(state.error_code.map(ErrorCode::as_str))
        .bind(state.error_detail.as_deref())
        .bind(state.attempts)
        .bind(state.next_verification_at.map(to_ms))
        .bind(i64::from(state.requires_manual_review))
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
        self.appointment(org, id).await
    }
}
