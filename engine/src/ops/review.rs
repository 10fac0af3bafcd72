//! The review page's and the review queue's one-click resolutions: which
//! apply to a case, and carrying one out for the caller (Cal.com first if it
//! must change, then the record, the closed issues and the audit entry in
//! one transaction, by `crate::resolve::Resolver`).

use super::{Caller, OpError, Operations};
use crate::calcom::CalcomConnector;
use crate::domain::{Actor, AppointmentId, AppointmentStatus, BookingAction, ErrorCode, IssueId, ResolveAction};
use crate::resolve::{self, ResolveError, Resolved, Resolver};
use crate::store::{Appointment, Organization};
use crate::verify::compare::RemoteBooking;
use crate::verify::source::{BookingSource, BookingWriter, NewBooking, SourceError};

/// The actions that fit the appointment's case, most specific first; what
/// the review page offers an admin.
pub fn applicable_actions(a: &Appointment, open_issues: usize) -> Vec<ResolveAction> {
    let mut actions = Vec::new();
    match a.sync.error_code {
        Some(ErrorCode::OrphanedLocal) => actions.push(ResolveAction::CreateInCalcom),
        Some(ErrorCode::DataMismatch) => actions.extend([ResolveAction::AcceptCalcom, ResolveAction::PushOurs]),
        _ => {}
    }
    actions.push(ResolveAction::RetryVerification);
    if a.status != AppointmentStatus::Cancelled {
        actions.push(ResolveAction::CancelBoth);
    }
    if open_issues > 0 || a.sync.requires_manual_review {
        actions.push(ResolveAction::MarkResolved);
    }
    actions
}

impl From<ResolveError> for OpError {
    /// Cal.com's failures name Cal.com; a step that no longer fits is a conflict.
    fn from(err: ResolveError) -> OpError {
        match err {
            ResolveError::Store(e) => e.into(),
            ResolveError::Calcom(e) => OpError::Conflict(format!("Cal.com: {e}")),
            ResolveError::NotApplicable(message) => OpError::Conflict(message),
        }
    }
}

fn not_connected() -> OpError {
    OpError::Conflict("Cal.com is not connected for this organization (no API key).".into())
}

impl Operations {
    /// The resolver, acting with this process's clock.
    pub fn resolver(&self) -> Resolver {
        Resolver::new(self.store.clone(), self.clock.clone())
    }

    /// The admin resolving, as the history names them. Only people resolve.
    pub async fn resolving_admin(&self, caller: Caller) -> Result<(Organization, resolve::Actor), OpError> {
        let caller = caller.admin()?;
        let Actor::User { id, .. } = caller.actor else { return Err(OpError::Forbidden) };
        let user = self.store.user(caller.org, id).await?;
        let org = self.store.organization(caller.org).await?;
        Ok((org, resolve::Actor { user_id: id, name: user.name }))
    }

    /// Carries out `action` on the caller's appointment `id`.
    pub async fn resolve_appointment(
        &self,
        connector: &CalcomConnector,
        caller: Caller,
        id: AppointmentId,
        action: ResolveAction,
        note: &str,
    ) -> Result<Resolved, OpError> {
        let (org, actor) = self.resolving_admin(caller).await?;
        let a = self.store.appointment(org.id, id).await?;
        let resolver = self.resolver();
        let done = match action {
            ResolveAction::RetryVerification => resolver.retry_now(&org, &a, &actor).await,
            ResolveAction::MarkResolved => resolver.mark_resolved(&org, &a, &actor, note).await,
            ResolveAction::CreateInCalcom => {
                let client = connector.client(org.id).await.ok_or_else(not_connected)?;
                let event_type = match a.calcom_event_type_id {
                    Some(id) => Some(id),
                    None => self.store.calcom_connection(org.id).await?.event_type_id,
                };
                let event_type = event_type
                    .ok_or_else(|| OpError::Conflict("No Cal.com event type is configured to book into.".into()))?;
                resolver.create_in_calcom(&org, &a, &actor, event_type, &client).await
            }
            ResolveAction::AcceptCalcom => {
                let client = connector.client(org.id).await.ok_or_else(not_connected)?;
                resolver.accept_calcom(&org, &a, &actor, &client).await
            }
            ResolveAction::PushOurs => {
                let client = connector.client(org.id).await.ok_or_else(not_connected)?;
                resolver.push_ours(&org, &a, &actor, &client, &client).await
            }
            ResolveAction::CancelBoth => match (connector.client(org.id).await, a.calcom_booking_uid.is_some()) {
                (Some(client), _) => resolver.cancel_both(&org, &a, &actor, &client).await,
                (None, true) => return Err(not_connected()),
                // Nothing to cancel in Cal.com: the writer is never called.
                (None, false) => resolver.cancel_both(&org, &a, &actor, &NoCalcom).await,
            },
        }?;
        Ok(done)
    }

