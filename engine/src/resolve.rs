//! The review page's one-click resolutions as engine operations. Each
//! changes Cal.com first (if it must), then records the outcome, the closed
//! issues and an audit entry naming the admin in one database transaction.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::domain::{
    AppointmentId, AppointmentSource, AppointmentStatus, ErrorCode, IssueId, OrgId, SyncStatus, UserId,
};
use crate::store::{
    Appointment, AppointmentResolution, EventKind, FactsChange, NewAppointment, NewSyncEvent, Organization, Resolution,
    Store, StoreError, SyncState,
};
use crate::verify::compare::RemoteBooking;
use crate::verify::source::{BookingSource, BookingWriter, Failure, NewBooking, SourceError};

/// The admin acting, as the history shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Cal.com refused or could not be reached; the words are for the admin.
    #[error("{0}")]
    Calcom(#[from] SourceError),
    /// The action does not fit the case (e.g. "create in Cal.com" for an
    /// appointment that has a booking).
    #[error("{0}")]
    NotApplicable(String),
}

/// What the resolution left behind.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub appointment: Option<AppointmentId>,
    pub issues_closed: u64,
    pub message: String,
}

/// What one resolution changes locally.
struct Change {
    facts: FactsChange,
    state: SyncState,
    resolution: Option<Resolution>,
    note: Option<String>,
    /// The history entry's words.
    detail: String,
    /// A Cal.com-only booking's issue that closes with the appointment's (linking).
    booking_issue: Option<IssueId>,
}

impl Change {
    /// A fresh verification now, with a fresh retry ladder; issues stay open.
    fn retry(appointment: &Appointment, now: DateTime<Utc>) -> Change {
        Change {
            facts: FactsChange::default(),
            state: appointment.sync.queued(now),
            resolution: None,
            note: None,
            detail: "Verification requested".into(),
            booking_issue: None,
        }
    }

    /// The appointment is in sync after this change, closing its issues as `resolution`.
    fn synced(now: DateTime<Utc>, facts: FactsChange, resolution: Resolution, detail: String) -> Change {
        Change {
            facts,
            state: synced_state(now),
            resolution: Some(resolution),
            note: None,
            detail,
            booking_issue: None,
        }
    }

    /// Its issues closed by hand with `note`; nothing else changes.
    fn marked_resolved(appointment: &Appointment, note: &str) -> Change {
        Change {
            facts: FactsChange::default(),
            state: SyncState { requires_manual_review: false, ..appointment.sync.clone() },
            resolution: Some(Resolution::MarkedResolved),
            note: Some(note.into()),
            detail: format!("Marked as resolved: {note}"),
            booking_issue: None,
        }
    }
}

pub struct Resolver {
    store: Store,
    clock: Arc<dyn Clock>,
}

fn synced_state(now: DateTime<Utc>) -> SyncState {
    SyncState {
        status: SyncStatus::Synced,
        error_code: None,
        error_detail: None,
        attempts: 0,
        last_verified_at: Some(now),
        next_verification_at: None,
        requires_manual_review: false,
    }
}

impl Resolver {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Resolver {
        Resolver { store, clock }
    }

    fn event(
        &self,
        appointment: AppointmentId,
        actor: &Actor,
        kind: EventKind,
        result: Option<Resolution>,
        detail: String,
    ) -> NewSyncEvent {
        NewSyncEvent {
            appointment_id: Some(appointment),
            kind,
            result: result.map(|r| r.as_str().to_owned()),
            attempt: None,
            duration_ms: None,
            detail: Some(detail),
            technical: None,
            actor: actor.name.clone(),
            actor_user_id: Some(actor.user_id),
            at: self.clock.now(),
        }
    }

    /// What the store writes for `change` to `appointment`.
    fn resolution(&self, appointment: &Appointment, actor: &Actor, change: Change) -> AppointmentResolution {
        let Change { facts, state, resolution, note, detail, booking_issue } = change;
        let kind = if resolution.is_some() { EventKind::Resolution } else { EventKind::VerificationQueued };
        AppointmentResolution {
            appointment: appointment.id,
            facts,
            state,
            resolution,
            by: actor.user_id,
            note,
            event: self.event(appointment.id, actor, kind, resolution, detail),
            booking_issue,
        }
    }

    async fn record(
        &self,
        org: OrgId,
        appointment: &Appointment,
        actor: &Actor,
        change: Change,
    ) -> Result<Resolved, ResolveError> {
        let detail = change.detail.clone();
        let closed = self.store.record_resolution(org, &self.resolution(appointment, actor, change)).await?;
        Ok(Resolved { appointment: Some(appointment.id), issues_closed: closed, message: detail })
    }

