//! The review page of one appointment: what calsync knows about it (ours,
//! the history, its issues, the Cal.com-only bookings it may be, why we
//! believe Cal.com lost it), and the page's and the review queue's
//! one-click resolutions: which apply to a case, and carrying one out for
//! the caller (Cal.com first if it must change, then the record, the closed
//! issues and the audit entry in one transaction, by
//! `crate::resolve::Resolver`).

use super::{Caller, OpError, Operations};
use crate::calcom::CalcomConnector;
use crate::domain::{
    Actor, AppointmentId, AppointmentStatus, BookingAction, ErrorCode, IssueId, ResolveAction, SyncStatus,
};
use crate::resolve::{self, ResolveError, Resolved, Resolver};
use crate::store::{DeliveryFilter, IssueSubject};
use crate::verify::compare::RemoteBooking;
use crate::verify::source::{BookingSource, BookingWriter, NewBooking, SourceError};

pub use crate::links::BookingSuggestion;
pub use crate::store::{Appointment, Delivery, EventKind, Issue, Organization, Resolution, SyncEvent, User};

/// How many closed issues the page lists: the recent past explains a case,
/// the whole past is in the history.
pub const CLOSED_ISSUES_SHOWN: u32 = 5;

/// How many "not found" checks the evidence of a lost booking lists.
pub const EVIDENCE_CHECKS: usize = 5;

/// What the review page of one appointment is made of, before it is put
/// into words (the organization's zone comes with it for that).
#[derive(Debug)]
pub struct ReviewFacts {
    pub org: Organization,
    pub appointment: Appointment,
    pub open_issues: Vec<Issue>,
    /// Newest first.
    pub history: Vec<SyncEvent>,
    /// The last [`CLOSED_ISSUES_SHOWN`], most recent first.
    pub closed_issues: Vec<Issue>,
    /// Everyone of the organization, to name who closed an issue.
    pub users: Vec<User>,
    /// Whether Cal.com had the booking at the last check; `None` if unknown.
    pub found_in_calcom: Option<bool>,
    /// The resolutions that fit the case; empty for a caller who may not
    /// carry them out.
    pub actions: Vec<ResolveAction>,
    /// Open Cal.com-only bookings this appointment probably is.
    pub links: Vec<BookingSuggestion>,
    /// Set when Cal.com may have lost the booking and a check missed it.
    pub orphan: Option<OrphanFacts>,
}

/// Why calsync believes Cal.com has no booking for an appointment.
#[derive(Debug)]
pub struct OrphanFacts {
    /// The checks since it was last found that did not find it, newest
    /// first, at most [`EVIDENCE_CHECKS`]; never empty.
    pub misses: Vec<SyncEvent>,
    /// The last webhook that named its booking; `None` also when it never
    /// had one (the appointment says which).
    pub last_delivery: Option<Delivery>,
}

/// What the last check learned about Cal.com's side, from the sync state
/// alone: a mismatch was found there, an orphan was not.
pub fn found_in_calcom(a: &Appointment) -> Option<bool> {
    match (a.sync.status, a.sync.error_code) {
        (_, Some(ErrorCode::OrphanedLocal)) | (SyncStatus::OrphanedLocal, _) => Some(false),
        (_, Some(ErrorCode::DataMismatch)) | (SyncStatus::Synced, _) => Some(true),
        _ => None,
    }
}

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
    /// Open to every signed-in user of the organization (viewers read the
    /// page too); another organization's appointment is "not found".
    pub async fn appointment_review(&self, caller: Caller, id: AppointmentId) -> Result<ReviewFacts, OpError> {
        let org = self.store.organization(caller.org).await?;
        let appointment = self.store.appointment(org.id, id).await?;
        let open_issues = self.store.open_issues_for(org.id, &IssueSubject::Appointment(appointment.id)).await?;
        let history = self.store.appointment_events(org.id, appointment.id).await?;
        let users = self.store.users(org.id).await?;
        let closed_issues = self.store.closed_issues_for(org.id, appointment.id, CLOSED_ISSUES_SHOWN).await?;
        let links = crate::links::bookings_for(&self.store, org.id, &appointment).await?;
        let found_in_calcom = found_in_calcom(&appointment);
        let orphan = match found_in_calcom {
            Some(true) => None,
            _ => self.orphan_facts(&appointment, &history).await?,
        };
        let actions = if caller.actor.may_administer() {
            applicable_actions(&appointment, open_issues.len())
        } else {
            Vec::new()
        };
        Ok(ReviewFacts {
            org,
            appointment,
            open_issues,
            history,
            closed_issues,
            users,
            found_in_calcom,
            actions,
            links,
            orphan,
        })
    }

    /// `None` when no check since the booking was last seen missed it: then
    /// there is nothing to show, and no delivery is looked up.
    async fn orphan_facts(&self, a: &Appointment, history: &[SyncEvent]) -> Result<Option<OrphanFacts>, OpError> {
        let misses: Vec<SyncEvent> =
            crate::verify::rules::misses_since_found(history).take(EVIDENCE_CHECKS).cloned().collect();
        if misses.is_empty() {
            return Ok(None);
        }
        let last_delivery = match &a.calcom_booking_uid {
            Some(uid) => {
                let filter = DeliveryFilter { uid: Some(uid.clone()), ..DeliveryFilter::default() };
                self.store.deliveries(a.org_id, &filter, 1).await?.into_iter().next()
            }
            None => None,
        };
        Ok(Some(OrphanFacts { misses, last_delivery }))
    }

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

    #[test]
    fn only_a_check_that_reached_calcom_says_whether_it_had_the_booking() {
        let orphan = appointment(Some(ErrorCode::OrphanedLocal), AppointmentStatus::Scheduled, true);
        assert_eq!(found_in_calcom(&orphan), Some(false));
        let mismatch = appointment(Some(ErrorCode::DataMismatch), AppointmentStatus::Scheduled, false);
        assert_eq!(found_in_calcom(&mismatch), Some(true));
        let synced = appointment(None, AppointmentStatus::Scheduled, false);
        assert_eq!(found_in_calcom(&synced), Some(true));
        let mut pending = appointment(None, AppointmentStatus::Scheduled, false);
        pending.sync.status = SyncStatus::Pending;
        assert_eq!(found_in_calcom(&pending), None, "not checked yet");
    }
}
