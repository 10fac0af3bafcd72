//! Staying inside the API key's rate budget, so that callers never see a
//! 429 from our own traffic.
//!
//! Two mechanisms, because each alone is not enough:
//! - governor spreads requests over the window (GCRA, burst = the limit);
//!   on its own it could still send up to twice the limit inside one of
//!   Cal.com's fixed windows;
//! - the `X-RateLimit-{Limit,Remaining,Reset}-<name>` headers are the
//!   server's own count: when `Remaining` reaches 0 we wait until `Reset`.
//!   Cal.com names the bucket `Default`, or after a key's custom limit
//!   (`X-RateLimit-Remaining-Long`), so any name is read and the tightest
//!   bucket wins. `Reset` is seconds from now (Cal.com's
//!   `timeToBlockExpire || timeToExpire`); a value that looks like epoch
//!   seconds (some proxies send those) is read against the answer's `Date`.
//!
//! A 429 (another client sharing the key) blocks everything until the
//! bucket's `Reset` (Cal.com sends no `Retry-After`; one is obeyed if sent).
//!
//! Several calsync processes share one key (instances, `calsync verify`,
//! the resolution buttons): then the spacing is a [`SharedBudget`] in the
//! database instead of governor, a GCRA every process advances, spaced so
//! that no window of the key's length can hold more than its limit
//! whatever the alignment with Cal.com's own windows; 429s and exhausted
//! windows hold every process.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, DATE, RETRY_AFTER};

/// The headers' common start; then `limit-`, `remaining-` or `reset-` and
/// the bucket's name.
const PREFIX: &str = "x-ratelimit-";

/// Below this a `Reset` value is read as seconds from now (what Cal.com
/// sends), above it as epoch seconds.
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

    /// The limit as calls per minute (a key's custom window may be
    /// longer or shorter than Cal.com's 60 s), rounded down, at least 1.
    pub fn per_minute(self) -> u32 {
        let per_minute = u128::from(self.limit) * 60_000 / self.window.as_millis().max(1);
        u32::try_from(per_minute).unwrap_or(u32::MAX).max(1)
    }

    /// The shared GCRA's spacing: bursts of `b` (a tenth of the limit) and
    /// `window / (limit - b)` between requests on average, so that any
    /// stretch of one window holds at most `b + (limit - b) = limit`.
    pub fn spacing(self) -> Spacing {
        let burst = (self.limit / 10).max(1);
        let steady = self.limit.saturating_sub(burst).max(1);
        let interval = self.window / steady;
        Spacing { interval, tolerance: interval * (burst - 1) }
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
    /// As sent: seconds from now (or, large, epoch seconds).
    pub reset: Option<i64>,
    /// The server's `Date`, epoch seconds.
    pub server_now: Option<i64>,
    /// `Retry-After`, seconds (on 429).
    pub retry_after: Option<Duration>,
}

/// One named bucket's three values.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    limit: Option<u32>,
    remaining: Option<u32>,
    reset: Option<i64>,
}

impl RateHeaders {
    pub fn read(headers: &HeaderMap) -> RateHeaders {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let server_now =
            text(DATE.as_str()).and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok()).map(|d| d.timestamp());
        let retry_after = text(RETRY_AFTER.as_str()).and_then(|v| retry_after(v, server_now));
        let tightest =
            buckets(headers).into_values().min_by_key(|b| (b.remaining.unwrap_or(u32::MAX), -b.reset.unwrap_or(0)));
        let bucket = tightest.unwrap_or_default();
        RateHeaders { limit: bucket.limit, remaining: bucket.remaining, reset: bucket.reset, server_now, retry_after }
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

/// Every `X-RateLimit-*` bucket in `headers`, by name (header names are
/// lower-case in `HeaderMap`).
fn buckets(headers: &HeaderMap) -> std::collections::BTreeMap<String, Bucket> {
    let mut buckets = std::collections::BTreeMap::<String, Bucket>::new();
    for (name, value) in headers {
        let Some(rest) = name.as_str().strip_prefix(PREFIX) else { continue };
        let (field, bucket) = rest.split_once('-').unwrap_or((rest, ""));
        let Some(value) = value.to_str().ok().map(str::trim) else { continue };
        let entry = buckets.entry(bucket.to_owned()).or_default();
        match field {
            "limit" => entry.limit = value.parse().ok(),
            "remaining" => entry.remaining = value.parse().ok(),
            "reset" => entry.reset = value.parse::<f64>().ok().map(|v| v.ceil() as i64),
            _ => {}
        }
    }
    buckets
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

/// Request spacing as a GCRA: `interval` between requests on average,
/// bursts up to `tolerance / interval + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spacing {
    pub interval: Duration,
    pub tolerance: Duration,
}

/// A future that can be held as a trait object.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A request budget several processes share (the database's
/// `calcom_rate_budget`). Errors are words for the log: the pacer then
/// falls back to pacing this process alone rather than stopping.
pub trait SharedBudget: Send + Sync {
    /// Takes one request: `Ok(None)` go now, `Ok(Some(wait))` ask again after `wait`.
    fn reserve(&self, spacing: Spacing) -> BoxFuture<'_, Result<Option<Duration>, String>>;

