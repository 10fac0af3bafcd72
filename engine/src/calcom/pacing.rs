//! Staying inside the API key's rate budget, so that callers never see a
//! 429 from our own traffic.
//!
//! Two mechanisms, because each alone is not enough:
//! - governor spreads requests over the window (GCRA, burst = the limit);
//!   on its own it could still send up to twice the limit inside one of
//!   Cal.com's fixed windows;
//! - the `X-RateLimit-*-Default` headers are the server's own count: when
//!   `Remaining` reaches 0 we wait until `Reset`. `Reset` is read against
//!   the response's `Date` header, not our clock, so clock skew (or the
//!   simulator's shifted clock) does not shorten or stretch the wait.
//!
//! A 429 (another client sharing the key) blocks everything until its
//! `Retry-After` has passed.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, DATE, RETRY_AFTER};

pub const LIMIT_HEADER: &str = "x-ratelimit-limit-default";
pub const REMAINING_HEADER: &str = "x-ratelimit-remaining-default";
pub const RESET_HEADER: &str = "x-ratelimit-reset-default";

/// Below this a `Reset` value is read as seconds from now, above it as
/// epoch seconds (Cal.com documents epoch seconds; some proxies send deltas).
const EPOCH_THRESHOLD: i64 = 1_000_000_000;

/// How many requests the key may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBudget {
    pub limit: u32,
    pub window: Duration,
}

impl Default for RateBudget {
    /// Cal.com's budget for an API key.
    fn default() -> RateBudget {
        RateBudget { limit: 120, window: Duration::from_secs(60) }
    }
}

impl RateBudget {
    pub fn new(limit: u32, window: Duration) -> RateBudget {
        RateBudget { limit: limit.max(1), window: window.max(Duration::from_millis(1)) }
    }

    fn limiter(self) -> Arc<DefaultDirectRateLimiter> {
        let burst = NonZeroU32::new(self.limit).unwrap_or(NonZeroU32::MIN);
        let period = (self.window / burst.get()).max(Duration::from_nanos(1));
        // `with_period` only refuses a zero period, which `max` rules out.
        let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(burst)).allow_burst(burst);
        Arc::new(RateLimiter::direct(quota))
    }
}

/// What one response said about the budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub limit: Option<u32>,
    pub remaining: Option<u32>,
    /// As sent: epoch seconds (or, small, seconds from now).
    pub reset: Option<i64>,
    /// The server's `Date`, epoch seconds.
    pub server_now: Option<i64>,
    /// `Retry-After`, seconds (on 429).
    pub retry_after: Option<Duration>,
}

impl RateHeaders {
    pub fn read(headers: &HeaderMap) -> RateHeaders {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let server_now =
            text(DATE.as_str()).and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok()).map(|d| d.timestamp());
        let retry_after = text(RETRY_AFTER.as_str()).and_then(|v| retry_after(v, server_now));
        RateHeaders {
            limit: text(LIMIT_HEADER).and_then(|v| v.parse().ok()),
            remaining: text(REMAINING_HEADER).and_then(|v| v.parse().ok()),
            reset: text(RESET_HEADER).and_then(|v| v.parse::<f64>().ok()).map(|v| v.ceil() as i64),
            server_now,
            retry_after,
        }
    }

    /// How long until the server starts a new window.
    pub fn until_reset(&self) -> Option<Duration> {
        let reset = self.reset?;
        let seconds = if reset < EPOCH_THRESHOLD {
            reset
        } else {
            reset - self.server_now.unwrap_or_else(|| chrono::Utc::now().timestamp())
        };
        Some(Duration::from_secs(seconds.max(0).unsigned_abs()))
    }
}

/// `Retry-After`: delay-seconds or an HTTP date.
fn retry_after(value: &str, server_now: Option<i64>) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?.timestamp();
    let now = server_now.unwrap_or_else(|| chrono::Utc::now().timestamp());
    Some(Duration::from_secs((at - now).max(0).unsigned_abs()))
}

pub(crate) struct Pacer {
    state: Mutex<State>,
}

struct State {
    budget: RateBudget,
    limiter: Arc<DefaultDirectRateLimiter>,
    /// Our estimate of the requests left in the server's current window.
    remaining: Option<u32>,
    /// The `Reset` value of that window, to tell a new window from the same one.
    reset_value: Option<i64>,
    reset_at: Option<Instant>,
    /// Set by a 429: nothing goes out before.
    blocked_until: Option<Instant>,
    /// Requests sent whose answer has not been seen: the server may not
    /// have counted them in the `Remaining` it last reported.
    in_flight: u32,
}

