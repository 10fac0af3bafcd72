//! When an organization's checks run (two cron expressions in its time
//! zone, the comprehensive check's window) and how long an acknowledged
//! issue waits before it is brought up again.

use std::ops::RangeInclusive;

use super::error::parse;
use super::{Caller, OpError, Operations};
use crate::domain::{AuditAction, TimeZoneName, ACK_REMINDER_HOURS, WINDOW_DAYS_AHEAD, WINDOW_DAYS_BACK};
use crate::schedule::LocalSchedule;
use crate::store::ScheduleUpdate;

pub use crate::store::Organization;

/// The schedule form as typed.
pub struct ScheduleForm<'a> {
    pub time_zone: &'a str,
    pub cycle_cron: &'a str,
    pub comprehensive_cron: &'a str,
    pub window_days_back: &'a str,
    pub window_days_ahead: &'a str,
}

impl ScheduleForm<'_> {
    /// Each field by its rule; the cron expressions in the time zone given.
    pub fn parse(&self) -> Result<ScheduleUpdate, OpError> {
        let time_zone = parse("time_zone", TimeZoneName::parse(self.time_zone))?.zone();
        Ok(ScheduleUpdate {
            cycle_cron: cron("cycle_cron", self.cycle_cron, time_zone)?,
            comprehensive_cron: cron("comprehensive_cron", self.comprehensive_cron, time_zone)?,
            window_days_back: number("window_days_back", self.window_days_back, WINDOW_DAYS_BACK)?,
            window_days_ahead: number("window_days_ahead", self.window_days_ahead, WINDOW_DAYS_AHEAD)?,
            time_zone,
        })
    }
}

/// A cron expression with its spacing tidied, refused if it never fires
/// (a valid 31 February would silently stop the runs).
fn cron(field: &'static str, raw: &str, tz: chrono_tz::Tz) -> Result<String, OpError> {
    let cron = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let schedule = LocalSchedule::parse(&cron, tz).map_err(|e| OpError::field(field, e.reason))?;
    schedule.next_slot(chrono::Utc::now()).ok_or_else(|| OpError::field(field, "never runs"))?;
    Ok(cron)
}

/// A whole number typed into a field, within `range`.
pub fn number(field: &'static str, raw: &str, range: RangeInclusive<i64>) -> Result<i64, OpError> {
    let message = || format!("must be a whole number from {} to {}", range.start(), range.end());
    let number: i64 = raw.trim().parse().map_err(|_| OpError::field(field, message()))?;
    range.contains(&number).then_some(number).ok_or_else(|| OpError::field(field, message()))
}

impl Operations {
    /// Saves the schedule and time zone with its audit entry; the
    /// organization as it now is.
    pub async fn save_schedule(&self, caller: Caller, update: ScheduleUpdate) -> Result<Organization, OpError> {
        let caller = caller.admin()?;
        let detail = format!(
            "time zone {}, cycle {:?}, comprehensive {:?}, window {} days back / {} ahead",
            update.time_zone.name(),
            update.cycle_cron,
            update.comprehensive_cron,
            update.window_days_back,
            update.window_days_ahead
        );
        let entry = caller.audit(AuditAction::SettingsSchedule, None, &detail, self.now());
        self.store.update_schedule(caller.org, &update, &entry).await?;
        Ok(self.store.organization(caller.org).await?)
    }

    /// The hours before an acknowledged issue still open is brought up
    /// again (0: never), typed.
    pub async fn save_ack_reminder(&self, caller: Caller, raw_hours: &str) -> Result<i64, OpError> {
        let caller = caller.admin()?;
        let hours = number("ack_reminder_hours", raw_hours, ACK_REMINDER_HOURS)?;
        let detail = match hours {
            0 => "reminders of acknowledged issues off".to_owned(),
            h => format!("remind of acknowledged issues still open after {h} h"),
        };
        let entry = caller.audit(AuditAction::SettingsQueue, None, &detail, self.now());
        self.store.update_ack_reminder(caller.org, hours, &entry).await?;
        Ok(hours)
    }
}
