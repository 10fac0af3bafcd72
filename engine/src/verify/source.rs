//! Where verification gets Cal.com's answers. The Cal.com client implements
//! this; keeping it a trait lets the rules be exercised against a fake as
//! well as against the simulator over real HTTP.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::compare::RemoteBooking;

/// Why Cal.com could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Timeout, 5xx, 429, network: says nothing about any booking.
    #[error("{0}")]
    Transient(String),
    /// 401/403: the organization's API key is wrong.
    #[error("Cal.com rejected the API key")]
    Unauthorized,
    /// 400/422 on a change: Cal.com understood and refused (slot taken, bad input).
    #[error("Cal.com refused: {0}")]
    Rejected(String),
}

/// A complete listing of a window (every page fetched), and what it cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub bookings: Vec<RemoteBooking>,
    pub api_calls: u64,
}

/// A cheap summary of the whole account (`take=1&sortUpdatedAt=desc`):
/// if neither number moved, no booking was added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub total: u64,
    /// The newest `updatedAt` (or `createdAt`), Cal.com's clock; `None` for no bookings.
    pub newest_update: Option<DateTime<Utc>>,
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

    /// How many bookings `list_window(from, to)` would return, in one
    /// cheap request; `None` if this source cannot tell. Lets a run decide
    /// whether one listing is cheaper than a request per appointment.
    fn window_size(
        &self,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<u64>, SourceError>> + Send {
        async { Ok(None) }
    }

    /// The account's fingerprint, in one request; `None` if this source
    /// cannot tell (then the cycle relies on due appointments alone).
    fn fingerprint(&self) -> impl Future<Output = Result<Option<Fingerprint>, SourceError>> + Send {
        async { Ok(None) }
    }

    /// Every booking whose last change is at or after `since`, whatever its
    /// start, all pages, or an error (never a partial listing).
    fn updated_since(
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

    fn fingerprint(&self) -> impl Future<Output = Result<Option<Fingerprint>, SourceError>> + Send {
        (**self).fingerprint()
    }

    fn updated_since(&self, since: DateTime<Utc>) -> impl Future<Output = Result<Option<Listing>, SourceError>> + Send {
        (**self).updated_since(since)
    }
}
