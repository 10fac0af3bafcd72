//! How long a login lasts: it ends after `idle` without a request (the
//! expiry slides with activity) and, however active, `max` after signing
//! in. The session row's expiry is moved forward at most every few minutes,
//! not on every request, so browsing costs no write per page.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The expiry is moved forward when the last recorded activity is older
/// than this, or than a quarter of the idle limit if that is shorter (so
/// the idle limit is kept to within this much).
const TOUCH_EVERY: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub max: Duration,
}

impl Default for SessionPolicy {
    /// Two hours without a request; a working day at most.
    fn default() -> SessionPolicy {
        SessionPolicy { idle: Duration::from_secs(2 * 3600), max: Duration::from_secs(12 * 3600) }
    }
}

/// When the session's login happened and its activity was last recorded
/// (epoch milliseconds; 0 in sessions from before these were kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Times {
    #[serde(default)]
    pub signed_in_ms: i64,
    #[serde(default)]
    pub seen_ms: i64,
}

/// What a request finds its session to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Valid, and its expiry should move forward: record `now` as seen.
    Touch,
    Expired,
}

impl SessionPolicy {
    pub fn judge(&self, times: Times, now: DateTime<Utc>) -> Verdict {
        let since = |ms: i64| Duration::from_millis((now.timestamp_millis() - ms).max(0).unsigned_abs());
        if times.signed_in_ms == 0 || since(times.signed_in_ms) >= self.max || since(times.seen_ms) >= self.idle {
            Verdict::Expired
        } else if since(times.seen_ms) >= TOUCH_EVERY.min(self.idle / 4) {
            Verdict::Touch
        } else {
            Verdict::Valid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    fn times(signed_in: i64, seen: i64) -> Times {
        Times { signed_in_ms: at(signed_in).timestamp_millis(), seen_ms: at(seen).timestamp_millis() }
    }

    #[test]
    fn activity_slides_the_idle_limit_and_the_absolute_one_holds() {
        let policy = SessionPolicy::default();
        assert_eq!(policy.judge(times(0, 0), at(2)), Verdict::Valid);
        assert_eq!(policy.judge(times(0, 0), at(6)), Verdict::Touch, "seen 6 minutes ago: move the expiry");
        assert_eq!(policy.judge(times(0, 0), at(120)), Verdict::Expired, "two hours idle");
        assert_eq!(policy.judge(times(0, 600), at(700)), Verdict::Touch, "busy for ten hours: still in");
        assert_eq!(policy.judge(times(0, 710), at(720)), Verdict::Expired, "twelve hours after login, however busy");
        assert_eq!(policy.judge(Times::default(), at(1)), Verdict::Expired, "a session from before the limits");
    }
}
