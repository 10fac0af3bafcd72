//! Acting on a Cal.com webhook: re-read the bookings it names and verify
//! the appointments linked to them, at once. Replays do nothing. Bookings
//! nobody has are left to the comprehensive check: an appointment for them
//! is often on its way through the REST API.

use super::service::{Verified, Verifier};
use super::source::BookingSource;
use crate::store::{Organization, StoreError};
use crate::webhooks::WebhookHint;

#[derive(Debug, Clone, PartialEq)]
pub enum HintOutcome {
    /// The same delivery was handled before.
    Replay,
    /// Not a trigger that can change sync state.
    Ignored,
    /// These appointments were re-verified.
    Verified(Vec<Verified>),
}

impl Verifier {
    pub async fn handle_hint<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        hint: &WebhookHint,
    ) -> Result<HintOutcome, StoreError> {
        let fresh = self
            .store()
            .record_webhook(org.id, &hint.body_sha256, &hint.trigger, hint.uid.as_deref(), self.now())
            .await?;
        if !fresh {
            return Ok(HintOutcome::Replay);
        }
        if !hint.is_relevant() {
            return Ok(HintOutcome::Ignored);
        }
        let mut verified = Vec::new();
        for uid in [hint.uid.as_deref(), hint.previous_uid.as_deref()].into_iter().flatten() {
            for appointment in self.store().appointments_by_booking_uid(org.id, uid).await? {
                verified.push(self.verify_one(org, source, &appointment).await?);
            }
        }
        Ok(HintOutcome::Verified(verified))
    }
}
