//! Bulk actions by filter as background runs: "retry all matching" and
//! "resolve all matching". The admin confirms a filter and the set they
//! were shown (its count and `Members` fingerprint); [`request_retry`] and
//! [`request_resolve`] re-check both and fix the set in one transaction (at
//! most [`MAX_BULK`]); the worker then works through it with [`run_bulk`],
//! a batch per transaction, recording what it did with each appointment,
//! so the runs page shows progress and the run's page every appointment's
//! result. Queued appointments are then verified by the worker's usual
//! paced path, inside the key's budget.
//! "Retry selected" (a page's rows) is [`retry_selected`], one transaction.
//! Before the admin confirms, [`plan_retry`] says what a retry will cost
//! in calls to Cal.com, with the runner's own planning rules.

use chrono::{DateTime, Utc};

use crate::calcom::RateBudget;
use crate::clock::Clock;
use crate::domain::{AppointmentId, AuditAction, Members, RunId, SyncStatus, UserId, MAX_TEXT};
use crate::format::plural;
use crate::resolve::{Actor, ResolveError, Resolver};
use crate::store::{
    Appointment, AppointmentFilter, AppointmentResolution, BulkOutcome, BulkRequest, BulkRequested, Organization, Run,
    RunCounts, RunKind, RunStatus, Store, StoreError,
};
use crate::verify::plan::{self, Cost};
use crate::verify::runner::busy_message;

/// The most appointments one bulk action by filter covers: a larger set is
/// refused, so nobody acts on the whole table by accident.
pub const MAX_BULK: i64 = 5_000;

/// Appointments per transaction while the run works.
const BATCH: u32 = 250;

#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{matching} appointments match; narrow the filter to at most {MAX_BULK}")]
    TooMany { matching: i64 },
    #[error("{}", changed(*matching, *expected))]
    Changed { matching: i64, expected: i64 },
    #[error("No appointment matches this filter: nothing was done.")]
    Empty,
    /// Another bulk action of the kind is queued or running.
    #[error("{0}; wait for it to finish")]
    Busy(String),
    #[error("a note is required to mark appointments resolved (at most {MAX_TEXT} characters)")]
    Note,
}

fn changed(matching: i64, expected: i64) -> String {
    let what = if matching == expected {
        format!("Other appointments match this filter now than the {expected} you confirmed")
    } else {
        format!("{matching} appointments match this filter now, not the {expected} you confirmed")
    };
    format!("{what}; nothing was done. Check the list and confirm again.")
}

/// A bulk action by filter as the admin confirmed it.
#[derive(Debug, Clone, Copy)]
pub struct Confirmed<'a> {
    pub filter: &'a AppointmentFilter,
    /// The filter in words, for the run and the audit log ("state Failed").
    pub described: &'a str,
    /// The set the admin was shown.
    pub expected: Members,
    pub by: UserId,
}

impl<'a> Confirmed<'a> {
    /// The store's request for this action: `what` names it in the audit
    /// log ("retry"), `note` is a resolution's.
    fn request(&self, kind: RunKind, action: AuditAction, what: &str, note: Option<&'a str>) -> BulkRequest<'a> {
        let n = self.expected.count;
        let mut detail = format!("{what} of {n} appointment{} matching {}", plural(n.unsigned_abs()), self.described);
        if let Some(note) = note {
            detail = format!("{detail}: {note}");
        }
        BulkRequest {
            kind,
            filter: self.filter,
            expected: self.expected,
            cap: MAX_BULK,
            by: self.by,
            scope: self.described,
            audit_action: action,
            audit_detail: detail,
            note,
        }
    }
}

/// Queues a retry of every appointment the filter matches, if they are
/// still the set the admin confirmed. Returns the run to follow.
pub async fn request_retry(
    store: &Store,
    org: &Organization,
    confirmed: &Confirmed<'_>,
    now: DateTime<Utc>,
) -> Result<RunId, BulkError> {
    let request = confirmed.request(RunKind::BulkRetry, AuditAction::AppointmentsRetryMatching, "retry", None);
    request_bulk(store, org, &request, now).await
}

/// Queues "mark as resolved" with `note` for every appointment the filter
/// matches, if they are still the set the admin confirmed; the run closes
/// the open issues of those that need review when it reaches them.
/// Returns the run to follow.
pub async fn request_resolve(
    store: &Store,
    org: &Organization,
    confirmed: &Confirmed<'_>,
    note: &str,
    now: DateTime<Utc>,
) -> Result<RunId, BulkError> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > MAX_TEXT {
        return Err(BulkError::Note);
    }
    let action = AuditAction::AppointmentsResolveMatching;
    let request = confirmed.request(RunKind::BulkResolve, action, "resolution", Some(note));
    request_bulk(store, org, &request, now).await
}

