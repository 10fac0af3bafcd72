//! Deciding Cal.com's health for one organization from the circuit breaker
//! and the last hour of verifications.

use super::circuit::CircuitState;
use crate::domain::CalcomHealth;
use crate::store::VerificationTally;

/// `recent` covers the last hour or so of verifications.
pub fn assess(connected: bool, circuit: CircuitState, recent: &VerificationTally) -> CalcomHealth {
    if !connected {
        return CalcomHealth::NotConnected;
    }
    let refused_last = match (recent.last_unauthorized_at, recent.last_answered_at) {
        (Some(refused), Some(answered)) => refused > answered,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if refused_last {
        return CalcomHealth::BadApiKey;
    }
    match circuit {
        CircuitState::Open { until } => CalcomHealth::CircuitOpen { until },
        CircuitState::HalfOpen { .. } => CalcomHealth::Degraded { recent_errors: recent.errors.max(1) },
        CircuitState::Closed { .. } if recent.errors > 0 => CalcomHealth::Degraded { recent_errors: recent.errors },
        CircuitState::Closed { .. } => CalcomHealth::Healthy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap() + Duration::minutes(minute)
    }

    const CLOSED: CircuitState = CircuitState::Closed { consecutive_failures: 0 };

    #[test]
    fn quiet_and_answering_is_healthy() {
        let recent = VerificationTally { total: 10, synced: 10, last_answered_at: Some(at(5)), ..Default::default() };
        assert_eq!(assess(true, CLOSED, &recent), CalcomHealth::Healthy);
        assert_eq!(assess(true, CLOSED, &VerificationTally::default()), CalcomHealth::Healthy);
    }

    #[test]
    fn no_connection_trumps_everything() {
        let recent = VerificationTally { unauthorized: 3, last_unauthorized_at: Some(at(1)), ..Default::default() };
        assert_eq!(assess(false, CLOSED, &recent), CalcomHealth::NotConnected);
    }

    #[test]
    fn a_refused_key_counts_until_cal_com_answers_again() {
        let refused = VerificationTally {
            unauthorized: 1,
            last_unauthorized_at: Some(at(3)),
            last_answered_at: Some(at(1)),
            ..Default::default()
        };
        assert_eq!(assess(true, CLOSED, &refused), CalcomHealth::BadApiKey);
        let fixed = VerificationTally { last_answered_at: Some(at(4)), ..refused };
        assert_eq!(assess(true, CLOSED, &fixed), CalcomHealth::Healthy);
    }

    #[test]
    fn errors_degrade_and_an_open_circuit_says_until_when() {
        let errors = VerificationTally { total: 5, errors: 2, ..Default::default() };
        assert_eq!(assess(true, CLOSED, &errors), CalcomHealth::Degraded { recent_errors: 2 });
        let open = CircuitState::Open { until: at(9) };
        assert_eq!(assess(true, open, &errors), CalcomHealth::CircuitOpen { until: at(9) });
        let probing = CircuitState::HalfOpen { probe_in_flight: true };
        assert_eq!(assess(true, probing, &VerificationTally::default()), CalcomHealth::Degraded { recent_errors: 1 });
    }
}
