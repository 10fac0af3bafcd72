//! The client as the verifier sees it: `BookingSource` (reads) and
//! `BookingWriter` (resolution actions), with errors sorted into what they
//! prove (see `verify::source::SourceError`).

use chrono::{DateTime, Duration, Utc};

use super::client::CalcomClient;
use super::error::CalcomError;
use super::model::{Booking, BookingStatus, CreateBooking, NewAttendee};
use super::query::BookingQuery;
use crate::verify::compare::{RemoteBooking, RemoteStatus};
use crate::verify::source::{BookingSource, BookingWriter, Fingerprint, Listing, NewBooking, SourceError};

/// Cal.com filters by `afterStart` and `beforeEnd` only, so a window
/// `[from, to)` is listed up to `to` plus the longest booking we expect,
/// and bookings starting at or after `to` are dropped here.
const LONGEST_BOOKING: Duration = Duration::hours(24);

impl From<BookingStatus> for RemoteStatus {
    fn from(status: BookingStatus) -> RemoteStatus {
        match status {
            BookingStatus::Accepted => RemoteStatus::Accepted,
            BookingStatus::Pending => RemoteStatus::Pending,
            BookingStatus::Cancelled => RemoteStatus::Cancelled,
            BookingStatus::Rejected => RemoteStatus::Rejected,
        }
    }
}

impl From<&Booking> for RemoteBooking {
    fn from(b: &Booking) -> RemoteBooking {
        RemoteBooking {
            uid: b.uid.clone(),
            status: b.status.into(),
            start: b.start,
            end: b.end,
            attendee_emails: b.attendees.iter().map(|a| a.email.clone()).filter(|e| !e.is_empty()).collect(),
            attendee_phones: b.attendees.iter().filter_map(|a| a.phone_number.clone()).collect(),
            rescheduled_to_uid: b.rescheduled_to_uid.clone(),
        }
    }
}

/// For reads: only 401/403 is not transient (404 is handled by the caller).
fn read_error(error: CalcomError) -> SourceError {
    match error {
        CalcomError::Unauthorized { .. } => SourceError::Unauthorized,
        other => SourceError::Transient(other.to_string()),
    }
}

/// For writes: a refusal (4xx, unknown uid) is final, the rest is noise.
fn write_error(error: CalcomError) -> SourceError {
    match error {
        CalcomError::Unauthorized { .. } => SourceError::Unauthorized,
        CalcomError::BadRequest { message, .. } | CalcomError::NotFound { message } => SourceError::Rejected(message),
        other => SourceError::Transient(other.to_string()),
    }
}

impl BookingSource for CalcomClient {
    async fn booking(&self, uid: &str) -> Result<Option<RemoteBooking>, SourceError> {
        match CalcomClient::booking(self, uid).await {
            Ok(booking) => Ok(Some(RemoteBooking::from(&booking))),
            Err(CalcomError::NotFound { .. }) => Ok(None),
            Err(other) => Err(read_error(other)),
        }
    }

    async fn list_window(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Listing, SourceError> {
        let query = BookingQuery::window(from, to + LONGEST_BOOKING);
        let in_window = move |b: Booking| (b.start >= from && b.start < to).then(|| RemoteBooking::from(&b));
        let (bookings, api_calls) = self.list_all_kept(&query, &in_window).await.map_err(read_error)?;
        Ok(Listing { bookings, api_calls })
    }

    async fn window_size(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Option<u64>, SourceError> {
        // Counts the same (widened) query `list_window` pages through.
        let fingerprint =
            self.fingerprint(&BookingQuery::window(from, to + LONGEST_BOOKING)).await.map_err(read_error)?;
        Ok(Some(fingerprint.total_items))
    }

    async fn fingerprint(&self) -> Result<Option<Fingerprint>, SourceError> {
        let fingerprint = CalcomClient::fingerprint(self, &BookingQuery::default()).await.map_err(read_error)?;
        Ok(Some(Fingerprint { total: fingerprint.total_items, newest_update: fingerprint.newest_update }))
    }

    async fn updated_since(&self, since: DateTime<Utc>) -> Result<Option<Listing>, SourceError> {
        let listing = self.bookings_updated_since(since, &BookingQuery::default()).await.map_err(read_error)?;
        let bookings = listing.bookings.iter().map(RemoteBooking::from).collect();
        Ok(Some(Listing { bookings, api_calls: listing.api_calls }))
    }
}

impl BookingWriter for CalcomClient {
    async fn create(&self, new: &NewBooking) -> Result<RemoteBooking, SourceError> {
        let request = CreateBooking {
            start: new.start,
            event_type_id: new.event_type_id,
            attendee: NewAttendee {
                name: new.attendee_name.clone(),
                email: new.attendee_email.clone(),
                time_zone: new.attendee_time_zone.clone(),
                phone_number: new.attendee_phone.clone(),
                language: None,
            },
            metadata: new.metadata.iter().cloned().collect(),
            booking_fields_responses: Default::default(),
            guests: Vec::new(),
            location: None,
        };
        let booking = self.create_booking(&request).await.map_err(write_error)?;
        Ok(RemoteBooking::from(&booking))
    }

    async fn cancel(&self, uid: &str, reason: &str) -> Result<(), SourceError> {
        self.cancel_booking(uid, Some(reason)).await.map(drop).map_err(write_error)
    }

    async fn reschedule(&self, uid: &str, start: DateTime<Utc>, reason: &str) -> Result<RemoteBooking, SourceError> {
        let booking = self.reschedule_booking(uid, start, Some(reason)).await.map_err(write_error)?;
        Ok(RemoteBooking::from(&booking))
    }
}
