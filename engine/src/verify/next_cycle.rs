//! When an organization's regular cycle looks next. Every verification
//! decision needs it (the retry ladder never schedules past the next
//! cycle), and it is the same for every moment before that slot, so each
//! organization's answer is kept until the slot passes or its schedule
//! changes: a run of 100,000 decisions reads the cron expression once.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::domain::OrgId;
use crate::schedule::LocalSchedule;
use crate::store::Organization;

/// When a cron expression cannot be read (settings validate it, so this is
/// a fallback): six hours, the spec's cycle.
const FALLBACK: Duration = Duration::hours(6);

#[derive(Default)]
pub struct NextCycles {
    known: Mutex<HashMap<OrgId, Known>>,
}

struct Known {
    cron: String,
    time_zone: Tz,
    /// `next` is the first slot after any moment in `from..next`.
    from: DateTime<Utc>,
    next: DateTime<Utc>,
}

impl NextCycles {
    pub fn after(&self, org: &Organization, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = known.get(&org.id) {
            if k.cron == org.cycle_cron && k.time_zone == org.time_zone && k.from <= now && now < k.next {
                return k.next;
            }
        }
        match first_slot_after(org, now) {
            Some(next) => {
                known.insert(org.id, Known { cron: org.cycle_cron.clone(), time_zone: org.time_zone, from: now, next });
                next
            }
            None => now + FALLBACK,
        }
    }
}

/// Straight from the cron expression, without remembering anything.
pub fn next_cycle(org: &Organization, now: DateTime<Utc>) -> DateTime<Utc> {
    first_slot_after(org, now).unwrap_or(now + FALLBACK)
}

fn first_slot_after(org: &Organization, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    LocalSchedule::parse(&org.cycle_cron, org.time_zone).ok()?.next_slot(now)
}

/// When the organization's next scheduled run (cycle or comprehensive
/// check) falls due after `now`: work done outside a run (a bulk retry's
/// backlog, the retry ladder) stops there, so that run starts on time.
pub fn next_scheduled_run(org: &Organization, now: DateTime<Utc>) -> DateTime<Utc> {
    let full = LocalSchedule::parse(&org.comprehensive_cron, org.time_zone).ok().and_then(|s| s.next_slot(now));
    let cycle = next_cycle(org, now);
    full.map_or(cycle, |full| full.min(cycle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn org(cron: &str) -> Organization {
        Organization { cycle_cron: cron.into(), ..crate::store::sample_organization() }
    }

    #[test]
    fn remembered_answers_equal_fresh_ones_across_slots_and_schedule_changes() {
        let cycles = NextCycles::default();
        let mut salon = org("0 */6 * * *");
        // Every 7 minutes for two days (DST change on 2025-10-26 included).
        let start = Utc.with_ymd_and_hms(2025, 10, 25, 20, 0, 0).unwrap();
        for step in 0..(2 * 24 * 60 / 7) {
            let now = start + Duration::minutes(7 * step);
            if step == 200 {
                salon.cycle_cron = "30 */4 * * *".into();
            }
            assert_eq!(cycles.after(&salon, now), next_cycle(&salon, now), "at {now}");
        }
    }

    #[test]
    fn an_unreadable_expression_falls_back_to_six_hours() {
        let cycles = NextCycles::default();
        let now = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        assert_eq!(cycles.after(&org("not cron"), now), now + Duration::hours(6));
        assert_eq!(next_cycle(&org("not cron"), now), now + Duration::hours(6));
    }
}
