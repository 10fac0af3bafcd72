//! The spec's retry ladder: attempt 1 at once, attempt 2 a minute later,
//! attempt 3 five minutes after that; then a person decides.

use chrono::{DateTime, Duration, Utc};

/// Delays before attempts 2, 3, …; the number of attempts is one more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryLadder {
    delays: Vec<Duration>,
}

impl Default for RetryLadder {
    fn default() -> Self {
        RetryLadder { delays: vec![Duration::minutes(1), Duration::minutes(5)] }
    }
}

/// What to do after an attempt that did not end in a definite answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// The ladder is used up: flag for manual review (and notify once).
    Escalate,
}

impl RetryLadder {
    pub fn new(delays: Vec<Duration>) -> RetryLadder {
        RetryLadder { delays }
    }

    pub fn max_attempts(&self) -> i64 {
        self.delays.len() as i64 + 1
    }

    /// After `attempts_made` attempts (counting the one that just failed).
    pub fn after(&self, attempts_made: i64, now: DateTime<Utc>) -> NextStep {
        match usize::try_from(attempts_made - 1).ok().and_then(|i| self.delays.get(i)) {
            Some(delay) => NextStep::RetryAt(now + *delay),
            None => NextStep::Escalate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn immediate_then_one_minute_then_five_then_escalate() {
        let ladder = RetryLadder::default();
        let t = Utc.with_ymd_and_hms(2025, 10, 11, 8, 0, 0).unwrap();
        assert_eq!(ladder.max_attempts(), 3);
        assert_eq!(ladder.after(1, t), NextStep::RetryAt(t + Duration::minutes(1)));
        assert_eq!(ladder.after(2, t), NextStep::RetryAt(t + Duration::minutes(5)));
        assert_eq!(ladder.after(3, t), NextStep::Escalate);
        assert_eq!(ladder.after(7, t), NextStep::Escalate);
    }
}
