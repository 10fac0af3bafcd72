//! The runs page: scheduled and manual verification runs and bulk retries
//! with their counts and progress, "run now" for admins, and one run's page
//! with every appointment's result of a bulk retry.

use leptos::prelude::*;
use leptos::server_fn::codec::{Json, Postcard};
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
    /// A bulk retry: it verifies nothing itself, so the verification
    /// columns do not apply; its results are on its own page.
    pub bulk: bool,
    /// What a bulk run covers: "state Failed".
    pub scope: Option<String>,
    /// A bulk resolution's note.
    pub note: Option<String>,
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

#[server(prefix = "/rpc", output = Postcard)]
pub async fn list_runs() -> Result<RunList, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    let recent = server_context()?.ops.recent_runs(user.caller(), RUNS_SHOWN).await?;
    let local = recent.org.local_format();
    let runs = recent.runs.iter().map(|named| server::row(named, local, recent.now)).collect();
    Ok(RunList {
        runs,
        can_act: user.role.is_admin(),
        next_cycle: local.date_time(recent.next_cycle),
        next_comprehensive: recent.next_comprehensive.map(|at| local.date_time(at)),
    })
}

/// Queues a run for the worker, which starts it within seconds (admins).
/// Returns the run's id. While a run of the same kind is queued or running
/// (whoever started it) nothing is queued: a conflict names that run.
#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn run_now(choice: RunChoice) -> Result<i64, AppError> {
    use crate::context::{require_admin, server_context};
    use engine::ops::runs::RunKind;

    let user = require_admin()?;
    let kind = match choice {
        RunChoice::Cycle => RunKind::Cycle,
        RunChoice::Comprehensive => RunKind::Comprehensive,
    };
    let context = server_context()?;
    let run = context.ops.request_run(user.caller(), kind).await?;
    context.wake_worker.wake();
    Ok(run.get())
}

/// Which of a bulk retry's appointments its page lists (`?show=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemShow {
    #[default]
    All,
    Queued,
    AlreadyQueued,
    Resolved,
    NotInReview,
    Gone,
    /// Not reached (yet, or ever: an interrupted run).
    Pending,
}

impl ItemShow {
    pub const ALL: [ItemShow; 7] = [
        ItemShow::All,
        ItemShow::Queued,
        ItemShow::AlreadyQueued,
        ItemShow::Resolved,
        ItemShow::NotInReview,
        ItemShow::Gone,
        ItemShow::Pending,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ItemShow::All => "all",
            ItemShow::Queued => "queued",
            ItemShow::AlreadyQueued => "already_queued",
            ItemShow::Resolved => "resolved",
            ItemShow::NotInReview => "not_in_review",
            ItemShow::Gone => "gone",
            ItemShow::Pending => "pending",
        }
    }

    pub fn parse(text: &str) -> ItemShow {
        ItemShow::ALL.into_iter().find(|show| show.as_str() == text.trim()).unwrap_or_default()
    }

    /// The result in words, as a filter and as a row's result.
    pub const fn label(self) -> &'static str {
        match self {
            ItemShow::All => "All",
            ItemShow::Queued => "Queued for verification",
            ItemShow::AlreadyQueued => "Already waiting, left alone",
            ItemShow::Resolved => "Marked as resolved",
            ItemShow::NotInReview => "Needed no review, left alone",
            ItemShow::Gone => "Deleted meanwhile",
            ItemShow::Pending => "Not reached",
        }
    }
}

/// One appointment of a bulk retry and what the run did with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRow {
    pub appointment_id: i64,
    /// `None` when the appointment has been deleted.
    pub customer: Option<String>,
    pub start: Option<String>,
    pub result: ItemShow,
}

/// A bulk retry's results: counts per result, and one page of its items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkResults {
    /// Each result with its count, `All` first.
    pub tally: Vec<(ItemShow, i64)>,
    pub show: ItemShow,
    pub items: Vec<ItemRow>,
    /// The `after` of the next page, if there is one.
    pub next_after: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: RunRow,
    pub bulk: Option<BulkResults>,
}

/// How many of a bulk retry's appointments its page lists at once.
pub const ITEMS_SHOWN: u32 = 100;

