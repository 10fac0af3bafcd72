//! What changes bookings: Cal.com's own operations (create, cancel,
//! reschedule, with its validation and webhooks) and the control API's
//! seeding and silent edits.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::bookings::SimBooking;
use super::reply::ApiFailure;
use super::server::{Sim, SimError};
use super::uid::new_uid;
use super::webhooks::Change;
use engine::calcom::model::{
    instant, instant_opt, Attendee, Booking, BookingStatus, CancelBooking, CreateBooking, EventType, NewAttendee,
    RescheduleBooking, MAX_METADATA_KEYS,
};
use engine::calcom::webhook::Trigger;

/// Cal.com's limits on metadata entries.
const MAX_METADATA_KEY_LEN: usize = 40;
const MAX_METADATA_VALUE_LEN: usize = 500;
/// Generous, but keeps a typo from eating all memory.
const MAX_GENERATE: u32 = 1_000_000;

/// A booking to put into the simulator directly (no validation of times,
/// no webhook): only `start` is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedBooking {
    /// Generated if absent.
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(with = "instant")]
    pub start: DateTime<Utc>,
    /// Default: start plus the event type's length.
    #[serde(default, with = "instant_opt")]
    pub end: Option<DateTime<Utc>>,
    /// Default: 1.
    #[serde(default)]
    pub event_type_id: Option<i64>,
    /// Default: accepted.
    #[serde(default)]
    pub status: Option<BookingStatus>,
    #[serde(default)]
    pub title: Option<String>,
    /// Default: "Guest N" <guestN@example.com> in Europe/Berlin.
    #[serde(default)]
    pub attendee: Option<NewAttendee>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Default: the simulator's now.
    #[serde(default, with = "instant_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Default: `created_at`.
    #[serde(default, with = "instant_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub recurring_booking_uid: Option<String>,
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    #[serde(default)]
    pub rescheduled_from_uid: Option<String>,
    #[serde(default)]
    pub rescheduled_to_uid: Option<String>,
    /// A row from before Cal.com had `updatedAt`: it stays `null` (and the
    /// booking is never returned by `afterUpdatedAt`) until it is changed.
    #[serde(default)]
    pub never_updated: bool,
    /// The host's user was deleted (Cal.com then sends host id `"unknown"`).
    #[serde(default)]
    pub host_missing: bool,
}

impl SeedBooking {
    pub fn at(start: DateTime<Utc>) -> SeedBooking {
        SeedBooking { start, ..SeedBooking::default() }
    }
}

/// `count` bookings spread evenly over `[from, to]` (each ends by `to`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSpec {
    pub count: u32,
    #[serde(with = "instant")]
    pub from: DateTime<Utc>,
    #[serde(with = "instant")]
    pub to: DateTime<Utc>,
    #[serde(default)]
    pub event_type_id: Option<i64>,
    #[serde(default)]
    pub status: Option<BookingStatus>,
}

/// A change made behind the API's back ("someone edited it in Cal.com").
/// `updatedAt` moves; a webhook is sent only if `webhook` is set, because
/// the point is usually to simulate a change nobody was told about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingEdit {
    #[serde(default, with = "instant_opt")]
    pub start: Option<DateTime<Utc>>,
    /// Default when only `start` moves: the same duration.
    #[serde(default, with = "instant_opt")]
    pub end: Option<DateTime<Utc>>,
    #[serde(default)]
    pub status: Option<BookingStatus>,
    #[serde(default)]
    pub webhook: bool,
}

fn minutes(event_type: &EventType) -> Duration {
    Duration::minutes(event_type.length_in_minutes)
}

impl Sim {
    fn event_type_or_404(&self, id: i64) -> Result<&EventType, ApiFailure> {
        self.catalog.event_type(id).ok_or_else(|| ApiFailure::not_found(format!("Event type with id={id} not found")))
    }

