//! Cal.com's per-key rate limit (its throttler guard): a fixed window
//! counted from the key's first request; going over answers 429 and blocks
//! the key for a while. `Reset` is seconds from now until the window (or
//! the block) ends, as Cal.com sends it (`timeToBlockExpire ||
//! timeToExpire`), and a 429 has no `Retry-After`. Time is the simulator's
//! clock, so tests can jump past a block.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::config::RateLimit;

/// The values of the `X-RateLimit-*-<name>` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RateHeaderValues {
    /// The bucket's name in the header names (`Default`, or a custom limit's).
    pub name: String,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds from now, rounded up so a client that waits for it is never early.
    pub reset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Limiting is off.
    Unlimited,
    Allowed(RateHeaderValues),
    /// Answer 429 (no `Retry-After`: the headers' `Reset` says when).
    Limited(RateHeaderValues),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: DateTime<Utc>,
    count: u32,
    blocked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub(crate) struct KeyLimiter {
    config: Option<RateLimit>,
    windows: HashMap<String, Window>,
}

fn span(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

/// Whole seconds from `now` to `until`, rounded up, at least 1.
fn ceil_seconds(now: DateTime<Utc>, until: DateTime<Utc>) -> u64 {
    let millis = (until - now).num_milliseconds().max(1).unsigned_abs();
    millis.div_ceil(1000)
}

impl KeyLimiter {
    pub fn new(config: Option<RateLimit>) -> KeyLimiter {
        KeyLimiter { config, windows: HashMap::new() }
    }

    pub fn config(&self) -> Option<RateLimit> {
        self.config.clone()
    }

    /// A new limit applies from a clean slate.
    pub fn reconfigure(&mut self, config: Option<RateLimit>) {
        *self = KeyLimiter::new(config);
    }

    /// Counts one request by `key` at `now`.
    pub fn check(&mut self, key: &str, now: DateTime<Utc>) -> Verdict {
        let Some(config) = &self.config else { return Verdict::Unlimited };
        let values = |remaining, until| RateHeaderValues {
            name: config.name.clone(),
            limit: config.limit,
            remaining,
            reset: ceil_seconds(now, until),
        };
        let window =
            self.windows.entry(key.to_owned()).or_insert(Window { started: now, count: 0, blocked_until: None });
        if let Some(until) = window.blocked_until {
            if now < until {
                return Verdict::Limited(values(0, until));
            }
            *window = Window { started: now, count: 0, blocked_until: None };
        }
        if now >= window.started + span(config.window) {
            *window = Window { started: now, count: 0, blocked_until: None };
        }
        window.count += 1;
        if window.count > config.limit {
            let until = now + span(config.block);
            window.blocked_until = Some(until);
            return Verdict::Limited(values(0, until));
        }
        Verdict::Allowed(values(config.limit - window.count, window.started + span(config.window)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap()
    }

    #[test]
    fn counts_down_then_blocks_for_the_block_time() {
        let mut limiter = KeyLimiter::new(Some(RateLimit::per_minute(2)));
        let values = |remaining, reset| RateHeaderValues { name: "Default".into(), limit: 2, remaining, reset };
        assert_eq!(limiter.check("k", t0()), Verdict::Allowed(values(1, 60)));
        assert_eq!(
            limiter.check("k", t0() + Duration::seconds(20)),
            Verdict::Allowed(values(0, 40)),
            "seconds from now"
        );
        let Verdict::Limited(limited) = limiter.check("k", t0() + Duration::seconds(30)) else {
            panic!("the third request is over the limit")
        };
        assert_eq!((limited.remaining, limited.reset), (0, 60), "blocked for 60 s from the offending request");
        let Verdict::Limited(later) = limiter.check("k", t0() + Duration::seconds(85)) else { panic!("still blocked") };
        assert_eq!(later.reset, 5, "Reset counts down to the block's end");
        assert!(matches!(limiter.check("other", t0()), Verdict::Allowed(_)), "keys are counted apart");
        assert!(matches!(limiter.check("k", t0() + Duration::seconds(90)), Verdict::Allowed(_)));
    }

    #[test]
    fn a_new_window_starts_after_the_old_one_ends() {
        let mut limiter = KeyLimiter::new(Some(RateLimit::per_minute(1)));
        assert!(matches!(limiter.check("k", t0()), Verdict::Allowed(_)));
        assert!(matches!(limiter.check("k", t0() + Duration::seconds(60)), Verdict::Allowed(_)));
    }

    #[test]
    fn off_means_unlimited() {
        assert_eq!(KeyLimiter::new(None).check("k", t0()), Verdict::Unlimited);
    }
}