/// One run: its counts, and for a bulk retry the result for each of its
/// appointments (`show` filters them, `after` pages on).
#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn get_run(id: i64, show: ItemShow, after: Option<i64>) -> Result<RunDetail, AppError> {
    use crate::context::{require_user, server_context};
    use engine::domain::RunId;
    use engine::ops::runs::OneRun;

    let user = require_user()?;
    let ops = server_context()?.ops;
    let OneRun { org, run: named, now } = ops.run_by_id(user.caller(), RunId(id)).await?;
    let local = org.local_format();
    let bulk = match named.run.kind.is_bulk() {
        true => Some(server::bulk_results(&ops, user.caller(), &named.run, show, after, local).await?),
        false => None,
    };
    Ok(RunDetail { run: server::row(&named, local, now), bulk })
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use chrono::{DateTime, Utc};
    use engine::domain::AppointmentId;
    use engine::format::LocalFormat;
    use engine::ops::runs::{BulkItemFilter, BulkOutcome, NamedRun, Run, RunKind, RunStatus, Trigger};
    use engine::ops::{Caller, Operations};

    use super::{BulkResults, ItemRow, ItemShow, RunRow, ITEMS_SHOWN};
    use crate::error::AppError;

    /// Each stored outcome and how the page shows it: the one mapping
    /// both ways (the page also has "all" and "not reached").
    const OUTCOMES: [(ItemShow, BulkOutcome); 5] = [
        (ItemShow::Queued, BulkOutcome::Queued),
        (ItemShow::AlreadyQueued, BulkOutcome::AlreadyQueued),
        (ItemShow::Resolved, BulkOutcome::Resolved),
        (ItemShow::NotInReview, BulkOutcome::NotInReview),
        (ItemShow::Gone, BulkOutcome::Gone),
    ];

    pub async fn bulk_results(
        ops: &Operations,
        caller: Caller,
        run: &Run,
        show: ItemShow,
        after: Option<i64>,
        local: LocalFormat,
    ) -> Result<BulkResults, AppError> {
        let page = ops.bulk_page(caller, run.id, filter(show), after.map(AppointmentId), ITEMS_SHOWN).await?;
        let t = page.tally;
        // The results this kind of run can have.
        let (acted, skipped) = match run.kind {
            RunKind::BulkResolve => ((ItemShow::Resolved, t.resolved), (ItemShow::NotInReview, t.not_in_review)),
            _ => ((ItemShow::Queued, t.queued), (ItemShow::AlreadyQueued, t.already_queued)),
        };
        let tally =
            vec![(ItemShow::All, t.total()), acted, skipped, (ItemShow::Gone, t.gone), (ItemShow::Pending, t.pending)];
        let items = page
            .items
            .into_iter()
            .map(|item| ItemRow {
                appointment_id: item.appointment.get(),
                customer: item.customer,
                start: item.starts_at.map(|at| local.date_time(at)),
                result: item
                    .outcome
                    .and_then(|stored| OUTCOMES.iter().find(|(_, known)| *known == stored))
                    .map_or(ItemShow::Pending, |(shown, _)| *shown),
            })
            .collect();
        Ok(BulkResults { tally, show, items, next_after: page.next_after.map(AppointmentId::get) })
    }

    /// The stored items `show` lists.
    fn filter(show: ItemShow) -> BulkItemFilter {
        match show {
            ItemShow::All => BulkItemFilter::All,
            ItemShow::Pending => BulkItemFilter::Pending,
            outcome => OUTCOMES
                .iter()
                .find(|(shown, _)| *shown == outcome)
                .map_or(BulkItemFilter::All, |(_, stored)| BulkItemFilter::Outcome(*stored)),
        }
    }

    pub fn row(named: &NamedRun, local: LocalFormat, now: DateTime<Utc>) -> RunRow {
        let (run, requester) = (&named.run, named.requester.as_deref());
        let c = run.counts;
        let running = run.status == RunStatus::Running;
        RunRow {
            id: run.id.get(),
            kind: match run.kind {
                RunKind::Cycle => "Verification cycle",
                RunKind::Comprehensive => "Comprehensive check",
                RunKind::BulkRetry => "Retry of matching appointments",
                RunKind::BulkResolve => "Resolution of matching appointments",
            }
            .to_owned(),
            trigger: match (run.trigger, requester) {
                (Trigger::Schedule, _) => "Scheduled".to_owned(),
                (Trigger::Manual, Some(name)) if run.kind.is_bulk() => format!("Asked for by {name}"),
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
            bulk: run.kind.is_bulk(),
            scope: run.scope.clone(),
            note: run.note.clone(),
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
        fn a_result_filter_parses_its_own_spelling_and_defaults_to_all() {
            use crate::rpc::runs::ItemShow;
            for show in ItemShow::ALL {
                assert_eq!(ItemShow::parse(show.as_str()), show);
            }
            assert_eq!(ItemShow::parse("nonsense"), ItemShow::All);
        }

        #[test]
        fn durations_read_naturally() {
            assert_eq!(human_duration(Duration::milliseconds(850)), "850 ms");
            assert_eq!(human_duration(Duration::seconds(12)), "12 s");
            assert_eq!(human_duration(Duration::seconds(185)), "3 min 05 s");
            assert_eq!(human_duration(Duration::seconds(-3)), "0 ms");
        }
    }
}
