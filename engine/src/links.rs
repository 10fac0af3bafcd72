//! Suggested links. A booking only Cal.com has is often one of our own
//! appointments that lost its way: recorded without the booking's uid at a
//! slightly different time (the verifier links an exact match by itself),
//! or left pointing at a booking the customer replaced with a new one. For
//! such a booking the queue proposes the appointment it probably is, with
//! the reasons, beside "Create in DB"; linking re-checks the match.

use chrono::Duration;

use crate::domain::{AppointmentStatus, ErrorCode, OrgId, SyncStatus};
use crate::store::{Appointment, AppointmentFilter, Store, StoreError};
use crate::verify::compare::RemoteBooking;
use crate::verify::window::SamePerson;

/// How far apart the two starts may be.
pub const WINDOW_MINUTES: i64 = 15;

/// Most appointments a booking's window is searched through.
const SEARCHED: u32 = 50;

/// An appointment a Cal.com-only booking probably belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub appointment: Appointment,
    /// Why, for the admin: "same attendee email, starts 10 min later".
    pub reasons: String,
}

/// Why `appointment` is probably `booking`'s, or `None`: the same person
/// (email or phone), starts at most [`WINDOW_MINUTES`] apart, and an
/// appointment that is free to take the booking (none of its own, or one
/// Cal.com no longer has) and not cancelled.
pub fn reasons(booking: &RemoteBooking, appointment: &Appointment) -> Option<String> {
    let free = appointment.calcom_booking_uid.is_none()
        || appointment.sync.status == SyncStatus::OrphanedLocal
        || appointment.sync.error_code == Some(ErrorCode::OrphanedLocal);
    let apart = booking.start - appointment.starts_at;
    let near = apart.abs() <= Duration::minutes(WINDOW_MINUTES);
    let same = SamePerson::of(appointment, booking);
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

/// The organization's appointments `booking` probably is, closest start first.
pub async fn suggestions(store: &Store, org: OrgId, booking: &RemoteBooking) -> Result<Vec<Suggestion>, StoreError> {
    let window = Duration::minutes(WINDOW_MINUTES);
    let filter = AppointmentFilter {
        starts_from: Some(booking.start - window),
        starts_before: Some(booking.start + window + Duration::seconds(1)),
        ..AppointmentFilter::default()
    };
    let nearby = store.list_appointments(org, &filter, None, SEARCHED).await?;
    let mut found: Vec<Suggestion> = nearby
        .into_iter()
        .filter(|a| a.calcom_booking_uid.as_deref() != Some(booking.uid.as_str()))
        .filter_map(|appointment| reasons(booking, &appointment).map(|reasons| Suggestion { appointment, reasons }))
        .collect();
    found.sort_by_key(|s| (s.appointment.starts_at - booking.start).abs());
    Ok(found)
}
