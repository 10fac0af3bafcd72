//! The runs page: scheduled and manual verification runs with their counts
//! and progress, and "run now" for admins.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How many runs the page lists.
pub const RUNS_SHOWN: u32 = 50;

/// Which run to start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunChoice {
    Cycle,
    Comprehensive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: i64,
    /// "Verification cycle" or "Comprehensive check".
    pub kind: String,
    /// "Scheduled", "Run now by Jane Admin", "Command line".
    pub trigger: String,
    /// queued, running, succeeded, failed, interrupted (also the CSS class).
    pub status: String,
    pub started: String,
    pub duration: String,
    pub total: i64,
    pub processed: i64,
    pub synced: i64,
    pub flagged: i64,
    pub errors: i64,
    pub api_calls: i64,
    /// For a running run that knows its total.
    pub progress_percent: Option<u8>,
    pub error_detail: Option<String>,
}

impl RunRow {
    pub fn is_active(&self) -> bool {
        self.status == "queued" || self.status == "running"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunList {
    pub runs: Vec<RunRow>,
    pub can_act: bool,
    /// The next scheduled cycle and comprehensive check, formatted.
    pub next_cycle: String,
    pub next_comprehensive: Option<String>,
}

impl RunList {
    pub fn any_active(&self) -> bool {
        self.runs.iter().any(RunRow::is_active)
    }
}

#[server(prefix = "/rpc")]
pub async fn list_runs() -> Result<RunList, AppError> {
    use crate::context::{require_user, server_context};
    use chrono::Utc;
    use engine::format::LocalFormat;
    use engine::schedule::LocalSchedule;
    use engine::verify::next_cycle::next_cycle;
    use std::collections::hash_map::Entry;

    let user = require_user()?;
    let store = server_context()?.store;
    let org = store.organization(user.org_id).await?;
    let local = LocalFormat::new(org.time_zone, &org.locale);
    let runs = store.recent_runs(org.id, RUNS_SHOWN).await?;
    let now = Utc::now();
    // Few people ask for runs: look each one up once.
    let mut names = std::collections::HashMap::<engine::domain::UserId, String>::new();
    let mut rows = Vec::with_capacity(runs.len());
    for run in runs {
        let requester = match run.requested_by {
            Some(id) => match names.entry(id) {
                Entry::Occupied(known) => Some(known.get().clone()),
                Entry::Vacant(slot) => {
                    let name = store.user(org.id, id).await.map(|u| u.name).unwrap_or_else(|_| "a former user".into());
                    Some(slot.insert(name).clone())
                }
            },
            None => None,
        };
        rows.push(server::row(&run, requester.as_deref(), local, now));
    }
    let next_comprehensive = LocalSchedule::parse(&org.comprehensive_cron, org.time_zone)
        .ok()
        .and_then(|s| s.next_slot(now))
        .map(|at| local.date_time(at));
    Ok(RunList {
        runs: rows,
        can_act: user.role.is_admin(),
        next_cycle: local.date_time(next_cycle(&org, now)),
        next_comprehensive,
    })
}

/// Queues a run for the worker, which starts it within seconds (admins).
/// Returns the run's id. While a run of the same kind is queued or running
/// (whoever started it) nothing is queued: a conflict names that run.
#[server(prefix = "/rpc", input = Json)]
pub async fn run_now(choice: RunChoice) -> Result<i64, AppError> {
    use crate::context::{require_admin, server_context};
    use engine::store::{RunKind, Start};

    let user = require_admin()?;
    let kind = match choice {
        RunChoice::Cycle => RunKind::Cycle,
        RunChoice::Comprehensive => RunKind::Comprehensive,
    };
    let context = server_context()?;
    let zone = context.store.organization(user.org_id).await?.time_zone;
    match context.store.request_run(user.org_id, kind, user.user_id, chrono::Utc::now()).await? {
        Start::Started(id) => {
            context.wake_worker.wake();
            Ok(id.get())
        }
        Start::Busy(active) => Err(AppError::conflict(engine::verify::runner::busy_message(&active, zone))),
        Start::SlotTaken => Err(AppError::conflict("the last run of this kind has just finished; ask again")),
    }
}

#[cfg(feature = "ssr")]
mod server {
    use chrono::{DateTime, Utc};
    use engine::store::{Run, RunKind, RunStatus, Trigger};

    use super::RunRow;
    use engine::format::LocalFormat;

    pub fn row(run: &Run, requester: Option<&str>, local: LocalFormat, now: DateTime<Utc>) -> RunRow {
        let c = run.counts;
        let running = run.status == RunStatus::Running;
        RunRow {
            id: run.id.get(),
            kind: match run.kind {
                RunKind::Cycle => "Verification cycle",
                RunKind::Comprehensive => "Comprehensive check",
            }
            .to_owned(),
            trigger: match (run.trigger, requester) {
                (Trigger::Schedule, _) => "Scheduled".to_owned(),
                (Trigger::Manual, Some(name)) => format!("Run now by {name}"),
                (Trigger::Manual, None) => "Run now".to_owned(),
                (Trigger::Cli, _) => "Command line".to_owned(),
            },
            status: run.status.as_str().to_owned(),
            started: local.date_time_seconds(run.started_at),
            duration: match (run.status, run.finished_at) {
                (RunStatus::Queued, _) => "waiting for the worker".to_owned(),
                (_, Some(end)) => human_duration(end - run.started_at),
                (_, None) => format!("{} so far", human_duration(now - run.started_at)),
            },
            total: c.total,
            processed: c.processed,
            synced: c.synced,
            flagged: c.flagged,
            errors: c.errors,
            api_calls: c.api_calls,
            progress_percent: (running && c.total > 0).then(|| (c.processed * 100 / c.total).clamp(0, 100) as u8),
            error_detail: run.error_detail.clone(),
        }
    }

    /// "850 ms", "12 s", "3 min 05 s".
    pub fn human_duration(d: chrono::Duration) -> String {
        let ms = d.num_milliseconds().max(0);
        match ms {
            0..=999 => format!("{ms} ms"),
            1_000..=59_999 => format!("{} s", ms / 1000),
            _ => format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::human_duration;
        use chrono::Duration;

        #[test]
        fn durations_read_naturally() {
            assert_eq!(human_duration(Duration::milliseconds(850)), "850 ms");
            assert_eq!(human_duration(Duration::seconds(12)), "12 s");
            assert_eq!(human_duration(Duration::seconds(185)), "3 min 05 s");
            assert_eq!(human_duration(Duration::seconds(-3)), "0 ms");
        }
    }
}
