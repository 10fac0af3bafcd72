//! Controlling a simulator: `SimControl` in-process (tests), and the same
//! operations over HTTP under `/_sim/` (the CLI, Playwright). The control
//! API needs no key and is neither counted nor rate limited.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::config::RateLimit;
use super::counters::CallCounters;
use super::faults::Faults;
use super::ops::{BookingEdit, GenerateSpec, SeedBooking};
use super::server::{lock, Sim, SimError};
use super::webhooks::SubscriberInfo;
use engine::calcom::model::{format_instant, Booking};

/// The simulator's controls. Cheap to clone.
#[derive(Clone)]
pub struct SimControl {
    sim: Arc<Sim>,
}

impl std::fmt::Debug for SimControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimControl").field("bookings", &self.booking_count()).finish_non_exhaustive()
    }
}

impl SimControl {
    pub(crate) fn new(sim: Arc<Sim>) -> SimControl {
        SimControl { sim }
    }

    pub(crate) fn sim(&self) -> &Sim {
        &self.sim
    }

    /// The simulator's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.sim.now()
    }

    /// Moves the simulator's clock (rate windows, blocks, upcoming/past).
    pub fn advance_clock(&self, by: Duration) -> DateTime<Utc> {
        self.sim.clock.advance(by);
        self.now()
    }

    /// Adds bookings directly (no webhooks); all or none. Returns the uids.
    pub fn seed(&self, seeds: Vec<SeedBooking>) -> Result<Vec<String>, SimError> {
        self.sim.seed(seeds)
    }

    /// Adds `spec.count` bookings spread over a window.
    pub fn generate(&self, spec: GenerateSpec) -> Result<Vec<String>, SimError> {
        self.sim.generate(spec)
    }

    pub fn booking(&self, uid: &str) -> Option<Booking> {
        self.sim.bookings().get(uid).map(|b| self.sim.catalog.render(b))
    }

    /// Every booking, by start.
    pub fn bookings(&self) -> Vec<Booking> {
        self.sim.bookings().all().map(|b| self.sim.catalog.render(b)).collect()
    }

    pub fn booking_count(&self) -> usize {
        self.sim.bookings().len()
    }

    /// Changes a booking behind the API's back; `Ok(None)` if unknown.
    pub fn edit(&self, uid: &str, edit: BookingEdit) -> Result<Option<Booking>, SimError> {
        self.sim.edit(uid, edit)
    }

    /// Removes a booking without a trace; false if unknown.
    pub fn delete(&self, uid: &str) -> bool {
        self.sim.delete(uid)
    }

    pub fn clear_bookings(&self) {
        self.sim.clear_bookings();
    }

    pub fn faults(&self) -> Faults {
        lock(&self.sim.faults).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.sim.faults) = faults;
    }

    pub fn reset_faults(&self) {
        self.set_faults(Faults::default());
    }

    pub fn counters(&self) -> CallCounters {
        lock(&self.sim.counters).clone()
    }

    pub fn reset_counters(&self) {
        *lock(&self.sim.counters) = CallCounters::default();
    }

    pub fn rate_limit(&self) -> Option<RateLimit> {
        lock(&self.sim.limiter).config()
    }

    /// A new limit (or `None`: off), starting from fresh windows.
    pub fn set_rate_limit(&self, rate_limit: Option<RateLimit>) {
        lock(&self.sim.limiter).reconfigure(rate_limit);
    }

    /// Sends webhooks for changes to `url`, signed if `secret` is given.
    pub fn subscribe_webhooks(&self, url: impl Into<String>, secret: Option<String>) -> u64 {
        let id = self.sim.hub.subscribe(url.into(), secret);
        self.sim.changed();
        id
    }

    pub fn unsubscribe_webhooks(&self, id: u64) -> bool {
        let removed = self.sim.hub.unsubscribe(id);
        self.sim.changed();
        removed
    }

    pub fn webhooks(&self) -> Vec<SubscriberInfo> {
        self.sim.hub.list()
    }

    /// Back to a fresh start: no bookings, faults, counts, subscribers,
    /// rate windows or clock offset (keys and the rate limit stay).
    pub fn reset(&self) {
        self.sim.clear_bookings();
        self.reset_faults();
        self.reset_counters();
        self.set_rate_limit(self.rate_limit());
        self.sim.hub.clear();
        self.sim.clock.advance(-self.sim.clock.offset());
        self.sim.changed();
    }

    /// Writes the state file now (with `--state`; otherwise does nothing).
    pub fn save(&self) -> Result<(), SimError> {
        self.sim.flush()
    }
}