async fn request_bulk(
    store: &Store,
    org: &Organization,
    request: &BulkRequest<'_>,
    now: DateTime<Utc>,
) -> Result<RunId, BulkError> {
    let expected = request.expected.count;
    if expected <= 0 {
        return Err(BulkError::Empty);
    }
    match store.request_bulk(org.id, request, now).await? {
        BulkRequested::Queued(run) => Ok(run),
        BulkRequested::TooMany { matching } => Err(BulkError::TooMany { matching }),
        BulkRequested::Changed { matching } => Err(BulkError::Changed { matching, expected }),
        BulkRequested::Busy(active) => Err(BulkError::Busy(busy_message(&active, org.time_zone))),
    }
}

/// What a bulk retry will ask of Cal.com, shown before the admin confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPlan {
    pub appointments: i64,
    pub cost: Cost,
    /// Appointments without a booking uid, each looked for by its time and
    /// customer (one listing of a few minutes each).
    pub unlinked: u64,
    /// The key's calls per minute, as Cal.com stated it or its default.
    pub per_minute: u32,
}

impl RetryPlan {
    pub fn calls(&self) -> u64 {
        self.cost.calls() + self.unlinked
    }

    /// "About 23 calls to Cal.com (2 windows listed in 5 pages with 2
    /// requests sizing them, 16 bookings asked for one by one), under a
    /// minute at the key's 120 a minute. …"
    pub fn words(&self) -> String {
        let Cost { sizings, listings, pages, single } = self.cost;
        let mut parts = Vec::new();
        if listings > 0 {
            parts.push(format!("{listings} window{} listed in {pages} page{}", plural(listings), plural(pages)));
        }
        if sizings > 0 {
            parts.push(format!("{sizings} request{} sizing them", plural(sizings)));
        }
        let one_by_one = single + self.unlinked;
        if one_by_one > 0 {
            parts.push(format!("{one_by_one} booking{} asked for one by one", plural(one_by_one)));
        }
        let calls = self.calls();
        let per_minute = u64::from(self.per_minute.max(1));
        let time = match calls.div_ceil(per_minute) {
            0 | 1 => "under a minute".to_owned(),
            minutes => format!("about {minutes} minutes"),
        };
        format!(
            "About {calls} call{} to Cal.com ({}), {time} at the key's {per_minute} a minute. It runs in the \
             background inside that limit, and a scheduled verification that falls due meanwhile starts on time.",
            plural(calls),
            parts.join(", ")
        )
    }
}

/// Plans the calls that verifying every appointment `filter` matches will
/// cost, with the runner's own rules (see `verify::plan`): the matching
/// appointments' starts grouped into spans, each span's bookings in
/// Cal.com estimated by our own appointments there. Refused, like the
/// request itself, when nothing or too much matches.
pub async fn plan_retry(store: &Store, org: &Organization, filter: &AppointmentFilter) -> Result<RetryPlan, BulkError> {
    let matching = store.count_appointments(org.id, filter).await?;
    if matching == 0 {
        return Err(BulkError::Empty);
    }
    if matching > MAX_BULK {
        return Err(BulkError::TooMany { matching });
    }
    let starts = store.appointment_starts(org.id, filter, MAX_BULK).await?;
    let (linked, unlinked): (Vec<_>, Vec<_>) = starts.into_iter().partition(|(_, linked)| *linked);
    let mut cost = Cost::default();
    for span in plan::spans(linked.into_iter().map(|(start, _)| start).collect()) {
        let size = if span.worth_sizing() {
            let there =
                AppointmentFilter { starts_from: Some(span.from), starts_before: Some(span.to), ..Default::default() };
            store.count_appointments(org.id, &there).await?.unsigned_abs()
        } else {
            0
        };
        cost.add(span.cost(size));
    }
    Ok(RetryPlan {
        appointments: matching,
        cost,
        unlinked: unlinked.len() as u64,
        per_minute: org.calcom_rate_limit.unwrap_or(RateBudget::default().limit),
    })
}

