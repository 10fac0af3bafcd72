//! Runs: asked for by an admin ("run now"), queued for the worker, one of
//! each kind at a time, audited with the request; and read back for the
//! runs page, with who asked for each and, for a bulk run, what it did
//! with every appointment.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Caller, OpError, Operations};
use crate::calcom::CalcomConnector;
use crate::domain::{Actor, AppointmentId, RunId, UserId};
use crate::schedule::LocalSchedule;
use crate::store::{Organization, RunStart, Start};
use crate::verify::next_cycle::next_cycle;
use crate::verify::runner::{busy_message, RunReport};
use crate::verify::service::Verifier;

pub use crate::store::{BulkItem, BulkItemFilter, BulkOutcome, BulkTally, Run, RunKind, RunStatus, Trigger};

/// A run and the name of whoever asked for it (`None` when nobody did:
/// a scheduled run, the command line).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRun {
    pub run: Run,
    pub requester: Option<String>,
}

/// The latest runs, and when the schedules run next: all read at `now`,
/// which a running run's duration so far is measured to.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentRuns {
    pub org: Organization,
    /// Newest first.
    pub runs: Vec<NamedRun>,
    pub next_cycle: DateTime<Utc>,
    /// `None` when the comprehensive check's schedule never runs.
    pub next_comprehensive: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// One run, read at `now` (see [`RecentRuns`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OneRun {
    pub org: Organization,
    pub run: NamedRun,
    pub now: DateTime<Utc>,
}

/// A bulk run's counts per outcome and one page of its appointments.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkPage {
    pub tally: BulkTally,
    /// In appointment order, at most the page's size.
    pub items: Vec<BulkItem>,
    /// The `after` of the next page, if there is one.
    pub next_after: Option<AppointmentId>,
}

impl Operations {
    /// Queues a run of `kind`; while one is queued or running (whoever
    /// started it) nothing is queued and the conflict names that run. The
    /// caller wakes its worker so the run starts at once.
    pub async fn request_run(&self, caller: Caller, kind: RunKind) -> Result<RunId, OpError> {
        let caller = caller.admin()?;
        let Actor::User { id, .. } = caller.actor else { return Err(OpError::Forbidden) };
        match self.store.request_run(caller.org, kind, id, self.now()).await? {
            Start::Started(run) => Ok(run),
            Start::Busy(active) => {
                let zone = self.store.organization(caller.org).await?.time_zone;
                Err(OpError::Conflict(busy_message(&active, zone)))
            }
            Start::SlotTaken => Err(OpError::Conflict("the last run of this kind has just finished; ask again".into())),
        }
    }

    /// The `limit` newest runs; viewers see them too.
    pub async fn recent_runs(&self, caller: Caller, limit: u32) -> Result<RecentRuns, OpError> {
        let org = self.store.organization(caller.org).await?;
        let runs = self.store.recent_runs(org.id, limit).await?;
        let now = self.now();
        // Few people ask for runs: each name is looked up once.
        let mut names = HashMap::new();
        let mut named = Vec::with_capacity(runs.len());
        for run in runs {
            let requester = match run.requested_by {
                Some(id) => Some(self.requester_name(caller, id, &mut names).await?),
                None => None,
            };
            named.push(NamedRun { run, requester });
        }
        let next_comprehensive =
            LocalSchedule::parse(&org.comprehensive_cron, org.time_zone).ok().and_then(|s| s.next_slot(now));
        Ok(RecentRuns { next_cycle: next_cycle(&org, now), next_comprehensive, runs: named, org, now })
    }

    /// One run of the caller's organization.
    pub async fn run_by_id(&self, caller: Caller, id: RunId) -> Result<OneRun, OpError> {
        let org = self.store.organization(caller.org).await?;
        let run = self.store.run(org.id, id).await?;
        let requester = match run.requested_by {
            Some(by) => Some(self.store.user_name(org.id, by).await?),
            None => None,
        };
        Ok(OneRun { org, run: NamedRun { run, requester }, now: self.now() })
    }

    /// A bulk run's tally and the `limit` items after `after` that `filter`
    /// keeps; a run of another organization has none.
    pub async fn bulk_page(
        &self,
        caller: Caller,
        run: RunId,
        filter: BulkItemFilter,
        after: Option<AppointmentId>,
        limit: u32,
    ) -> Result<BulkPage, OpError> {
        let tally = self.store.bulk_tally(caller.org, run).await?;
        // One more than shown tells whether a next page exists.
        let mut items = self.store.bulk_items(caller.org, run, filter, after, limit.saturating_add(1)).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_after = if more { items.last().map(|item| item.appointment) } else { None };
        Ok(BulkPage { tally, items, next_after })
    }

    /// `id`'s name, from `known` when already looked up.
    async fn requester_name(
        &self,
        caller: Caller,
        id: UserId,
        known: &mut HashMap<UserId, String>,
    ) -> Result<String, OpError> {
        if let Some(name) = known.get(&id) {
            return Ok(name.clone());
        }
        let name = self.store.user_name(caller.org, id).await?;
        known.insert(id, name.clone());
        Ok(name)
    }
}

impl Operations {
    /// A cycle or a comprehensive check of the caller's organization, run
    /// here and now from the command line with the scheduler's rules, run
    /// record and notifications. Refused while a run of the kind is active.
    pub async fn run_from_command_line(
        &self,
        caller: Caller,
        verifier: &Verifier,
        connector: &CalcomConnector,
        kind: RunKind,
    ) -> Result<(Organization, RunReport), OpError> {
        if caller.actor != Actor::CommandLine {
            return Err(OpError::Forbidden);
        }
        let org = self.store.organization(caller.org).await?;
        let Some(client) = connector.client(org.id).await else {
            return Err(OpError::Conflict(format!(
                "{} has no usable Cal.com API key; set one with `calsync org set-calcom`",
                org.slug
            )));
        };
        let start = RunStart {
            kind,
            trigger: Trigger::Cli,
            slot_at: None,
            worker_id: format!("cli-{}", std::process::id()),
            requested_by: None,
        };
        let report = match kind {
            RunKind::Comprehensive => verifier.run_comprehensive(&org, &client, &start).await?,
            _ => verifier.run_cycle(&org, &client, &start).await?,
        };
        match report {
            Ok(report) => Ok((org, report)),
            Err(busy) => Err(OpError::Conflict(format!("{} for {}", busy.message(org.time_zone), org.slug))),
        }
    }
}
