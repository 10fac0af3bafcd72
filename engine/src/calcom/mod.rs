//! Cal.com API v2: a typed HTTP client and the webhook helpers.
//!
//! - `client`: `CalcomClient`, one per organization (cheap to clone); reads,
//!   listings (offset and cursor paging), the cheap fingerprint, writes.
//! - `model`: the wire shapes (`cal-api-version: 2024-08-13`), shared with
//!   the simulator so both sides spell every field the same way.
//! - `query`: the listing filters, to and from query-string pairs.
//! - `pacing`: stays inside the key's rate budget (governor + the
//!   `X-RateLimit-*-<name>` headers, `Reset` in seconds from now).
//! - `error`: what went wrong, split so callers can tell evidence (404) from
//!   noise (timeouts, 5xx, 429).
//! - `webhook`: `X-Cal-Signature-256` and the webhook payload.
//! - `connector`: each organization's client from its sealed credentials.
//! - `source`: the client as the verifier's `BookingSource`/`BookingWriter`.

mod api_key;
mod client;
mod connector;
mod error;
pub mod model;
mod pacing;
pub mod query;
mod source;
pub mod webhook;

pub use api_key::ApiKey;
pub use client::{
    CalcomClient, ClientConfig, CursorPage, Fingerprint, FullListing, Kept, PageError, SharedBudgetHandle,
};
pub use connector::CalcomConnector;
pub use error::CalcomError;
pub use model::{
    Attendee, Booking, BookingPage, BookingStatus, CreateBooking, EventType, EventTypeRef, Host, HostId, NewAttendee,
    Pagination, UnreadableBooking,
};
pub use pacing::{BoxFuture, RateBudget, SharedBudget, Spacing};
pub use query::{BookingQuery, SortField, SortOrder, StatusFilter};

/// Installs ring as rustls' process-wide crypto provider (once; later calls
/// are no-ops). reqwest is built without a provider of its own so that the
/// whole binary uses one (ring) and never pulls aws-lc or native-tls.
pub fn ensure_crypto_provider() {
    // An error only means a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