/// Works through a claimed bulk run to its end: each batch's changes and
/// outcomes in one transaction, progress after each. A retry leaves
/// appointments already waiting for verification alone; a resolution
/// leaves those that no longer need review; deleted ones are recorded as
/// gone.
pub async fn run_bulk(
    store: &Store,
    resolver: &Resolver,
    clock: &dyn Clock,
    org: &Organization,
    run: &Run,
) -> Result<RunCounts, StoreError> {
    let mut counts = RunCounts { total: run.counts.total, ..RunCounts::default() };
    let worked = match Step::of(store, org, run).await {
        Ok(step) => work(store, resolver, clock, org, run.id, &step, &mut counts).await,
        Err(err) => Err(err),
    };
    match worked {
        Ok(()) => {
            store.finish_run(org.id, run.id, RunStatus::Succeeded, counts, None, clock.now()).await?;
            Ok(counts)
        }
        Err(err) => {
            let detail = format!("stopped after {} of {}: {err}", counts.processed, counts.total);
            // The run is failed even if recording that fails too; the
            // first error is the one worth reporting.
            let _ = store.finish_run(org.id, run.id, RunStatus::Failed, counts, Some(&detail), clock.now()).await;
            Err(err)
        }
    }
}

/// What a bulk run does to each appointment it reaches, and as whom.
enum Step {
    Retry(Actor),
    Resolve(Actor, String),
}

impl Step {
    async fn of(store: &Store, org: &Organization, run: &Run) -> Result<Step, StoreError> {
        let actor = actor(store, org, run.requested_by).await?;
        match (run.kind, &run.note) {
            (RunKind::BulkRetry, _) => Ok(Step::Retry(actor)),
            (RunKind::BulkResolve, Some(note)) => Ok(Step::Resolve(actor, note.clone())),
            (RunKind::BulkResolve, None) => {
                Err(StoreError::Conflict(format!("bulk resolution {} has no note", run.id)))
            }
            (kind, _) => Err(StoreError::Conflict(format!("run {} is a {kind} run, not a bulk action", run.id))),
        }
    }

    /// The changes for the batch's `found` appointments and every id's
    /// outcome (an id not found was deleted meanwhile).
    fn apply(&self, resolver: &Resolver, ids: &[AppointmentId], found: Vec<Appointment>) -> Result<Batch, StoreError> {
        let ((skip, skipped), (act, acted), changes) = match self {
            Step::Retry(actor) => {
                let (waiting, due) = waiting_and_due(found);
                let changes = resolver.retries(&due, actor);
                ((waiting, BulkOutcome::AlreadyQueued), (due, BulkOutcome::Queued), changes)
            }
            Step::Resolve(actor, note) => {
                let (review, rest): (Vec<_>, Vec<_>) = found.into_iter().partition(|a| a.sync.requires_manual_review);
                let changes = resolver
                    .marks_resolved(&review, actor, note)
                    .map_err(|e| StoreError::Conflict(format!("bulk resolution: {e}")))?;
                let rest = rest.into_iter().map(|a| a.id).collect();
                ((rest, BulkOutcome::NotInReview), (review, BulkOutcome::Resolved), changes)
            }
        };
        let act: Vec<AppointmentId> = act.iter().map(|a| a.id).collect();
        Ok(Batch { changes, outcomes: outcomes(ids, (&skip, skipped), (&act, acted)) })
    }
}

/// What one batch of a bulk run writes, in one transaction.
struct Batch {
    changes: Vec<AppointmentResolution>,
    /// Every id of the batch with what became of it.
    outcomes: Vec<(AppointmentId, BulkOutcome)>,
}

/// What retrying a selection did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selected {
    pub queued: u64,
    /// Already waiting for verification, or not the organization's.
    pub skipped: u64,
}

/// The most appointments one "retry selected" covers (a page of the list).
pub const MAX_SELECTED: usize = 500;

