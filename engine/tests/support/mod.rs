//! Test doubles shared by the engine's integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use engine::clock::ManualClock;
use engine::store::Organization;
use engine::verify::compare::{RemoteBooking, RemoteStatus};
use engine::verify::source::{BookingSource, BookingWriter, Listing, NewBooking, SourceError};
use engine::worker::Connector;

/// A worker's Cal.com connection that always hands out the same fake.
pub struct Fixed(pub Arc<FakeCalcom>);

impl Connector for Fixed {
    type Source = Arc<FakeCalcom>;
    async fn connect(&self, _org: &Organization) -> Option<Arc<FakeCalcom>> {
        Some(self.0.clone())
    }
}

/// An in-memory Cal.com: bookings by uid, and an optional fault that every
/// call returns instead of answering.
#[derive(Default)]
pub struct FakeCalcom {
    bookings: Mutex<HashMap<String, RemoteBooking>>,
    fault: Mutex<Option<SourceError>>,
    /// A clock each call moves on, as a key paced at its limit would.
    per_call: Mutex<Option<(ManualClock, chrono::Duration)>>,
}

impl FakeCalcom {
    pub fn put(&self, b: RemoteBooking) {
        self.bookings.lock().unwrap().insert(b.uid.clone(), b);
    }
    pub fn fail_with(&self, fault: Option<SourceError>) {
        *self.fault.lock().unwrap() = fault;
    }
    /// Makes every call take `per_call` on `clock`.
    pub fn take_time(&self, clock: &ManualClock, per_call: chrono::Duration) {
        *self.per_call.lock().unwrap() = Some((clock.clone(), per_call));
    }
    fn check(&self) -> Result<(), SourceError> {
        if let Some((clock, per_call)) = &*self.per_call.lock().unwrap() {
            clock.advance(*per_call);
        }
        self.fault.lock().unwrap().clone().map_or(Ok(()), Err)
    }
}

impl BookingSource for FakeCalcom {
    async fn booking(&self, uid: &str) -> Result<Option<RemoteBooking>, SourceError> {
        self.check()?;
        Ok(self.bookings.lock().unwrap().get(uid).cloned())
    }

    async fn list_window(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Listing, SourceError> {
        self.check()?;
        let bookings =
            self.bookings.lock().unwrap().values().filter(|b| b.start >= from && b.start < to).cloned().collect();
        Ok(Listing::complete(bookings, 1))
    }
}

/// An accepted 30-minute booking with one attendee.
pub fn booking(uid: &str, start: DateTime<Utc>, email: &str) -> RemoteBooking {
    RemoteBooking {
        uid: uid.into(),
        status: RemoteStatus::Accepted,
        start,
        end: start + EVENT_LENGTH,
        attendee_emails: vec![email.into()],
        attendee_phones: vec![],
        rescheduled_to_uid: None,
        changed_at: None,
        event_type_id: None,
    }
}

/// As in real Cal.com, a booking made or moved ends at start + its event
/// type's length, whatever the booking before it lasted.
pub const EVENT_LENGTH: chrono::Duration = chrono::Duration::minutes(30);

impl BookingWriter for FakeCalcom {
    async fn create(&self, new: &NewBooking) -> Result<RemoteBooking, SourceError> {
        self.check()?;
        let uid = format!("created{}", self.bookings.lock().unwrap().len());
        let booking = RemoteBooking {
            uid,
            status: RemoteStatus::Accepted,
            start: new.start,
            end: new.start + EVENT_LENGTH,
            attendee_emails: vec![new.attendee_email.clone()],
            attendee_phones: new.attendee_phone.iter().cloned().collect(),
            rescheduled_to_uid: None,
            changed_at: None,
            event_type_id: None,
        };
        self.put(booking.clone());
        Ok(booking)
    }

    async fn cancel(&self, uid: &str, _reason: &str) -> Result<(), SourceError> {
        self.check()?;
        let mut bookings = self.bookings.lock().unwrap();
        let booking = bookings.get_mut(uid).ok_or_else(|| SourceError::Rejected(format!("no booking {uid}")))?;
        booking.status = RemoteStatus::Cancelled;
        Ok(())
    }

    async fn reschedule(&self, uid: &str, start: DateTime<Utc>, _reason: &str) -> Result<RemoteBooking, SourceError> {
        self.check()?;
        let mut bookings = self.bookings.lock().unwrap();
        let old = bookings.get_mut(uid).ok_or_else(|| SourceError::Rejected(format!("no booking {uid}")))?;
        let new_uid = format!("{uid}-r");
        old.status = RemoteStatus::Cancelled;
        old.rescheduled_to_uid = Some(new_uid.clone());
        let new = RemoteBooking {
            uid: new_uid,
            status: RemoteStatus::Accepted,
            start,
            end: start + EVENT_LENGTH,
            rescheduled_to_uid: None,
            changed_at: None,
            event_type_id: None,
            ..old.clone()
        };
        bookings.insert(new.uid.clone(), new.clone());
        Ok(new)
    }
}
