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
}

/// A complete listing of a window (every page fetched), and what it cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub bookings: Vec<RemoteBooking>,
    pub api_calls: u64,
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
}
