//! The client as the verifier sees it: `BookingSource` (reads) and
//! `BookingWriter` (resolution actions), with errors sorted into what they
//! prove (see `verify::source::SourceError`) and said in words.

use chrono::{DateTime, Duration, Utc};

use super::client::{CalcomClient, Kept, PageError};
use super::error::CalcomError;
use super::model::{Booking, BookingStatus, CreateBooking, NewAttendee, UnreadableBooking};
use super::query::BookingQuery;
use crate::verify::compare::{RemoteBooking, RemoteStatus};
use crate::verify::source::{BookingSource, BookingWriter, Failure, Listing, NewBooking, SourceError, UnreadableRow};

/// Cal.com filters by `afterStart` and `beforeEnd` only, so a window
/// `[from, to)` is listed up to `to` plus the longest booking we expect,
/// and bookings starting at or after `to` are dropped here.
const LONGEST_BOOKING: Duration = Duration::hours(24);

impl From<&BookingStatus> for RemoteStatus {
    fn from(status: &BookingStatus) -> RemoteStatus {
        match status {
            BookingStatus::Accepted => RemoteStatus::Accepted,
            BookingStatus::Pending => RemoteStatus::Pending,
            BookingStatus::Cancelled => RemoteStatus::Cancelled,
            BookingStatus::Rejected => RemoteStatus::Rejected,
            BookingStatus::AwaitingHost => RemoteStatus::AwaitingHost,
            BookingStatus::Other(text) => {
                tracing::warn!(status = %text, "Cal.com sent a booking status calsync does not know");
                RemoteStatus::Unknown
            }
        }
    }
}

impl From<&Booking> for RemoteBooking {
    fn from(b: &Booking) -> RemoteBooking {
        RemoteBooking {
            uid: b.uid.clone(),
            status: (&b.status).into(),
            start: b.start,
            end: b.end,
            attendee_emails: b.attendees.iter().map(|a| a.email.clone()).filter(|e| !e.is_empty()).collect(),
            attendee_phones: b.attendees.iter().filter_map(|a| a.phone_number.clone()).collect(),
            rescheduled_to_uid: b.rescheduled_to_uid.clone(),
            changed_at: Some(b.last_change()),
            event_type_id: b.event_type.as_ref().map(|e| e.id).or(b.event_type_id),
        }
    }
}

impl From<UnreadableBooking> for UnreadableRow {
    fn from(row: UnreadableBooking) -> UnreadableRow {
        UnreadableRow { uid: row.uid, start: row.start, problem: row.problem }
    }
}

/// The words for people and the raw error for the technical details.
fn failure(error: &CalcomError, during: &str) -> Failure {
    Failure::new(error.summary(), format!("{during}: {error}"))
}

/// For reads: only 401/403 is not transient (404 is handled by the caller).
fn read_error(error: CalcomError, during: &str) -> SourceError {
    match error {
        CalcomError::Unauthorized { .. } => SourceError::Unauthorized,
        other => SourceError::Transient(failure(&other, during)),
    }
}

/// A listing's error names the page it failed on.
fn listing_error(failed: PageError, during: &str) -> SourceError {
    let during = format!("{during}, page {}", failed.page);
    match failed.error {
        CalcomError::Unauthorized { .. } => SourceError::Unauthorized,
        other => SourceError::Transient(Failure::new(
            format!("{} (page {} of the listing)", other.summary(), failed.page),
            format!("{during}: {other}"),
        )),
    }
}

/// For writes: a refusal (4xx, unknown uid or event type) is final and
/// said in Cal.com's words; the rest is noise.
fn write_error(error: CalcomError, during: &str) -> SourceError {
    match error {
        CalcomError::Unauthorized { .. } => SourceError::Unauthorized,
        refused @ (CalcomError::BadRequest { .. } | CalcomError::NotFound { .. }) => {
            SourceError::Rejected(refused_in_words(&refused))
        }
        other => SourceError::Transient(failure(&other, during)),
    }
}