    /// Queue a fresh verification now, with a fresh retry ladder.
    pub async fn retry_now(
        &self,
        org: &Organization,
        appointment: &Appointment,
        actor: &Actor,
    ) -> Result<Resolved, ResolveError> {
        let change = Change::retry(appointment, self.clock.now());
        self.record(org.id, appointment, actor, change).await
    }

    /// "Retry now" for many appointments (a page of a bulk action), in one
    /// transaction: all are queued or none. Returns how many.
    pub async fn retry_many(
        &self,
        org: &Organization,
        appointments: &[Appointment],
        actor: &Actor,
    ) -> Result<u64, ResolveError> {
        let batch = self.retries(appointments, actor);
        self.store.record_resolutions(org.id, &batch).await?;
        Ok(batch.len() as u64)
    }

    /// What "retry now" writes for each of `appointments`, for a caller
    /// that records them together with its own rows (a bulk run's batch).
    pub fn retries(&self, appointments: &[Appointment], actor: &Actor) -> Vec<AppointmentResolution> {
        let now = self.clock.now();
        appointments.iter().map(|a| self.resolution(a, actor, Change::retry(a, now))).collect()
    }

    /// Close the appointment's issues without changing anything else.
    pub async fn mark_resolved(
        &self,
        org: &Organization,
        appointment: &Appointment,
        actor: &Actor,
        note: &str,
    ) -> Result<Resolved, ResolveError> {
        let note = required_note(note)?;
        self.record(org.id, appointment, actor, Change::marked_resolved(appointment, note)).await
    }

    /// What "mark as resolved" writes for each of `appointments`, for a
    /// caller that records them with its own rows (a bulk run's batch).
    pub fn marks_resolved(
        &self,
        appointments: &[Appointment],
        actor: &Actor,
        note: &str,
    ) -> Result<Vec<AppointmentResolution>, ResolveError> {
        let note = required_note(note)?;
        Ok(appointments.iter().map(|a| self.resolution(a, actor, Change::marked_resolved(a, note))).collect())
    }

    /// ORPHANED_LOCAL: book it in Cal.com and link the new booking. Safe
    /// against duplicates: a booking Cal.com already has for this customer
    /// at this start is linked instead of booking again, and after an answer
    /// lost in transit Cal.com is asked again rather than asked to book twice
    /// (it has been seen to book and then fail to answer).
    pub async fn create_in_calcom<C: BookingWriter + BookingSource>(
        &self,
        org: &Organization,
        appointment: &Appointment,
        actor: &Actor,
        event_type_id: i64,
        calcom: &C,
    ) -> Result<Resolved, ResolveError> {
        if appointment.sync.error_code != Some(ErrorCode::OrphanedLocal) && appointment.calcom_booking_uid.is_some() {
            return Err(ResolveError::NotApplicable("the appointment already has a Cal.com booking".into()));
        }
        let email = appointment
            .customer_email
            .clone()
            .ok_or_else(|| ResolveError::NotApplicable("Cal.com needs the customer's email to book".into()))?;
        let new = NewBooking {
            start: appointment.starts_at,
            event_type_id,
            attendee_name: appointment.customer_name.clone(),
            attendee_email: email,
            attendee_time_zone: appointment.time_zone.name().to_owned(),
            attendee_phone: appointment.customer_phone.clone(),
            metadata: vec![("calsync_appointment_id".into(), appointment.id.to_string())],
        };
        let (booking, how) = match existing_booking(calcom, &new).await? {
            Some(found) => (found, "Linked to the booking Cal.com already had"),
            None => match calcom.create(&new).await {
                Ok(created) => (created, "Created in Cal.com"),
                Err(SourceError::Transient(lost)) => match existing_booking(calcom, &new).await? {
                    Some(found) => (found, "Created in Cal.com (its answer was lost; found on a second look)"),
                    None => {
                        let summary = format!(
                            "{}; Cal.com has no booking for this customer at this time, so nothing was changed. Try again.",
                            lost.summary
                        );
                        return Err(SourceError::Transient(Failure { summary, technical: lost.technical }).into());
                    }
                },
                Err(other) => return Err(other.into()),
            },
        };
        let (ends_at, end_words) = end_from(org, appointment, &booking);
        let facts = FactsChange { calcom_booking_uid: Some(booking.uid.clone()), ends_at, ..FactsChange::default() };
        let detail = format!("{how} as booking {}{end_words}", booking.uid);
        let change = Change::synced(self.clock.now(), facts, Resolution::CreatedInCalcom, detail);
        self.record(org.id, appointment, actor, change).await
    }