    /// `POST /v2/bookings`: one booking, or for a recurring event type every
    /// occurrence of the series (by start). Checks the host's availability:
    /// a slot overlapping a live booking is refused with Cal.com's 400.
    pub(crate) fn create_booking(&self, request: CreateBooking) -> Result<Vec<Booking>, ApiFailure> {
        let now = self.now();
        let start = request.start.trunc_subsecs(3);
        let event_type = self.event_type_or_404(request.event_type_id)?;
        check_attendee(&request.attendee)?;
        check_metadata(&request.metadata)?;
        if start < now {
            return Err(ApiFailure::bad_request("Attempting to book a meeting in the past."));
        }
        let recurrence = self.catalog.recurrences.get(&event_type.id).copied();
        let (count, every) = recurrence.map_or((1, Duration::zero()), |r| (r.count, r.every));
        let attendee = &request.attendee;
        let mut responses = request.booking_fields_responses.clone();
        responses.entry("name").or_insert_with(|| Value::String(attendee.name.clone()));
        responses.entry("email").or_insert_with(|| Value::String(attendee.email.clone()));
        let created = {
            let mut bookings = self.bookings();
            let slots: Vec<DateTime<Utc>> = (0..count).map(|i| start + every * i as i32).collect();
            if slots.iter().any(|&at| overlaps_live(&bookings, at, at + minutes(event_type))) {
                return Err(ApiFailure::bad_request(SLOT_TAKEN));
            }
            let series = recurrence.map(|_| self.fresh_uid(&bookings));
            let mut created = Vec::with_capacity(slots.len());
            for at in slots {
                let booking = SimBooking {
                    id: bookings.next_id(),
                    uid: self.fresh_uid(&bookings),
                    title: format!("{} between {} and {}", event_type.title, self.catalog.host_name(), attendee.name),
                    description: None,
                    status: BookingStatus::Accepted,
                    start: at,
                    end: at + minutes(event_type),
                    event_type_id: event_type.id,
                    attendees: vec![to_attendee(attendee)],
                    guests: request.guests.clone(),
                    location: request.location.clone(),
                    metadata: request.metadata.clone(),
                    booking_fields_responses: responses.clone(),
                    cancellation_reason: None,
                    cancelled_by_email: None,
                    rescheduling_reason: None,
                    rescheduled_from_uid: None,
                    rescheduled_to_uid: None,
                    recurring_booking_uid: series.clone(),
                    created_at: now,
                    updated_at: Some(now),
                    host_missing: false,
                };
                bookings
                    .insert(booking.clone())
                    .map_err(|_| ApiFailure::server(axum::http::StatusCode::INTERNAL_SERVER_ERROR))?;
                created.push(booking);
            }
            created
        };
        Ok(created.into_iter().map(|booking| self.announce(Trigger::BookingCreated, booking, None)).collect())
    }

    /// `POST /v2/bookings/{uid}/cancel`.
    pub(crate) fn cancel_booking(&self, uid: &str, request: CancelBooking) -> Result<Booking, ApiFailure> {
        let now = self.now();
        let host_email = self.catalog.host.email.clone();
        let cancelled = {
            let mut bookings = self.bookings();
            let current = bookings.get(uid).ok_or_else(|| ApiFailure::booking_not_found(uid))?;
            if matches!(current.status, BookingStatus::Cancelled | BookingStatus::Rejected) {
                return Err(ApiFailure::bad_request("This booking has been cancelled already."));
            }
            bookings
                .update(uid, |b| {
                    b.status = BookingStatus::Cancelled;
                    b.cancellation_reason = request.cancellation_reason;
                    b.cancelled_by_email = host_email;
                    b.updated_at = Some(now);
                })
                .cloned()
                .ok_or_else(|| ApiFailure::booking_not_found(uid))?
        };
        Ok(self.announce(Trigger::BookingCancelled, cancelled, None))
    }

    /// `POST /v2/bookings/{uid}/reschedule`: a new booking with a new uid;
    /// the old one is cancelled and points at it.
    pub(crate) fn reschedule_booking(&self, uid: &str, request: RescheduleBooking) -> Result<Booking, ApiFailure> {
        let now = self.now();
        let start = request.start.trunc_subsecs(3);
        if start < now {
            return Err(ApiFailure::bad_request("Attempting to reschedule a meeting into the past."));
        }
        let (old, new) = {
            let mut bookings = self.bookings();
            let old = bookings.get(uid).cloned().ok_or_else(|| ApiFailure::booking_not_found(uid))?;
            if !old.is_live() {
                return Err(ApiFailure::bad_request(format!(
                    "Booking with uid={uid} is cancelled and cannot be rescheduled"
                )));
            }
            // The new booking lasts the event type's length, not the old booking's.
            let length = self.catalog.event_type(old.event_type_id).map_or(old.end - old.start, minutes);
            let new = SimBooking {
                id: bookings.next_id(),
                uid: self.fresh_uid(&bookings),
                status: BookingStatus::Accepted,
                start,
                end: start + length,
                rescheduling_reason: request.rescheduling_reason.clone(),
                rescheduled_from_uid: Some(old.uid.clone()),
                rescheduled_to_uid: None,
                cancellation_reason: None,
                cancelled_by_email: None,
                created_at: now,
                updated_at: Some(now),
                ..old.clone()
            };
            bookings
                .insert(new.clone())
                .map_err(|_| ApiFailure::server(axum::http::StatusCode::INTERNAL_SERVER_ERROR))?;
            bookings.update(uid, |b| {
                b.status = BookingStatus::Cancelled;
                b.rescheduled_to_uid = Some(new.uid.clone());
                b.rescheduling_reason = request.rescheduling_reason.clone();
                b.updated_at = Some(now);
            });
            (old, new)
        };
        Ok(self.announce(Trigger::BookingRescheduled, new, Some(old)))
    }