fn refused_in_words(error: &CalcomError) -> String {
    match error {
        CalcomError::NotFound { message } if message.contains("vent type") => {
            "Cal.com refused: the event type no longer exists (HTTP 404)".into()
        }
        CalcomError::NotFound { .. } => "Cal.com refused: it has no such booking (HTTP 404)".into(),
        other => other.summary(),
    }
}

/// A listing as the verifier needs it, with the reasons it cannot prove
/// absence (rows that ignore the requested window).
fn listing(kept: Kept<RemoteBooking>, what: &str) -> Listing {
    let untrusted = (kept.outside_filter > 0).then(|| {
        format!(
            "Cal.com returned {} booking(s) outside the {what} it was asked for, so the listing is not filtering as \
             asked and proves nothing missing",
            kept.outside_filter
        )
    });
    Listing {
        bookings: kept.bookings,
        unreadable: kept.unreadable.into_iter().map(UnreadableRow::from).collect(),
        untrusted,
        newest_update: kept.newest_update,
        server_time: kept.server_time,
        api_calls: kept.api_calls,
    }
}

impl BookingSource for CalcomClient {
    async fn booking(&self, uid: &str) -> Result<Option<RemoteBooking>, SourceError> {
        match CalcomClient::booking(self, uid).await {
            Ok(booking) => Ok(Some(RemoteBooking::from(&booking))),
            Err(CalcomError::NotFound { .. }) => Ok(None),
            Err(other) => Err(read_error(other, &format!("GET /v2/bookings/{uid}"))),
        }
    }

    async fn list_window(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Listing, SourceError> {
        let query = BookingQuery::window(from, to + LONGEST_BOOKING);
        let in_window = move |b: Booking| (b.start >= from && b.start < to).then(|| RemoteBooking::from(&b));
        let during = format!(
            "GET /v2/bookings?afterStart={}&beforeEnd={}",
            from.to_rfc3339(),
            (to + LONGEST_BOOKING).to_rfc3339()
        );
        let kept = self.list_all_kept(&query, &in_window).await.map_err(|e| listing_error(e, &during))?;
        Ok(listing(kept, "time window"))
    }

    async fn window_size(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Option<u64>, SourceError> {
        // Counts the same (widened) query `list_window` pages through.
        let fingerprint = self
            .fingerprint(&BookingQuery::window(from, to + LONGEST_BOOKING))
            .await
            .map_err(|e| read_error(e, "GET /v2/bookings?take=1"))?;
        Ok(fingerprint.total_items)
    }

    async fn changes_since(&self, since: DateTime<Utc>) -> Result<Option<Listing>, SourceError> {
        let during = format!("GET /v2/bookings?afterUpdatedAt={}", since.to_rfc3339());
        let keep = |b: Booking| Some(RemoteBooking::from(&b));
        let kept = self
            .list_all_kept(&BookingQuery::changed_since(since), &keep)
            .await
            .map_err(|e| listing_error(e, &during))?;
        Ok(Some(listing(kept, "update time")))
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
        let created = self.create_booking(&request).await.map_err(|e| write_error(e, "POST /v2/bookings"))?;
        // A recurring event type books every occurrence: ours is the one at our start.
        let booking = created
            .iter()
            .find(|b| b.start == new.start)
            .or(created.first())
            .ok_or_else(|| SourceError::Transient("Cal.com answered the booking with no booking".into()))?;
        Ok(RemoteBooking::from(booking))
    }

    async fn cancel(&self, uid: &str, reason: &str) -> Result<(), SourceError> {
        self.cancel_booking(uid, Some(reason))
            .await
            .map(drop)
            .map_err(|e| write_error(e, &format!("POST /v2/bookings/{uid}/cancel")))
    }

    async fn reschedule(&self, uid: &str, start: DateTime<Utc>, reason: &str) -> Result<RemoteBooking, SourceError> {
        let booking = self
            .reschedule_booking(uid, start, Some(reason))
            .await
            .map_err(|e| write_error(e, &format!("POST /v2/bookings/{uid}/reschedule")))?;
        Ok(RemoteBooking::from(&booking))
    }
}