/// "Retry selected": a fresh verification for each of `ids` the
/// organization has and that is not already waiting, in one transaction.
pub async fn retry_selected(
    store: &Store,
    resolver: &Resolver,
    org: &Organization,
    ids: &[AppointmentId],
    actor: &Actor,
) -> Result<Selected, ResolveError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let found = store.appointments_by_ids(org.id, &ids).await?;
    let (_, due) = waiting_and_due(found);
    let queued = resolver.retry_many(org, &due, actor).await?;
    Ok(Selected { queued, skipped: ids.len() as u64 - queued })
}

/// Appointments already waiting for verification (a retry leaves them
/// alone), and the ones a retry queues.
fn waiting_and_due(found: Vec<crate::store::Appointment>) -> (Vec<AppointmentId>, Vec<crate::store::Appointment>) {
    let (waiting, due): (Vec<_>, Vec<_>) =
        found.into_iter().partition(|a| a.sync.status == SyncStatus::VerificationPending);
    (waiting.into_iter().map(|a| a.id).collect(), due)
}

async fn work(
    store: &Store,
    resolver: &Resolver,
    clock: &dyn Clock,
    org: &Organization,
    run: RunId,
    step: &Step,
    counts: &mut RunCounts,
) -> Result<(), StoreError> {
    loop {
        let ids = store.bulk_pending(org.id, run, BATCH).await?;
        if ids.is_empty() {
            return Ok(());
        }
        let found = store.appointments_by_ids(org.id, &ids).await?;
        let batch = step.apply(resolver, &ids, found)?;
        store.record_bulk_batch(org.id, run, &batch.changes, &batch.outcomes).await?;
        counts.processed += ids.len() as i64;
        store.heartbeat_run(org.id, run, *counts, clock.now()).await?;
    }
}

/// Every id of the batch with what became of it: `acted` for the ones
/// acted on, `skipped` for the ones left alone, gone for the rest.
fn outcomes(
    ids: &[AppointmentId],
    (skip, skipped): (&[AppointmentId], BulkOutcome),
    (act, acted): (&[AppointmentId], BulkOutcome),
) -> Vec<(AppointmentId, BulkOutcome)> {
    ids.iter()
        .map(|id| {
            let outcome = if act.contains(id) {
                acted
            } else if skip.contains(id) {
                skipped
            } else {
                BulkOutcome::Gone
            };
            (*id, outcome)
        })
        .collect()
}

/// The admin who asked, as each appointment's history names them.
async fn actor(store: &Store, org: &Organization, by: Option<UserId>) -> Result<Actor, StoreError> {
    let Some(user_id) = by else {
        return Err(StoreError::Conflict("a bulk run without the admin who asked for it".into()));
    };
    Ok(Actor { user_id, name: store.user_name(org.id, user_id).await? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_reads_as_what_the_run_will_ask_of_calcom() {
        let cost = Cost { sizings: 2, listings: 2, pages: 5, single: 14 };
        let plan = RetryPlan { appointments: 300, cost, unlinked: 2, per_minute: 120 };
        assert_eq!(plan.calls(), 23);
        assert_eq!(
            plan.words(),
            "About 23 calls to Cal.com (2 windows listed in 5 pages, 2 requests sizing them, 16 bookings asked \
             for one by one), under a minute at the key's 120 a minute. It runs in the background inside that \
             limit, and a scheduled verification that falls due meanwhile starts on time."
        );
        let slow = RetryPlan { per_minute: 10, ..plan };
        assert!(slow.words().contains("about 3 minutes at the key's 10 a minute"), "{}", slow.words());
        let one =
            RetryPlan { appointments: 1, cost: Cost { single: 1, ..Cost::default() }, unlinked: 0, per_minute: 120 };
        assert!(one.words().starts_with("About 1 call to Cal.com (1 booking asked for one by one)"));
    }

    #[test]
    fn each_id_gets_the_outcome_its_appointment_earned() {
        let id = AppointmentId;
        let got =
            outcomes(&[id(1), id(2), id(3)], (&[id(3)], BulkOutcome::AlreadyQueued), (&[id(2)], BulkOutcome::Queued));
        let want = [(id(1), BulkOutcome::Gone), (id(2), BulkOutcome::Queued), (id(3), BulkOutcome::AlreadyQueued)];
        assert_eq!(got, want, "an id neither found waiting nor due was deleted meanwhile");
    }
}
