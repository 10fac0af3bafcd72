//! Where verification gets Cal.com's answers. The Cal.com client implements
//! this; keeping it a trait lets the rules be exercised against a fake as
//! well as against the simulator over real HTTP.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::compare::RemoteBooking;

/// Why Cal.com could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Timeout, 5xx, 429, network, an answer that could not be read: says
    /// nothing about any booking.
    #[error("{0}")]
    Transient(Failure),
    /// 401/403: the organization's API key is wrong.
    #[error("Cal.com refused the organization's API key")]
    Unauthorized,
    /// 400/404/422 on a change: Cal.com understood and refused (slot taken,
    /// event type gone); the words are for the admin.
    #[error("{0}")]
    Rejected(String),
}

/// What went wrong, in two forms: a sentence for people, and the raw
/// detail (request, status, body excerpt) for "technical details" and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub summary: String,
    pub technical: Option<String>,
}

impl Failure {
    pub fn new(summary: impl Into<String>, technical: impl Into<String>) -> Failure {
        Failure { summary: summary.into(), technical: Some(technical.into()) }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary)
    }
}

impl From<&str> for Failure {
    fn from(summary: &str) -> Failure {
        Failure { summary: summary.to_owned(), technical: None }
    }
}

impl From<String> for Failure {
    fn from(summary: String) -> Failure {
        Failure { summary, technical: None }
    }
}

/// A row of a listing that could not be read as a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableRow {
    pub uid: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub problem: String,
}

/// A complete listing (every page fetched), what it cost, and how far it
/// can be trusted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub bookings: Vec<RemoteBooking>,
    /// Rows that could not be read; each is reported on its own, and an
    /// appointment linked to one is asked about by uid.
    pub unreadable: Vec<UnreadableRow>,
    /// Why this listing cannot prove a booking missing (it returned rows
    /// outside the window it was asked for, so it is not filtering as
    /// asked); `None` when it can.
    pub untrusted: Option<String>,
    /// The newest `updatedAt` among its rows (Cal.com's clock; NULLs ignored).
    pub newest_update: Option<DateTime<Utc>>,
    /// Cal.com's clock when the listing began.
    pub server_time: Option<DateTime<Utc>>,
    pub api_calls: u64,
}

impl Listing {
    /// A listing of `bookings` that proves what it leaves out.
    pub fn complete(bookings: Vec<RemoteBooking>, api_calls: u64) -> Listing {
        Listing { bookings, api_calls, ..Listing::default() }
    }

    /// Takes in what the listing of the next part of the same window says
    /// about itself; its bookings are not kept. The whole listing started
    /// with its first part, and cannot be trusted if any part cannot.
    pub fn absorb(&mut self, part: Listing) {
        self.server_time = self.server_time.or(part.server_time);
        self.newest_update = self.newest_update.max(part.newest_update);
        self.unreadable.extend(part.unreadable);
        self.untrusted = self.untrusted.take().or(part.untrusted);
        self.api_calls += part.api_calls;
    }

    /// Whether absence from this listing is evidence.
    pub fn proves_absence(&self) -> bool {
        self.untrusted.is_none()
    }

    /// Whether an unreadable row may be the booking starting at `at`.
    pub fn may_hide_booking_at(&self, at: DateTime<Utc>, slack: chrono::Duration) -> bool {
        self.unreadable.iter().any(|row| row.start.is_none_or(|start| (start - at).abs() <= slack))
    }
}

pub trait BookingSource: Send + Sync {
    /// The booking with this uid; `Ok(None)` is Cal.com's definite 404.
    fn booking(&self, uid: &str) -> impl Future<Output = Result<Option<RemoteBooking>, SourceError>> + Send;

    /// Every booking starting in `[from, to)`, all pages, or an error (a
    /// partial listing is never returned: it would prove nothing).
    fn list_window(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Listing, SourceError>> + Send;

    /// About how many bookings `list_window(from, to)` would return, in one
    /// cheap request; `None` if this source cannot tell. Only an estimate
    /// (Cal.com's totals are for some keys): it steers what a run spends,
    /// never what it concludes.
    fn window_size(
        &self,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<u64>, SourceError>> + Send {
        async { Ok(None) }
    }

    /// Every booking changed at or after `since` (its `updatedAt`, Cal.com's
    /// clock), whatever its start, all pages, or an error (never a partial
    /// listing); `None` if this source cannot tell (then the cycle relies on
    /// due appointments alone). With nothing changed this is one request:
    /// the cycle's "did anything change?".
    fn changes_since(
        &self,
        _since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Listing>, SourceError>> + Send {
        async { Ok(None) }
    }
}

/// A booking to create in Cal.com for one of our appointments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    pub start: DateTime<Utc>,
    pub event_type_id: i64,
    pub attendee_name: String,
    pub attendee_email: String,
    pub attendee_time_zone: String,
    pub attendee_phone: Option<String>,
    /// Ties the booking back to us (e.g. `calsync_appointment_id`).
    pub metadata: Vec<(String, String)>,
}

/// Changes made in Cal.com by the resolution actions.
pub trait BookingWriter: Send + Sync {
    /// The booking created (for a recurring event type, the occurrence at
    /// `new.start`). A transient error does not mean nothing was created:
    /// Cal.com has been seen to book and then fail to answer.
    fn create(&self, new: &NewBooking) -> impl Future<Output = Result<RemoteBooking, SourceError>> + Send;

    fn cancel(&self, uid: &str, reason: &str) -> impl Future<Output = Result<(), SourceError>> + Send;

    /// Cal.com answers with a new booking (new uid); the old one is cancelled.
    fn reschedule(
        &self,
        uid: &str,
        start: DateTime<Utc>,
        reason: &str,
    ) -> impl Future<Output = Result<RemoteBooking, SourceError>> + Send;
}

/// Shared sources (one client per organization, used by several tasks).
impl<T: BookingSource> BookingSource for std::sync::Arc<T> {
    fn booking(&self, uid: &str) -> impl Future<Output = Result<Option<RemoteBooking>, SourceError>> + Send {
        (**self).booking(uid)
    }

    fn list_window(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Listing, SourceError>> + Send {
        (**self).list_window(from, to)
    }

    fn window_size(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<u64>, SourceError>> + Send {
        (**self).window_size(from, to)
    }

    fn changes_since(&self, since: DateTime<Utc>) -> impl Future<Output = Result<Option<Listing>, SourceError>> + Send {
        (**self).changes_since(since)
    }
}