    /// DATA_MISMATCH: take Cal.com's time and status as ours.
    pub async fn accept_calcom<S: BookingSource>(
        &self,
        org: &Organization,
        appointment: &Appointment,
        actor: &Actor,
        source: &S,
    ) -> Result<Resolved, ResolveError> {
        let booking = self.current_booking(appointment, source).await?;
        let status = match booking.status.is_live() {
            Some(true) => None,
            Some(false) => Some(AppointmentStatus::Cancelled),
            None => {
                return Err(ResolveError::NotApplicable(
                    "Cal.com reports this booking with a status calsync does not know; nothing was changed".into(),
                ))
            }
        };
        let facts = FactsChange {
            calcom_booking_uid: Some(booking.uid.clone()),
            starts_at: Some(booking.start),
            ends_at: Some(booking.end),
            status,
        };
        let change =
            Change::synced(self.clock.now(), facts, Resolution::AcceptedCalcom, "Accepted Cal.com's version".into());
        self.record(org.id, appointment, actor, change).await
    }

    /// DATA_MISMATCH: make Cal.com match ours (a reschedule there).
    pub async fn push_ours<S: BookingSource, W: BookingWriter>(
        &self,
        org: &Organization,
        appointment: &Appointment,
        actor: &Actor,
        source: &S,
        writer: &W,
    ) -> Result<Resolved, ResolveError> {
        let booking = self.current_booking(appointment, source).await?;
        if appointment.status == AppointmentStatus::Cancelled {
            writer.cancel(&booking.uid, "Cancelled in the business's records").await?;
            let detail = format!("Cancelled Cal.com booking {} to match ours", booking.uid);
            let change = Change::synced(self.clock.now(), FactsChange::default(), Resolution::PushedLocal, detail);
            return self.record(org.id, appointment, actor, change).await;
        }
        let moved = match writer.reschedule(&booking.uid, appointment.starts_at, "Time corrected by calsync").await {
            Ok(moved) => moved,
            // The answer may be lost although Cal.com moved it: look before
            // anyone presses again (a second reschedule would fail or double).
            Err(SourceError::Transient(lost)) => match rescheduled_to(source, &booking.uid).await? {
                Some(moved) if moved.start == appointment.starts_at => moved,
                _ => return Err(SourceError::Transient(lost).into()),
            },
            Err(other) => return Err(other.into()),
        };
        let (ends_at, end_words) = end_from(org, appointment, &moved);
        let facts = FactsChange { calcom_booking_uid: Some(moved.uid.clone()), ends_at, ..FactsChange::default() };
        let detail = format!("Rescheduled in Cal.com to our time (new booking {}){end_words}", moved.uid);
        let change = Change::synced(self.clock.now(), facts, Resolution::PushedLocal, detail);
        self.record(org.id, appointment, actor, change).await
    }

    /// Cancel on both sides.
    pub async fn cancel_both<W: BookingWriter>(
        &self,
        org: &Organization,
        appointment: &Appointment,
        actor: &Actor,
        writer: &W,
    ) -> Result<Resolved, ResolveError> {
        if let Some(uid) = appointment.calcom_booking_uid.as_deref() {
            match writer.cancel(uid, "Cancelled by an admin in calsync").await {
                // Already gone in Cal.com (the orphan case): nothing to cancel there.
                Ok(()) | Err(SourceError::Rejected(_)) => {}
                Err(err) => return Err(err.into()),
            }
        }
        let facts = FactsChange { status: Some(AppointmentStatus::Cancelled), ..FactsChange::default() };
        let change = Change::synced(self.clock.now(), facts, Resolution::Cancelled, "Cancelled on both sides".into());
        self.record(org.id, appointment, actor, change).await
    }

    /// ORPHANED_CALCOM: close a Cal.com-only booking's issue by hand, with a
    /// note, leaving the booking and our appointments as they are.
    pub async fn mark_booking_resolved(
        &self,
        org: &Organization,
        issue: IssueId,
        actor: &Actor,
        note: &str,
    ) -> Result<Resolved, ResolveError> {
        let note = required_note(note)?;
        let uid =
            self.store.mark_booking_resolved(org.id, issue, actor.user_id, &actor.name, note, self.clock.now()).await?;
        Ok(Resolved { appointment: None, issues_closed: 1, message: format!("Booking {uid} marked as resolved") })
    }

    /// ORPHANED_CALCOM: create our appointment from Cal.com's booking.
    pub async fn import_booking(
        &self,
        org: &Organization,
        issue: IssueId,
        actor: &Actor,
        booking: &RemoteBooking,
        customer_name: &str,
    ) -> Result<Resolved, ResolveError> {
        let new = NewAppointment {
            external_id: None,
            customer_name: customer_name.to_owned(),
            customer_email: booking.attendee_emails.first().cloned(),
            customer_phone: booking.attendee_phones.first().cloned(),
            service: "Cal.com booking".into(),
            starts_at: booking.start,
            ends_at: booking.end,
            time_zone: org.time_zone,
            status: if booking.is_live() { AppointmentStatus::Scheduled } else { AppointmentStatus::Cancelled },
            source: AppointmentSource::Calcom,
            calcom_booking_uid: Some(booking.uid.clone()),
            calcom_event_type_id: None,
        };
        let created =
            self.store.import_for_issue(org.id, issue, &new, actor.user_id, &actor.name, self.clock.now()).await?;
        Ok(Resolved {
            appointment: Some(created.id),
            issues_closed: 1,
            message: format!("Created appointment #{} from Cal.com booking {}", created.id, booking.uid),
        })
    }

