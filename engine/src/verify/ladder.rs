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

/// A retry ladder that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable retry delay {0:?}: write e.g. \"1m,5m\" or \"30s,2m\" (seconds s, minutes m, hours h)")]
pub struct LadderError(String);

impl RetryLadder {
    pub fn new(delays: Vec<Duration>) -> RetryLadder {
        RetryLadder { delays }
    }

    /// Reads delays like "1m,5m" (the default) or "2s,5s" (for trying
    /// things out quickly). At least one delay, each positive.
    pub fn parse(text: &str) -> Result<RetryLadder, LadderError> {
        let delays = text.split(',').map(|part| parse_delay(part.trim())).collect::<Result<Vec<_>, _>>()?;
        Ok(RetryLadder { delays })
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

/// A duration as settings write it: a positive whole number and `s`, `m`,
/// `h` or `d` ("90s", "5m", "24h", "30d").
pub fn parse_duration(part: &str) -> Result<Duration, LadderError> {
    match part.strip_suffix('d') {
        // Days only for settings (retention); a retry delay of days is a typo.
        Some(days) => parse_delay(&format!("{days}h")).map(|hours| hours * 24),
        None => parse_delay(part),
    }
}

fn parse_delay(part: &str) -> Result<Duration, LadderError> {
    let refuse = || LadderError(part.to_owned());
    let split = part.len().checked_sub(1).ok_or_else(refuse)?;
    let (number, unit) = part.split_at(split);
    let n: i64 = number.trim().parse().map_err(|_| refuse())?;
    let delay = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        _ => return Err(refuse()),
    };
    if n <= 0 || n > 24 * 3600 {
        return Err(refuse());
    }
    Ok(delay)
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

    #[test]
    fn delays_are_read_from_text() {
        assert_eq!(RetryLadder::parse("1m,5m").unwrap(), RetryLadder::default());
        assert_eq!(
            RetryLadder::parse(" 2s , 1h ").unwrap(),
            RetryLadder::new(vec![Duration::seconds(2), Duration::hours(1)])
        );
        for bad in ["", "5", "1m,", "0s", "-1m", "1d", "m", "1.5m"] {
            assert!(RetryLadder::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(parse_duration("30d").unwrap(), Duration::days(30));
        assert_eq!(parse_duration("90m").unwrap(), Duration::minutes(90));
        assert!(parse_duration("d").is_err() && parse_duration("0d").is_err());
    }
}
