//! The simulator's time: a base clock plus an offset the control API can
//! move forward, so tests cross rate-limit windows or reach "past"
//! bookings without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};

use engine::clock::Clock;

#[derive(Debug)]
pub struct SimClock {
    base: Arc<dyn Clock>,
    offset_ms: AtomicI64,
}

impl SimClock {
    pub fn new(base: Arc<dyn Clock>) -> SimClock {
        SimClock { base, offset_ms: AtomicI64::new(0) }
    }

    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }
}

impl Clock for SimClock {
    /// Whole milliseconds, as Cal.com stores times: a client that uses an
    /// `updatedAt` it was shown as a watermark must hit it exactly.
    fn now(&self) -> DateTime<Utc> {
        (self.base.now() + self.offset()).trunc_subsecs(3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::clock::ManualClock;

    #[test]
    fn advancing_adds_to_the_base_clock() {
        let base = ManualClock::at(DateTime::UNIX_EPOCH);
        let clock = SimClock::new(Arc::new(base.clone()));
        clock.advance(Duration::seconds(60));
        base.advance(Duration::seconds(1));
        assert_eq!(clock.now(), DateTime::UNIX_EPOCH + Duration::seconds(61));
    }
}