    /// Queues the webhook, marks the state dirty, renders the booking.
    fn announce(&self, trigger: Trigger, booking: SimBooking, previous: Option<SimBooking>) -> Booking {
        self.changed();
        let rendered = self.catalog.render(&booking);
        self.hub.emit(Change { trigger, booking, previous });
        rendered
    }

    fn fresh_uid(&self, bookings: &super::bookings::Bookings) -> String {
        let mut rng = rand::rng();
        loop {
            let uid = new_uid(&mut rng);
            if !bookings.contains_uid(&uid) {
                return uid;
            }
        }
    }

    /// Adds bookings as given (all or none); returns their uids.
    pub(crate) fn seed(&self, seeds: Vec<SeedBooking>) -> Result<Vec<String>, SimError> {
        let now = self.now();
        let mut bookings = self.bookings();
        let mut batch: std::collections::HashSet<String> = std::collections::HashSet::new();
        for seed in &seeds {
            let event_type_id = seed.event_type_id.unwrap_or(1);
            if self.catalog.event_type(event_type_id).is_none() {
                return Err(SimError::Invalid(format!("unknown eventTypeId {event_type_id}")));
            }
            if seed.end.is_some_and(|end| end < seed.start) {
                return Err(SimError::Invalid(format!("booking at {} ends before it starts", seed.start)));
            }
            if let Some(uid) = &seed.uid {
                if uid.is_empty() || bookings.contains_uid(uid) || !batch.insert(uid.clone()) {
                    return Err(SimError::Conflict(format!("uid {uid:?} is empty or already taken")));
                }
            }
        }
        let mut uids = Vec::with_capacity(seeds.len());
        let mut rng = rand::rng();
        for seed in seeds {
            let id = bookings.next_id();
            let uid = match seed.uid.clone() {
                Some(uid) => uid,
                None => loop {
                    let uid = new_uid(&mut rng);
                    if !bookings.contains_uid(&uid) && !batch.contains(uid.as_str()) {
                        break uid;
                    }
                },
            };
            let booking = self.seeded(id, uid, seed, now);
            uids.push(booking.uid.clone());
            bookings.insert(booking).map_err(|dup| SimError::Conflict(format!("uid {:?} is already taken", dup.0)))?;
        }
        drop(bookings);
        self.changed();
        Ok(uids)
    }

    fn seeded(&self, id: i64, uid: String, seed: SeedBooking, now: DateTime<Utc>) -> SimBooking {
        let ms = |at: DateTime<Utc>| at.trunc_subsecs(3);
        let event_type_id = seed.event_type_id.unwrap_or(1);
        let length = self.catalog.event_type(event_type_id).map_or(Duration::minutes(30), minutes);
        let attendee = seed.attendee.unwrap_or_else(|| NewAttendee {
            name: format!("Guest {id}"),
            email: format!("guest{id}@example.com"),
            time_zone: "Europe/Berlin".into(),
            phone_number: None,
            language: None,
        });
        let mut responses = Map::new();
        responses.insert("name".into(), Value::String(attendee.name.clone()));
        responses.insert("email".into(), Value::String(attendee.email.clone()));
        let created_at = ms(seed.created_at.unwrap_or(now));
        let title = seed.title.unwrap_or_else(|| format!("Meeting with {}", attendee.name));
        SimBooking {
            id,
            uid,
            title,
            description: None,
            status: seed.status.unwrap_or(BookingStatus::Accepted),
            start: ms(seed.start),
            end: ms(seed.end.unwrap_or(seed.start + length)),
            event_type_id,
            attendees: vec![to_attendee(&attendee)],
            guests: Vec::new(),
            location: None,
            metadata: seed.metadata,
            booking_fields_responses: responses,
            cancellation_reason: seed.cancellation_reason,
            cancelled_by_email: None,
            rescheduling_reason: None,
            rescheduled_from_uid: seed.rescheduled_from_uid,
            rescheduled_to_uid: seed.rescheduled_to_uid,
            recurring_booking_uid: seed.recurring_booking_uid,
            created_at,
            updated_at: (!seed.never_updated).then(|| seed.updated_at.map_or(created_at, ms)),
            host_missing: seed.host_missing,
        }
    }

    /// `spec.count` bookings spread over the window.
    pub(crate) fn generate(&self, spec: GenerateSpec) -> Result<Vec<String>, SimError> {
        if spec.count > MAX_GENERATE {
            return Err(SimError::Invalid(format!("count is limited to {MAX_GENERATE}")));
        }
        let event_type_id = spec.event_type_id.unwrap_or(1);
        let length = self
            .catalog
            .event_type(event_type_id)
            .map(minutes)
            .ok_or_else(|| SimError::Invalid(format!("unknown eventTypeId {event_type_id}")))?;
        let room = (spec.to - spec.from - length).num_milliseconds();
        if room < 0 {
            return Err(SimError::Invalid("the window is shorter than one booking".into()));
        }
        let count = i64::from(spec.count);
        let seeds = (0..count)
            .map(|i| SeedBooking {
                start: spec.from + Duration::milliseconds(room * i / count.max(1)),
                event_type_id: Some(event_type_id),
                status: spec.status.clone(),
                ..SeedBooking::default()
            })
            .collect();
        self.seed(seeds)
    }