    /// Carries out `action` on an open Cal.com-only booking's issue.
    pub async fn resolve_booking(
        &self,
        connector: &CalcomConnector,
        caller: Caller,
        issue_id: IssueId,
        action: BookingAction,
        note: &str,
    ) -> Result<Resolved, OpError> {
        let (org, actor) = self.resolving_admin(caller).await?;
        let issue = self.store.issue(org.id, issue_id).await?;
        let uid = match (&issue.calcom_booking_uid, issue.appointment_id, issue.resolved_at) {
            (Some(uid), None, None) => uid.clone(),
            _ => return Err(OpError::Conflict("This issue is not an open Cal.com-only booking.".into())),
        };
        let resolver = self.resolver();
        let done = match action {
            BookingAction::Import => {
                let client = connector.client(org.id).await.ok_or_else(not_connected)?;
                // Re-read the booking: the snapshot may be days old.
                let booking = BookingSource::booking(&client, &uid)
                    .await
                    .map_err(|e| OpError::Conflict(format!("Cal.com: {e}")))?
                    .ok_or_else(|| OpError::Conflict(format!("Cal.com no longer has booking {uid}.")))?;
                let name = booking.attendee_emails.first().cloned().unwrap_or_else(|| format!("Cal.com booking {uid}"));
                resolver.import_booking(&org, issue.id, &actor, &booking, &name).await?
            }
            BookingAction::Link(appointment_id) => {
                let booking = issue.snapshot().ok_or_else(|| {
                    OpError::Conflict("calsync has no copy of this booking to link; retry a full check.".into())
                })?;
                let appointment = self.store.appointment(org.id, AppointmentId(appointment_id)).await?;
                resolver.link_booking(&org, issue.id, &appointment, &booking, &actor).await?
            }
            BookingAction::MarkResolved => resolver.mark_booking_resolved(&org, issue.id, &actor, note).await?,
        };
        Ok(done)
    }
}

/// A Cal.com writer for organizations without a connection, used only
/// where the resolver will not call it (cancelling an appointment that
/// never had a booking).
struct NoCalcom;

impl BookingWriter for NoCalcom {
    async fn create(&self, _: &NewBooking) -> Result<RemoteBooking, SourceError> {
        Err(SourceError::Transient("Cal.com is not connected".into()))
    }
    async fn cancel(&self, _: &str, _: &str) -> Result<(), SourceError> {
        Err(SourceError::Transient("Cal.com is not connected".into()))
    }
    async fn reschedule(
        &self,
        _: &str,
        _: chrono::DateTime<chrono::Utc>,
        _: &str,
    ) -> Result<RemoteBooking, SourceError> {
        Err(SourceError::Transient("Cal.com is not connected".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SyncStatus;

    fn appointment(code: Option<ErrorCode>, status: AppointmentStatus, review: bool) -> Appointment {
        let mut a = crate::store::sample_appointment();
        a.sync.error_code = code;
        a.sync.status = if code.is_some() { SyncStatus::Failed } else { SyncStatus::Synced };
        a.sync.requires_manual_review = review;
        a.status = status;
        a
    }

    #[test]
    fn each_case_offers_the_actions_that_fit_it() {
        use ResolveAction::*;
        let orphan = appointment(Some(ErrorCode::OrphanedLocal), AppointmentStatus::Scheduled, true);
        assert_eq!(applicable_actions(&orphan, 1), [CreateInCalcom, RetryVerification, CancelBoth, MarkResolved]);
        let mismatch = appointment(Some(ErrorCode::DataMismatch), AppointmentStatus::Scheduled, false);
        assert_eq!(
            applicable_actions(&mismatch, 1),
            [AcceptCalcom, PushOurs, RetryVerification, CancelBoth, MarkResolved]
        );
        let cancelled = appointment(None, AppointmentStatus::Cancelled, false);
        assert_eq!(applicable_actions(&cancelled, 0), [RetryVerification], "nothing to close, nothing to cancel");
    }
}
