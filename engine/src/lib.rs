//! calsync's engine: everything behind the HTTP layer.
//!
//! `domain` (always built, also for the browser) holds the shared types.
//! With the `runtime` feature: `store` is the database.

pub mod calendar;
pub mod domain;
pub mod secret_key;

/// REST API tokens: generation, shape and hashing.
#[cfg(feature = "runtime")]
pub mod api_token;

#[cfg(feature = "runtime")]
pub mod appointments;

/// Cal.com API v2 client and webhook helpers.
#[cfg(feature = "runtime")]
pub mod calcom;

#[cfg(feature = "runtime")]
pub mod secrets;

#[cfg(feature = "runtime")]
pub mod store;

#[cfg(feature = "runtime")]
pub mod clock;

/// Dates, times and differences as the organization's people read them.
#[cfg(feature = "runtime")]
pub mod format;

#[cfg(feature = "runtime")]
pub mod mail;

/// Password hashing (argon2) and generated first passwords.
/// The use cases, each written once for the web, the REST API and the CLI.
#[cfg(feature = "runtime")]
pub mod ops;

#[cfg(feature = "runtime")]
pub mod password;

#[cfg(feature = "runtime")]
pub mod resolve;

#[cfg(feature = "runtime")]
pub mod schedule;

/// Suggested links between Cal.com-only bookings and our appointments.
#[cfg(feature = "runtime")]
pub mod links;

/// Acknowledge, assign and ignore review-queue issues.
#[cfg(feature = "runtime")]
pub mod triage;

/// "Retry all matching" as a background run with per-appointment results.
#[cfg(feature = "runtime")]
pub mod bulk;

/// Act on every issue of a group (one code and reason) at once.
#[cfg(feature = "runtime")]
pub mod groups;

/// Alert rules: throttled pushes by email and signed webhook, digests and
/// recovery notices.
#[cfg(feature = "runtime")]
pub mod alerting;

/// Bring acknowledged issues nobody resolved up again in the feed.
#[cfg(feature = "runtime")]
pub mod reminders;

#[cfg(feature = "runtime")]
pub mod verify;

#[cfg(feature = "runtime")]
pub mod webhooks;

#[cfg(feature = "runtime")]
pub mod worker;

#[cfg(feature = "testing")]
pub mod testing;
