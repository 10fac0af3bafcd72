//! A circuit breaker per organization: after enough consecutive failures
//! calls stop for a while, then a single probe decides whether to resume.
//! While open, appointments are marked CIRCUIT_OPEN without consuming a
//! retry attempt, so an outage never turns into false alarms.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::OrgId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitConfig {
    pub failure_threshold: u32,
    pub open_for: Duration,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        CircuitConfig { failure_threshold: 5, open_for: Duration::seconds(60) }
    }
}

/// What the UI and `/metrics` show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CircuitState {
    Closed {
        consecutive_failures: u32,
    },
    Open {
        until: DateTime<Utc>,
    },
    /// One probe call is allowed through; its result closes or reopens.
    HalfOpen {
        probe_in_flight: bool,
    },
}

impl CircuitState {
    pub const fn name(&self) -> &'static str {
        match self {
            CircuitState::Closed { .. } => "closed",
            CircuitState::Open { .. } => "open",
            CircuitState::HalfOpen { .. } => "half_open",
        }
    }
}

/// Whether a call may be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// Don't call; try again after this time.
    Rejected {
        retry_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Copy)]
struct Breaker {
    state: CircuitState,
    /// Whether Cal.com has answered this process for the organization yet.
    answered: bool,
}

impl Breaker {
    fn admit(&mut self, config: &CircuitConfig, now: DateTime<Utc>) -> Admission {
        match self.state {
            CircuitState::Closed { .. } => Admission::Allowed,
            CircuitState::Open { until } if now >= until => {
                self.state = CircuitState::HalfOpen { probe_in_flight: true };
                Admission::Allowed
            }
            CircuitState::Open { until } => Admission::Rejected { retry_at: until },
            CircuitState::HalfOpen { probe_in_flight: false } => {
                self.state = CircuitState::HalfOpen { probe_in_flight: true };
                Admission::Allowed
            }
            CircuitState::HalfOpen { probe_in_flight: true } => {
                Admission::Rejected { retry_at: now + config.open_for / 10 }
            }
        }
    }

    /// True when the answer ends an outage: the breaker was open or half
    /// open, or it is the first answer this process has (an outage an
    /// earlier process recorded may have ended while nobody asked).
    fn success(&mut self) -> bool {
        let ended = !self.answered || !matches!(self.state, CircuitState::Closed { .. });
        self.state = CircuitState::Closed { consecutive_failures: 0 };
        self.answered = true;
        ended
    }

    /// True when the failure moves the breaker into Open: from Closed (an
    /// outage begins) or from a failed half-open probe (it goes on). A late
    /// failure of a call admitted before the breaker opened is no news.
    fn failure(&mut self, config: &CircuitConfig, now: DateTime<Utc>) -> bool {
        let was_open = matches!(self.state, CircuitState::Open { .. });
        self.state = match self.state {
            CircuitState::Closed { consecutive_failures } if consecutive_failures + 1 < config.failure_threshold => {
                CircuitState::Closed { consecutive_failures: consecutive_failures + 1 }
            }
            _ => CircuitState::Open { until: now + config.open_for },
        };
        !was_open && matches!(self.state, CircuitState::Open { .. })
    }
}

/// All organizations' breakers. Lives in memory: after a restart every
/// circuit starts closed, which costs at most `failure_threshold` calls.
#[derive(Debug, Default)]
pub struct Circuits {
    config: CircuitConfig,
    breakers: Mutex<HashMap<OrgId, Breaker>>,
}

impl Circuits {
    pub fn new(config: CircuitConfig) -> Circuits {
        Circuits { config, breakers: Mutex::default() }
    }

    fn with<R>(&self, org: OrgId, f: impl FnOnce(&mut Breaker) -> R) -> R {
        let mut map = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        let breaker = map
            .entry(org)
            .or_insert(Breaker { state: CircuitState::Closed { consecutive_failures: 0 }, answered: false });
        f(breaker)
    }