/// A control request that went wrong: `{"error": "…"}`.
struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<SimError> for ControlError {
    fn from(e: SimError) -> ControlError {
        let status = match e {
            SimError::Invalid(_) => StatusCode::BAD_REQUEST,
            SimError::Conflict(_) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ControlError(status, e.to_string())
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(bytes).map_err(|e| ControlError(StatusCode::BAD_REQUEST, format!("invalid body: {e}")))
}

fn unknown_booking(uid: &str) -> ControlError {
    ControlError(StatusCode::NOT_FOUND, format!("no booking with uid {uid}"))
}

type Control = State<SimControl>;

pub(crate) fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/reset", post(reset))
        .route("/_sim/bookings", get(list).post(seed).delete(clear))
        .route("/_sim/bookings/generate", post(generate))
        .route("/_sim/bookings/{uid}", get(one).patch(edit).delete(delete))
        .route("/_sim/faults", get(faults).put(set_faults).delete(reset_faults))
        .route("/_sim/counters", get(counters).delete(reset_counters))
        .route("/_sim/clock", get(clock))
        .route("/_sim/clock/advance", post(advance_clock))
        .route("/_sim/rate-limit", get(rate_limit).put(set_rate_limit))
        .route("/_sim/webhooks", get(webhooks).post(subscribe).delete(clear_webhooks))
        .route("/_sim/webhooks/{id}", axum::routing::delete(unsubscribe))
        .with_state(SimControl::new(sim))
}

async fn health(State(c): Control) -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "bookings": c.booking_count() }))
}

async fn reset(State(c): Control) -> StatusCode {
    c.reset();
    StatusCode::NO_CONTENT
}

async fn list(State(c): Control) -> Json<Vec<Booking>> {
    Json(c.bookings())
}

fn created(uids: Vec<String>) -> Response {
    (StatusCode::CREATED, Json(json!({ "created": uids.len(), "uids": uids }))).into_response()
}

async fn seed(State(c): Control, bytes: Bytes) -> Result<Response, ControlError> {
    let seeds: Vec<SeedBooking> = parse(&bytes)?;
    Ok(created(c.seed(seeds)?))
}

async fn generate(State(c): Control, bytes: Bytes) -> Result<Response, ControlError> {
    let spec: GenerateSpec = parse(&bytes)?;
    Ok(created(c.generate(spec)?))
}

async fn clear(State(c): Control) -> StatusCode {
    c.clear_bookings();
    StatusCode::NO_CONTENT
}

async fn one(State(c): Control, Path(uid): Path<String>) -> Result<Json<Booking>, ControlError> {
    c.booking(&uid).map(Json).ok_or_else(|| unknown_booking(&uid))
}

async fn edit(State(c): Control, Path(uid): Path<String>, bytes: Bytes) -> Result<Json<Booking>, ControlError> {
    let change: BookingEdit = parse(&bytes)?;
    c.edit(&uid, change)?.map(Json).ok_or_else(|| unknown_booking(&uid))
}

async fn delete(State(c): Control, Path(uid): Path<String>) -> Result<StatusCode, ControlError> {
    if c.delete(&uid) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown_booking(&uid))
    }
}

async fn faults(State(c): Control) -> Json<Faults> {
    Json(c.faults())
}

async fn set_faults(State(c): Control, bytes: Bytes) -> Result<Json<Faults>, ControlError> {
    let faults: Faults = parse(&bytes)?;
    if !(0.0..=1.0).contains(&faults.error_rate) {
        return Err(ControlError(StatusCode::BAD_REQUEST, "errorRate must be between 0 and 1".into()));
    }
    c.set_faults(faults);
    Ok(Json(c.faults()))
}

async fn reset_faults(State(c): Control) -> StatusCode {
    c.reset_faults();
    StatusCode::NO_CONTENT
}