    /// No process sends anything for `wait`.
    fn hold(&self, wait: Duration) -> BoxFuture<'_, Result<(), String>>;

    /// The server's headers stated a budget other than the one assumed so
    /// far (a key with a custom limit): kept for people to see.
    fn learned(&self, budget: RateBudget) -> BoxFuture<'_, Result<(), String>> {
        let _ = budget;
        Box::pin(async { Ok(()) })
    }
}

pub(crate) struct Pacer {
    state: Mutex<State>,
    shared: Option<Arc<dyn SharedBudget>>,
}

struct State {
    budget: RateBudget,
    limiter: Arc<DefaultDirectRateLimiter>,
    /// Our estimate of the requests left in the server's current window.
    remaining: Option<u32>,
    /// When that window ends (from `Reset`, seconds from the answer).
    reset_at: Option<Instant>,
    /// Set by a 429: nothing goes out before.
    blocked_until: Option<Instant>,
    /// Requests sent whose answer has not been seen: the server may not
    /// have counted them in the `Remaining` it last reported.
    in_flight: u32,
    /// Whether the budget the server stated has been passed on to the
    /// shared budget (see `SharedBudget::learned`).
    limit_reported: bool,
}

impl Pacer {
    pub fn new(budget: RateBudget, shared: Option<Arc<dyn SharedBudget>>) -> Pacer {
        let state = State {
            budget,
            limiter: budget.limiter(),
            remaining: None,
            reset_at: None,
            blocked_until: None,
            in_flight: 0,
            limit_reported: false,
        };
        Pacer { state: Mutex::new(state), shared }
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
        self.spaced().await;
        loop {
            let wait = self.lock().take_slot(Instant::now());
            match wait {
                None => return Permit { pacer: self, settled: false },
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Waits for the spacing: the shared budget when there is one, else
    /// this process's governor.
    async fn spaced(&self) {
        if let Some(shared) = &self.shared {
            loop {
                let spacing = self.budget().spacing();
                match shared.reserve(spacing).await {
                    Ok(None) => return,
                    Ok(Some(wait)) => tokio::time::sleep(wait).await,
                    Err(error) => {
                        tracing::warn!(%error, "the shared Cal.com budget is unavailable; pacing this process alone");
                        break;
                    }
                }
            }
        }
        let limiter = self.lock().limiter.clone();
        limiter.until_ready().await;
    }

    /// After a 429, or a window reported spent: nothing goes out for
    /// `wait`, from this process or (shared) any other.
    pub async fn back_off(&self, wait: Duration) {
        {
            let mut state = self.lock();
            let until = Instant::now() + wait;
            state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
        }
        self.hold_shared(wait).await;
    }

    async fn hold_shared(&self, wait: Duration) {
        if let Some(shared) = &self.shared {
            if let Err(error) = shared.hold(wait).await {
                tracing::warn!(%error, "could not hold the shared Cal.com budget");
            }
        }
    }
}

/// One request on its way.
pub(crate) struct Permit<'a> {
    pacer: &'a Pacer,
    settled: bool,
}

impl Permit<'_> {
    /// Learns from the answer's headers. A window the server reports spent
    /// holds the other processes too, until it ends.
    pub async fn observe(mut self, headers: &RateHeaders) {
        self.settled = true;
        let (spent, learned) = {
            let mut state = self.pacer.lock();
            let before = state.budget;
            let spent = state.observe(headers, Instant::now());
            // The first stated limit is news even when it is the default.
            let news = headers.limit.is_some() && (!state.limit_reported || state.budget != before);
            state.limit_reported |= news;
            (spent, news.then_some(state.budget))
        };
        if let Some(wait) = spent {
            self.pacer.hold_shared(wait).await;
        }
        if let (Some(budget), Some(shared)) = (learned, &self.pacer.shared) {
            if let Err(error) = shared.learned(budget).await {
                tracing::warn!(%error, "could not keep the Cal.com key's limit");
            }
        }
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

    /// Returns how long until the window ends when the server reports it spent.
    fn observe(&mut self, headers: &RateHeaders, now: Instant) -> Option<Duration> {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(budget) = learned_budget(self.budget, headers).filter(|b| *b != self.budget) {
            self.budget = budget;
            self.limiter = self.budget.limiter();
        }
        let remaining = headers.remaining?;
        // A reset further away than one window (plus rounding) is not
        // believed: a 429 will tell us if we were too early.
        let cap = self.budget.window + Duration::from_secs(1);
        let reset_at = headers.until_reset().map(|wait| now + wait.min(cap));
        // `Reset` counts down in seconds: ends within two seconds of each
        // other are the same window.
        let same_window = match (reset_at, self.reset_at) {
            (Some(new), Some(old)) => new.max(old) - new.min(old) <= Duration::from_secs(2),
            _ => false,
        };
        // The other requests in flight may not be in the server's count yet:
        // assume they are not (waiting a little too long is harmless, a 429
        // is not). Within one window the smaller estimate wins, because
        // answers to concurrent requests arrive out of order.
        let estimate = remaining.saturating_sub(self.in_flight);
        self.remaining = Some(match self.remaining {
            Some(ours) if same_window => ours.min(estimate),
            _ => estimate,
        });
        if reset_at.is_some() {
            self.reset_at = reset_at;
        }
        let spent = self.remaining == Some(0);
        spent.then(|| self.reset_at.map_or(Duration::ZERO, |at| at.saturating_duration_since(now)))
    }
}

/// The key's budget as the server's headers state it. The limit is sent;
/// the window is not, but the first request of a window reports
/// `limit - 1` remaining with `Reset` at the window's full length (keys
/// with custom limits have other windows than Cal.com's 60 s).
fn learned_budget(ours: RateBudget, headers: &RateHeaders) -> Option<RateBudget> {
    let limit = headers.limit.filter(|&l| l > 0)?;
    let fresh_window = headers.remaining == Some(limit - 1);
    let window = match (fresh_window, headers.reset) {
        (true, Some(reset)) if (1..EPOCH_THRESHOLD).contains(&reset) => Duration::from_secs(reset.unsigned_abs()),
        _ => ours.window,
    };
    Some(RateBudget::new(limit, window))
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
    fn reset_is_seconds_from_now_as_cal_com_sends_it() {
        let h = RateHeaders::read(&headers(&[
            ("x-ratelimit-limit-default", "120"),
            ("x-ratelimit-remaining-default", "7"),
            ("x-ratelimit-reset-default", "30"),
            ("date", "Mon, 13 Oct 2025 08:00:00 GMT"),
        ]));
        assert_eq!((h.limit, h.remaining), (Some(120), Some(7)));
        assert_eq!(h.server_now, Some(1760342400));
        assert_eq!(h.until_reset(), Some(Duration::from_secs(30)));
        assert_eq!(h.retry_after, None, "Cal.com sends no Retry-After");
    }

    #[test]
    fn an_epoch_reset_is_read_against_the_server_date() {
        let h = RateHeaders::read(&headers(&[
            ("x-ratelimit-reset-default", "1760342430"),
            ("date", "Mon, 13 Oct 2025 08:00:00 GMT"),
        ]));
        assert_eq!(h.until_reset(), Some(Duration::from_secs(30)));
    }

    #[test]
    fn any_bucket_name_is_read_and_the_tightest_wins() {
        let h = RateHeaders::read(&headers(&[
            ("x-ratelimit-limit-long", "1000"),
            ("x-ratelimit-remaining-long", "900"),
            ("x-ratelimit-reset-long", "3000"),
            ("x-ratelimit-limit-short", "10"),
            ("x-ratelimit-remaining-short", "2"),
            ("x-ratelimit-reset-short", "4"),
        ]));
        assert_eq!((h.limit, h.remaining, h.reset), (Some(10), Some(2), Some(4)));
        let custom = RateHeaders::read(&headers(&[("x-ratelimit-remaining-long", "5")]));
        assert_eq!(custom.remaining, Some(5));
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
        let pacer = Pacer::new(RateBudget::default(), None);
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
    fn the_shared_spacing_never_fits_more_than_the_limit_in_a_window() {
        for limit in [1, 5, 10, 120, 500] {
            let budget = RateBudget::new(limit, Duration::from_secs(60));
            let Spacing { interval, tolerance } = budget.spacing();
            let burst = (tolerance.as_nanos() / interval.as_nanos()) as u32 + 1;
            let steady = (budget.window.as_nanos() / interval.as_nanos()) as u32;
            assert!(burst + steady <= limit.max(2), "limit {limit}: {burst} + {steady}");
        }
        assert_eq!(
            RateBudget::default().spacing().interval,
            Duration::from_millis(555) + Duration::from_nanos(555_555)
        );
    }

    #[test]
    fn a_new_limit_from_the_server_replaces_ours() {
        let pacer = Pacer::new(RateBudget::default(), None);
        pacer
            .lock()
            .observe(&RateHeaders { limit: Some(500), remaining: Some(499), ..RateHeaders::default() }, Instant::now());
        assert_eq!(pacer.budget().limit, 500);
    }

    #[test]
    fn a_fresh_windows_reset_tells_the_window_length() {
        let first = RateHeaders { limit: Some(30), remaining: Some(29), reset: Some(10), ..RateHeaders::default() };
        assert_eq!(learned_budget(RateBudget::default(), &first), Some(RateBudget::new(30, Duration::from_secs(10))));
        let later = RateHeaders { limit: Some(30), remaining: Some(12), reset: Some(4), ..RateHeaders::default() };
        assert_eq!(learned_budget(RateBudget::default(), &later), Some(RateBudget::new(30, Duration::from_secs(60))));
    }

    #[test]
    fn requests_in_flight_are_assumed_uncounted() {
        let pacer = Pacer::new(RateBudget::default(), None);
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

    /// A shared budget that only remembers what it was told.
    #[derive(Default)]
    struct Told(Mutex<Vec<RateBudget>>);

    impl SharedBudget for Told {
        fn reserve(&self, _: Spacing) -> BoxFuture<'_, Result<Option<Duration>, String>> {
            Box::pin(async { Ok(None) })
        }
        fn hold(&self, _: Duration) -> BoxFuture<'_, Result<(), String>> {
            Box::pin(async { Ok(()) })
        }
        fn learned(&self, budget: RateBudget) -> BoxFuture<'_, Result<(), String>> {
            self.0.lock().unwrap().push(budget);
            Box::pin(async { Ok(()) })
        }
    }

    #[tokio::test]
    async fn the_stated_limit_is_passed_on_once_and_again_when_it_changes() {
        let told = Arc::new(Told::default());
        let pacer = Pacer::new(RateBudget::default(), Some(told.clone()));
        let answer = |limit, remaining| RateHeaders {
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(30),
            ..RateHeaders::default()
        };
        pacer.acquire().await.observe(&RateHeaders::default()).await;
        assert!(told.0.lock().unwrap().is_empty(), "an answer without headers states nothing");
        pacer.acquire().await.observe(&answer(120, 100)).await;
        pacer.acquire().await.observe(&answer(120, 99)).await;
        pacer.acquire().await.observe(&answer(500, 400)).await;
        let told = told.0.lock().unwrap().clone();
        assert_eq!(told, [RateBudget::default(), RateBudget::new(500, Duration::from_secs(60))]);
        assert_eq!(told.iter().map(|b| b.per_minute()).collect::<Vec<_>>(), [120, 500]);
        assert_eq!(RateBudget::new(30, Duration::from_secs(10)).per_minute(), 180);
        assert_eq!(RateBudget::new(5, Duration::from_secs(3600)).per_minute(), 1, "never 0");
    }

    #[tokio::test]
    async fn a_429_blocks_until_its_reset() {
        let pacer = Pacer::new(RateBudget::default(), None);
        pacer.back_off(Duration::from_secs(5)).await;
        let wait = pacer.lock().take_slot(Instant::now()).expect("blocked");
        assert!(wait > Duration::from_secs(4));
    }
}
