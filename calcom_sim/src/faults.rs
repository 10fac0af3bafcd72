//! Misbehaviour on demand, for the `/v2` endpoints only: slow answers,
//! hangs, random 5xx, a full outage, a 429 storm, broken JSON; and the
//! quirks real Cal.com has been seen with (shared/calcom-api.md, "What
//! real Cal.com sends…"): estimated or missing totals, window filters
//! ignored, creates that succeed but lose their answer.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Probability (0–1) that a request is answered with `error_status`.
    pub error_rate: f64,
    pub error_status: u16,
    /// Added to every answer.
    pub latency_ms: u64,
    /// If > 0: every request is held this long, then answered 504 (set it
    /// above the client's timeout to make it time out).
    pub hang_ms: u64,
    /// Every request answers 503 with an HTML page, as a load balancer would.
    pub outage: bool,
    /// The next N requests answer 429 (another client spent the key's
    /// budget), with `Reset` at `storm_retry_after` seconds and, as Cal.com,
    /// no `Retry-After`.
    pub rate_limit_storm: u32,
    pub storm_retry_after: u64,
    /// Every request answers 200 with a truncated JSON body.
    pub malformed: bool,
    /// If set: this many more requests are answered normally, then every
    /// one answers `error_status` (a listing failing on a chosen page).
    pub error_after: Option<u32>,
    /// How listings report `totalItems` (exact, estimated, or not at all).
    pub totals: Totals,
    /// Listings ignore `afterStart` and `beforeEnd` (calcom issue 18010).
    pub ignore_window: bool,
    /// The next N writes (create, cancel, reschedule) are carried out, then
    /// answered 502 as if the answer was lost on its way (calcom issue 10432).
    pub lose_write_answers: u32,
}

/// How a listing's `pagination.totalItems` is reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Totals {
    #[default]
    Exact,
    /// On full pages: a guess of one more page than seen so far, as the
    /// newest handler reports for keys with team booking permissions; the
    /// last page is exact.
    Estimated,
    /// No `totalItems` (nor what is derived from it) on any page.
    Absent,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            error_rate: 0.0,
            error_status: 500,
            latency_ms: 0,
            hang_ms: 0,
            outage: false,
            rate_limit_storm: 0,
            storm_retry_after: 1,
            malformed: false,
            error_after: None,
            totals: Totals::Exact,
            ignore_window: false,
            lose_write_answers: 0,
        }
    }
}

/// What to do instead of answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    Outage,
    Hang(Duration),
    Error(u16),
    /// 429 with `Reset` in this many seconds.
    Storm(u64),
    Malformed,
}

impl Faults {
    /// Whether this write's answer is to be lost (and uses one up).
    pub(crate) fn lose_write_answer(&mut self) -> bool {
        let lose = self.lose_write_answers > 0;
        self.lose_write_answers = self.lose_write_answers.saturating_sub(1);
        lose
    }

    /// Decides one request's fate (and uses up one storm request).
    pub(crate) fn draw(&mut self, rng: &mut impl Rng) -> (Duration, Option<Injected>) {
        let latency = Duration::from_millis(self.latency_ms);
        let passes = self.error_after.is_some_and(|n| n > 0);
        let injected = if self.outage {
            Some(Injected::Outage)
        } else if self.hang_ms > 0 {
            Some(Injected::Hang(Duration::from_millis(self.hang_ms)))
        } else if self.rate_limit_storm > 0 {
            self.rate_limit_storm -= 1;
            Some(Injected::Storm(self.storm_retry_after))
        } else if self.error_after == Some(0)
            || (self.error_rate > 0.0 && rng.random_bool(self.error_rate.clamp(0.0, 1.0)))
        {
            Some(Injected::Error(self.error_status))
        } else if self.malformed {
            Some(Injected::Malformed)
        } else {
            None
        };
        if passes && injected.is_none() {
            self.error_after = self.error_after.map(|n| n - 1);
        }
        (latency, injected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_uses_itself_up() {
        let mut faults = Faults { rate_limit_storm: 2, storm_retry_after: 3, ..Faults::default() };
        let mut rng = rand::rng();
        assert_eq!(faults.draw(&mut rng).1, Some(Injected::Storm(3)));
        assert_eq!(faults.draw(&mut rng).1, Some(Injected::Storm(3)));
        assert_eq!(faults.draw(&mut rng).1, None);
    }

    #[test]
    fn certain_errors_always_happen_and_defaults_do_nothing() {
        let mut rng = rand::rng();
        let mut always = Faults { error_rate: 1.0, error_status: 502, ..Faults::default() };
        assert_eq!(always.draw(&mut rng).1, Some(Injected::Error(502)));
        assert_eq!(Faults::default().draw(&mut rng), (Duration::ZERO, None));
        let mut later = Faults { error_after: Some(2), error_status: 503, ..Faults::default() };
        let fates: Vec<_> = (0..4).map(|_| later.draw(&mut rng).1).collect();
        assert_eq!(fates, [None, None, Some(Injected::Error(503)), Some(Injected::Error(503))]);
    }
}