async fn counters(State(c): Control) -> Json<CallCounters> {
    Json(c.counters())
}

async fn reset_counters(State(c): Control) -> StatusCode {
    c.reset_counters();
    StatusCode::NO_CONTENT
}

fn clock_view(c: &SimControl) -> Json<serde_json::Value> {
    let offset = c.sim().clock.offset();
    Json(json!({ "now": format_instant(c.now()), "offsetSeconds": offset.num_milliseconds() as f64 / 1000.0 }))
}

async fn clock(State(c): Control) -> Json<serde_json::Value> {
    clock_view(&c)
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

async fn advance_clock(State(c): Control, bytes: Bytes) -> Result<Json<serde_json::Value>, ControlError> {
    let Advance { seconds } = parse(&bytes)?;
    if !seconds.is_finite() {
        return Err(ControlError(StatusCode::BAD_REQUEST, "seconds must be a number".into()));
    }
    c.advance_clock(Duration::milliseconds((seconds * 1000.0).round() as i64));
    Ok(clock_view(&c))
}

/// The rate limit as the control API reads and writes it (`null`: off).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RateLimitView {
    limit: u32,
    window_seconds: f64,
    /// Default: one window.
    #[serde(default)]
    block_seconds: Option<f64>,
    /// The headers' bucket name (default `Default`; a key with custom
    /// limits has its own, e.g. `Long`).
    #[serde(default)]
    name: Option<String>,
}

fn seconds(value: f64) -> Result<StdDuration, ControlError> {
    StdDuration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| ControlError(StatusCode::BAD_REQUEST, format!("{value} is not a positive number of seconds")))
}

async fn rate_limit(State(c): Control) -> Json<Option<RateLimitView>> {
    Json(c.rate_limit().map(|r| RateLimitView {
        limit: r.limit,
        window_seconds: r.window.as_secs_f64(),
        block_seconds: Some(r.block.as_secs_f64()),
        name: Some(r.name),
    }))
}

async fn set_rate_limit(State(c): Control, bytes: Bytes) -> Result<Json<Option<RateLimitView>>, ControlError> {
    let view: Option<RateLimitView> = parse(&bytes)?;
    let limit = match view {
        None => None,
        Some(v) if v.limit == 0 => {
            return Err(ControlError(
                StatusCode::BAD_REQUEST,
                "limit must be at least 1 (null turns limiting off)".into(),
            ))
        }
        Some(v) => {
            let window = seconds(v.window_seconds)?;
            let block = v.block_seconds.map(seconds).transpose()?.unwrap_or(window);
            let name = v.name.filter(|n| !n.is_empty()).unwrap_or_else(|| super::config::DEFAULT_LIMIT_NAME.into());
            if !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(ControlError(StatusCode::BAD_REQUEST, format!("name {name:?} must be letters and digits")));
            }
            Some(RateLimit { limit: v.limit, window, block, name })
        }
    };
    c.set_rate_limit(limit);
    Ok(rate_limit(State(c)).await)
}

async fn webhooks(State(c): Control) -> Json<serde_json::Value> {
    let counters = c.counters();
    Json(json!({
        "subscribers": c.webhooks(),
        "delivered": counters.webhooks_delivered,
        "failed": counters.webhooks_failed,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscribe {
    subscriber_url: String,
    #[serde(default)]
    secret: Option<String>,
}

async fn subscribe(State(c): Control, bytes: Bytes) -> Result<Response, ControlError> {
    let Subscribe { subscriber_url, secret } = parse(&bytes)?;
    if reqwest::Url::parse(&subscriber_url).is_err() {
        return Err(ControlError(StatusCode::BAD_REQUEST, format!("{subscriber_url:?} is not a URL")));
    }
    let id = c.subscribe_webhooks(subscriber_url, secret);
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

async fn clear_webhooks(State(c): Control) -> StatusCode {
    for subscriber in c.webhooks() {
        c.unsubscribe_webhooks(subscriber.id);
    }
    StatusCode::NO_CONTENT
}

async fn unsubscribe(State(c): Control, Path(id): Path<u64>) -> Result<StatusCode, ControlError> {
    if c.unsubscribe_webhooks(id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ControlError(StatusCode::NOT_FOUND, format!("no webhook subscriber {id}")))
    }
}
