//! A local Cal.com API v2 for tests, the demo and the benchmarks.
//!
//! It behaves like Cal.com on every point of `shared/calcom-api.md`:
//! envelopes, status codes, pagination, uids, reschedule semantics, the
//! per-key rate limit with its headers, signed webhooks. On top it has a
//! control API (`/_sim/…`, no key needed) to seed data, change it behind
//! the API's back, inject faults, read call counters and move its clock.
//!
//! ```no_run
//! # async fn demo() -> Result<(), calcom_sim::SimError> {
//! use calcom_sim::{spawn, SimConfig};
//! let sim = spawn(SimConfig::default()).await?;   // http://127.0.0.1:PORT
//! let client = engine::calcom::CalcomClient::new(sim.client_config()).expect("client");
//! # Ok(()) }
//! ```
//!
//! Control API (JSON):
//!
//! | request | effect |
//! |---|---|
//! | `GET /_sim/health` | `{"status":"ok","bookings":N}` |
//! | `POST /_sim/reset` | no bookings, faults, counts, subscribers, clock offset |
//! | `GET /_sim/bookings` · `GET /_sim/bookings/{uid}` | bookings in the API's shape |
//! | `POST /_sim/bookings` `[SeedBooking…]` | seed (201 `{"created","uids"}`) |
//! | `POST /_sim/bookings/generate` `GenerateSpec` | seed N bookings over a window |
//! | `PATCH /_sim/bookings/{uid}` `BookingEdit` | change time/status silently (`"webhook":true` to announce) |
//! | `DELETE /_sim/bookings/{uid}` · `DELETE /_sim/bookings` | remove silently |
//! | `GET/PUT/DELETE /_sim/faults` `Faults` | 5xx rate, latency, hang, outage, 429 storm, malformed |
//! | `GET/DELETE /_sim/counters` | requests per endpoint and status, webhook deliveries |
//! | `GET /_sim/clock` · `POST /_sim/clock/advance` `{"seconds":N}` | the simulator's time |
//! | `GET/PUT /_sim/rate-limit` `{"limit","windowSeconds","blockSeconds"}` or `null` | the per-key limit |
//! | `GET/POST/DELETE /_sim/webhooks` `{"subscriberUrl","secret"}` · `DELETE /_sim/webhooks/{id}` | webhook subscribers |

mod api;
mod bookings;
mod clock;
mod config;
mod control;
mod counters;
mod faults;
mod listing;
pub mod matched;
mod ops;
mod persist;
mod ratelimit;
mod reply;
mod server;
mod uid;
mod webhooks;

pub use clock::SimClock;
pub use config::{RateLimit, SimConfig, DEFAULT_API_KEY};
pub use control::SimControl;
pub use counters::{endpoint, CallCounters};
pub use faults::{Faults, Totals};
pub use ops::{BookingEdit, GenerateSpec, SeedBooking};
pub use server::{serve, serve_with_shutdown, spawn, SimError, SimHandle, SimServer};
pub use uid::UID_LEN;
pub use webhooks::SubscriberInfo;