    pub fn admit(&self, org: OrgId, now: DateTime<Utc>) -> Admission {
        let config = self.config;
        self.with(org, |b| b.admit(&config, now))
    }

    /// A call got an answer from Cal.com (including a 404: Cal.com is up).
    /// True when that ends an outage (see `Breaker::success`), which the
    /// caller records.
    pub fn record_success(&self, org: OrgId) -> bool {
        self.with(org, Breaker::success)
    }

    /// A call failed for reasons that say Cal.com is unwell (timeout, 5xx,
    /// network). True when the breaker opens: an outage, which the caller
    /// records.
    pub fn record_failure(&self, org: OrgId, now: DateTime<Utc>) -> bool {
        let config = self.config;
        self.with(org, |b| b.failure(&config, now))
    }

    pub fn state(&self, org: OrgId) -> CircuitState {
        self.with(org, |b| b.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 11, 12, 0, 0).unwrap() + Duration::seconds(secs)
    }

    #[test]
    fn opens_after_five_consecutive_failures_and_rejects_until_timeout() {
        let circuits = Circuits::default();
        let org = OrgId(1);
        for i in 0..4 {
            circuits.record_failure(org, t(i));
            assert_eq!(circuits.admit(org, t(i)), Admission::Allowed);
        }
        circuits.record_failure(org, t(4));
        assert_eq!(circuits.state(org), CircuitState::Open { until: t(64) });
        assert_eq!(circuits.admit(org, t(30)), Admission::Rejected { retry_at: t(64) });
        assert_eq!(circuits.state(OrgId(2)).name(), "closed", "other organizations are unaffected");
    }

    #[test]
    fn a_success_resets_the_count() {
        let circuits = Circuits::default();
        let org = OrgId(1);
        for i in 0..4 {
            circuits.record_failure(org, t(i));
        }
        circuits.record_success(org);
        for i in 0..4 {
            circuits.record_failure(org, t(10 + i));
        }
        assert_eq!(circuits.state(org), CircuitState::Closed { consecutive_failures: 4 });
    }

    #[test]
    fn opening_and_the_answer_that_ends_it_are_reported_for_the_outage_record() {
        let circuits = Circuits::default();
        let org = OrgId(1);
        assert!(circuits.record_success(org), "the first answer in a process ends any outage left recorded");
        assert!(!circuits.record_success(org), "later answers while closed end nothing");
        let opened: Vec<bool> = (0..5).map(|i| circuits.record_failure(org, t(i))).collect();
        assert_eq!(opened, [false, false, false, false, true], "the fifth failure opens it");
        assert!(!circuits.record_failure(org, t(4)), "a late failure while open is no new opening");
        assert_eq!(circuits.admit(org, t(64)), Admission::Allowed, "the probe");
        assert!(circuits.record_failure(org, t(65)), "a failed probe: the outage goes on");
        assert_eq!(circuits.admit(org, t(125)), Admission::Allowed);
        assert!(circuits.record_success(org), "the probe's answer ends it");
        assert!(!circuits.record_success(org));
    }

    #[test]
    fn half_open_lets_one_probe_through_which_closes_or_reopens() {
        let circuits = Circuits::default();
        let org = OrgId(1);
        for i in 0..5 {
            circuits.record_failure(org, t(i));
        }
        assert_eq!(circuits.admit(org, t(64)), Admission::Allowed, "the probe");
        assert!(matches!(circuits.admit(org, t(64)), Admission::Rejected { .. }), "only one probe at a time");
        circuits.record_failure(org, t(65));
        assert_eq!(circuits.state(org), CircuitState::Open { until: t(125) });

        assert_eq!(circuits.admit(org, t(125)), Admission::Allowed);
        circuits.record_success(org);
        assert_eq!(circuits.state(org), CircuitState::Closed { consecutive_failures: 0 });
        assert_eq!(circuits.admit(org, t(126)), Admission::Allowed);
    }
}