impl Pacer {
    pub fn new(budget: RateBudget) -> Pacer {
        let state = State {
            budget,
            limiter: budget.limiter(),
            remaining: None,
            reset_value: None,
            reset_at: None,
            blocked_until: None,
            in_flight: 0,
        };
        Pacer { state: Mutex::new(state) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every
        // update is a plain assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn budget(&self) -> RateBudget {
        self.lock().budget
    }

    /// Waits until one more request fits the budget, and counts it. The
    /// permit reports the answer's headers (or, dropped, that none came).
    pub async fn acquire(&self) -> Permit<'_> {
        let limiter = self.lock().limiter.clone();
        limiter.until_ready().await;
        loop {
            let wait = self.lock().take_slot(Instant::now());
            match wait {
                None => return Permit { pacer: self, settled: false },
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// After a 429: send nothing for `wait`.
    pub fn back_off(&self, wait: Duration) {
        let mut state = self.lock();
        let until = Instant::now() + wait;
        state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
    }
}

/// One request on its way.
pub(crate) struct Permit<'a> {
    pacer: &'a Pacer,
    settled: bool,
}

impl Permit<'_> {
    /// Learns from the answer's headers.
    pub fn observe(mut self, headers: &RateHeaders) {
        self.settled = true;
        self.pacer.lock().observe(headers, Instant::now());
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut state = self.pacer.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }
}

impl State {
    /// `None`: go (one request counted); `Some(wait)`: ask again after `wait`.
    fn take_slot(&mut self, now: Instant) -> Option<Duration> {
        if let Some(until) = self.blocked_until {
            if until > now {
                return Some(until - now);
            }
            self.blocked_until = None;
        }
        if self.remaining == Some(0) {
            match self.reset_at {
                Some(at) if at > now => return Some(at - now),
                // The window is over: the next response tells us the new count.
                _ => {
                    self.remaining = None;
                    self.reset_value = None;
                    self.reset_at = None;
                }
            }
        }
        if let Some(left) = self.remaining.as_mut() {
            *left = left.saturating_sub(1);
        }
        self.in_flight += 1;
        None
    }

    fn observe(&mut self, headers: &RateHeaders, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(limit) = headers.limit.filter(|&l| l > 0 && l != self.budget.limit) {
            self.budget = RateBudget::new(limit, self.budget.window);
            self.limiter = self.budget.limiter();
        }
        let Some(remaining) = headers.remaining else { return };
        let same_window = headers.reset.is_some() && headers.reset == self.reset_value;
        // The other requests in flight may not be in the server's count yet:
        // assume they are not (waiting a little too long is harmless, a 429
        // is not). Within one window the smaller estimate wins, because
        // answers to concurrent requests arrive out of order.
        let estimate = remaining.saturating_sub(self.in_flight);
        self.remaining = Some(match self.remaining {
            Some(ours) if same_window => ours.min(estimate),
            _ => estimate,
        });
        if headers.reset.is_some() {
            self.reset_value = headers.reset;
            // A reset further away than one window (plus rounding) is not
            // believed: a 429 will tell us if we were too early.
            let cap = self.budget.window + Duration::from_secs(1);
            self.reset_at = headers.until_reset().map(|wait| now + wait.min(cap));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn reads_the_default_bucket_headers_against_the_server_date() {
        let h = RateHeaders::read(&headers(&[
            (LIMIT_HEADER, "120"),
            (REMAINING_HEADER, "7"),
            (RESET_HEADER, "1760342430"),
            ("date", "Mon, 13 Oct 2025 08:00:00 GMT"),
        ]));
        assert_eq!((h.limit, h.remaining), (Some(120), Some(7)));
        assert_eq!(h.server_now, Some(1760342400));
        assert_eq!(h.until_reset(), Some(Duration::from_secs(30)));
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let h = RateHeaders::read(&headers(&[("retry-after", "12")]));
        assert_eq!(h.retry_after, Some(Duration::from_secs(12)));
        let h = RateHeaders::read(&headers(&[
            ("retry-after", "Mon, 13 Oct 2025 08:01:00 GMT"),
            ("date", "Mon, 13 Oct 2025 08:00:00 GMT"),
        ]));
        assert_eq!(h.retry_after, Some(Duration::from_secs(60)));
    }

    #[test]
    fn an_exhausted_window_waits_for_its_reset() {
        let pacer = Pacer::new(RateBudget::default());
        let now = Instant::now();
        let h = RateHeaders { remaining: Some(1), reset: Some(30), ..RateHeaders::default() };
        let mut state = pacer.lock();
        state.observe(&h, now);
        assert_eq!(state.take_slot(now), None, "one request left");
        let wait = state.take_slot(now).expect("the budget is spent");
        assert_eq!(wait, Duration::from_secs(30));
        assert_eq!(state.take_slot(now + wait), None, "a new window has begun");
    }

    #[test]
    fn a_new_limit_from_the_server_replaces_ours() {
        let pacer = Pacer::new(RateBudget::default());
        pacer
            .lock()
            .observe(&RateHeaders { limit: Some(500), remaining: Some(499), ..RateHeaders::default() }, Instant::now());
        assert_eq!(pacer.budget().limit, 500);
    }

    #[test]
    fn requests_in_flight_are_assumed_uncounted() {
        let pacer = Pacer::new(RateBudget::default());
        let now = Instant::now();
        let mut state = pacer.lock();
        for _ in 0..3 {
            assert_eq!(state.take_slot(now), None);
        }
        // The first answer says 10 left; the two others may not be in it.
        state.observe(&RateHeaders { remaining: Some(10), reset: Some(30), ..RateHeaders::default() }, now);
        assert_eq!(state.remaining, Some(8));
        assert_eq!(state.in_flight, 2);
    }

    #[test]
    fn a_429_blocks_until_retry_after() {
        let pacer = Pacer::new(RateBudget::default());
        pacer.back_off(Duration::from_secs(5));
        let wait = pacer.lock().take_slot(Instant::now()).expect("blocked");
        assert!(wait > Duration::from_secs(4));
    }
}