    /// A Cal.com-only booking is `appointment`'s: the appointment takes its
    /// uid and is verified again at once, and the booking's issue and the
    /// appointment's close as linked, in one transaction. Refused unless the
    /// two still match as a suggested link does (`links::reasons`).
    pub async fn link_booking(
        &self,
        org: &Organization,
        issue: IssueId,
        appointment: &Appointment,
        booking: &RemoteBooking,
        actor: &Actor,
    ) -> Result<Resolved, ResolveError> {
        let why = crate::links::reasons(booking, appointment).ok_or_else(|| {
            ResolveError::NotApplicable(format!(
                "Appointment #{} does not match Cal.com booking {} (same person, start within {} min, no live booking of its own).",
                appointment.id,
                booking.uid,
                crate::links::WINDOW_MINUTES
            ))
        })?;
        let now = self.clock.now();
        // Queued to confirm the link; the old finding no longer holds.
        let state = SyncState {
            error_code: None,
            error_detail: None,
            requires_manual_review: false,
            ..appointment.sync.queued(now)
        };
        let change = Change {
            facts: FactsChange { calcom_booking_uid: Some(booking.uid.clone()), ..FactsChange::default() },
            state,
            resolution: Some(Resolution::Linked),
            note: Some(why.clone()),
            detail: format!("Linked to Cal.com booking {} ({why})", booking.uid),
            booking_issue: Some(issue),
        };
        let mut done = self.record(org.id, appointment, actor, change).await?;
        done.message = format!("Appointment #{} linked to Cal.com booking {}", appointment.id, booking.uid);
        Ok(done)
    }

    async fn current_booking<S: BookingSource>(
        &self,
        appointment: &Appointment,
        source: &S,
    ) -> Result<RemoteBooking, ResolveError> {
        let uid = appointment
            .calcom_booking_uid
            .as_deref()
            .ok_or_else(|| ResolveError::NotApplicable("the appointment has no Cal.com booking".into()))?;
        source.booking(uid).await?.ok_or_else(|| ResolveError::NotApplicable(format!("Cal.com has no booking {uid}")))
    }
}

/// The end ours takes from a booking calsync just made or moved in Cal.com,
/// and the words for the history. Cal.com ends a booking at start + its
/// event type's length, whatever ours said; keeping our end would make the
/// next verification report a difference nobody made.
fn end_from(org: &Organization, ours: &Appointment, booking: &RemoteBooking) -> (Option<DateTime<Utc>>, String) {
    if booking.end == ours.ends_at {
        return (None, String::new());
    }
    let local = org.local_format();
    let words = format!(
        "; Cal.com's event type ends it at {} (ours said {}), so ours does too",
        local.time(booking.end),
        local.time(ours.ends_at)
    );
    (Some(booking.end), words)
}

/// The note a hand-made resolution must carry, trimmed.
fn required_note(note: &str) -> Result<&str, ResolveError> {
    match note.trim() {
        "" => Err(ResolveError::NotApplicable("a note is required to mark an issue resolved".into())),
        note => Ok(note),
    }
}

/// A live booking Cal.com has at `new.start` for `new`'s customer (same
/// email, compared as Cal.com's users type it: case-insensitively), or
/// `None`. One listing of the minute around the start.
async fn existing_booking<S: BookingSource>(
    source: &S,
    new: &NewBooking,
) -> Result<Option<RemoteBooking>, ResolveError> {
    let minute = chrono::Duration::minutes(1);
    let listing = source.list_window(new.start, new.start + minute).await?;
    Ok(listing.bookings.into_iter().find(|b| {
        b.start == new.start
            && b.is_live()
            && b.attendee_emails.iter().any(|e| e.eq_ignore_ascii_case(&new.attendee_email))
    }))
}

/// Where `uid` was rescheduled to, if Cal.com says it was.
async fn rescheduled_to<S: BookingSource>(source: &S, uid: &str) -> Result<Option<RemoteBooking>, ResolveError> {
    let Some(old) = source.booking(uid).await? else { return Ok(None) };
    match old.rescheduled_to_uid {
        Some(next) => Ok(source.booking(&next).await?),
        None => Ok(None),
    }
}
