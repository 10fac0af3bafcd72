//! Suggested links. A booking only Cal.com has is often one of our own
//! appointments that lost its way: recorded without the booking's uid at a
//! slightly different time (the verifier links an exact match by itself),
//! or left pointing at a booking the customer replaced with a new one. For
//! such a booking the queue proposes the appointment it probably is, with
//! the reasons, beside "Create in DB", and the review page of such an
//! appointment proposes the booking; linking re-checks the match.

use chrono::Duration;

use crate::domain::{AppointmentStatus, ErrorCode, IssueId, OrgId, SyncStatus};
use crate::store::{Appointment, Store, StoreError};
use crate::verify::compare::RemoteBooking;
use crate::verify::window::SamePerson;

/// How far apart the two starts may be.
pub const WINDOW_MINUTES: i64 = 15;

/// An appointment a Cal.com-only booking probably belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub appointment: Appointment,
    /// Why, for the admin: "same attendee email, starts 10 min later".
    pub reasons: String,
}

/// Why `appointment` is probably `booking`'s, or `None`: the same person
/// (email or phone), starts at most [`WINDOW_MINUTES`] apart, the same
/// service when both sides name one (an event type either side leaves
/// unnamed proves nothing), and an appointment that is free to take the
/// booking (none of its own, or one Cal.com no longer has) and not cancelled.
pub fn reasons(booking: &RemoteBooking, appointment: &Appointment) -> Option<String> {
    let free = is_free(appointment);
    let apart = booking.start - appointment.starts_at;
    let near = apart.abs() <= Duration::minutes(WINDOW_MINUTES);
    let same = SamePerson::of(appointment, booking);
    let service = match (appointment.calcom_event_type_id, booking.event_type_id) {
        (Some(ours), Some(theirs)) if ours != theirs => return None,
        (Some(_), Some(_)) => Some(format!("same service ({})", appointment.service)),
        _ => None,
    };
    if !free || !near || !same.any() || appointment.status == AppointmentStatus::Cancelled {
        return None;
    }
    let mut why = Vec::new();
    if same.email {
        why.push("same attendee email".to_owned());
    }
    if same.phone {
        why.push("same phone number".to_owned());
    }
    why.extend(service);
    why.push(match apart.num_minutes() {
        0 => "same start".to_owned(),
        m if m > 0 => format!("Cal.com's starts {m} min later"),
        m => format!("Cal.com's starts {} min earlier", -m),
    });
    if appointment.calcom_booking_uid.is_some() {
        why.push("its own booking is gone from Cal.com".to_owned());
    }
    Some(why.join(", "))
}

/// Whether the appointment could take a booking: it has none, or Cal.com no
/// longer has its own.
fn is_free(appointment: &Appointment) -> bool {
    appointment.calcom_booking_uid.is_none()
        || appointment.sync.status == SyncStatus::OrphanedLocal
        || appointment.sync.error_code == Some(ErrorCode::OrphanedLocal)
}

/// The organization's appointments `booking` probably is, closest start first.
pub async fn suggestions(store: &Store, org: OrgId, booking: &RemoteBooking) -> Result<Vec<Suggestion>, StoreError> {
    Ok(suggestions_for_each(store, org, &[booking]).await?.pop().unwrap_or_default())
}

/// [`suggestions`] for each of `bookings` (in their order), read with one
/// statement for all of them: the review queue lists up to 500 Cal.com-only
/// bookings.
pub async fn suggestions_for_each(
    store: &Store,
    org: OrgId,
    bookings: &[&RemoteBooking],
) -> Result<Vec<Vec<Suggestion>>, StoreError> {
    let window = Duration::minutes(WINDOW_MINUTES);
    // `[from, until)`: a start exactly WINDOW_MINUTES away still counts.
    let windows: Vec<_> =
        bookings.iter().map(|b| (b.start - window, b.start + window + Duration::milliseconds(1))).collect();
    let free = if windows.is_empty() { Vec::new() } else { store.free_appointments_within(org, &windows).await? };
    Ok(bookings.iter().map(|booking| matches(booking, &free)).collect())
}

/// Which of `free` `booking` probably is, closest start first.
fn matches(booking: &RemoteBooking, free: &[Appointment]) -> Vec<Suggestion> {
    let mut found: Vec<Suggestion> = free
        .iter()
        .filter(|a| a.calcom_booking_uid.as_deref() != Some(booking.uid.as_str()))
        .filter_map(|a| reasons(booking, a).map(|reasons| Suggestion { appointment: a.clone(), reasons }))
        .collect();
    found.sort_by_key(|s| ((s.appointment.starts_at - booking.start).abs(), s.appointment.id));
    found
}

/// Most open Cal.com-only bookings an appointment is compared with.
const BOOKINGS_SEARCHED: u32 = 500;

/// A Cal.com-only booking an appointment without a live booking probably is.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingSuggestion {
    /// The booking's open issue, which linking closes.
    pub issue: IssueId,
    pub booking: RemoteBooking,
    pub reasons: String,
}

/// The other way round, for the review page of an appointment that lost its
/// booking (ORPHANED_LOCAL) or never had one: the open Cal.com-only bookings
/// it probably is, closest start first. The same rule as [`suggestions`]
/// ([`reasons`]), so a link offered on either page is accepted by both.
pub async fn bookings_for(
    store: &Store,
    org: OrgId,
    appointment: &Appointment,
) -> Result<Vec<BookingSuggestion>, StoreError> {
    if !is_free(appointment) || appointment.status == AppointmentStatus::Cancelled {
        return Ok(Vec::new());
    }
    let open = store.open_issues(org, Some(ErrorCode::OrphanedCalcom), BOOKINGS_SEARCHED).await?;
    let mut found: Vec<BookingSuggestion> = open
        .into_iter()
        .filter(|issue| issue.appointment_id.is_none())
        .filter_map(|issue| {
            let booking: RemoteBooking = issue.snapshot()?;
            let reasons = reasons(&booking, appointment)?;
            Some(BookingSuggestion { issue: issue.id, booking, reasons })
        })
        .collect();
    found.sort_by_key(|s| (s.booking.start - appointment.starts_at).abs());
    Ok(found)
}