    /// Changes a booking silently (or with a webhook if asked); `None` if unknown.
    pub(crate) fn edit(&self, uid: &str, edit: BookingEdit) -> Result<Option<Booking>, SimError> {
        let now = self.now();
        let (before, after) = {
            let mut bookings = self.bookings();
            let Some(before) = bookings.get(uid).cloned() else { return Ok(None) };
            let start = edit.start.map_or(before.start, |at| at.trunc_subsecs(3));
            let end = edit.end.map_or(start + (before.end - before.start), |at| at.trunc_subsecs(3));
            if end < start {
                return Err(SimError::Invalid("end must not be before start".into()));
            }
            let after = bookings.update(uid, |b| {
                b.start = start;
                b.end = end;
                if let Some(status) = edit.status.clone() {
                    b.status = status;
                }
                b.updated_at = Some(now);
            });
            (before, after.cloned())
        };
        let Some(after) = after else { return Ok(None) };
        let rendered = self.catalog.render(&after);
        self.changed();
        if edit.webhook {
            let moved = (after.start, after.end) != (before.start, before.end);
            let trigger = match after.status {
                _ if moved => Trigger::BookingRescheduled,
                BookingStatus::Cancelled => Trigger::BookingCancelled,
                BookingStatus::Rejected => Trigger::BookingRejected,
                BookingStatus::Pending => Trigger::BookingRequested,
                BookingStatus::Accepted | BookingStatus::AwaitingHost | BookingStatus::Other(_) => {
                    Trigger::BookingCreated
                }
            };
            let previous = moved.then_some(before);
            self.hub.emit(Change { trigger, booking: after, previous });
        }
        Ok(Some(rendered))
    }

    /// Removes a booking without a trace (no webhook); false if unknown.
    pub(crate) fn delete(&self, uid: &str) -> bool {
        let removed = self.bookings().remove(uid).is_some();
        if removed {
            self.changed();
        }
        removed
    }

    pub(crate) fn clear_bookings(&self) {
        self.bookings().clear();
        self.changed();
    }
}

/// Cal.com's answer when the host is not free then.
const SLOT_TAKEN: &str = "User either already has booking at this time or is not available";

/// Whether a live booking overlaps `[start, end)` (the simulator has one host).
fn overlaps_live(bookings: &super::bookings::Bookings, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    // Bookings last at most a day here: only those starting from a day before can overlap.
    bookings
        .starting_between(Some(start - Duration::days(1)), Some(end))
        .any(|b| b.is_live() && b.start < end && start < b.end)
}

fn to_attendee(a: &NewAttendee) -> Attendee {
    Attendee {
        name: a.name.clone(),
        email: a.email.clone(),
        time_zone: a.time_zone.clone(),
        language: Some(a.language.clone().unwrap_or_else(|| "en".into())),
        absent: false,
        phone_number: a.phone_number.clone(),
    }
}

fn check_attendee(a: &NewAttendee) -> Result<(), ApiFailure> {
    if a.name.trim().is_empty() {
        return Err(ApiFailure::bad_request("attendee.name should not be empty"));
    }
    let (local, domain) = a.email.split_once('@').unwrap_or_default();
    if local.is_empty() || !domain.contains('.') || a.email.contains(char::is_whitespace) {
        return Err(ApiFailure::bad_request("attendee.email must be an email"));
    }
    if a.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ApiFailure::bad_request(format!(
            "attendee.timeZone {:?} is not a valid IANA time zone",
            a.time_zone
        )));
    }
    Ok(())
}

fn check_metadata(metadata: &BTreeMap<String, String>) -> Result<(), ApiFailure> {
    if metadata.len() > MAX_METADATA_KEYS {
        return Err(ApiFailure::bad_request(format!("metadata can have at most {MAX_METADATA_KEYS} keys")));
    }
    for (key, value) in metadata {
        if key.chars().count() > MAX_METADATA_KEY_LEN {
            return Err(ApiFailure::bad_request(format!("metadata key {key:?} is longer than {MAX_METADATA_KEY_LEN}")));
        }
        if value.chars().count() > MAX_METADATA_VALUE_LEN {
            return Err(ApiFailure::bad_request(format!(
                "metadata value of {key:?} is longer than {MAX_METADATA_VALUE_LEN}"
            )));
        }
    }
    Ok(())
}
